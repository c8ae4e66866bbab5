"""MF-Hartmann-6 over 100 seeds, split at the local optimum: per preset and method the median [min, max] regret,
the runs that end above 0.1 (Hartmann6's -3.20 local optimum is at 0.119) and the median of the others; then
ours (mf-gp+asha) over GP-FIFO's median, with a 95% bootstrap interval (2,000 resamples of the seeds).

    .venv/bin/python docs/benchmark/mf_h6_100_307793f/split.py > docs/benchmark/mf_h6_100_307793f/split.txt

Reads ``mf_runs.csv`` beside it, written by (307793f, 2 cores, 277 s)::

    python -m tune_jobs.mf_benchmark --problems mf_hartmann6 mf_hartmann6_mild \\
        --methods mf-gp+asha gp+fifo random+asha --seeds 100 --jobs 2

A record of a measurement, not part of the package.
"""

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def main() -> None:
    runs = pd.read_csv(HERE / "mf_runs.csv")
    rng = np.random.default_rng(0)
    for problem, by_problem in runs.groupby("problem"):
        finals = {method: g.final.to_numpy() for method, g in by_problem.groupby("method")}
        for method, v in finals.items():
            escaped = v[v < 0.1]
            print(f"{problem:18s} {method:12s} median {np.median(v):.2g} [{v.min():.2g}, {v.max():.3g}]  "
                  f"above 0.1: {(v > 0.1).sum()} of {len(v)}  median of the others: "
                  f"{np.median(escaped) if len(escaped) else float('nan'):.2g}")
        ours, fifo = finals["mf-gp+asha"], finals["gp+fifo"]
        draws = [np.median(rng.choice(ours, len(ours))) / np.median(rng.choice(fifo, len(fifo))) for _ in range(2000)]
        low, high = np.percentile(draws, [2.5, 97.5])
        print(f"{problem:18s} ours / GP-FIFO median: {np.median(ours) / np.median(fifo):.2f} [{low:.2f}, {high:.3g}]")


if __name__ == "__main__":
    main()
