"""A finished sweep's files (``trials.csv``, ``best.json``, convergence and learning-curve plots) and its
console summary.

Everything is read from Tune's ``ResultGrid``: trials in the order Tune
created them, each with its ``trial_id``, config, per-epoch history and error.
"""

from __future__ import annotations

import json
import math
import os
import shlex
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from .checkpoints import Scored, kept
from .console import clock
from .data import MnistData
from .ensemble import build as build_ensemble
from .job import METRIC, MODE, Job, accuracy
from .storage import checkpoint_location, staged

BEST = f"best_{METRIC}"


def trials_frame(results, *, time_budget: float | None = None) -> pd.DataFrame:
    """One row per trial, in creation order: its config, its best and last metric, its fate.

    With a ``time_budget``, a trial that ended without an error before its first
    epoch was cut by the budget (Tune stops every trial then): ``cut_by_budget``,
    not a failure."""
    rows = []
    for number, result in enumerate(results, start=1):
        history = result.metrics_dataframe
        scores = history[METRIC] if history is not None and METRIC in history else pd.Series(dtype=float)
        metrics = result.metrics or {}
        row = {"trial": number, "trial_id": metrics.get("trial_id", "")}
        row.update({f"config/{k}": v for k, v in _flatten(result.config or {}).items()})
        row[BEST] = float(scores.max()) if len(scores) else math.nan
        row[f"last_{METRIC}"] = float(scores.iloc[-1]) if len(scores) else math.nan
        row["epochs_run"] = int(metrics.get("training_iteration", 0))
        row["stopped_early"] = row["epochs_run"] < int((result.config or {}).get("epochs", row["epochs_run"]))
        row["node_ip"] = metrics.get("node_ip", "")
        row["cut_by_budget"] = time_budget is not None and result.error is None and (history is None or history.empty)
        row["error"] = "" if row["cut_by_budget"] else _failure(result, scores)
        rows.append(row)
    return pd.DataFrame(rows)


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


def learning_curves(results) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each trial's ``(epochs, metric)`` as it reported them, in ``trials_frame``'s order."""
    curves = []
    for result in results:
        history = result.metrics_dataframe
        if history is None or METRIC not in history:
            curves.append((np.empty(0), np.empty(0)))
        else:
            curves.append((history["training_iteration"].to_numpy(float), history[METRIC].to_numpy(float)))
    return curves


def best_in_time(results) -> tuple[np.ndarray, np.ndarray]:
    """Best metric so far against seconds since the first trial started, over every reported epoch."""
    events = []
    for result in results:
        history = result.metrics_dataframe
        if history is not None and METRIC in history:
            started = history["timestamp"] - history["time_total_s"]
            events += zip(history["timestamp"], history[METRIC], started, strict=True)
    if not events:
        return np.empty(0), np.empty(0)
    times, values, starts = (np.array(column, dtype=float) for column in zip(*sorted(events), strict=True))
    return times - starts.min(), np.fmax.accumulate(values)


def best_so_far(frame: pd.DataFrame) -> np.ndarray:
    """Best validation accuracy after each trial (failed trials carry the previous best)."""
    return np.maximum.accumulate(frame[BEST].fillna(-np.inf).to_numpy())


def ended_by(frame: pd.DataFrame, seconds: float, *, num_samples: int, time_budget: float | None) -> str:
    """What ended the sweep: ``"num_samples"`` when Tune created every trial it may and the time
    budget (if any) had not run out, else ``"time_budget"``. A sweep meant to run for its budget
    that ends by its samples did not get the wall time it was given (a comparison at equal wall
    time needs a cap the budget cannot reach)."""
    if len(frame) >= num_samples and (time_budget is None or seconds < time_budget):
        return "num_samples"
    return "time_budget"


def summarise(job: Job, results, frame: pd.DataFrame, data: MnistData, *, searcher_name: str, seconds: float,
              searcher_seconds: float | None, searcher=None, epochs: int | None = None,
              select: str = "validation", ensemble: int = 0, num_samples: int,
              time_budget: float | None = None) -> dict:
    """``best.json``'s content: the best config, its test accuracy, and what the sweep cost.

    A trial's test accuracy is that of its kept checkpoints averaged (``checkpoints.kept``);
    ``best_checkpoint_test_accuracy`` gives the best config's best-validation checkpoint alone.
    The best config is the trial with the highest validation accuracy, or with ``select="model"``
    the model's pick (``model_pick``) when the searcher has a model; ``selected_by`` says which.
    ``highest_validation`` and ``model_pick`` give both trials, each with its test accuracy, either
    way (``options.SELECTIONS`` says why validation is the default)."""
    usable = frame[BEST].notna().any()
    highest = int(frame[BEST].idxmax()) if usable else None  # frame rows follow results
    pick = model_pick(results, frame, searcher, epochs)
    chosen = pick if select == "model" and pick is not None else highest
    scored = Scored(job, data)
    tests = {row: _tested(scored, results[row]) for row in {chosen, highest, pick} - {None}}

    def trial(row: int | None) -> dict | None:
        return None if row is None else {"trial": int(frame.loc[row, "trial"]), BEST: float(frame.loc[row, BEST]),
                                         "test_accuracy": tests[row]["averaged"]}

    best = results[chosen] if chosen is not None else None
    tested = tests.get(chosen, {"averaged": None, "alone": None, "checkpoints": []})
    averaged = build_ensemble(scored, results, frame, first=chosen, rounds=ensemble) if (
        ensemble > 0 and chosen is not None) else None
    return {
        "job": job.name, "searcher": searcher_name, "trials": len(frame),
        "failed_trials": int((frame["error"] != "").sum()),
        "best_config": best.config if best is not None else None,
        "selected_by": None if best is None else ("model" if select == "model" and chosen == pick else "validation"),
        "best_trial": None if best is None else int(frame.loc[chosen, "trial"]),
        "best_config_val_accuracy": None if best is None else float(frame.loc[chosen, BEST]),
        BEST: float(frame[BEST].max()) if usable else None,
        "test_accuracy": tested["averaged"],
        "best_checkpoint_test_accuracy": tested["alone"],
        "highest_validation": trial(highest),
        "model_pick": trial(pick),
        "ensemble": averaged.as_dict() if averaged is not None else None,
        "best_trial_id": best.metrics.get("trial_id") if best is not None else None,
        "checkpoint": tested["checkpoints"][0] if tested["checkpoints"] else None,  # the best-validation one
        "checkpoints": tested["checkpoints"],
        "data": data.describe(),
        "data_recipe": data.recipe(),
        "wall_seconds": round(seconds, 1),
        "time_budget": time_budget,
        "ended_by": ended_by(frame, seconds, num_samples=num_samples, time_budget=time_budget),
        "searcher_seconds": None if searcher_seconds is None else round(searcher_seconds, 3),
    }


def _tested(scored: Scored, result) -> dict:
    """``result``'s network on the test split: the test accuracy of its kept checkpoints ``averaged`` and of
    its best one ``alone`` (None without a checkpoint), and where the ``checkpoints`` are, the best first."""
    checkpoints = kept(result, METRIC, MODE)
    if not checkpoints:
        return {"averaged": None, "alone": None, "checkpoints": []}
    y_test, n_val = scored.data.y_test, scored.n_val
    averaged, best = scored.network(checkpoints, result.config), scored.each(checkpoints[:1], result.config)[0]
    return {"averaged": accuracy(averaged[n_val:], y_test), "alone": accuracy(best[n_val:], y_test),
            "checkpoints": [checkpoint_location(checkpoint) for checkpoint in checkpoints]}


def model_pick(results, frame: pd.DataFrame, searcher, epochs: int | None) -> int | None:
    """The row of the trial whose config the searcher's model predicts best at ``epochs``, among the
    trials trained that far: the GP's estimate pools every trial's results, so its pick is less
    exposed than the highest validation score to luck in one small validation split (the winner's
    curse). None without a model or such a trial."""
    if searcher is None or not hasattr(searcher, "predict") or epochs is None:
        return None
    full = frame.index[(frame["epochs_run"] >= epochs) & frame[BEST].notna()]
    if len(full) == 0:
        return None
    try:
        mean, _ = searcher.predict([results[int(i)].config for i in full])
    except ValueError:  # a model with too few observations to fit
        return None
    return int(full[int(np.argmax(mean) if MODE == "max" else np.argmin(mean))])


def _plain(value):
    """JSON for what ``json`` cannot write: NumPy scalars as their Python values (a peer searcher's
    configs carry ``np.True_``, ``np.int64``), anything else as its text."""
    return value.item() if isinstance(value, np.generic) else str(value)


def write_reports(run_dir: Path | str, results, frame: pd.DataFrame, summary: dict, *, epochs: int) -> None:
    """``trials.csv``, ``best.json``, and the pictures: ``convergence.png`` (against trials),
    ``convergence_time.png`` (against wall time) and ``learning_curves.png``."""
    from searchers.plots import plot_convergence, plot_convergence_in_time, plot_learning_curves

    chosen = frame.index[frame["trial"] == summary["best_trial"]]  # the best config's trial (frame rows follow results)
    best = int(chosen[0]) if len(chosen) else None
    label = summary["searcher"]
    with staged(run_dir) as local:
        frame.to_csv(local / "trials.csv", index=False)
        (local / "best.json").write_text(json.dumps(summary, indent=2, default=_plain))
        plot_convergence({label: best_so_far(frame)}, local / "convergence.png", metric=METRIC)
        plot_convergence_in_time({label: best_in_time(results)}, local / "convergence_time.png", metric=METRIC)
        plot_learning_curves(learning_curves(results), local / "learning_curves.png", full=epochs, best=best,
                             metric=METRIC)


def print_summary(frame: pd.DataFrame, summary: dict, run_dir: Path | str, top: int = 5) -> None:
    _print_top(frame, top)
    if summary["best_config"] is None:
        print(f"\nNo trial reported a usable {METRIC}: there is no best config.")
    else:
        how = ("the GP's pick: the best predicted of the trials trained to the end"
               if summary["selected_by"] == "model" else f"the highest {METRIC}")
        config = json.dumps(summary["best_config"], default=_plain)
        print(f"\nBest config (trial {summary['best_trial']}, {how}): {config}")
        test, kept_here = summary["test_accuracy"], len(summary["checkpoints"])
        print(f"Its {METRIC}: {summary['best_config_val_accuracy']:.4f}   test accuracy: "
              + ("no checkpoint to test" if test is None else f"{test:.4f}")
              + (f" (its {kept_here} kept checkpoints averaged; its best-{METRIC} epoch alone "
                 f"{summary['best_checkpoint_test_accuracy']:.4f})" if kept_here > 1 else ""))
        for label, other in ((f"The highest {METRIC}", summary["highest_validation"]),
                             ("The GP's pick", summary["model_pick"])):
            if other is not None and other["trial"] != summary["best_trial"]:
                test = "no checkpoint" if other["test_accuracy"] is None else f"{other['test_accuracy']:.4f}"
                print(f"{label}: trial {other['trial']}, {METRIC} {other[BEST]:.4f}, test accuracy {test}")
        averaged = summary.get("ensemble")
        if averaged is not None and len(averaged["members"]) == 1:
            print("Ensemble: no other network lowered the best config's validation log-loss")
        elif averaged is not None:
            members = ", ".join(f"{trial}" + (f" ×{n}" if n > 1 else "") for trial, n in averaged["members"].items())
            print(f"Ensemble (trials {members}, class probabilities averaged): {METRIC} "
                  f"{averaged['val_accuracy']:.4f}, test accuracy {averaged['test_accuracy']:.4f}")
    cut = int(frame["cut_by_budget"].sum())
    if cut:
        print(f"{cut} trial(s) created but stopped by the time budget before their first epoch")
    if summary["failed_trials"]:
        failed = frame[frame["error"] != ""]
        print(f"{len(failed)} trial(s) failed or gave no usable {METRIC}:")
        for row in failed.itertuples():
            print(f"  trial {row.trial}: {row.error}")
    budget = summary["time_budget"]
    if summary["ended_by"] == "num_samples" and budget is not None:
        print(f"The sweep ended when its {len(frame)} trials were done, {clock(summary['wall_seconds'])} into its "
              f"{clock(budget)} time budget (--num-samples is the bound; raise it to use the whole budget)")
    overhead = summary["searcher_seconds"]
    if overhead is not None:
        print(f"Searcher time: {overhead:.2f} s of {summary['wall_seconds']:.0f} s wall "
              f"({100 * overhead / max(summary['wall_seconds'], 1e-9):.2f}%)")
    print(f"Reports in {run_dir}: trials.csv, best.json, convergence.png, convergence_time.png, learning_curves.png")
    if summary["checkpoint"] is not None:
        print(f"Its networks on the test digits again, or on yours (--images FILE): {predict_command(run_dir)}")


def predict_command(run_dir: Path | str) -> str:
    """The command that loads the run's networks (``tune_jobs.predict``), with this interpreter: the
    venv's, relative, when it is under the working directory (``.venv/bin/python``), else ``python``."""
    interpreter = os.path.relpath(sys.executable)
    if interpreter.startswith(".."):
        interpreter = "python"
    return shlex.join([interpreter, "-m", "tune_jobs.predict", str(run_dir)])


def _print_top(frame: pd.DataFrame, top: int) -> None:
    columns = ["trial"] + [c for c in frame.columns if c.startswith("config/")] + [BEST, "epochs_run"]
    shown = frame.sort_values(BEST, ascending=False).head(top)[columns]
    shown = shown.rename(columns=lambda c: c.removeprefix("config/"))
    with pd.option_context("display.width", 200, "display.max_columns", 30, "display.float_format", "{:.4g}".format):
        print(f"\nTop {min(top, len(frame))} of {len(frame)} trials by {METRIC}:")
        print(shown.to_string(index=False))
