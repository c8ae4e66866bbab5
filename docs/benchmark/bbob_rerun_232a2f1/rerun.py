"""BBOB in 2 and 5 dimensions rerun at 232a2f1 in a freshly installed .venv, beside bb77a70's runs: how many runs
repeat to the digit, and, for each, on how many functions our median regret is at most Optuna GP's and below
random search's, and the chance that a run of ours ends below a run of Optuna GP's (ties half).

    .venv/bin/python docs/benchmark/bbob_rerun_232a2f1/rerun.py > docs/benchmark/bbob_rerun_232a2f1/rerun.txt

Reads ``runs.csv`` beside it, written by (232a2f1, 2 cores, 7 minutes)::

    python -m tune_jobs.benchmark --problems bbob_d2 bbob_d5 --searchers gp optuna-gp random --seeds 5 \\
        --batch 1 --jobs 2

A record of a measurement, not part of the package.
"""

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def main() -> None:
    new = pd.read_csv(HERE / "runs.csv")
    old = pd.read_csv(HERE.parent / "bbob_bb77a70" / "d2_d5_runs.csv")
    both = new.merge(old, on=["problem", "searcher", "seed"], suffixes=("", "_bb77a70"))
    both["same"] = np.isclose(both.regret, both.regret_bb77a70, rtol=1e-9, atol=0.0)
    for searcher, runs in both.groupby("searcher"):
        print(f"{searcher}: {runs.same.sum()} of {len(runs)} runs equal to bb77a70's")
    for label, runs in (("232a2f1", new), ("bb77a70", old)):
        for dim in (2, 5):
            of_dim = runs[runs.problem.str.endswith(f"_d{dim}")]
            medians = of_dim.groupby(["problem", "searcher"]).regret.median().unstack()
            lost = [p.split("_")[1] for p in medians.index[~(medians.gp < medians.random)]]
            print(f"{label} d = {dim}: <= Optuna GP's median on {(medians.gp <= medians['optuna-gp']).sum()} of "
                  f"{len(medians)}; < random search's on {(medians.gp < medians.random).sum()} (not on {lost}); "
                  f"a run of ours below one of Optuna GP's: {run_by_run(of_dim):.2f}")


def run_by_run(runs: pd.DataFrame) -> float:
    shares = []
    for _, of_problem in runs.groupby("problem"):
        ours = of_problem[of_problem.searcher == "gp"].regret.to_numpy()[:, None]
        theirs = of_problem[of_problem.searcher == "optuna-gp"].regret.to_numpy()[None, :]
        shares.append(float(np.mean((ours < theirs) + 0.5 * (ours == theirs))))
    return float(np.mean(shares))


if __name__ == "__main__":
    main()
