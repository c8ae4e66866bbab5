"""What the sweeps start on the 600-config MLP table, and what ASHA lets them show: per method, 20 seeds, the mean
over seeds of the trials a sweep starts, of the table's 17 configs at 0.964 or above among them, of those trained
long enough to show 0.964 (ASHA stopped the others first), and the mean best accuracy of the configs started.

    .venv/bin/python docs/benchmark/mf_mlp600_eec4147/fate.py > docs/benchmark/mf_mlp600_eec4147/fate.txt

The sweeps of ``tune_jobs.mf_benchmark`` (30 full runs' epochs, 2 workers; seeds 0 to 19 of its runs), driven here
by its ``_Sweep`` so that each trial's epochs can be read. eec4147, 2 cores, under a minute. A record of a measurement,
not part of the package.
"""

import logging

import numpy as np

from tune_jobs.mf_benchmark import problems
from tune_jobs.simulate import _Sweep

GOOD, SEEDS, METHODS = 0.964, 20, ("mf-gp+asha", "random+asha", "tpe+asha")


def fate(table, best: np.ndarray, method: str, seed: int) -> tuple[int, int, int, float]:
    sweep = _Sweep(table, method, seed, workers=2, unit="epochs")
    budget = table.full_runs * table.epochs
    sweep.schedule()
    while sweep.events:  # simulate()'s loop
        trial = sweep.finish_epoch()
        if sweep.spent >= budget:
            continue
        if trial is not None:
            sweep.start_epoch(trial)
        sweep.schedule()
    rows = np.array([table._row(trial.config) for trial in sweep.trials])
    epochs = np.array([trial.epoch for trial in sweep.trials])
    shown = np.array([np.nanmax(table.accuracy[row, :epoch]) if epoch else 0.0 for row, epoch in zip(rows, epochs,
                                                                                                    strict=True)])
    good = best[rows] >= GOOD
    return len(rows), int(good.sum()), int((shown[good] >= GOOD).sum()), float(best[rows].mean())


def main() -> None:
    logging.disable(logging.WARNING)
    table = problems()["lc_torch_mlp_600"]
    best = np.nanmax(table.accuracy, axis=1)
    print(f"{int((best >= GOOD).sum())} of {len(best)} configs at {GOOD} or above")
    for method in METHODS:
        trials, good, shown, mean = np.mean([fate(table, best, method, seed) for seed in range(SEEDS)], axis=0)
        print(f"{method:12s} trials {trials:.1f}; configs at {GOOD} or above started {good:.2f}, shown at it "
              f"{shown:.2f}; mean best accuracy of the configs started {mean:.3f}")


if __name__ == "__main__":
    main()
