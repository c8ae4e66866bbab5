"""The main command's sweeps pooled over side-by-side runs of the same search, and every paired seed counted.

    PYTHONPATH=. .venv/bin/python docs/main_job/pooled.py compare_eee04ab.csv compare_648f546.csv compare_00f0f86.csv

The files named (in this directory; each written by ``python -m tune_jobs.repeat torch_mlp --seeds 3
--searchers gp random``) are pooled: per method, the median [min, max] over every sweep in them, as
``tune_jobs.repeat`` prints one run (its "best config" is the rule in force in each file). Then,
over every ``compare_*.csv`` here, the seeds on which the default (gp + ASHA) tested at least as well as
random search + ASHA in the same run, by the best config (the highest validation). A record of a
measurement, not part of the package.
"""

import argparse
from pathlib import Path

import pandas as pd

from tune_jobs.repeat import table

HERE = Path(__file__).resolve().parent
PAIR = (("gp", "asha"), ("random", "asha"))


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
    print(table(frame))
    print("\nSeeds where gp + ASHA tested at least random search + ASHA's, by run:")
    counts = {path.name: paired(pd.read_csv(path)) for path in sorted(HERE.glob("compare_*.csv"))}
    for name, (wins, seeds) in counts.items():
        if seeds:
            print(f"  {name}: {wins} of {seeds}")
    print(f"  all: {sum(w for w, _ in counts.values())} of {sum(n for _, n in counts.values())}")


if __name__ == "__main__":
    main()
