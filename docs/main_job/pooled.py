"""The main command's sweeps pooled over side-by-side runs of the same search, and every paired seed counted.

    PYTHONPATH=. .venv/bin/python docs/main_job/pooled.py compare_eee04ab.csv compare_648f546.csv compare_00f0f86.csv

The files named (in this directory; each written by ``python -m tune_jobs.repeat torch_mlp --seeds 3
--searchers gp random``) are pooled: per method, the median [min, max] over every sweep in them. Then,
over every ``compare_*.csv`` here, the seeds on which the default (gp + ASHA) tested at least as well as
random search + ASHA in the same run, by the best config (the highest validation). A record of a
measurement, not part of the package.
"""

import argparse
from pathlib import Path

import pandas as pd

from tune_jobs.tables import markdown_table

HERE = Path(__file__).resolve().parent
COLUMNS = {"best_val_accuracy": "best val accuracy", "highest_val_test_accuracy": "test: highest validation",
           "best_checkpoint_test_accuracy": "its best epoch alone", "model_pick_test_accuracy": "test: the GP's pick",
           "ensemble_test_accuracy": "test: ensemble", "trials": "trials started"}
PAIR = (("gp", "asha"), ("random", "asha"))


def spread(values: pd.Series) -> str:
    values = values.dropna()
    if values.empty:
        return "–"
    if values.max() > 1:
        return f"{values.median():.0f} [{values.min():.0f}, {values.max():.0f}]"
    return f"{values.median():.4f} [{values.min():.4f}, {values.max():.4f}]"


def pooled(frame: pd.DataFrame) -> pd.DataFrame:
    rows = [{"method": f"{searcher} + {scheduler}", "sweeps": str(len(group)),
             **{name: spread(group[column]) for column, name in COLUMNS.items()}}
            for (searcher, scheduler), group in frame.groupby(["searcher", "scheduler"], sort=False)]
    return pd.DataFrame(rows)


def paired(frame: pd.DataFrame) -> tuple[int, int]:
    """(seeds where the default tested at least random search's, seeds that ran both)."""
    ours, theirs = (frame[(frame.searcher == searcher) & (frame.scheduler == scheduler)]
                    .set_index("seed")["highest_val_test_accuracy"] for searcher, scheduler in PAIR)
    seeds = ours.index.intersection(theirs.index)
    return int((ours[seeds] >= theirs[seeds] - 1e-12).sum()), len(seeds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", help="compare_<commit>.csv files in this directory to pool")
    args = parser.parse_args()
    frame = pd.concat([pd.read_csv(HERE / name) for name in args.files], ignore_index=True)
    print(f"Pooled over {', '.join(args.files)}:\n")
    print(markdown_table(pooled(frame)))
    total = [0, 0]
    print("\nSeeds where gp + ASHA tested at least random search + ASHA's, by run:")
    for path in sorted(HERE.glob("compare_*.csv")):
        wins, seeds = paired(pd.read_csv(path))
        if seeds:
            print(f"  {path.name}: {wins} of {seeds}")
            total = [total[0] + wins, total[1] + seeds]
    print(f"  all: {total[0]} of {total[1]}")


if __name__ == "__main__":
    main()
