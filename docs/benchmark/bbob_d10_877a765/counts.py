"""BBOB in 10 dimensions, side by side: on how many functions ours is at most Optuna GP's median regret
and below random search's, and whether ours and random search repeat the runs of bb77a70; then, run by
run in 2, 5 and 10 dimensions (2 and 5 from bb77a70's runs), the chance that a run of ours ends below a
run of the rival's on the same function (ties count half), averaged over the 24 functions.

    python docs/benchmark/bbob_d10_877a765/counts.py > docs/benchmark/bbob_d10_877a765/counts.txt

Reads ``d10_runs.csv`` beside it, written by (877a765, 2 cores, 18 minutes)::

    python -m tune_jobs.benchmark --problems bbob_d10 --searchers gp optuna-gp random --seeds 5 --batch 1 \
        --budget 100 --jobs 2 --timing --out <dir>
"""

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def main() -> None:
    runs = pd.read_csv(HERE / "d10_runs.csv")
    medians = runs.groupby(["problem", "searcher"]).regret.median().unstack()
    medians = medians.loc[sorted(medians.index, key=lambda p: int(p.split("_")[1][1:]))]
    print(medians.to_string(float_format=lambda v: f"{v:.3g}"))
    for label, wins in (("gp <= optuna-gp", medians.gp <= medians["optuna-gp"]),
                        ("gp < random", medians.gp < medians.random)):
        lost = [p.split("_")[1] for p in medians.index[~wins]]
        print(f"{label}: {wins.sum()} of {len(medians)}; lost {lost}")
    earlier = pd.read_csv(HERE.parent / "bbob_bb77a70" / "d10_runs.csv")
    paired = runs.merge(earlier, on=["problem", "searcher", "seed"], suffixes=("", "_bb77a70"))
    same = np.isclose(paired.regret, paired.regret_bb77a70, rtol=1e-9, atol=0.0)
    print(f"runs of gp and random equal to bb77a70's: {same.sum()} of {len(paired)}")
    print("median seconds per suggest():", runs.groupby("searcher").median_suggest_s.median().round(4).to_dict())
    earlier_2_5 = pd.read_csv(HERE.parent / "bbob_bb77a70" / "d2_d5_runs.csv")
    for dim, frame in (("2", earlier_2_5), ("5", earlier_2_5), ("10", runs)):
        frame = frame[frame.problem.str.endswith(f"_d{dim}")]
        for rival in ("optuna-gp", "random"):
            print(f"d = {dim}: a run of ours below one of {rival}'s: {run_by_run(frame, rival):.2f}")


def run_by_run(runs: pd.DataFrame, rival: str) -> float:
    """The share of (our run, rival's run) pairs on one function where ours ends lower, averaged over functions."""
    shares = []
    for _, runs_of in runs.groupby("problem"):
        ours = runs_of[runs_of.searcher == "gp"].regret.to_numpy()[:, None]
        theirs = runs_of[runs_of.searcher == rival].regret.to_numpy()[None, :]
        shares.append(float(np.mean((ours < theirs) + 0.5 * (ours == theirs))))
    return float(np.mean(shares))


if __name__ == "__main__":
    main()
