"""What a person sees while a sweep runs: one live progress line on a terminal, a line per finished
trial when the output is a file, and nothing per epoch.

``Progress`` is a Ray Tune ``Callback``: Tune calls it as trials start, report
and end. On a terminal it draws a ``tqdm`` bar (trials done / total, running,
best so far, elapsed and remaining); piped, it prints one plain line per
finished trial. ``--verbose`` gives Ray's own output back instead.
"""

from __future__ import annotations

import math
import sys
import time

from ray.tune import Callback


class Progress(Callback):
    """Trials done / running / total, the best metric so far and its trial, elapsed and remaining time."""

    def __init__(self, total: int, *, metric: str, mode: str, time_budget: float | None = None):
        self._total, self._metric, self._mode, self._budget = total, metric, mode, time_budget
        self._start = time.monotonic()
        self._done = 0
        self._live: set[str] = set()  # trials started and not finished; some may be paused (HyperBand)
        self._trials: list = []  # Tune's own list of trials, whose statuses it keeps current
        self._best: tuple[float, int, dict] | None = None  # value, trial number, config
        self._numbers: dict[str, int] = {}
        self._epochs: dict[str, int] = {}
        self._bar = None  # drawn on the first event; the Tuner pickles its callbacks before that

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_bar"} | {"_bar": None}

    def setup(self, **info):
        if sys.stdout.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=self._total, file=sys.stdout, unit="trial", dynamic_ncols=True, leave=True)

    def on_trial_start(self, iteration, trials, trial, **info):
        self._numbers[trial.trial_id] = trials.index(trial) + 1  # creation order, as in trials.csv
        self._live.add(trial.trial_id)  # a paused trial that resumes starts again: counted once
        self._trials = trials
        self._refresh()

    def on_trial_result(self, iteration, trials, trial, result, **info):
        self._epochs[trial.trial_id] = int(result.get("training_iteration", 0))
        value = result.get(self._metric)
        if isinstance(value, int | float) and math.isfinite(value) and self._better(value):
            self._best = (float(value), self._numbers.get(trial.trial_id, -1), trial.config)
        self._refresh()

    def on_trial_complete(self, iteration, trials, trial, **info):
        self._finish(trial, "")

    def on_trial_error(self, iteration, trials, trial, **info):
        self._finish(trial, " (failed)")

    def on_experiment_end(self, trials, **info):
        if self._bar is not None:
            self._bar.close()

    # -- internals ----------------------------------------------------------------------

    def _better(self, value: float) -> bool:
        if self._best is None:
            return True
        return value > self._best[0] if self._mode == "max" else value < self._best[0]

    def _finish(self, trial, note: str) -> None:
        self._done += 1
        self._live.discard(trial.trial_id)
        if self._bar is not None:
            self._bar.update(1)
            self._refresh()
            return
        last = trial.last_result or {}
        value = last.get(self._metric)
        shown = f"{value:.4f}" if isinstance(value, int | float) else "-"
        print(f"[{self._done:>{len(str(self._total))}}/{self._total}] trial {self._numbers.get(trial.trial_id, '?')}"
              f"{note}: {self._metric} {shown} after {self._epochs.get(trial.trial_id, 0)} epochs | {self._status()}",
              flush=True)

    def _status(self) -> str:
        elapsed = time.monotonic() - self._start
        best = "best -" if self._best is None else f"best {self._best[0]:.4f} (trial {self._best[1]})"
        left = ""
        if self._budget:
            left = f", {clock(max(0.0, self._budget - elapsed))} of the time budget left"
        elif self._done:
            left = f", ~{clock(elapsed / self._done * (self._total - self._done))} left"
        paused = sum(t.status == "PAUSED" and t.trial_id in self._live for t in self._trials)
        waiting = f", {paused} paused" if paused else ""
        return f"{best} | {len(self._live) - paused} running{waiting} | {clock(elapsed)} elapsed{left}"

    def _refresh(self) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str(self._status(), refresh=True)


def clock(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
