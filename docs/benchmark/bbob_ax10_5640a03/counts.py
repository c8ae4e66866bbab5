"""Ours against Ax on the slow peers' BBOB subset over 10 seeds: per function the medians, and the chance that a run
of ours ends below a run of Ax's (ties half).

    .venv/bin/python docs/benchmark/bbob_ax10_5640a03/counts.py > docs/benchmark/bbob_ax10_5640a03/counts.txt

Reads ``runs.csv`` beside it, written by (5640a03, 2 cores, 9 minutes)::

    python -m tune_jobs.benchmark --problems bbob_f1_d2 bbob_f10_d2 bbob_f15_d2 bbob_f6_d5 bbob_f15_d5 bbob_f21_d5 \\
        --searchers gp ax --seeds 10 --batch 1 --jobs 2 --timing

A record of a measurement, not part of the package.
"""

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def main() -> None:
    runs = pd.read_csv(HERE / "runs.csv")
    medians = runs.groupby(["problem", "searcher"]).regret.median().unstack()
    for problem, of_problem in runs.groupby("problem"):
        ours = of_problem[of_problem.searcher == "gp"].regret.to_numpy()[:, None]
        ax = of_problem[of_problem.searcher == "ax"].regret.to_numpy()[None, :]
        below = float(np.mean((ours < ax) + 0.5 * (ours == ax)))
        print(f"{problem:12s} median ours {medians.gp[problem]:.3g}, Ax {medians.ax[problem]:.3g}; "
              f"a run of ours below one of Ax's {below:.2f}")
    first = runs[runs.seed < 5].groupby(["problem", "searcher"]).regret.median().unstack()
    print(f"ours at most Ax's median on {(medians.gp <= medians.ax).sum()} of {len(medians)}; "
          f"on seeds 0 to 4 alone {(first.gp <= first.ax).sum()}")

if __name__ == "__main__":
    main()
