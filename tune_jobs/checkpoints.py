"""A trial's kept checkpoints, and disk kept in bounds: the checkpoints no report will read are deleted.

Every epoch of every trial writes a checkpoint (Tune keeps each trial's best two and its latest), so that a
trial can resume and the best config can be tested. Under ASHA most trials stop after an epoch
or two: measured at 35743c6, a 4-minute sweep of the MLP job (350 trials) left about 3 GB of
checkpoints. A trial stopped before the full epochs whose best score is already below the
sweep's best is never read again: the best config is the highest-validation trial (a score at
least the best so far when that trial ended) or the GP's pick (trained to the end), and a
stopped trial is never resumed. ``DropStoppedCheckpoints`` deletes such a trial's checkpoints
when it ends, on whatever filesystem Ray's storage is (a local directory, ``s3://``, ...).

A trial that keeps its checkpoints keeps three: its two best by validation and its latest
(``tuner.py``, ``keep_checkpoints=2``; Tune never deletes the latest). ``kept`` gives them; the
reports score a trial's network as the average of their class probabilities (``Job.predict_kept``):
measured offline, that beat the best-validation checkpoint alone on test in 53 of 64 full trials
and lost in 5 (``docs/checkpoint_averaging/``). ``Scored`` loads each checkpoint once for all the
reports of a sweep.
"""

from __future__ import annotations

import math

import numpy as np
from pyarrow import fs
from ray.tune import Callback


def kept(result, metric: str, mode: str) -> list:
    """The checkpoints of ``result`` (a Tune ``Result``) still on its storage, the best by ``metric`` first,
    then the others Tune kept (the next best, the latest), each once; empty if the best one is gone."""
    best = result.get_best_checkpoint(metric, mode)
    if best is None or not exists(best):
        return []
    others = [checkpoint for checkpoint, _ in (result.best_checkpoints or [])] + [result.checkpoint]
    found = [best]
    for checkpoint in others:
        if checkpoint is not None and checkpoint.path not in {c.path for c in found} and exists(checkpoint):
            found.append(checkpoint)
    return found


class Scored:
    """Class probabilities of checkpoints on ``data``'s validation digits, then its test digits: each checkpoint
    loaded once, however many reports read it (the best config's test accuracy, the highest-validation
    trial's, the GP's pick's and the ensemble's candidates are often the same networks)."""

    def __init__(self, job, data):
        self.job, self.data = job, data
        self.images = np.concatenate([data.x_val, data.x_test])
        self.n_val = len(data.y_val)
        self._seen: dict[str, np.ndarray] = {}

    def each(self, checkpoints, config: dict) -> list[np.ndarray]:
        """Per checkpoint, its probabilities ``(n_val + n_test, 10)``."""
        for checkpoint in checkpoints:
            if checkpoint.path not in self._seen:
                self._seen[checkpoint.path] = self.job.predict(checkpoint, config, self.images)
        return [self._seen[checkpoint.path] for checkpoint in checkpoints]

    def network(self, checkpoints, config: dict) -> np.ndarray:
        """A trial's network: its checkpoints' probabilities averaged, as ``Job.predict_kept`` averages them."""
        each = self.each(checkpoints, config)
        return sum(each) / len(each)


def exists(checkpoint) -> bool:
    return checkpoint.filesystem.get_file_info(checkpoint.path).type != fs.FileType.NotFound


class DropStoppedCheckpoints(Callback):
    """Deletes the checkpoint directories of a trial that ended before ``epochs`` with its best
    ``metric`` below the best any trial has reported so far."""

    def __init__(self, epochs: int, *, metric: str, mode: str):
        self.epochs, self.metric, self.sign = epochs, metric, 1.0 if mode == "max" else -1.0
        self.best = -math.inf  # the best score so far, as a score to maximise
        self.own: dict[str, float] = {}  # trial id -> its best score

    def on_trial_result(self, iteration, trials, trial, result, **info):
        value = result.get(self.metric)
        if value is None or not math.isfinite(value):
            return
        score = self.sign * float(value)
        self.own[trial.trial_id] = max(self.own.get(trial.trial_id, -math.inf), score)
        self.best = max(self.best, score)

    def on_trial_complete(self, iteration, trials, trial, **info):
        reached = int(trial.last_result.get("training_iteration", 0))
        if reached >= self.epochs or not self.own.get(trial.trial_id, -math.inf) < self.best:
            return
        filesystem = _filesystem(trial)
        found = filesystem.get_file_info(fs.FileSelector(trial.path, allow_not_found=True))
        for entry in found:
            if entry.type == fs.FileType.Directory and entry.base_name.startswith("checkpoint_"):
                try:
                    filesystem.delete_dir(entry.path)
                except OSError:
                    pass  # gone already, or not ours to delete: the sweep goes on either way


def _filesystem(trial) -> fs.FileSystem:
    """The filesystem the trial's files are on (Ray's storage: local, s3://, ...); local for a bare record."""
    storage = getattr(trial, "storage", None)
    return storage.storage_filesystem if storage is not None else fs.LocalFileSystem()
