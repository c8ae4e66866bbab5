"""A trial's kept checkpoints; checkpoints of trials no report reads are deleted when those trials end."""

from types import SimpleNamespace

import pytest
from pyarrow import fs
from ray import tune

from tune_jobs.checkpoints import DropStoppedCheckpoints, kept


def _trial(tmp_path, name: str, epochs: int) -> SimpleNamespace:
    path = tmp_path / name
    for epoch in range(1, epochs + 1):
        (path / f"checkpoint_{epoch:06d}").mkdir(parents=True)
        (path / f"checkpoint_{epoch:06d}" / "model.pt").write_text("weights")
    return SimpleNamespace(trial_id=name, path=str(path), last_result={"training_iteration": epochs})


@pytest.mark.parametrize("mode, sign", [("max", 1.0), ("min", -1.0)])
def test_only_a_stopped_trial_below_the_best_so_far_loses_its_checkpoints(tmp_path, mode, sign):
    drop = DropStoppedCheckpoints(4, metric="acc", mode=mode)
    trials = {name: _trial(tmp_path, name, epochs) for name, epochs in
              [("leader", 1), ("full", 4), ("behind", 2), ("nan", 1)]}
    for name, value in [("leader", 0.9), ("full", 0.5), ("behind", 0.6), ("nan", float("nan"))]:
        drop.on_trial_result(0, [], trials[name], {"acc": sign * value})
    for trial in trials.values():
        drop.on_trial_complete(0, [], trial)
    kept = {name for name, trial in trials.items() if list((tmp_path / name).glob("checkpoint_*"))}
    # leader: stopped but the best so far (the highest-validation trial may be it); full: trained to the end
    # (the GP's pick may be it); behind and nan (no usable score): stopped below the best.
    assert kept == {"leader", "full"}
    assert (tmp_path / "behind").is_dir()  # the trial's own files (results) stay


def test_the_trials_own_filesystem_deletes_them(tmp_path):
    """Through Ray's storage filesystem (``s3://`` on a cluster), not the local disk: here a filesystem rooted
    at ``tmp_path``, on which the trial's path is relative and names nothing on the local disk."""
    behind = _trial(tmp_path, "behind", 1)
    behind.path = "behind"
    behind.storage = SimpleNamespace(storage_filesystem=fs.SubTreeFileSystem(str(tmp_path), fs.LocalFileSystem()))
    drop = DropStoppedCheckpoints(4, metric="acc", mode="max")
    drop.on_trial_result(0, [], SimpleNamespace(trial_id="leader"), {"acc": 0.9})
    drop.on_trial_result(0, [], behind, {"acc": 0.5})
    drop.on_trial_complete(0, [], behind)
    assert (tmp_path / "behind").is_dir() and not list((tmp_path / "behind").glob("checkpoint_*"))


def test_kept_gives_the_best_first_then_the_others_tune_kept_each_once_and_only_those_on_disk(tmp_path):
    made = {}
    for epoch in (3, 5, 6, 7):
        (tmp_path / f"checkpoint_{epoch}").mkdir()
        made[epoch] = tune.Checkpoint.from_directory(tmp_path / f"checkpoint_{epoch}")

    def result(best: list[int], latest: int) -> SimpleNamespace:
        return SimpleNamespace(best_checkpoints=[(made[e], {}) for e in best], checkpoint=made[latest],
                               get_best_checkpoint=lambda metric, mode: made[best[0]])

    def epochs(checkpoints) -> list[int]:
        return [int(c.path.rsplit("_", 1)[1]) for c in checkpoints]

    assert epochs(kept(result([5, 3], 7), "acc", "max")) == [5, 3, 7]
    assert epochs(kept(result([7, 5], 7), "acc", "max")) == [7, 5]  # the latest is the best: once
    (tmp_path / "checkpoint_3").rmdir()
    assert epochs(kept(result([5, 3], 7), "acc", "max")) == [5, 7]
    (tmp_path / "checkpoint_5").rmdir()
    assert kept(result([5, 6], 7), "acc", "max") == []  # the best one is gone, and with it the network
