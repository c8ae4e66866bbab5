"""Running a job from Python (a notebook, a script): ``sweep(job, **options)``.

    from tune_jobs import torch_mlp
    from tune_jobs.api import sweep

    result = sweep(torch_mlp.JOB, searcher="random", num_samples=8, epochs=3, name="nb-random")
    result.summary["test_accuracy"], result.frame, result.curve

A Ray already started in this process (``ray.init()`` in a notebook) is used as
it is; otherwise one is started on 127.0.0.1 only. The command line
(``tune_jobs.cli``) runs the same ``run_sweep``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import reports, runtime, storage
from .console import clock
from .data import MnistData, MnistFileError, load_mnist
from .job import Job
from .options import SweepOptions
from .tuner import job_tuner


@dataclass
class Sweep:
    """A finished sweep: its trials, its summary (``best.json``), the searcher object and where it was written."""

    frame: pd.DataFrame
    summary: dict
    searcher: object | None
    run_dir: Path | str  # a URI (str) when --storage-path is one

    @property
    def curve(self) -> np.ndarray:
        """Best validation accuracy after each trial."""
        return reports.best_so_far(self.frame)


def load_data(job: Job, options: SweepOptions) -> MnistData:
    """The digits for the sweep (a subset under ``smoke``), with the storage path checked."""
    runtime.prepare_storage(options)
    try:
        data = load_mnist(options.data_dir, seed=options.seed)
    except MnistFileError as e:
        raise SystemExit(f"--data-dir: {e}") from e
    if options.smoke:
        data = data.subset(*job.smoke_subset)
    budget = "" if options.time_budget is None else f" for {clock(options.time_budget)}"
    print(f"{job.name}: {data.describe()}; up to {options.num_samples} trials{budget}, {options.max_concurrent} at "
          f"once, up to {options.epochs} epochs, scheduler {options.scheduler}", flush=True)
    return data


def run_sweep(job: Job, options: SweepOptions, data: MnistData, searcher_name: str, name: str) -> Sweep:
    """Fit one searcher's sweep, write its reports under ``storage_path/name`` and print its summary."""
    tuner, searcher = job_tuner(job, options, data, searcher_name, name)
    start = time.time()
    results = tuner.fit()
    seconds = time.time() - start
    run_dir = storage.run_dir(options.storage_path, name)
    frame = reports.trials_frame(results, time_budget=options.time_budget)
    summary = reports.summarise(job, results, frame, data, searcher_name=searcher_name, seconds=seconds,
                                searcher_seconds=getattr(searcher, "suggest_seconds", None), searcher=searcher,
                                epochs=options.epochs, select=options.select, ensemble=options.ensemble,
                                num_samples=options.num_samples, time_budget=options.time_budget)
    reports.write_reports(run_dir, results, frame, summary, epochs=options.epochs)
    reports.print_summary(frame, summary, run_dir)
    return Sweep(frame, summary, searcher, run_dir)


def sweep(job: Job, **options) -> Sweep:
    """Run ``job`` with ``options`` (the fields of ``SweepOptions``, as the command-line flags
    with ``_`` for ``-``); returns the finished sweep."""
    try:
        chosen = SweepOptions.for_job(job, **options)
    except ValueError as e:
        raise ValueError(f"sweep({job.name}): {e}") from None
    data = load_data(job, chosen)
    runtime.start(chosen)
    return run_sweep(job, chosen, data, chosen.searcher, str(chosen.name))
