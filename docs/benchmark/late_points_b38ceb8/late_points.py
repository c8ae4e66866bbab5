"""Where the searchers spend their last 30 of 50 evaluations on BBOB's ill-conditioned 2-d functions, which ours
loses to Optuna's GP: the share of evaluations 21 to 50 worse than the median of the first 10 (the initial
design's), and the final regret, per seed.

    cd docs/benchmark/late_points_b38ceb8 && ../../../.venv/bin/python late_points.py > late_points.txt

Batch 1, seeds 0 to 2, each searcher driven through Ray Tune's Searcher interface as ``tune_jobs.benchmark`` drives it
(b38ceb8, 2 cores, 30 s). Searcher names as arguments replace the four (``../worst_mean_b38ceb8/late_points.txt``:
``GPEI_MEAN=worst`` with that folder's patch applied, argument ``gp``). A record of a measurement, not part of the
package.
"""

import logging
import sys

import numpy as np
import optuna

from tune_jobs import peers
from tune_jobs.benchmark import SEARCHERS
from tune_jobs.problems import problem_named

PROBLEMS = ("bbob_f7_d2", "bbob_f8_d2", "bbob_f10_d2", "bbob_f13_d2")
SEARCHER_NAMES = ("gp", "gp-map", "gp-no_warp", "optuna-gp")
SEEDS, BUDGET, DESIGN, LATE = 3, 50, 10, 20


def regrets(problem, name: str, seed: int) -> np.ndarray:
    searcher = SEARCHERS[name](seed)
    searcher.set_search_properties("loss", "min", problem.space)
    searcher.set_max_concurrency(1)
    values = []
    for i in range(BUDGET):
        config = searcher.suggest(f"t{i}")
        value = problem(config)
        searcher.on_trial_complete(f"t{i}", {"loss": value})
        values.append(value - problem.optimum)
    return np.array(values)


def main() -> None:
    logging.getLogger("searchers").setLevel(logging.ERROR)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    peers.single_threaded()
    print("problem      searcher    late evaluations worse than the design's median, per seed | final regret, per seed")
    for name in PROBLEMS:
        problem = problem_named(name)
        for searcher in sys.argv[1:] or SEARCHER_NAMES:
            runs = [regrets(problem, searcher, seed) for seed in range(SEEDS)]
            worse = [float(np.mean(r[LATE:] > np.median(r[:DESIGN]))) for r in runs]
            final = [float(r.min()) for r in runs]
            print(f"{name:12s} {searcher:11s} {' '.join(f'{w:.2f}' for w in worse)}"
                  f" | {' '.join(f'{f:.3g}' for f in final)}", flush=True)


if __name__ == "__main__":
    main()
