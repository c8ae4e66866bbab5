"""The 600-config MLP table: the methods side by side, and three scratch variants of ours (``scratch.patch`` on
eec4147) against random search and TPE with ASHA: ``mf-gp-restrict`` (the model-based step scores every table config
not yet trained and takes the best, as Syne Tune's ``restrict_configurations``), ``mf-gp-mean`` (the posterior mean
at the last epoch in place of EI: no exploration) and both.

    .venv/bin/python docs/benchmark/mf_mlp600_eec4147/variants.py > docs/benchmark/mf_mlp600_eec4147/variants.txt

Reads, beside it (2 cores)::

    python -m tune_jobs.mf_benchmark --problems lc_torch_mlp_600 --methods mf-gp+asha gp+fifo random+asha \\
        tpe+asha --seeds 200 --jobs 2 --out docs/benchmark/mf_mlp600_eec4147              # mf_runs.csv, 349 s
    python -m tune_jobs.mf_benchmark --problems lc_torch_mlp_600 --methods mf-gp-restrict+asha --seeds 200 \\
        --jobs 2                                                  # with the patch: restrict_runs.csv, 154 s
    python -m tune_jobs.mf_benchmark --problems lc_torch_mlp_600 --methods mf-gp-mean+asha \\
        mf-gp-mean-restrict+asha --seeds 200 --jobs 2             # with the patch: mean_runs.csv, 352 s

Per method the mean best validation accuracy at each quarter of the budget and the runs that found the table's
best config; then each of ours minus random search's and TPE's mean, with a 95% bootstrap interval over the seeds.
A record of a measurement, not part of the package.
"""

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
QUARTERS = (0.25, 0.5, 0.75, 1.0)
RIVALS = ("random+asha", "tpe+asha")


def best_at(row, share: float) -> float:
    spent, scores = np.array(row.spent.split(), float), np.array(row.scores.split(), float)
    reached = spent <= share * row.budget
    return scores[reached].max() if reached.any() else np.nan


def main() -> None:
    runs = pd.concat([pd.read_csv(HERE / name) for name in ("mf_runs.csv", "restrict_runs.csv", "mean_runs.csv")])
    table_best = runs.final.max()
    values = {m: {q: np.array([best_at(row, q) for row in g.sort_values("seed").itertuples()]) for q in QUARTERS}
              for m, g in runs.groupby("method")}
    for method, by_quarter in values.items():
        found = int((runs[runs.method == method].final >= table_best - 1e-9).sum())
        means = "  ".join(f"{q:.0%} {by_quarter[q].mean():.4f}" for q in QUARTERS)
        print(f"{method:26s} mean best: {means}  found the table's best ({table_best:.4f}): {found} of 200")
    rng = np.random.default_rng(0)
    for ours in (m for m in values if m.startswith("mf-gp")):
        for rival in RIVALS:
            cells = []
            for q in QUARTERS:
                diff = values[ours][q] - values[rival][q]
                boot = [diff[rng.integers(len(diff), size=len(diff))].mean() for _ in range(2000)]
                low, high = np.percentile(boot, [2.5, 97.5])
                cells.append(f"{q:.0%} {diff.mean():+.4f} [{low:+.4f}, {high:+.4f}]")
            print(f"{ours} - {rival}: " + "  ".join(cells))


if __name__ == "__main__":
    main()
