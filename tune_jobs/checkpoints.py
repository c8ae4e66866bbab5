"""A trial's kept checkpoints, and disk kept in bounds: the checkpoints no report will read are deleted.

Every epoch of every trial writes a checkpoint, so that a trial can resume and the best config can be
tested. A trial keeps three: its two best by validation (and any tied with the second) and its latest.
``kept`` gives them; the reports score a trial's network as the average of their class probabilities
(``Job.predict_kept``): measured offline, that beat the best-validation checkpoint alone on test in 53
of 64 full trials and lost in 5 (``docs/checkpoint_averaging/``). ``Scored`` loads each checkpoint once
for all the reports of a sweep.

Under ASHA most trials stop after an epoch or two: measured at 35743c6, a 4-minute sweep of the MLP job
(350 trials) left about 3 GB of checkpoints. A trial stopped before the full epochs whose best score is
already below the sweep's best is never read again (the best config is the highest-validation trial, a
score at least the best so far when that trial ended, or the GP's pick, trained to the end), so it keeps
none.

``PruneCheckpoints`` deletes the others, on whatever filesystem Ray's storage is (a local directory,
``s3://``, ...), but only once the experiment state on storage no longer points at them: a driver killed
and resumed (``--resume``) restores each trial that state has running from the latest checkpoint it names.
Tune's own ``CheckpointConfig(num_to_keep=2)``, which the jobs used before, deletes a checkpoint as soon as
a better or later one arrives, and Tune saves the state to a staging directory and uploads it on its own
schedule: a driver killed in between left a trial that could not resume ("Could not recover from
checkpoint as it does not exist on storage anymore"), and the searcher took its config for a failure. So
Tune keeps every checkpoint, and the callback reads the uploaded state itself as Tune saves a new one.

A resumed sweep prunes what the killed one left: the restored trials' checkpoints by the same rule (Tune's
record of them carries their metrics), and all those of the trials the killed session started after its
last saved state, which no state names and the resumed sweep starts again under new ids.
"""

from __future__ import annotations

import json
import math
import numbers
import time

import numpy as np
from pyarrow import fs
from ray.tune import Callback


def kept(result, metric: str, mode: str) -> list:
    """The checkpoints of ``result`` (a Tune ``Result``) still on its storage, the best by ``metric`` first,
    then the next best and the latest, each once; empty if the best one is gone."""
    best = result.get_best_checkpoint(metric, mode)
    if best is None or not exists(best):
        return []
    sign = 1.0 if mode == "max" else -1.0
    scored = [(checkpoint, sign * metrics[metric]) for checkpoint, metrics in (result.best_checkpoints or [])
              if isinstance(metrics.get(metric), (int, float)) and math.isfinite(metrics[metric])]
    ranked = [checkpoint for checkpoint, _ in sorted(scored, key=lambda pair: -pair[1])]
    others = ranked[:2] + [result.checkpoint]
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


class PruneCheckpoints(Callback):
    """Keeps a trial's best two checkpoints by ``metric`` (and those tied with the second) and its latest,
    and none of a trial that ended before ``epochs`` with its best below the best any trial has reported so
    far; deletes the others once the experiment state on storage has the trial ended, or names a later
    checkpoint as its latest. That state is read as Tune saves a new one (``get_state``), at most every
    ``every`` seconds, and once more when the sweep ends, after Tune's last save."""

    def __init__(self, epochs: int, *, metric: str, mode: str, every: float = 10.0):
        self.epochs, self.metric, self.sign, self.every = epochs, metric, 1.0 if mode == "max" else -1.0, every
        self.best = -math.inf  # the best score so far, as a score to maximise
        self.own: dict[str, float] = {}  # trial id -> its best score
        self.scores: dict[str, dict[str, float]] = {}  # trial id -> {checkpoint directory name: its score}
        self.places: dict[str, tuple] = {}  # trial id -> (its storage context or None, its path)
        self.dropped: set[str] = set()  # trials that keep no checkpoint
        self.checked = -math.inf  # when the state on storage was last read (time.monotonic)
        self.resumed = False  # set_state: the trials' checkpoints of the session before are to be adopted

    def on_step_begin(self, iteration, trials, **info):
        if self.resumed:  # the trials as the state before the kill left them: their checkpoints become ours
            self.resumed = False
            for trial in trials:
                self._adopt(trial)
            if trials:
                _prune_orphans(trials)

    def on_trial_result(self, iteration, trials, trial, result, **info):
        self._record(trial, result.get("checkpoint_dir_name"), result.get(self.metric))

    def on_trial_complete(self, iteration, trials, trial, **info):
        self._end(trial)

    def _end(self, trial) -> None:
        reached = int(trial.last_result.get("training_iteration", 0))
        if reached < self.epochs and self.own.get(trial.trial_id, -math.inf) < self.best:
            self.dropped.add(trial.trial_id)
            self.places.setdefault(trial.trial_id, (getattr(trial, "storage", None), trial.path))

    def _record(self, trial, name: str | None, value) -> None:
        score = -math.inf  # no usable score: never among a trial's best
        if isinstance(value, numbers.Real) and math.isfinite(value):
            score = self.sign * float(value)
            self.own[trial.trial_id] = max(self.own.get(trial.trial_id, -math.inf), score)
            self.best = max(self.best, score)
        if name:
            self.scores.setdefault(trial.trial_id, {})[name] = score
            self.places[trial.trial_id] = (getattr(trial, "storage", None), trial.path)

    def _adopt(self, trial) -> None:
        """A restored trial's checkpoints, from Tune's record of them (it keeps every one, with its metrics):
        those the killed session had not deleted yet are kept or deleted by the same rule as this session's."""
        left = set(_on_disk(getattr(trial, "storage", None), trial.path))
        for result in trial.run_metadata.checkpoint_manager.best_checkpoint_results:
            name = _base_name(result.checkpoint.path) if result.checkpoint else None
            if name in left:
                self._record(trial, name, result.metrics.get(self.metric))
        if trial.status in ("TERMINATED", "ERROR") and trial.last_result:
            self._end(trial)

    def get_state(self) -> dict:
        if time.monotonic() - self.checked >= self.every:
            self.prune()
        return {"best": self.best, "own": dict(self.own)}

    def set_state(self, state: dict) -> None:
        """A resumed sweep's best so far; the trials' checkpoints are adopted at its first step."""
        self.best, self.own, self.resumed = state["best"], dict(state["own"]), True

    def on_experiment_end(self, trials, **info):
        self.prune()

    def prune(self) -> None:
        """Deletes what no report reads and the state on storage no longer points at."""
        self.checked = time.monotonic()
        if not self.places:
            return
        saved = _saved_trials(next(iter(self.places.values()))[0])
        for trial_id, (storage, path) in list(self.places.items()):
            status, latest = saved.get(trial_id, (None, None))
            ended = status in ("TERMINATED", "ERROR")
            scores = self.scores.get(trial_id, {})
            if trial_id in self.dropped:
                doomed = set(_on_disk(storage, path)) if ended else set()
            else:
                keep = self._keep(scores)
                doomed = {name for name in scores if name not in keep
                          and (ended or (latest is not None and name < latest))}
            for name in doomed:
                _delete(_filesystem_of(storage), f"{path}/{name}")
                scores.pop(name, None)
            if ended:  # nothing of it changes any more
                self.places.pop(trial_id)
                self.scores.pop(trial_id, None)

    @staticmethod
    def _keep(scores: dict[str, float]) -> set[str]:
        """The best two (and any tied with the second) and the latest (Tune numbers them in order)."""
        ranked = sorted(scores.values(), reverse=True)
        floor = ranked[min(1, len(ranked) - 1)]
        return {name for name, score in scores.items() if score >= floor} | {max(scores)}


def _saved_trials(storage) -> dict[str, tuple[str, str | None]]:
    """``{trial id: (status, its latest checkpoint's directory name)}`` in the newest experiment state on
    ``storage`` (a trial's ``StorageContext``); empty when there is none, or it cannot be read."""
    if storage is None:
        return {}
    filesystem, directory = storage.storage_filesystem, storage.experiment_fs_path
    try:
        found = filesystem.get_file_info(fs.FileSelector(directory, allow_not_found=True))
        states = sorted(e.path for e in found if e.base_name.startswith("experiment_state-")
                        and e.base_name.endswith(".json"))
        if not states:
            return {}
        with filesystem.open_input_stream(states[-1]) as stream:
            saved = json.loads(stream.read())
        trials = {}
        for own, metadata in saved["trial_data"]:
            trial, run = json.loads(own), json.loads(metadata)
            trials[trial["trial_id"]] = (trial.get("status"), (run.get("last_result") or {}).get("checkpoint_dir_name"))
        return trials
    except (OSError, ValueError, KeyError, TypeError):
        return {}  # a state written as we read it, or in another format: nothing is deleted


def _prune_orphans(trials) -> None:
    """Deletes the checkpoints of the trials a killed session started after it last saved the experiment state:
    no state names them, and the resumed sweep starts them again under new ids. Such a trial's directory is
    named as Tune names a trial's, after the trainable, but is none of ``trials``'s; its other files stay."""
    storage = getattr(trials[0], "storage", None)
    if storage is None:
        return
    filesystem, known = _filesystem_of(storage), {_base_name(trial.path) for trial in trials}
    prefixes = tuple({f"{trial.trainable_name}_" for trial in trials})
    found = filesystem.get_file_info(fs.FileSelector(storage.experiment_fs_path, allow_not_found=True))
    for entry in found:
        ours = entry.base_name.startswith(prefixes) and entry.base_name not in known
        if ours and entry.type == fs.FileType.Directory:
            for name in _on_disk(storage, entry.path):
                _delete(filesystem, f"{entry.path}/{name}")


def _base_name(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


def _on_disk(storage, path: str) -> list[str]:
    found = _filesystem_of(storage).get_file_info(fs.FileSelector(path, allow_not_found=True))
    return [e.base_name for e in found if e.type == fs.FileType.Directory and e.base_name.startswith("checkpoint_")]


def _delete(filesystem: fs.FileSystem, path: str) -> None:
    try:
        filesystem.delete_dir(path)
    except OSError:
        pass  # gone already, or not ours to delete: the sweep goes on either way


def _filesystem_of(storage) -> fs.FileSystem:
    """The filesystem of Ray's storage (local, s3://, ...); local for a bare record."""
    return storage.storage_filesystem if storage is not None else fs.LocalFileSystem()
