"""Ensemble selection over the sweep's networks: the greedy rule, and the candidates it reads from disk."""

import shutil

import numpy as np
import pandas as pd
from ray import tune

from tune_jobs import ensemble, reports
from tune_jobs.checkpoints import Scored
from tune_jobs.data import MnistData
from tune_jobs.job import METRIC, Job
from tune_jobs.job import accuracy as top1


def _probabilities(rng, labels, accuracy):
    """Class probabilities ``(n, 10)`` that put 0.6 on the true label for about ``accuracy`` of the rows
    and on a random other label for the rest."""
    n = len(labels)
    right = rng.random(n) < accuracy
    top = np.where(right, labels, (labels + rng.integers(1, 10, n)) % 10)
    p = np.full((n, 10), 0.4 / 9)
    p[np.arange(n), top] = 0.6
    return p


def test_select_adds_the_network_that_corrects_the_first_and_not_a_worse_copy():
    labels = np.array([0, 1, 2, 3])
    first = np.full((4, 10), 0.01)
    first[[0, 1, 2, 3], [0, 1, 5, 6]] = 0.91  # right on the first half only
    other = np.full((4, 10), 0.01)
    other[[0, 1, 2, 3], [7, 8, 2, 3]] = 0.91  # right on the second half only
    worse = np.full((4, 10), 0.01)
    worse[[0, 1, 2, 3], [9, 9, 9, 9]] = 0.91  # wrong everywhere
    assert ensemble.select([first, worse, other], labels, rounds=4)[:2] == [0, 2]
    assert ensemble.select([first, worse], labels, rounds=4) == [0]
    assert ensemble.select([first, other], labels, rounds=0) == [0]


def test_each_pick_lowers_the_log_loss_and_selection_stops_only_when_none_does():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 10, 300)
    candidates = [_probabilities(rng, labels, accuracy) for accuracy in (0.9, 0.85, 0.8, 0.7, 0.5)]
    chosen = ensemble.select(candidates, labels, rounds=20)
    losses = [ensemble.log_loss(sum(candidates[i] for i in chosen[:k]) / k, labels) for k in range(1, len(chosen) + 1)]
    assert len(chosen) > 1 and chosen[0] == 0
    assert all(later < earlier for earlier, later in zip(losses, losses[1:], strict=False))
    total = sum(candidates[i] for i in chosen)
    assert all(ensemble.log_loss((total + p) / (len(chosen) + 1), labels) >= losses[-1] for p in candidates)


class _Result:
    """A trial's result as ``checkpoints.kept`` reads it: its best checkpoint, every checkpoint with its
    validation accuracy (the first two the best), its latest."""

    def __init__(self, checkpoints, config):
        self.best_checkpoints = [(c, {METRIC: 0.9 - 0.1 * i}) for i, c in enumerate(checkpoints)]
        self.checkpoint, self.config, self.metrics = checkpoints[-1], config, {}

    def get_best_checkpoint(self, metric, mode):
        return self.best_checkpoints[0][0]


def test_build_starts_from_the_best_config_skips_deleted_checkpoints_and_scores_the_average(tmp_path):
    """Each trial kept three checkpoints; its network is their average, and the ensemble averages networks."""
    rng = np.random.default_rng(0)
    data = MnistData(np.zeros((2, 28, 28)), np.zeros(2, int), np.zeros((200, 28, 28)), rng.integers(0, 10, 200),
                     np.zeros((300, 28, 28)), rng.integers(0, 10, 300), "fake")
    results, stored = [], {}
    for row, accuracy in enumerate((0.6, 0.9, 0.8, 0.85)):  # row 3 is deleted before the ensemble is built
        checkpoints = []
        for epoch in range(3):
            directory = tmp_path / f"trial{row}" / f"checkpoint_{epoch}"
            directory.mkdir(parents=True)
            stored[str(directory)] = {len(y): _probabilities(rng, y, accuracy) for y in (data.y_val, data.y_test)}
            checkpoints.append(tune.Checkpoint.from_directory(directory))
        results.append(_Result(checkpoints, {"row": row}))
    shutil.rmtree(tmp_path / "trial3")
    loads = []

    def predict(checkpoint, config, images):  # the validation split, then the test split
        loads.append(checkpoint.path)
        assert len(images) == 500
        return np.vstack([stored[checkpoint.path][200], stored[checkpoint.path][300]])

    def network(row: int, n: int) -> np.ndarray:
        return sum(stored[str(tmp_path / f"trial{row}" / f"checkpoint_{epoch}")][n] for epoch in range(3)) / 3

    job = Job(name="fake", trainable=None, search_space=None, description="", predict=predict)
    frame = pd.DataFrame({"trial": [1, 2, 3, 4], "best_val_accuracy": [0.6, 0.9, 0.8, 0.85]})

    built = ensemble.build(Scored(job, data), results, frame, first=2, rounds=5)  # the best config: trial 3

    rows = [row for trial, n in built.members.items() for row in [trial - 1] * n]
    assert 3 in built.members and 4 not in built.members and sum(built.members.values()) >= 2
    assert built.val_accuracy == top1(sum(network(row, 200) for row in rows) / len(rows), data.y_val)
    assert built.test_accuracy == top1(sum(network(row, 300) for row in rows) / len(rows), data.y_test)
    kept = {trial: [str(tmp_path / f"trial{trial - 1}" / f"checkpoint_{epoch}") for epoch in range(3)]
            for trial in built.members}
    assert built.checkpoints == kept
    assert sorted(loads) == sorted(stored)[:9]  # each kept checkpoint of the three candidates loaded once
    assert ensemble.build(Scored(job, data), results, frame, first=3, rounds=5) is None  # trial 4's best is gone

    # The reports test the best config (trial 2, the highest validation) and build its ensemble: its
    # checkpoints are read once for both.
    loads.clear()
    frame = frame.assign(error="")
    summary = reports.summarise(job, results, frame, data, searcher_name="fake", seconds=1.0, searcher_seconds=None,
                                ensemble=5, num_samples=len(frame))
    assert sorted(loads) == sorted(stored)[:9]
    assert summary["ended_by"] == "num_samples" and summary["time_budget"] is None  # every trial done, no budget
    assert summary["best_trial"] == 2 and summary["test_accuracy"] == top1(network(1, 300), data.y_test)
    assert summary["ensemble"]["test_accuracy"] == ensemble.build(Scored(job, data), results, frame, first=1,
                                                                  rounds=5).test_accuracy
