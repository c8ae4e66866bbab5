"""Can a GP tell where the MLP table's best config is? Fitted (``GPEISearcher``, final results only) to the best
validation accuracies of ``n`` random other configs of the table, where does it rank the best config among the
configs it has not seen, by its predicted mean and by its acquisition (0: first)? Ten draws of the ``n`` configs.

    .venv/bin/python docs/benchmark/mf_restrict_b38ceb8/aim.py > docs/benchmark/mf_restrict_b38ceb8/aim.txt

b38ceb8, 2 cores, under a minute. A record of a measurement, not part of the package.
"""

import logging

import numpy as np

from searchers import GPEISearcher
from tune_jobs.mf_benchmark import problems
from tune_jobs.mf_problems import METRIC

DRAWS = 10


def ranks(table, final: np.ndarray, best: int, n: int, draw: int) -> tuple[float, float]:
    rng = np.random.default_rng(draw)
    seen = rng.choice([i for i in range(len(final)) if i != best], n, replace=False)
    searcher = GPEISearcher(seed=draw, fidelity_attr=None, space=table.space, metric=METRIC, mode="max")
    for i in seen:
        searcher.add_evaluated_point(dict(table.configs[i], epochs=table.epochs), float(final[i]))
    searcher.suggest("fit")  # fits the model
    unseen = [i for i in range(len(final)) if i not in set(seen)]
    configs = [dict(table.configs[i], epochs=table.epochs) for i in unseen]
    mean, _ = searcher.predict(configs)
    acquisition = searcher.acquisition(configs)
    k = unseen.index(best)
    return float(np.mean(mean > mean[k])), float(np.mean(acquisition > acquisition[k]))


def main() -> None:
    logging.getLogger("searchers").setLevel(logging.ERROR)
    table = problems()["lc_torch_mlp"]
    final = np.nanmax(table.accuracy, axis=1)
    best = int(np.argmax(final))
    print(f"MLP table: best config {final[best]:.4f}, the next {np.sort(final)[-2]:.4f}, {len(final)} configs")
    for n in (40, 80):
        by_mean, by_acquisition = zip(*(ranks(table, final, best, n, draw) for draw in range(DRAWS)), strict=True)
        print(f"fitted to {n}: the best config's rank among the {len(final) - n} unseen, as a share, by the mean "
              f"{' '.join(f'{r:.2f}' for r in by_mean)} (median {np.median(by_mean):.2f}); by the acquisition "
              f"{' '.join(f'{r:.2f}' for r in by_acquisition)} (median {np.median(by_acquisition):.2f})")


if __name__ == "__main__":
    main()
