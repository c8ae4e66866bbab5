"""Ours against a peer on the slow peers' BBOB subset over 10 seeds: per function the medians, and the chance that a
run of ours ends below a run of the peer's (ties half).

    .venv/bin/python docs/benchmark/bbob_ax10_5640a03/counts.py > docs/benchmark/bbob_ax10_5640a03/counts.txt
    .venv/bin/python docs/benchmark/bbob_ax10_5640a03/counts.py docs/benchmark/bbob_hebo10_beff308 hebo \
        > docs/benchmark/bbob_hebo10_beff308/counts.txt

Reads ``runs.csv`` in the folder given (by default this one, against Ax), written here by (5640a03, 2 cores,
9 minutes)::

    python -m tune_jobs.benchmark --problems bbob_f1_d2 bbob_f10_d2 bbob_f15_d2 bbob_f6_d5 bbob_f15_d5 bbob_f21_d5 \\
        --searchers gp ax --seeds 10 --batch 1 --jobs 2 --timing

A record of a measurement, not part of the package.
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def main(folder: Path, rival: str) -> None:
    runs = pd.read_csv(folder / "runs.csv")
    medians = runs.groupby(["problem", "searcher"]).regret.median().unstack()
    name = {"ax": "Ax", "hebo": "HEBO"}.get(rival, rival)
    for problem, of_problem in runs.groupby("problem"):
        ours = of_problem[of_problem.searcher == "gp"].regret.to_numpy()[:, None]
        theirs = of_problem[of_problem.searcher == rival].regret.to_numpy()[None, :]
        below = float(np.mean((ours < theirs) + 0.5 * (ours == theirs)))
        print(f"{problem:12s} median ours {medians.gp[problem]:.3g}, {name} {medians[rival][problem]:.3g}; "
              f"a run of ours below one of {name}'s {below:.2f}")
    first = runs[runs.seed < 5].groupby(["problem", "searcher"]).regret.median().unstack()
    print(f"ours at most {name}'s median on {(medians.gp <= medians[rival]).sum()} of {len(medians)}; "
          f"on seeds 0 to 4 alone {(first.gp <= first[rival]).sum()}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE, sys.argv[2] if len(sys.argv) > 2 else "ax")
