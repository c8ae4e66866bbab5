"""``SweepOptions``: everything a sweep is asked to do, typed and checked once.

The command line (``cli``) and ``sweep()`` (``api``) both build one with
``SweepOptions.for_job(job, **given)``; a value is taken, in order of
precedence, from what was given, the job's ``--smoke`` preset (when
``smoke``), the job's defaults, and the defaults below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from datetime import datetime
from pathlib import Path

from . import storage
from .job import Job

# gp-final: the GP on each trial's last result only (as before multi-fidelity); tpe: Optuna's TPE through
# Ray's OptunaSearch; bohb: Ray's TuneBOHB. The last two are peers for comparisons (the bench extra).
SEARCHERS = ("gp", "gp-cost", "gp-final", "ax", "random", "tpe", "bohb")
# hyperband: Ray's HyperBandForBOHB, the scheduler TuneBOHB is written for (it hands BOHB each bracket's budget);
# the GP runs under it too.
SCHEDULERS = ("fifo", "asha", "hyperband")
PAUSABLE = frozenset({"gp", "gp-cost", "gp-final", "bohb"})  # the searchers that hear HyperBand's pauses
# The best config: the trial with the highest validation accuracy, or the GP's pick (the best predicted of
# the trials trained to the end, reports.model_pick). Over 51 sweeps of the MLP job the pick tested 0.07
# points better on average (better on 22, worse on 19), and 0.45 worse on the 11 since trials reuse worker
# processes (worse on 8): no gain for the extra rule (README, "Which trial is the best config").
SELECTIONS = ("validation", "model")


@dataclass(frozen=True)
class SweepOptions:
    searcher: str = "gp"
    compare: tuple[str, ...] = ()  # several searchers on the same budget, one convergence plot
    num_samples: int = 30
    max_concurrent: int = 2
    epochs: int = 10
    cpus_per_trial: float = 1.0
    gpus_per_trial: float = 0.0
    scheduler: str = "fifo"
    select: str = "validation"
    ensemble: int = 4  # networks added to the best config's in the averaged ensemble at most (0: none)
    max_failures: int = 0
    time_budget: float | None = None  # seconds; no new trial starts after it (Tune's time_budget_s)
    seed: int = 0
    data_dir: str | None = None
    storage_path: str = "results"
    name: str | None = None
    resume: bool = False
    smoke: bool = False
    verbose: bool = False  # Ray's own console output instead of the compact progress

    @classmethod
    def for_job(cls, job: Job, **given) -> SweepOptions:
        """Options for ``job`` from the fields ``given``; raises ``ValueError`` listing every problem."""
        unknown = sorted(set(given) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"unknown option(s): {', '.join(unknown)}")
        values = dict(job.defaults)
        if given.get("smoke"):
            values.update(job.smoke)
        values.update(given)
        if values.get("compare"):
            values["compare"] = tuple(values["compare"])
        options = cls(**values)
        problems = options.problems()
        if problems:
            raise ValueError("; ".join(problems))
        resolved = str(Path(options.storage_path).resolve()) if "://" not in options.storage_path else None
        return replace(options, storage_path=resolved or options.storage_path,
                       name=options.name or options.default_name(job))

    def problems(self) -> list[str]:
        """What is wrong with these options, one sentence each (flag names as on the command line)."""
        checks = [
            (self.num_samples >= 1, f"--num-samples must be at least 1, got {self.num_samples}"),
            (self.max_concurrent >= 1, f"--max-concurrent must be at least 1, got {self.max_concurrent}"),
            (self.epochs >= 1, f"--epochs must be at least 1, got {self.epochs}"),
            (self.max_failures >= -1,
             f"--max-failures must be -1 (retry forever), 0 or more, got {self.max_failures}"),
            (self.cpus_per_trial > 0, f"--cpus-per-trial must be positive, got {self.cpus_per_trial}"),
            (self.gpus_per_trial >= 0, f"--gpus-per-trial must be zero or positive, got {self.gpus_per_trial}"),
            (not self.resume or bool(self.name), "--resume needs --name: the run to continue"),
            (self.time_budget is None or self.time_budget > 0,
             f"--time-budget must be positive, got {self.time_budget}"),
            (self.scheduler in SCHEDULERS, f"--scheduler must be one of {SCHEDULERS}, got {self.scheduler!r}"),
            (self.select in SELECTIONS, f"--select must be one of {SELECTIONS}, got {self.select!r}"),
            (self.ensemble >= 0, f"--ensemble must be 0 (none) or more, got {self.ensemble}"),
            (all(s in SEARCHERS for s in self.searchers),
             f"--searcher must be one of {SEARCHERS}, got {', '.join(self.searchers)}"),
            ("ax" not in self.searchers or _available("ax"),
             "--searcher ax needs ax-platform: pip install 'ray-gpei[ax]'"),
            ("tpe" not in self.searchers or _available("optuna"),
             "--searcher tpe needs optuna: pip install 'ray-gpei[bench]'"),
            ("bohb" not in self.searchers or (_available("hpbandster") and _available("ConfigSpace")),
             "--searcher bohb needs hpbandster and ConfigSpace: pip install 'ray-gpei[bench]'"),
            # TuneBOHB learns only from results that carry HyperBandForBOHB's budget: under ASHA or FIFO it
            # samples at random. HyperBandForBOHB tells the searcher of every pause, which only TuneBOHB and
            # the GP hear (the GP then frees the paused trial's place; Ray's ConcurrencyLimiter would not).
            ("bohb" not in self.searchers or self.scheduler == "hyperband",
             "--searcher bohb needs --scheduler hyperband (Ray's HyperBandForBOHB): TuneBOHB learns only from "
             f"that scheduler's brackets (got --scheduler {self.scheduler})"),
            (self.scheduler != "hyperband" or set(self.searchers) <= PAUSABLE,
             f"--scheduler hyperband pauses trials, which only the searchers {', '.join(sorted(PAUSABLE))} "
             f"follow (got --searcher {', '.join(self.searchers)})"),
        ]
        return [message for ok, message in checks if not ok]

    @property
    def searchers(self) -> tuple[str, ...]:
        """The searchers this sweep runs: ``compare``'s, else the one ``searcher``."""
        return self.compare or (self.searcher,)

    def default_name(self, job: Job) -> str:
        label = "compare" if self.compare else self.searcher
        return f"{job.name}-{label}-{datetime.now():%Y%m%d-%H%M%S}"

    @property
    def run_dir(self) -> Path | str:
        """This run's directory: a ``Path``, or a URI for remote storage (``tune_jobs.storage``)."""
        return storage.run_dir(self.storage_path, str(self.name))


def parse_duration(text: str) -> float:
    """Seconds in ``"90s"``, ``"10m"``, ``"2h"``, ``"1h30m"`` or a plain number of seconds."""
    match = re.fullmatch(r"\s*(?:(\d+(?:\.\d*)?)h)?\s*(?:(\d+(?:\.\d*)?)m)?\s*(?:(\d+(?:\.\d*)?)s?)?\s*", text)
    if not text.strip() or match is None or not any(match.groups()):
        raise ValueError(f"not a duration: {text!r} (examples: 90s, 10m, 2h, 1h30m)")
    hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return 3600 * hours + 60 * minutes + seconds


def _available(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None
