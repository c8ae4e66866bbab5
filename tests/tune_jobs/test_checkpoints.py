"""A trial's kept checkpoints; the others are deleted once the experiment state on storage no longer points at them."""

import json
from types import SimpleNamespace

import pytest
from pyarrow import fs
from ray import tune

from tune_jobs.checkpoints import PruneCheckpoints, kept


def _trial(directory, name: str, epochs: int) -> SimpleNamespace:
    """A trial's directory as Tune writes it: a checkpoint per epoch, numbered from 0."""
    path = directory / name
    for index in range(epochs):
        (path / f"checkpoint_{index:06d}").mkdir(parents=True)
        (path / f"checkpoint_{index:06d}" / "model.pt").write_text("weights")
    storage = SimpleNamespace(storage_filesystem=fs.LocalFileSystem(), experiment_fs_path=str(directory))
    return SimpleNamespace(trial_id=name, path=str(path), last_result={"training_iteration": epochs}, storage=storage)


def _report(prune, trial, values) -> None:
    for index, value in enumerate(values):
        prune.on_trial_result(0, [], trial, {"acc": value, "checkpoint_dir_name": f"checkpoint_{index:06d}"})


def _saved_state(directory, trials: dict[str, tuple[str, int]], session: str = "2026-11-28_16-00-00") -> None:
    """Tune's experiment state as it uploads it: per trial, its own state as JSON text (the status), then its
    run's (the last result, which names the latest checkpoint)."""
    trial_data = [[json.dumps({"trial_id": t, "status": status}),
                   json.dumps({"last_result": {"checkpoint_dir_name": f"checkpoint_{latest:06d}"}})]
                  for t, (status, latest) in trials.items()]
    (directory / f"experiment_state-{session}.json").write_text(json.dumps({"trial_data": trial_data}))


def _left(directory, names) -> dict[str, list[int]]:
    return {name: sorted(int(p.name.split("_")[1]) for p in (directory / name).glob("checkpoint_*")) for name in names}


@pytest.mark.parametrize("mode, sign", [("max", 1.0), ("min", -1.0)])
def test_a_trial_keeps_its_best_two_and_its_latest_and_a_stopped_one_below_the_best_keeps_none(tmp_path, mode, sign):
    prune = PruneCheckpoints(4, metric="acc", mode=mode, every=0.0)
    trials = {name: _trial(tmp_path, name, epochs) for name, epochs in
              [("leader", 1), ("full", 4), ("tied", 4), ("behind", 2), ("nan", 1)]}
    for name, values in [("leader", [0.9]), ("full", [0.3, 0.5, 0.4, 0.45]), ("tied", [0.5, 0.4, 0.4, 0.3]),
                         ("behind", [0.5, 0.6]), ("nan", [float("nan")])]:
        _report(prune, trials[name], [sign * v for v in values])
    for trial in trials.values():
        prune.on_trial_complete(0, [], trial)
    everything = _left(tmp_path, trials)
    assert prune.get_state() == {"best": 0.9, "own": {"leader": 0.9, "full": 0.5, "tied": 0.5, "behind": 0.6}}
    assert _left(tmp_path, trials) == everything  # no experiment state on storage yet: nothing goes
    # Saved while every trial still ran, each at its third epoch at most: only what that state no longer
    # points at may go, the first of full's (its third is not its best two, but it is the state's latest).
    _saved_state(tmp_path, {name: ("RUNNING", min(2, len(everything[name]) - 1)) for name in trials})
    prune.get_state()
    assert _left(tmp_path, trials) == {**everything, "full": [1, 2, 3]}
    _saved_state(tmp_path, {name: ("TERMINATED", len(everything[name]) - 1) for name in trials},
                 session="2026-11-28_17-00-00")  # a resumed session's state, newer
    prune.on_experiment_end([])  # after Tune's last save
    # leader: stopped but the best so far (the highest-validation trial may be it); full: its best two and
    # its latest; tied: the best and both tied second, and the latest; behind and nan (no usable score):
    # stopped below the best, none.
    assert _left(tmp_path, trials) == {"leader": [0], "full": [1, 3], "tied": [0, 1, 2, 3], "behind": [], "nan": []}
    assert (tmp_path / "behind").is_dir()  # the trial's own files (results) stay


def test_the_state_on_storage_is_read_at_most_every_so_often_and_a_resumed_sweep_keeps_the_best(tmp_path):
    prune = PruneCheckpoints(4, metric="acc", mode="max", every=3600.0)
    prune.on_trial_result(0, [], SimpleNamespace(trial_id="leader", path="", storage=None), {"acc": 0.9})
    resumed = PruneCheckpoints(4, metric="acc", mode="max", every=3600.0)
    resumed.set_state(prune.get_state())
    behind = _trial(tmp_path, "behind", 3)
    _report(resumed, behind, [0.5, 0.4, 0.3])  # below the best of the session before
    resumed.on_trial_complete(0, [], behind)
    _saved_state(tmp_path, {"behind": ("TERMINATED", 2)})
    resumed.get_state()  # read: it had not been read yet
    assert _left(tmp_path, ["behind"]) == {"behind": []}
    again = _trial(tmp_path, "again", 2)
    _report(resumed, again, [0.5, 0.4])
    resumed.on_trial_complete(0, [], again)
    _saved_state(tmp_path, {"behind": ("TERMINATED", 2), "again": ("TERMINATED", 1)})
    resumed.get_state()  # read an hour ago, as it were: not again yet
    assert _left(tmp_path, ["again"]) == {"again": [0, 1]}
    (tmp_path / "experiment_state-2026-11-28_16-00-00.json").write_text('{"trial_data": [["{"')  # half written
    resumed.on_experiment_end([])
    assert _left(tmp_path, ["again"]) == {"again": [0, 1]}  # unreadable: the checkpoints wait


def _restored(directory, name: str, values: list[float], status: str, on_disk: int | None = None):
    """A trial as a resumed Tuner restores it from the experiment state: Tune's record of every checkpoint it
    reported, with its metrics; ``on_disk`` of them left by the session before (all unless given)."""
    trial = _trial(directory, name, len(values) if on_disk is None else on_disk)
    record = [SimpleNamespace(checkpoint=SimpleNamespace(path=f"{trial.path}/checkpoint_{i:06d}"), metrics={"acc": v})
              for i, v in enumerate(values)]
    trial.run_metadata = SimpleNamespace(checkpoint_manager=SimpleNamespace(best_checkpoint_results=record))
    trial.status, trial.last_result = status, {"training_iteration": len(values), "acc": values[-1]}
    trial.trainable_name = "train"  # Tune names a trial's directory after it
    return trial


def test_a_resumed_sweep_prunes_what_the_killed_session_left(tmp_path):
    """A driver killed before it deleted a trial's checkpoints: the resumed sweep applies the same rule to them."""
    before = PruneCheckpoints(4, metric="acc", mode="max", every=3600.0)
    before.on_trial_result(0, [], SimpleNamespace(trial_id="leader", path="", storage=None), {"acc": 0.9})
    resumed = PruneCheckpoints(4, metric="acc", mode="max", every=3600.0)
    resumed.set_state(before.get_state())
    trials = [_restored(tmp_path, "train_full", [0.3, 0.5, 0.4, 0.45], "TERMINATED"),
              _restored(tmp_path, "train_behind", [0.5, 0.6], "TERMINATED"),
              _restored(tmp_path, "train_gone", [0.5, 0.6], "TERMINATED", on_disk=0),  # deleted before the kill
              _restored(tmp_path, "train_running", [0.5, 0.7, 0.6], "RUNNING")]
    # Started after the state was last saved: no state names it, and the resumed sweep starts it again.
    _trial(tmp_path, "train_orphan", 3)
    _trial(tmp_path, "notes", 1)  # not a trial's
    resumed.on_step_begin(0, trials)
    running = trials[-1]
    (tmp_path / "train_running" / "checkpoint_000003").mkdir()
    resumed.on_trial_result(0, trials, running, {"acc": 0.65, "checkpoint_dir_name": "checkpoint_000003"})
    running.last_result = {"training_iteration": 4}
    resumed.on_trial_complete(0, trials, running)
    _trial(tmp_path, "train_orphan_too", 1)
    resumed.on_step_begin(1, trials)  # adopted once, at the first step, not again
    _saved_state(tmp_path, {t.trial_id: ("TERMINATED", 3) for t in trials})
    resumed.on_experiment_end(trials)
    # full: its best two and its latest; behind: stopped below the best; running: the best two of both sessions'
    # checkpoints (epochs 2 and 4), the second also its latest.
    assert _left(tmp_path, [t.trial_id for t in trials] + ["train_orphan", "notes", "train_orphan_too"]) == {
        "train_full": [1, 3], "train_behind": [], "train_gone": [], "train_running": [1, 3], "train_orphan": [],
        "notes": [0], "train_orphan_too": [0]}


def test_the_trials_own_filesystem_deletes_them(tmp_path):
    """Through Ray's storage filesystem (``s3://`` on a cluster), not the local disk: here a filesystem rooted
    at ``tmp_path``, on which the trial's and the experiment's paths are relative and name nothing on the
    local disk."""
    (tmp_path / "sweep").mkdir()
    behind = _trial(tmp_path / "sweep", "behind", 2)
    behind.path = "sweep/behind"
    behind.storage = SimpleNamespace(storage_filesystem=fs.SubTreeFileSystem(str(tmp_path), fs.LocalFileSystem()),
                                     experiment_fs_path="sweep")
    prune = PruneCheckpoints(4, metric="acc", mode="max")
    prune.on_trial_result(0, [], SimpleNamespace(trial_id="leader", path="", storage=None), {"acc": 0.9})
    _report(prune, behind, [0.5, 0.6])
    prune.on_trial_complete(0, [], behind)
    _saved_state(tmp_path / "sweep", {"behind": ("TERMINATED", 1)})
    prune.on_experiment_end([])
    assert (tmp_path / "sweep" / "behind").is_dir() and not list((tmp_path / "sweep" / "behind").glob("checkpoint_*"))


def test_kept_gives_the_best_first_then_the_next_best_and_the_latest_each_once_and_only_those_on_disk(tmp_path):
    made = {}
    for epoch in (3, 5, 6, 7):
        (tmp_path / f"checkpoint_{epoch}").mkdir()
        made[epoch] = tune.Checkpoint.from_directory(tmp_path / f"checkpoint_{epoch}")

    def result(scores: dict[int, float], best: int, latest: int = 7) -> SimpleNamespace:
        """As Tune gives it when it keeps every checkpoint: each with its metrics."""
        return SimpleNamespace(best_checkpoints=[(made[e], {"acc": v}) for e, v in scores.items()],
                               checkpoint=made[latest], get_best_checkpoint=lambda metric, mode: made[best])

    def epochs(checkpoints) -> list[int]:
        return [int(c.path.rsplit("_", 1)[1]) for c in checkpoints]

    every = {3: 0.8, 5: 0.9, 6: 0.7, 7: 0.6}
    assert epochs(kept(result(every, 5), "acc", "max")) == [5, 3, 7]
    assert epochs(kept(result({3: 0.2, 5: 0.1, 6: 0.3, 7: 0.4}, 5), "acc", "min")) == [5, 3, 7]
    assert epochs(kept(result({5: 0.8, 6: 0.5, 7: 0.9}, 7), "acc", "max")) == [7, 5]  # the latest is the best: once
    (tmp_path / "checkpoint_3").rmdir()
    assert epochs(kept(result(every, 5), "acc", "max")) == [5, 7]  # not the third best in its place
    (tmp_path / "checkpoint_5").rmdir()
    assert kept(result(every, 5), "acc", "max") == []  # the best one is gone, and with it the network
