"""BBOB in 2 and 5 dimensions over 10 seeds, ours beside Optuna's GP and random search in one run: on how many
functions our median regret is at most Optuna GP's and below random search's, over the 10 seeds and over seeds 0 to
4 and 5 to 9 apart (the 5 seeds issue 13's target names); how far a 5-seed count moves when the 5 seeds are drawn
again from the 10 (2,000 draws); and the chance that a run of ours ends below one of Optuna GP's (ties half).

    .venv/bin/python docs/benchmark/bbob10_e1b25b6/counts10.py > docs/benchmark/bbob10_e1b25b6/counts10.txt

Reads ``runs.csv`` beside it, written by (e1b25b6, 2 cores, 6 minutes)::

    python -m tune_jobs.benchmark --problems bbob_d2 bbob_d5 --searchers gp optuna-gp random --seeds 10 \\
        --batch 1 --jobs 2

A record of a measurement, not part of the package.
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "bbob_rerun_232a2f1"))
from rerun import run_by_run  # noqa: E402  (the chance that a run of ours ends below one of Optuna GP's)

DRAWS = 2000


def main() -> None:
    runs = pd.read_csv(HERE / "runs.csv")
    for dim in (2, 5, None):
        of_dim = runs if dim is None else runs[runs.problem.str.endswith(f"_d{dim}")]
        label = "d = 2 and 5" if dim is None else f"d = {dim}"
        print(f"{label}: {counts(of_dim, of_dim.seed.unique())}")
        for seeds in (range(5), range(5, 10)):
            print(f"  seeds {seeds.start} to {seeds.stop - 1}: {counts(of_dim, seeds)}")
        drawn = five_seed_counts(of_dim)
        lo, mid, hi = np.percentile(drawn, [5, 50, 95])
        print(f"  5 seeds drawn from the 10: at most Optuna GP's median on {mid:.0f} of "
              f"{of_dim.problem.nunique()} [90%: {lo:.0f}, {hi:.0f}]")


def medians(runs: pd.DataFrame) -> pd.DataFrame:
    return runs.groupby(["problem", "searcher"]).regret.median().unstack()


def counts(runs: pd.DataFrame, seeds) -> str:
    m = medians(runs[runs.seed.isin(list(seeds))])
    lost = [p.split("_")[1] for p in m.index[~(m.gp < m.random)]]
    return (f"at most Optuna GP's median on {(m.gp <= m['optuna-gp']).sum()} of {len(m)}; below random search's "
            f"on {(m.gp < m.random).sum()} (not on {lost}); a run of ours below one of Optuna GP's "
            f"{run_by_run(runs[runs.seed.isin(list(seeds))]):.2f}")


def five_seed_counts(runs: pd.DataFrame) -> np.ndarray:
    """The count 'at most Optuna GP's median' over 5 seeds drawn without replacement, each searcher its own draw."""
    rng = np.random.default_rng(0)
    table = {(p, s): g.sort_values("seed").regret.to_numpy() for (p, s), g in runs.groupby(["problem", "searcher"])}
    problems = sorted(runs.problem.unique())
    out = np.empty(DRAWS)
    for i in range(DRAWS):
        ours = np.array([np.median(rng.choice(table[p, "gp"], 5, replace=False)) for p in problems])
        theirs = np.array([np.median(rng.choice(table[p, "optuna-gp"], 5, replace=False)) for p in problems])
        out[i] = (ours <= theirs).sum()
    return out


if __name__ == "__main__":
    main()
