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

Files as arguments (paths beside it) replace those three, e.g. ``seconds/mf_runs.csv`` (``> seconds/variants.txt``):
the same table at equal training seconds (eec4147, 454 s)::

    python -m tune_jobs.mf_benchmark --problems lc_torch_mlp_600 --budget-unit seconds --methods mf-gp+asha \\
        mf-gp-cost+asha gp+fifo random+asha tpe+asha --seeds 200 --jobs 2 --out docs/benchmark/mf_mlp600_eec4147/seconds

For each of ours (``report`` of ``../mf_restrict_b38ceb8/compare.py``): the mean best validation accuracy at each
quarter of the budget and the runs that found the table's best config, its and the rivals'; then its mean minus
random search's and TPE's, with a 95% bootstrap interval over the seeds.
A record of a measurement, not part of the package.
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "mf_restrict_b38ceb8"))
from compare import report  # noqa: E402  (the restricted replay's record script, beside this one)

RIVALS = ("random+asha", "tpe+asha")
FILES = ("mf_runs.csv", "restrict_runs.csv", "mean_runs.csv")


def main() -> None:
    runs = pd.concat([pd.read_csv(HERE / name) for name in sys.argv[1:] or FILES])
    rng = np.random.default_rng(0)
    for ours in sorted(m for m in runs.method.unique() if m.startswith("mf-gp")):
        print(f"{ours} against random search and TPE with ASHA")
        report(runs[runs.method.isin((ours, *RIVALS))], rng, ours=ours, rivals=RIVALS)


if __name__ == "__main__":
    main()
