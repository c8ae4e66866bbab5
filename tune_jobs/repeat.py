"""A job's figures over seeds: the same sweep with ``--seed 0 .. n-1``, median and range, per searcher.

    python -m tune_jobs.repeat torch_mlp --seeds 3                          # the README's main-job table
    python -m tune_jobs.repeat torch_mlp --seeds 3 --searchers gp random    # side by side
    python -m tune_jobs.repeat torch_mlp --searchers gp gp-final+fifo random tpe # a scheduler per method
    python -m tune_jobs.repeat mnist_cnn --seeds 2 -- --num-samples 20      # flags after -- go to the job

Sweeps run one after another (each uses the machine as the job alone would).
Prints a markdown table: best validation accuracy, the test accuracy of the
best config (the job's ``--select`` rule: by default the highest-validation
trial; its kept checkpoints averaged, and its best-validation checkpoint
alone beside it), the test accuracy of the GP's pick (``reports.model_pick``, for
searchers with a model; given either way), the test accuracy of the ensemble
(``ensemble``), what the wall time bought (trials started, trials
trained to the end, epochs trained) and wall seconds, each as median [min, max]; writes
``repeat.csv`` under ``--storage-path/<name>``. It names the sweeps that ran out of trials
before their time budget (``ended_by``): those did not get the wall time the others did.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from datetime import datetime

import pandas as pd

from . import api, runtime, storage
from .options import SCHEDULERS, SEARCHERS, SweepOptions

COLUMNS = {"best_val_accuracy": "best val accuracy", "test_accuracy": "test accuracy: best config",
           "best_checkpoint_test_accuracy": "its best epoch alone",
           "model_pick_test_accuracy": "test accuracy: the GP's pick",
           "ensemble_test_accuracy": "test accuracy: ensemble", "trials": "trials started",
           "full_trials": "trained to the end", "epochs_trained": "epochs trained", "wall_seconds": "wall s"}
COUNTS = ("trials", "full_trials", "epochs_trained", "wall_seconds")  # printed without decimals


def method(text: str) -> str:
    """A method for ``--searchers``: a searcher, optionally ``+`` a scheduler (``random+asha``)."""
    searcher, _, scheduler = text.partition("+")
    if searcher not in SEARCHERS or (scheduler and scheduler not in SCHEDULERS):
        raise argparse.ArgumentTypeError(f"{text!r}: a searcher {SEARCHERS}, optionally +{'|'.join(SCHEDULERS)}")
    return text


def repeat(job, searchers: list[str], seeds: int, flags: dict) -> pd.DataFrame:
    """One row per (method, seed): the sweep's summary. A method is a searcher, with the job's
    scheduler or ``+`` its own (``gp+fifo``)."""
    rows = []
    base = SweepOptions.for_job(job, **flags)
    if not storage.is_uri(base.run_dir):
        base.run_dir.mkdir(parents=True, exist_ok=True)  # each sweep claims its own directory inside
    runtime.start_ray()
    for seed in range(seeds):
        for name in searchers:
            searcher, _, scheduler = name.partition("+")
            chosen = {"searcher": searcher, **({"scheduler": scheduler} if scheduler else {})}
            options = SweepOptions.for_job(job, **{**flags, **chosen, "seed": seed,
                                                   "name": f"{base.name}/{name}-seed{seed}"})
            data = api.load_data(job, options)
            runtime.claim_run_dir(options)
            done = api.run_sweep(job, options, data, searcher, str(options.name))
            summary, epochs_run = done.summary, done.frame["epochs_run"]
            highest, pick = summary["highest_validation"] or {}, summary["model_pick"] or {}
            rows.append({"searcher": name, "scheduler": options.scheduler, "seed": seed,
                         "selected_by": summary["selected_by"], "time_budget": summary["time_budget"],
                         "ended_by": summary["ended_by"],
                         **{k: summary[k] for k in ("best_val_accuracy", "test_accuracy",
                                                    "best_checkpoint_test_accuracy", "wall_seconds")},
                         "highest_val_test_accuracy": highest.get("test_accuracy"),
                         "model_pick_test_accuracy": pick.get("test_accuracy"),
                         "ensemble_test_accuracy": (summary["ensemble"] or {}).get("test_accuracy"),
                         "ensemble_size": sum((summary["ensemble"] or {}).get("members", {}).values()) or None,
                         # what the wall time bought: trials that trained at least an epoch, and epochs
                         "trials": int((epochs_run > 0).sum()),
                         "full_trials": int((epochs_run >= options.epochs).sum()),
                         "epochs_trained": int(epochs_run.sum())})
    frame = pd.DataFrame(rows)
    with storage.staged(base.run_dir) as local:
        frame.to_csv(local / "repeat.csv", index=False)
    return frame


def table(frame: pd.DataFrame) -> str:
    """Median [min, max] of each figure, a row per searcher."""
    lines = ["| searcher | seeds | " + " | ".join(COLUMNS.values()) + " |", "|---" * (len(COLUMNS) + 2) + "|"]
    for searcher, group in frame.groupby("searcher", sort=False):
        cells = []
        for key in COLUMNS:
            values = group[key].astype(float).dropna()
            if values.empty:
                cells.append("–")
                continue
            fmt = "{:.0f}" if key in COUNTS else "{:.4f}"
            cells.append(f"{fmt.format(values.median())} [{fmt.format(values.min())}, {fmt.format(values.max())}]")
        lines.append(f"| {searcher} | {len(group)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("job", choices=("torch_mlp", "mnist_cnn"))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--searchers", nargs="+", type=method, default=["gp"], metavar="SEARCHER[+SCHEDULER]",
                        help=f"searchers {SEARCHERS}, each with the job's scheduler or +{'|'.join(SCHEDULERS)}")
    parser.add_argument("--storage-path", default="results")
    parser.add_argument("--name", default=None)
    parser.epilog = "Flags after -- go to the job, e.g. -- --num-samples 20 --time-budget 10m"
    argv = sys.argv[1:] if argv is None else list(argv)
    split = argv.index("--") if "--" in argv else len(argv)
    args, rest = parser.parse_args(argv[:split]), argv[split + 1:]
    if args.seeds < 1:
        parser.error("--seeds must be at least 1")
    job = importlib.import_module(f"tune_jobs.{args.job}").JOB
    from .cli import parser_for

    flags = vars(parser_for(job).parse_args(rest))
    flags.update(storage_path=args.storage_path,
                 name=args.name or f"{job.name}-repeat-{datetime.now():%Y%m%d-%H%M%S}")
    frame = repeat(job, args.searchers, args.seeds, flags)
    runtime.disconnect()  # before the table: the workers Ray reaps on exit print nothing after it
    print(f"\n{job.name}, {args.seeds} seeds, flags {' '.join(rest) or '(defaults)'}:\n")
    print(table(frame))
    short = frame[(frame["ended_by"] == "num_samples") & frame["time_budget"].notna()]
    if len(short):
        print(f"\nNot at equal wall time: {len(short)} sweep(s) ran out of --num-samples before the time budget ("
              + ", ".join(f"{row.searcher} seed {row.seed} at {row.wall_seconds:.0f} s" for row in short.itertuples())
              + ")")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
