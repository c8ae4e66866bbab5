"""The learning-curve tables replayed with ours restricted to the table's configs (the model-based step scores every
config the sweep has not trained and takes the best, as Syne Tune's ``restrict_configurations`` does), against the
default replay, where a config the searcher asks for is answered by its nearest table config not yet trained.
Scratch at b38ceb8 (``restrict.patch``: method ``mf-gp-restrict+asha``).

    .venv/bin/python docs/benchmark/mf_restrict_b38ceb8/compare.py > docs/benchmark/mf_restrict_b38ceb8/compare.txt

Reads, beside it (b38ceb8 with the patch, 2 cores)::

    python -m tune_jobs.mf_benchmark --problems lc_torch_mlp --methods mf-gp-restrict+asha --seeds 200 --jobs 2
                                                                                   # mlp_restrict_runs.csv, 146 s
    python -m tune_jobs.mf_benchmark --problems lc_mnist_cnn --full-runs 10 \\
        --methods mf-gp-restrict+asha mf-gp+asha random+asha --seeds 200 --jobs 2   # cnn_runs.csv, 42 s

and the MLP table's other methods from ``../mf_tables200_8a8946c/mlp/mf_runs.csv`` (the default's code is unchanged
since; its CNN runs here repeat those to the digit). Per method the mean best validation accuracy at each quarter of
the budget and the runs that found the table's best config, then the restricted GP minus each rival's mean with a
95% bootstrap interval over the seeds. A record of a measurement, not part of the package.
"""

from pathlib import Path

import numpy as np
import pandas as pd

from tune_jobs.mf_benchmark import score_at

HERE = Path(__file__).resolve().parent
QUARTERS = (0.25, 0.5, 0.75, 1.0)
OURS = "mf-gp-restrict+asha"


def report(runs: pd.DataFrame, rng: np.random.Generator, ours: str = OURS,
           rivals: tuple[str, ...] | None = None) -> None:
    """Each method's mean best at each quarter and its runs that found the table's best config; then ``ours``
    minus each rival's mean (every other method by default) with a 95% bootstrap interval over the seeds."""
    table_best = runs.final.max()
    values = {m: {q: np.array([score_at(row, q, "max") for _, row in g.sort_values("seed").iterrows()])
                  for q in QUARTERS} for m, g in runs.groupby("method")}
    for method, by_quarter in values.items():
        found = int((runs[runs.method == method].final >= table_best - 1e-9).sum())
        means = "  ".join(f"{q:.0%} {by_quarter[q].mean():.4f}" for q in QUARTERS)
        print(f"  {method:20s} mean best: {means}  found the table's best ({table_best:.4f}): {found}")
    for rival in rivals or [m for m in values if m != ours]:
        for q in QUARTERS:
            diff = values[ours][q] - values[rival][q]
            boot = [diff[rng.integers(len(diff), size=len(diff))].mean() for _ in range(5000)]
            low, high = np.percentile(boot, [2.5, 97.5])
            print(f"  {ours} - {rival} at {q:.0%}: {diff.mean():+.4f} [{low:+.4f}, {high:+.4f}]")


def main() -> None:
    rng = np.random.default_rng(0)
    mlp = pd.concat([pd.read_csv(HERE / "mlp_restrict_runs.csv"),
                     pd.read_csv(HERE.parent / "mf_tables200_8a8946c" / "mlp" / "mf_runs.csv")])
    for name, runs in (("MLP table, 200 seeds", mlp), ("CNN table, 200 seeds", pd.read_csv(HERE / "cnn_runs.csv"))):
        print(name)
        report(runs, rng)


if __name__ == "__main__":
    main()
