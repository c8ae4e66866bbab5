"""The constant mean fixed at the worst observed value (De Ath et al. 2020), scratch at b38ceb8 (``worst_mean.patch``,
switched on by ``GPEI_MEAN=worst``), against the default and Optuna's GP.

    .venv/bin/python docs/benchmark/worst_mean_b38ceb8/compare.py > docs/benchmark/worst_mean_b38ceb8/compare.txt

Reads, beside it (b38ceb8 with the patch, 2 cores)::

    GPEI_MEAN=worst python -m tune_jobs.benchmark --problems bbob_d2 bbob_d5 --searchers gp --seeds 5 --batch 1 \\
        --jobs 2 --timing                                                              # bbob_runs.csv, 3 minutes
    GPEI_MEAN=worst python -m tune_jobs.benchmark --problems hartmann6 --searchers gp --seeds 30 --batch 1 4 \\
        --jobs 2 --timing                                                              # hartmann6_runs.csv
    python -m tune_jobs.benchmark --problems hartmann6 --searchers gp --seeds 30 --batch 1 4 --jobs 2 --timing
                                                                                       # hartmann6_default_runs.csv

and the default's and Optuna GP's BBOB runs of the rerun at 232a2f1 (``../bbob_rerun_232a2f1/runs.csv``; the default
repeats them: 3 runs checked). A record of a measurement, not part of the package.
"""

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def below(ours: pd.DataFrame, theirs: pd.DataFrame) -> float:
    """The chance that a run of ``ours`` ends below a run of ``theirs`` on the same function (ties half),
    averaged over the functions."""
    shares = []
    for problem, runs in ours.groupby("problem"):
        a = runs.regret.to_numpy()[:, None]
        b = theirs[theirs.problem == problem].regret.to_numpy()[None, :]
        shares.append(float(np.mean((a < b) + 0.5 * (a == b))))
    return float(np.mean(shares))


def main() -> None:
    base = pd.read_csv(HERE.parent / "bbob_rerun_232a2f1" / "runs.csv")
    variant = pd.read_csv(HERE / "bbob_runs.csv").assign(searcher="gp-worstmean")
    runs = pd.concat([base, variant])
    for dim in (2, 5):
        of_dim = runs[runs.problem.str.endswith(f"_d{dim}")]
        medians = of_dim.groupby(["problem", "searcher"]).regret.median().unstack()
        for name in ("gp", "gp-worstmean"):
            mine = of_dim[of_dim.searcher == name]
            print(f"d = {dim}, {name}: <= Optuna GP's median on {(medians[name] <= medians['optuna-gp']).sum()} of 24, "
                  f"< random search's on {(medians[name] < medians.random).sum()}; a run below one of Optuna GP's "
                  f"{below(mine, of_dim[of_dim.searcher == 'optuna-gp']):.2f}, below one of the default's "
                  f"{below(mine, of_dim[of_dim.searcher == 'gp']):.2f}")
    for label, file in (("default", "hartmann6_default_runs.csv"), ("worst mean", "hartmann6_runs.csv")):
        h6 = pd.read_csv(HERE / file)
        for batch, of_batch in h6.groupby("batch"):
            print(f"Hartmann6, batch {batch}, {label}: {(of_batch.regret > 0.1).sum()} of {len(of_batch)} above 0.1, "
                  f"median {of_batch.regret.median():.2g}")


if __name__ == "__main__":
    main()
