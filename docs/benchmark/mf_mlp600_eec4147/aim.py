"""How well does the GP aim on the 600-config MLP table with what a sweep shows it? Ten draws of 96 configs (what an
ASHA sweep of 30 full runs' epochs trains, about), each shown to a ``GPEISearcher`` three ways:

* ``asha``: as ASHA would train them (every config 1 epoch; the better half of those 2, the better half of
  those 4, then 8, then 10; grace period 1, reduction factor 2), per-epoch results, the joint model (the default);
* ``full``: each of the 96 trained to the end, final results only (96 full runs: 3 times the budget);
* ``fifo``: 30 of them trained to the end, final results only (GP-FIFO's data at the same budget).

Then it ranks the 504 configs it was not shown by its predicted accuracy at the last epoch. Printed per way, the
median over the draws of: the true mean best accuracy of its 10 top-ranked configs minus that of all 504 (random
search's expectation), and how many of the 10 are among the table's 17 configs at 0.964 or above (random search's
expectation: 10 x the share of those among the 504).

    .venv/bin/python docs/benchmark/mf_mlp600_eec4147/aim.py > docs/benchmark/mf_mlp600_eec4147/aim.txt

eec4147, 2 cores, about 2 minutes. A record of a measurement, not part of the package.
"""

import logging

import numpy as np

from searchers import GPEISearcher
from tune_jobs.mf_benchmark import problems
from tune_jobs.mf_problems import METRIC

DRAWS, SHOWN, FIFO, TOP, GOOD = 10, 96, 30, 10, 0.964
RUNGS = (1, 2, 4, 8, 10)


def asha_epochs(accuracy: np.ndarray) -> np.ndarray:
    """Epochs each config of ``accuracy: (k, epochs)`` trains under synchronous successive halving."""
    epochs = np.full(len(accuracy), RUNGS[0])
    alive = np.arange(len(accuracy))
    for rung, following in zip(RUNGS, RUNGS[1:], strict=False):
        alive = alive[np.argsort(-accuracy[alive, rung - 1])[: max(1, len(alive) // 2)]]
        epochs[alive] = following
    return epochs


def ranked(table, shown: np.ndarray, epochs: np.ndarray, unseen: np.ndarray, seed: int) -> np.ndarray:
    """``unseen`` ordered by the GP's predicted accuracy at the last epoch, given ``shown`` trained ``epochs``; the
    configs are suggested (as ``points_to_evaluate``) and reported as Tune would."""
    multi = bool((epochs < table.epochs).any())
    configs = [dict(table.configs[row], epochs=table.epochs) for row in shown]
    searcher = GPEISearcher(space=table.space, metric=METRIC, mode="max", seed=seed, points_to_evaluate=configs,
                            **({"max_fidelity": table.epochs} if multi else {"fidelity_attr": None}))
    for trial, (row, stop) in enumerate(zip(shown, epochs, strict=True)):
        searcher.suggest(f"t{trial}")
        result = {}
        for epoch in range(1, stop + 1):
            result = {METRIC: float(table.accuracy[row, epoch - 1]), "training_iteration": epoch}
            if multi:
                searcher.on_trial_result(f"t{trial}", result)
        searcher.on_trial_complete(f"t{trial}", result)
    mean, _ = searcher.predict([dict(table.configs[row], epochs=table.epochs) for row in unseen])
    return unseen[np.argsort(-mean)]


def main() -> None:
    logging.getLogger("searchers").setLevel(logging.ERROR)
    table = problems()["lc_torch_mlp_600"]
    best = np.nanmax(table.accuracy, axis=1)
    gains, hits, expected = {"asha": [], "full": [], "fifo": []}, {"asha": [], "full": [], "fifo": []}, []
    for draw in range(DRAWS):
        rng = np.random.default_rng(draw)
        shown = rng.choice(len(best), SHOWN, replace=False)
        unseen = np.setdiff1d(np.arange(len(best)), shown)
        expected.append(TOP * np.mean(best[unseen] >= GOOD))
        ways = {"asha": (shown, asha_epochs(table.accuracy[shown])),
                "full": (shown, np.full(SHOWN, table.epochs)),
                "fifo": (shown[:FIFO], np.full(FIFO, table.epochs))}
        for way, (rows, epochs) in ways.items():
            top = ranked(table, rows, epochs, unseen, draw)[:TOP]
            gains[way].append(best[top].mean() - best[unseen].mean())
            hits[way].append(int((best[top] >= GOOD).sum()))
    print(f"random search's expectation: gain 0, {np.median(expected):.2f} of {TOP} at {GOOD} or above")
    for way in gains:
        print(f"{way}: the top {TOP}'s mean best accuracy above the unseen configs' by {np.median(gains[way]):+.4f} "
              f"(draws: {' '.join(f'{g:+.4f}' for g in gains[way])}); at {GOOD} or above: {np.median(hits[way]):.1f} "
              f"of {TOP} (draws: {' '.join(map(str, hits[way]))})")


if __name__ == "__main__":
    main()
