"""Best validation accuracy at each quarter of the budget, mean over seeds, and the default against its rivals.

    .venv/bin/python docs/benchmark/mf_tables50_a15fa0b/quarters.py docs/benchmark/mf_tables50_a15fa0b/mf_runs.csv

Reads ``tune_jobs.mf_benchmark``'s ``mf_runs.csv`` (each run's ``spent``: epochs when the best improved, and
``scores``: the best then). Prints per method the mean best at a quarter, half, three quarters and the end of
the budget and how many runs found the table's best config (taken as the best any run found: 0.9707, the
table's best, here); then ``mf-gp+asha`` minus each rival's mean, with a
95% bootstrap interval (5,000 resamples of the seeds). A record of a measurement, not part of the package.
"""

import sys

import numpy as np
import pandas as pd

QUARTERS = (0.25, 0.5, 0.75, 1.0)


def best_at(row, share: float) -> float:
    spent, scores = np.array(row.spent.split(), float), np.array(row.scores.split(), float)
    reached = spent <= share * row.budget
    return scores[reached].max() if reached.any() else np.nan


def main() -> None:
    runs = pd.read_csv(sys.argv[1])
    table_best = runs.final.max()
    values = {m: {q: np.array([best_at(row, q) for row in g.itertuples()]) for q in QUARTERS}
              for m, g in runs.groupby("method")}
    for method, by_q in values.items():
        found = int((runs[runs.method == method].final >= table_best - 1e-9).sum())
        means = "  ".join(f"{q:.0%} {np.nanmean(v):.4f}" for q, v in by_q.items())
        print(f"{method:12s} mean best: {means}  found the table's best ({table_best:.4f}): {found}")
    rng = np.random.default_rng(0)
    ours = values["mf-gp+asha"]
    for rival in (m for m in values if m != "mf-gp+asha"):
        for q in QUARTERS:
            a, b = ours[q], values[rival][q]
            draws = [rng.choice(a, len(a)).mean() - rng.choice(b, len(b)).mean() for _ in range(5000)]
            low, high = np.percentile(draws, [2.5, 97.5])
            print(f"mf-gp+asha - {rival} at {q:.0%}: {a.mean() - b.mean():+.4f} [{low:+.4f}, {high:+.4f}]")


if __name__ == "__main__":
    main()
