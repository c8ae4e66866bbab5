"""Faults survived: the driver killed and resumed, a trial's worker killed, trials that fail; safe defaults."""

from __future__ import annotations

import json
import math
import os
import pickle
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from ray import tune

from searchers import GPEISearcher
from tune_jobs.api import sweep
from tune_jobs.job import Job

ROOT = Path(__file__).resolve().parents[1]


def _job(args, ray_address, storage: Path, **extra_env: str) -> subprocess.Popen:
    env = dict(os.environ, RAY_ADDRESS=ray_address, **extra_env)
    return subprocess.Popen([sys.executable, "-m", "tune_jobs.torch_mlp", "--storage-path", str(storage), *args],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def _results(run_dir: Path) -> dict[str, list[dict]]:
    """Trial directory -> its reported results, one per epoch."""
    out = {}
    for path in run_dir.glob("train_mlp_*/result.json"):
        lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        if lines:
            out[path.parent.name] = lines
    return out


def _wait(condition, proc: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        if proc.poll() is not None:
            raise AssertionError(f"the job ended early:\n{proc.stdout.read()[-3000:]}")
        time.sleep(0.2)
    raise TimeoutError("condition not reached")


def _searcher_state(run_dir: Path) -> dict:
    path = max(run_dir.glob("searcher-state-*.pkl"))  # one per session, named by its start time
    with open(path, "rb") as f:
        return pickle.load(f)


@pytest.mark.slow  # about 2.5 min; tests/tune_jobs/test_jobs.py kills and resumes once in the default suite
def test_driver_killed_at_five_points_loses_and_reruns_nothing(ray_session, tmp_path):
    """SIGKILL the sweep's driver after 1, 2, 3, 4 and 5 finished trials, resuming each time."""
    samples = 7
    args = ["--smoke", "--name", "killed", "--num-samples", str(samples), "--max-concurrent", "1"]
    run_dir = tmp_path / "killed"
    finished_at_kill = []
    for kill_after in range(1, 6):
        proc = _job(args + (["--resume"] if kill_after > 1 else []), ray_session, tmp_path)
        _wait(lambda n=kill_after: len(_results(run_dir)) >= n, proc)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        finished_at_kill.append(_results(run_dir))
    proc = _job(args + ["--resume"], ray_session, tmp_path)
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out[-3000:]

    final = _results(run_dir)
    for before in finished_at_kill:
        assert set(before) <= set(final)  # no finished trial lost
        for trial, lines in before.items():
            assert final[trial] == lines  # and none run again (a re-run would add results)
    assert len(final) == samples and all(len(lines) == 1 for lines in final.values())
    frame = pd.read_csv(run_dir / "trials.csv")
    assert len(frame) == samples and frame["best_val_accuracy"].notna().all()
    state = _searcher_state(run_dir)
    assert state["_n_observations"] == samples and not state["_running"]  # observations == finished trials


def test_worker_killed_trial_retried_from_its_checkpoint(ray_session, tmp_path):
    # A smoke epoch takes about 0.1 s: 40 of them leave a window of seconds in which the trial has reported
    # 2 to 20 epochs, wide enough for the half-second uploads to show it. FIFO, so that no scheduler stops
    # the trial before its last epoch.
    epochs = 40
    args = ["--smoke", "--name", "worker", "--num-samples", "2", "--max-concurrent", "1", "--epochs", str(epochs),
            "--max-failures", "2", "--scheduler", "fifo"]
    run_dir = tmp_path / "worker"
    # Tune writes results in a staging directory and uploads them with its experiment state, by default every
    # 10 s at most: every half second here, so that a trial's results reach the run directory while it trains.
    proc = _job(args, ray_session, tmp_path, TUNE_GLOBAL_CHECKPOINT_S="0.5")
    _wait(lambda: any(2 <= len(lines) <= epochs // 2 for lines in _results(run_dir).values()), proc)
    trial, lines = next((t, lines) for t, lines in _results(run_dir).items() if 2 <= len(lines) <= epochs // 2)
    # Freeze the worker, then check it is still inside that trial: a smoke epoch takes 0.1 s, and the
    # same process goes on to the next trial (reuse_actors), so a kill by pid alone may hit another.
    pid = lines[-1]["pid"]
    os.kill(pid, signal.SIGSTOP)
    time.sleep(1.0)  # the driver writes what the worker reported before it froze
    assert len(_results(run_dir)[trial]) < epochs, "the trial ended before its worker froze"
    os.kill(pid, signal.SIGKILL)
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out[-3000:]
    frame = pd.read_csv(run_dir / "trials.csv")
    assert len(frame) == 2 and (frame["error"].isna() | (frame["error"] == "")).all()
    results = _results(run_dir)[trial]
    assert len({r["pid"] for r in results}) == 2  # a second worker took over ...
    trained = [r["epoch"] for r in results]
    assert trained[-1] == epochs and trained.count(1) == 1  # ... from the checkpoint, not from epoch 1

    # The resumed trial trained exactly as the same config does uninterrupted, epoch by epoch.
    # (An epoch reported just before the kill may have no result line: compare the epochs recorded,
    # which include the last one, trained after the resume.)
    uninterrupted = _train_uninterrupted(results[-1]["config"], tmp_path)
    resumed = {r["epoch"]: r["val_accuracy"] for r in results}
    assert [resumed[e] for e in sorted(resumed)] == pytest.approx([uninterrupted[e - 1] for e in sorted(resumed)],
                                                                  abs=1e-9)


def _train_uninterrupted(config: dict, storage: Path) -> list[float]:
    from tune_jobs import torch_mlp
    from tune_jobs.api import load_data
    from tune_jobs.options import SweepOptions
    from tune_jobs.tuner import build_tuner, trainable_for

    options = SweepOptions.for_job(torch_mlp.JOB, smoke=True, storage_path=str(storage))
    trainable = trainable_for(torch_mlp.JOB, options, load_data(torch_mlp.JOB, options))
    results = build_tuner(trainable, config, metric="val_accuracy", mode="max", num_samples=1,
                          storage_path=str(storage), name="uninterrupted").fit()
    return list(results[0].metrics_dataframe["val_accuracy"])


# --- trials that fail ----------------------------------------------------------------------


def _flaky(config, data):
    """Fails in three ways by the value of x: raises, reports NaN, or never reports the metric."""
    x = config["x"]
    if x < 0.15:
        raise RuntimeError("loss exploded")
    if x < 0.3:
        tune.report({"val_accuracy": math.nan, "epoch": 1})
        return
    if x < 0.45:
        tune.report({"train_loss": 1.0, "epoch": 1})
        return
    with tempfile.TemporaryDirectory() as directory:
        Path(directory, "x").write_text(str(x))
        tune.report({"val_accuracy": x, "epoch": 1}, checkpoint=tune.Checkpoint.from_directory(directory))


def _kind(x: float) -> int:
    return 0 if x < 0.15 else 1 if x < 0.3 else 2 if x < 0.45 else 3


def _all_zeros(checkpoint, config, images):
    return np.eye(10)[np.zeros(len(images), int)]


FLAKY = Job(name="flaky", trainable=_flaky, search_space=lambda epochs: {"x": tune.uniform(0, 1)},
            predict=_all_zeros, description="trials that fail")


def test_failing_trials_are_listed_and_do_not_poison_the_gp(ray_session, tmp_path, capsys):
    result = sweep(FLAKY, num_samples=12, max_concurrent=1, storage_path=str(tmp_path), name="flaky", smoke=True)
    out = capsys.readouterr().out
    kinds = [_kind(x) for x in result.frame["config/x"]]
    assert {0, 3} <= set(kinds) and len(set(kinds)) >= 3, kinds  # a raise, another failure, successes
    assert len(result.frame) == 12
    failed = result.frame[result.frame["error"].fillna("") != ""]
    assert len(failed) == 12 - kinds.count(3) == result.summary["failed_trials"]
    assert "loss exploded" in out and "trial(s) failed or gave no usable val_accuracy" in out
    for kind, reason in ((1, "reported val_accuracy = nan"), (2, "never reported val_accuracy")):
        assert (failed["error"] == reason).sum() == kinds.count(kind)
    searcher: GPEISearcher = result.searcher
    reasons = list(searcher.failures.values())
    assert reasons.count("the trial raised an error") == kinds.count(0)
    assert reasons.count("metric 'val_accuracy' is nan") == kinds.count(1)
    assert reasons.count("the result has no metric 'val_accuracy'") == kinds.count(2)
    assert searcher.n_observations == kinds.count(3) and np.isfinite(searcher.engine.y).all()
    mean, std = searcher.predict([{"x": 0.05}, {"x": 0.9}])
    assert np.isfinite(mean).all() and np.isfinite(std).all() and mean[0] < mean[1]  # failures rank low
    assert result.summary["best_val_accuracy"] == pytest.approx(max(result.frame["config/x"]))


def _slow_start(config: dict, data) -> None:
    time.sleep(config["x"] * 30)  # the second trial is still in its first epoch when the budget runs out
    with tempfile.TemporaryDirectory() as directory:
        Path(directory, "x").write_text(str(config["x"]))
        tune.report({"val_accuracy": 0.5, "epoch": 1}, checkpoint=tune.Checkpoint.from_directory(directory))


SLOW = Job(name="slow", trainable=_slow_start, search_space=lambda epochs: {"x": tune.grid_search([0.0, 1.0])},
           predict=_all_zeros, description="a trial the time budget cuts")


def test_a_trial_the_time_budget_cuts_before_its_first_epoch_is_not_a_failure(ray_session, tmp_path, capsys):
    result = sweep(SLOW, num_samples=1, max_concurrent=2, time_budget=8, searcher="random", scheduler="fifo",
                   storage_path=str(tmp_path), name="slow", smoke=True)
    out = capsys.readouterr().out
    frame = result.frame.set_index("config/x")
    assert frame.loc[1.0, "cut_by_budget"] and frame.loc[1.0, "error"] == ""
    assert not frame.loc[0.0, "cut_by_budget"] and frame.loc[0.0, "epochs_run"] == 1
    assert result.summary["failed_trials"] == 0 and "1 trial(s) created but stopped by the time budget" in out
    assert result.summary["ended_by"] == "time_budget" and "--num-samples is the bound" not in out
    assert "failed or gave no usable" not in out


def test_rays_warning_about_trials_without_results_is_not_printed(monkeypatch):
    """Ray warns "Failed to fetch metrics" for each trial the time budget cut before its first epoch
    (seen after most 4-minute sweeps); the summary's own line says it."""
    import logging

    from tune_jobs import runtime

    for name in ("RAY_AIR_NEW_OUTPUT", "TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S"):
        monkeypatch.setenv(name, os.environ.get(name, ""))  # restored afterwards
    runtime.quiet_console(verbose=False)
    log = logging.getLogger("ray.tune.analysis.experiment_analysis")

    def record(message: str) -> logging.LogRecord:
        return log.makeRecord(log.name, logging.WARNING, __file__, 0, message, None, None)

    # The logger's filters, whatever the process's logging level (other tests disable warnings).
    assert not log.filter(record("Failed to fetch metrics for 1 trial(s):\n- train_mlp_6d07fde2: FileNotFoundError"))
    assert log.filter(record("another warning"))


# --- safe defaults -------------------------------------------------------------------------


_LOCAL_RAY = """
import os, sys
{imports}
start_ray()
node = ray._private.worker.global_worker.node
pids = [p.process.pid for procs in node.all_processes.values() for p in procs]
from ray._private.authentication.authentication_utils import is_token_auth_enabled
print("TOKEN_AUTH", is_token_auth_enabled(), flush=True)
print("PIDS", *pids, flush=True)
sys.stdin.read()
"""


@pytest.mark.parametrize("imports", [
    "from tune_jobs.runtime import start_ray\nimport ray",
    "import ray\nfrom tune_jobs.runtime import start_ray",  # as a notebook does: ray first
], ids=["tune_jobs first", "ray first"])
def test_local_ray_listens_on_loopback_only_with_token_auth(tmp_path, imports):
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER")}
    proc = subprocess.Popen([sys.executable, "-c", _LOCAL_RAY.format(imports=imports)], cwd=ROOT, env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        lines = []
        while not lines or not lines[-1].startswith("PIDS"):
            line = proc.stdout.readline()
            assert line, "".join(lines)
            lines.append(line)
        pids = set(lines[-1].split()[1:]) | {str(proc.pid)}
        sockets = subprocess.run(["ss", "-Htlnp"], capture_output=True, text=True, check=True).stdout.splitlines()
        ours = [s for s in sockets if any(f"pid={pid}," in s for pid in pids)]
        assert len(ours) >= 3, sockets  # GCS, raylet, object manager at least
        local = [s.split()[3] for s in ours]
        assert all(a.startswith(("127.0.0.1:", "[::1]:", "[::ffff:127.0.0.1]:")) for a in local), local
        assert "TOKEN_AUTH True" in "".join(lines)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def test_a_crash_while_checkpointing_leaves_the_old_checkpoint(tmp_path, monkeypatch):
    searcher = GPEISearcher(space={"x": tune.uniform(0, 1)}, metric="loss", mode="min")
    for i in range(3):
        config = searcher.suggest(str(i))
        searcher.on_trial_complete(str(i), {"loss": config["x"]})
    path = tmp_path / "searcher.pkl"
    searcher.save(str(path))
    before = path.read_bytes()
    searcher.suggest("3")
    searcher.on_trial_complete("3", {"loss": 0.5})  # state has moved on since the saved checkpoint

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pickle, "dump", crash)
    with pytest.raises(OSError, match="disk full"):
        searcher.save(str(path))
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["searcher.pkl"]
    monkeypatch.undo()
    restored = GPEISearcher()
    restored.restore(str(path))
    assert restored.n_observations == 3


def test_two_sweeps_with_one_name_cannot_overwrite_each_other(ray_session, tmp_path):
    from tune_jobs import runtime
    from tune_jobs.options import SweepOptions

    options = SweepOptions.for_job(FLAKY, storage_path=str(tmp_path), name="shared")
    runtime.start(options)  # the first sweep claims the run directory
    with pytest.raises(SystemExit, match="shared already exists: pass --resume"):
        runtime.start(options)
    assert [p.name for p in tmp_path.iterdir()] == ["shared"]
