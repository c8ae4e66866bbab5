"""The jobs end to end through their command line, on the shared Ray (joined through RAY_ADDRESS)."""

import importlib
import json
import os
import pickle
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tune_jobs.data import reload

ROOT = Path(__file__).resolve().parents[2]


def _run(module, args, ray_address, tmp_path, *, timeout=600, extra_env=None, wait=True):
    env = dict(os.environ, RAY_ADDRESS=ray_address, **(extra_env or {}))
    cmd = [sys.executable, "-m", f"tune_jobs.{module}", "--storage-path", str(tmp_path), *args]
    if not wait:
        return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def _searcher_state(run_dir: Path) -> dict:
    path = max(run_dir.glob("searcher-state-*.pkl"))  # one per session, named by its start time
    with open(path, "rb") as f:
        return pickle.load(f)


@pytest.mark.parametrize("module, trials", [("torch_mlp", 4), ("mnist_cnn", 2)])
def test_smoke_job_writes_reports_and_loads_data_once(ray_session, tmp_path, module, trials):
    load_log = tmp_path / "loads.txt"
    out = _run(module, ["--smoke", "--name", "smoke"], ray_session, tmp_path,
               extra_env={"TUNE_JOBS_LOAD_LOG": str(load_log)})
    run_dir = tmp_path / "smoke"
    frame = pd.read_csv(run_dir / "trials.csv")
    best = json.loads((run_dir / "best.json").read_text())
    assert len(frame) == trials and (frame["error"].isna() | (frame["error"] == "")).all()
    assert frame["trial"].tolist() == list(range(1, trials + 1))
    assert 0.0 < best["test_accuracy"] <= 1.0 and best["best_val_accuracy"] == frame["best_val_accuracy"].max()
    for picture in ("convergence.png", "convergence_time.png", "learning_curves.png"):
        assert (run_dir / picture).stat().st_size > 5000
    assert "test accuracy" in out and "Best config" in out
    # The ensemble starts from the best config's network (through the job's own predict).
    assert str(best["best_trial"]) in best["ensemble"]["members"] and 0.0 < best["ensemble"]["test_accuracy"] <= 1.0
    assert best["ensemble"]["checkpoints"].keys() == best["ensemble"]["members"].keys()
    assert all(Path(path).is_dir() for paths in best["ensemble"]["checkpoints"].values() for path in paths)
    _predict_reproduces_the_ensembles_test_accuracy(run_dir, best, tmp_path, out)
    # The job's known-good configs come first (the CNN's classic convnet).
    for i, config in enumerate(importlib.import_module(f"tune_jobs.{module}").JOB.first_configs):
        assert {key: frame.loc[i, f"config/{key}"] for key in config} == config
    # One load, by the driver; the trials got the data from Ray's object store.
    assert len(load_log.read_text().splitlines()) == 1


def _predict_reproduces_the_ensembles_test_accuracy(run_dir: Path, best: dict, tmp_path: Path, job_out: str) -> None:
    """``tune_jobs.predict`` on the run, as the job's summary prints it: the test split scored again, and
    the same digits given as a uint8 .npy file, each agreeing with best.json's ensemble to the digit."""
    expected = best["ensemble"]["test_accuracy"]
    printed = shlex.split(job_out.split("or on yours (--images FILE): ")[1].splitlines()[0])
    assert printed[1:] == ["-m", "tune_jobs.predict", str(run_dir)], printed
    proc = subprocess.run(printed, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert f"test accuracy {expected:.4f} on " in proc.stdout, proc.stdout
    test = reload(best["data_recipe"])
    np.save(tmp_path / "digits.npy", np.round(test.x_test * 255).astype(np.uint8))
    _predict([str(run_dir), "--images", str(tmp_path / "digits.npy"), "--out", str(tmp_path / "predictions.csv")])
    labels = pd.read_csv(tmp_path / "predictions.csv")["label"].to_numpy()
    assert np.mean(labels == test.y_test) == expected


def _predict(args: list[str]) -> str:
    proc = subprocess.run([sys.executable, "-m", "tune_jobs.predict", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def test_a_uri_storage_path_gets_the_reports_and_predict_reads_them_back(ray_session, tmp_path):
    """``--storage-path`` as a URI (``s3://...`` on a cluster, ``file://`` here): the job's reports go there
    beside Ray's checkpoints, not to a local directory named after the URI, and ``tune_jobs.predict`` reads
    the run back through it."""
    uri = f"file://{tmp_path}/bucket"
    _run("torch_mlp", ["--smoke", "--name", "remote", "--num-samples", "6", "--epochs", "4", "--storage-path", uri],
         ray_session, tmp_path)
    run_dir = tmp_path / "bucket" / "remote"
    for report in ("trials.csv", "best.json", "convergence.png", "convergence_time.png", "learning_curves.png"):
        assert (run_dir / report).is_file(), report
    assert not (ROOT / "file:").exists()
    # Trials ASHA stopped below the best lose their checkpoints there too (tune_jobs.checkpoints).
    frame = pd.read_csv(run_dir / "trials.csv").set_index("trial")
    dropped = [int(path.name.split("_")[3]) for path in run_dir.glob("train_mlp_*")
               if not list(path.glob("checkpoint_*"))]
    assert dropped and (frame.loc[dropped, "epochs_run"] < 4).all()
    best = json.loads((run_dir / "best.json").read_text())
    assert best["checkpoint"].startswith(str(run_dir))
    out = _predict([f"{uri}/remote"])
    assert f"test accuracy {best['ensemble']['test_accuracy']:.4f} on " in out, out


def test_asha_stops_trials_early_and_the_searcher_still_learns_from_them(ray_session, tmp_path):
    # One trial at a time: the GP suggests the sixth (the design is 5 of 6 trials) from the same five results
    # every run, so that which trials ASHA stops does not depend on timing.
    _run("torch_mlp", ["--smoke", "--name", "asha", "--scheduler", "asha", "--num-samples", "6", "--epochs", "4",
                       "--select", "model", "--max-concurrent", "1"], ray_session, tmp_path)
    frame = pd.read_csv(tmp_path / "asha" / "trials.csv")
    assert len(frame) == 6
    assert (frame["epochs_run"] < 4).any(), frame[["trial", "epochs_run"]]
    # --select model: the best config is the GP's pick, a trial trained to the end; the highest-validation
    # trial is named too.
    best = json.loads((tmp_path / "asha" / "best.json").read_text())
    picked = frame.set_index("trial").loc[best["best_trial"]]
    assert best["selected_by"] == "model" and picked["epochs_run"] == 4
    assert best["best_config_val_accuracy"] == picked["best_val_accuracy"] and 0.0 < best["test_accuracy"] <= 1.0
    highest = best["highest_validation"]
    assert highest["best_val_accuracy"] == frame["best_val_accuracy"].max() == best["best_val_accuracy"]
    assert frame.set_index("trial").loc[highest["trial"], "best_val_accuracy"] == highest["best_val_accuracy"]
    assert 0.0 < highest["test_accuracy"] <= 1.0
    assert best["model_pick"] == {"trial": best["best_trial"], "best_val_accuracy": best["best_config_val_accuracy"],
                                  "test_accuracy": best["test_accuracy"]}
    _the_best_configs_network_is_its_kept_checkpoints(tmp_path / "asha", best)
    # Checkpoints stay for the trials a report may read: trained to the end, or the best so far when stopped.
    by_number = frame.set_index("trial")
    for path in (tmp_path / "asha").glob("train_mlp_*"):
        row = by_number.loc[int(path.name.split("_")[3])]
        if not list(path.glob("checkpoint_*")):
            assert row["epochs_run"] < 4 and row["best_val_accuracy"] < frame["best_val_accuracy"].max()
    state = _searcher_state(tmp_path / "asha")
    assert state["_n_observations"] == 6 and not state["_failures"]
    # Each trial is in the model at the epoch it reached, a stopped one never as a finished run.
    reached = sorted(max(curve) for curve in state["_engine"].curves.results.values())
    assert reached == sorted(frame["epochs_run"]) and len(state["_engine"].y) == 0


def _the_best_configs_network_is_its_kept_checkpoints(run_dir: Path, best: dict) -> None:
    """best.json's checkpoints are those Tune kept of the best config's trial: its best-validation epoch first,
    its latest, and its second best; their average is its test accuracy, which ``--best-config`` scores again."""
    trial = next(path for path in run_dir.glob("train_mlp_*") if int(path.name.split("_")[3]) == best["best_trial"])
    reports = [json.loads(line) for line in (trial / "result.json").read_text().splitlines()]
    score = {r["checkpoint_dir_name"]: r["val_accuracy"] for r in reports}
    names = [Path(path).name for path in best["checkpoints"]]
    assert best["checkpoints"][0] == best["checkpoint"] and all(Path(path).is_dir() for path in best["checkpoints"])
    assert score[names[0]] == max(score.values()) and reports[-1]["checkpoint_dir_name"] in names
    assert len(set(names)) == len(names) and 2 <= len(names) <= 3
    second = sorted(score.values())[-2]
    assert all(score[name] >= second for name in names if name != reports[-1]["checkpoint_dir_name"])
    out = _predict([str(run_dir), "--best-config"])
    assert f"test accuracy {best['test_accuracy']:.4f} on " in out and 0.0 < best["best_checkpoint_test_accuracy"] <= 1


def test_resume_continues_an_interrupted_sweep(ray_session, tmp_path):
    # 16 trials: with worker processes reused a smoke trial takes a fraction of a second, and the
    # driver must be killed while some are still to come. Under ASHA, so that the run resumed has
    # trials whose checkpoints are deleted (stopped below the best so far).
    args = ["--smoke", "--name", "resumable", "--num-samples", "16", "--max-concurrent", "1", "--scheduler", "asha",
            "--epochs", "4"]
    proc = _run("torch_mlp", args, ray_session, tmp_path, wait=False)
    run_dir = tmp_path / "resumable"
    for line in proc.stdout:  # piped, the console prints a line per finished trial: "[ 8/16] trial ..."
        if line.startswith("[ 8/16]"):
            break
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    started_before = set(run_dir.glob("train_mlp_*"))
    assert 8 <= len(started_before) < 16  # killed mid-sweep, with its state in the storage path
    out = _run("torch_mlp", args + ["--resume"], ray_session, tmp_path)
    frame = pd.read_csv(run_dir / "trials.csv")
    assert len(frame) == 16 and frame["best_val_accuracy"].notna().all(), out[-2000:]
    assert len(set(frame["trial_id"])) == 16
    state = _searcher_state(run_dir)
    # Every trial observed once, none left open, none failed: a trial ASHA had stopped that the saved state
    # still had running resumed from its latest checkpoint, which stays until the state on storage has it ended.
    assert state["_n_observations"] == 16 and not state["_running"] and not state["_failures"]
    by_id = frame.set_index("trial_id")
    # A trial the killed session started after it last saved the experiment state is started again under a new
    # id: its directory from before is no trial's, and no report reads its checkpoints.
    orphans = [path for path in started_before if path.name.split("_")[2] not in by_id.index]
    ours = [path for path in run_dir.glob("train_mlp_*") if path not in orphans]
    dropped = [path for path in ours if by_id.loc[path.name.split("_")[2], "epochs_run"] < 4
               and by_id.loc[path.name.split("_")[2], "best_val_accuracy"] < frame["best_val_accuracy"].max()]
    assert dropped and not any(list(path.glob("checkpoint_*")) for path in dropped + orphans)  # gone by the end
    assert all((path / "params.json").exists() for path in orphans)  # their other files stay


def test_the_peers_run_the_job_for_a_comparison(ray_session, tmp_path):
    """The GP on last results only (the searcher before multi-fidelity) and TuneBOHB with HyperBandForBOHB, through
    the command line."""
    _run("torch_mlp", ["--smoke", "--name", "final", "--searcher", "gp-final", "--scheduler", "asha",
                       "--num-samples", "4", "--epochs", "3"], ray_session, tmp_path)
    frame = pd.read_csv(tmp_path / "final" / "trials.csv")
    state = _searcher_state(tmp_path / "final")
    # A trial is one observation, at whatever epoch it ended: no learning curves.
    assert len(state["_engine"].y) == 4 and not state["_engine"].curves.results and len(frame) == 4
    out = _run("torch_mlp", ["--smoke", "--name", "bohb", "--searcher", "bohb", "--scheduler", "hyperband",
                             "--num-samples", "5", "--epochs", "3"], ray_session, tmp_path)
    # HyperBandForBOHB's first bracket at 3 epochs: 3 trials for an epoch, the best resumed to 3; then 2 full runs.
    # Every result carries the bracket's budget, from which TuneBOHB learns (it warns of a result without one).
    assert sorted(pd.read_csv(tmp_path / "bohb" / "trials.csv")["epochs_run"]) == [1, 1, 3, 3, 3]
    assert "BOHB Info not detected" not in out
    best = json.loads((tmp_path / "bohb" / "best.json").read_text())
    # TuneBOHB hands out NumPy scalars: best.json and the summary write them as JSON values, not their text.
    assert best["selected_by"] == "validation" and isinstance(best["best_config"]["batch_norm"], bool)
    assert isinstance(best["best_config"]["batch_size"], int)


def test_bad_flags_exit_with_a_message(tmp_path):
    for args, message in [
        (["--num-samples", "0"], "--num-samples must be at least 1"),
        (["--searcher", "bayes"], "invalid choice: 'bayes'"),
        (["--resume"], "--resume needs --name"),
        (["--searcher", "bohb"], "--searcher bohb needs --scheduler hyperband (Ray's HyperBandForBOHB)"),
        (["--searcher", "random", "--scheduler", "hyperband"],
         "--scheduler hyperband pauses trials, which only the searchers bohb, gp, gp-cost, gp-final follow"),
        (["--data-dir", str(tmp_path / "none"), "--name", "x"], "does not exist"),
    ]:
        proc = subprocess.run([sys.executable, "-m", "tune_jobs.torch_mlp", "--storage-path", str(tmp_path), *args],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert proc.returncode != 0 and message in proc.stderr, (args, proc.stderr[-2000:])
        assert "Traceback" not in proc.stderr


def _report_x(config: dict) -> None:
    from ray import tune

    tune.report({"score": config["x"]})


@pytest.mark.parametrize("searcher", ["random", "gp", "gp-final", "ax", "tpe", "bohb"])
def test_every_searcher_tries_the_jobs_first_configs(ray_session, tmp_path, searcher):
    from ray import tune

    from tune_jobs.tuner import build_tuner, make_searcher

    first = ({"x": 0.123},)  # never drawn at random
    tuner = build_tuner(_report_x, {"x": tune.uniform(0.0, 1.0)}, metric="score", mode="max", num_samples=3,
                        storage_path=str(tmp_path), name=searcher, max_concurrent=1,
                        search_alg=make_searcher(searcher, 0, epochs=1, first=first))
    xs = [result.config["x"] for result in tuner.fit()]
    assert len(xs) == 3 and xs.count(0.123) == 1


def test_gp_cost_is_the_gp_per_predicted_epoch_second():
    from tune_jobs.tuner import make_searcher

    assert [make_searcher(name, 0, epochs=3).options.cost_power for name in ("gp", "gp-cost")] == [0, 1]


def _sleep_then_report(config: dict) -> None:
    from ray import tune

    time.sleep(1.0)
    tune.report({"score": config["x"]})


def test_random_search_creates_trials_only_as_slots_free(ray_session, tmp_path):
    from ray import tune

    from tune_jobs.tuner import build_tuner, make_searcher

    tuner = build_tuner(_sleep_then_report, {"x": tune.uniform(0.0, 1.0)}, metric="score", mode="max",
                        num_samples=50, storage_path=str(tmp_path), name="lazy", max_concurrent=1, time_budget=4,
                        search_alg=make_searcher("random", 0, epochs=1, max_concurrent=1))
    assert 1 <= len(tuner.fit()) <= 8  # not 50 trials, most of them never started
