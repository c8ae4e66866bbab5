"""Malformed input, table-driven: every case gives one clear error naming the culprit, never a crash.

Search spaces, command-line flags, data directories, trial results and
checkpoints. Command-line cases also check the exit status and that nothing was
written; the subprocess cases in tests/tune_jobs/test_jobs.py check that a real
command prints no traceback.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import math
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import yaml
from ray import tune

from searchers import AxSearcher, GPEISearcher
from tests.ray_hosts import ROOT
from tests.test_cluster_autoscaling import fake_config
from tune_jobs import torch_mlp
from tune_jobs.api import load_data
from tune_jobs.cli import parse_options
from tune_jobs.data import IDX_FILES, MnistFileError, load_mnist, write_idx
from tune_jobs.runtime import autoscaler_node_types, check_resources

# --- search spaces ------------------------------------------------------------------------

SPACES = [
    ("empty", lambda: {}, "no searchable parameter"),
    ("only constants", lambda: {"a": 1, "b": "relu"}, "no searchable parameter"),
    ("not a dict", lambda: [tune.uniform(0, 1)], "param_space must be a dict"),
    ("reversed bounds", lambda: {"lr": tune.uniform(1.0, 0.1)}, r"lr: lower \(1.0\) must be below upper"),
    ("log of zero", lambda: {"lr": tune.loguniform(0, 1)}, "lower bound greater than 0"),
    ("log of a negative", lambda: {"lr": tune.loguniform(-1e-3, 1)}, "lower bound greater than 0"),
    ("integer log of zero", lambda: {"units": tune.lograndint(0, 64)}, "lower bound greater than 0"),
    ("empty integer range", lambda: {"layers": tune.randint(3, 3)}, "layers: the range holds no value"),
    ("negative quantum", lambda: {"units": tune.qrandint(8, 64, -8)}, "units: the quantisation step q must be"),
    ("reversed integer range", lambda: {"layers": tune.randint(10, 2)}, "layers: the range holds no value"),
    ("infinite bound", lambda: {"x": tune.uniform(0, math.inf)}, "requires a upper bound"),
    ("empty choice", lambda: {"act": tune.choice([])}, "act: choice\\(\\) needs at least one category"),
    ("sample_from", lambda: {"f": tune.sample_from(lambda spec: 1)}, "f: sample_from is not supported"),
    ("grid_search", lambda: {"g": tune.grid_search([1, 2])}, "g: grid_search is not supported"),
    ("unbounded normal", lambda: {"w": tune.randn(0, 1)}, "w: randn/qrandn .* not supported"),
    ("nested error", lambda: {"net": {"width": tune.uniform(5, 1)}}, r"net/width: lower \(5.0\) must be below"),
    ("domain in a list", lambda: {"x": [1, tune.uniform(2, 3), 4]}, "x/1: a search domain inside a list"),
    ("domain in a dict in a list", lambda: {"x": [{"y": tune.choice([1, 2])}]}, "x/0: a search domain inside a list"),
]


@pytest.mark.parametrize("build, message", [c[1:] for c in SPACES], ids=[c[0] for c in SPACES])
def test_bad_search_space(build, message):
    with pytest.raises(ValueError, match=message):
        GPEISearcher(space=build(), metric="loss", mode="min")


# --- command-line flags -------------------------------------------------------------------


def _cli(argv: list[str], storage: Path) -> tuple[int | str, str]:
    """Exit code and message of the job's flag checks (argparse's go to stderr)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), pytest.raises(SystemExit) as exit_info:
        load_data(torch_mlp.JOB, parse_options(torch_mlp.JOB, ["--storage-path", str(storage), *argv]))
    code = exit_info.value.code
    return (2 if isinstance(code, int) else 1), err.getvalue() + (code if isinstance(code, str) else "")


FLAGS = [
    ("zero trials", ["--num-samples", "0"], "--num-samples must be at least 1, got 0"),
    ("negative trials", ["--num-samples", "-3"], "--num-samples must be at least 1, got -3"),
    ("zero concurrency", ["--max-concurrent", "0"], "--max-concurrent must be at least 1"),
    ("zero epochs", ["--epochs", "0"], "--epochs must be at least 1"),
    ("negative CPUs", ["--cpus-per-trial", "-1"], "--cpus-per-trial must be positive"),
    ("negative GPUs", ["--gpus-per-trial", "-0.5"], "--gpus-per-trial must be zero or positive"),
    ("unknown searcher", ["--searcher", "hyperopt"], "argument --searcher: invalid choice: 'hyperopt'"),
    ("unknown scheduler", ["--scheduler", "pbt"], "argument --scheduler: invalid choice: 'pbt'"),
    ("unknown selection rule", ["--select", "test"], "argument --select: invalid choice: 'test'"),
    ("not a number", ["--num-samples", "ten"], "argument --num-samples: invalid int value: 'ten'"),
    ("resume without a name", ["--resume"], "--resume needs --name"),
    ("not a duration", ["--time-budget", "ten minutes"], "argument --time-budget: not a duration: 'ten minutes'"),
    ("missing data directory", ["--data-dir", "/nonexistent/mnist"], "/nonexistent/mnist does not exist"),
]


@pytest.mark.parametrize("argv, message", [c[1:] for c in FLAGS], ids=[c[0] for c in FLAGS])
def test_bad_flag(argv, message, tmp_path):
    code, text = _cli(argv, tmp_path)
    assert code != 0 and message in text, text
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_unwritable_storage_path(tmp_path):
    if os.geteuid() == 0:  # root writes anywhere; a path under a file cannot be created by anyone
        (tmp_path / "file").write_text("")
        storage = tmp_path / "file" / "runs"
    else:
        (tmp_path / "locked").mkdir(mode=0o500)
        storage = tmp_path / "locked" / "runs"
    code, text = _cli(["--storage-path", str(storage)], tmp_path)
    assert code != 0 and "--storage-path" in text and "cannot be created" in text, text


def _nodes(*cpus_gpus):
    return [{"Alive": True, "Resources": {"CPU": c, "GPU": g}} for c, g in cpus_gpus]


@pytest.mark.parametrize("flags, nodes, message", [
    (["--gpus-per-trial", "1"], _nodes((2.0, 0.0)), "--gpus-per-trial 1: the largest node .* has 0 GPUs"),
    (["--cpus-per-trial", "4"], _nodes((2.0, 0.0)), "--cpus-per-trial 4: the largest node .* has 2 CPUs"),
    (["--cpus-per-trial", "4"], _nodes((2.0, 0.0), (2.0, 0.0), (3.0, 1.0)),
     "--cpus-per-trial 4: the largest node .* has 3 CPUs"),
], ids=["GPUs with none in the cluster", "more CPUs than the machine has", "more CPUs than any one node has"])
def test_trials_that_could_never_start(flags, nodes, message, capsys):
    options = parse_options(torch_mlp.JOB, flags)
    with pytest.raises(SystemExit, match=message):
        check_resources(options, nodes, joined=False)
    check_resources(options, nodes, joined=True)  # a cluster we joined may grow: a warning, not an error
    assert "trials wait until the autoscaler adds a node with enough" in capsys.readouterr().out


def test_on_an_autoscaling_cluster_the_node_types_that_fit_are_named(tmp_path, capsys):
    """The YAML ``ray up`` leaves on the head: ours, its instance types' resources filled in."""
    bootstrap = tmp_path / "ray_bootstrap_config.yaml"
    bootstrap.write_text(yaml.safe_dump(fake_config(ROOT / "cluster" / "aws-gpu.yaml"), sort_keys=False))
    types = autoscaler_node_types(bootstrap)
    assert types == {"gpu_worker": {"CPU": 4.0, "GPU": 1.0}, "cpu_worker": {"CPU": 8.0}}
    cpu_only = _nodes((4.0, 0.0))
    check_resources(parse_options(torch_mlp.JOB, ["--gpus-per-trial", "1"]), cpu_only, joined=True, node_types=types)
    assert "until the autoscaler adds one of its node types gpu_worker (GPUs per node: 1)" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="none of the autoscaler's node types has enough: gpu_worker "
                                         r"\(4 CPU, 1 GPU\), cpu_worker \(8 CPU\)"):
        check_resources(parse_options(torch_mlp.JOB, ["--gpus-per-trial", "2"]), cpu_only, joined=True,
                        node_types=types)
    assert autoscaler_node_types(tmp_path / "absent.yaml") is None


# --- data directories ---------------------------------------------------------------------


def _dataset(directory: Path) -> None:
    rng = np.random.default_rng(0)
    for key, n in (("train_images", 60), ("test_images", 20)):
        write_idx(directory / IDX_FILES[key], rng.integers(0, 256, (n, 28, 28)))
    for key, n in (("train_labels", 60), ("test_labels", 20)):
        write_idx(directory / IDX_FILES[key], np.arange(n) % 10)


def _missing_file(d):
    (d / IDX_FILES["train_labels"]).unlink()


def _truncated(d):
    path = d / IDX_FILES["train_images"]
    path.write_bytes(path.read_bytes()[:5000])


def _wrong_magic(d):
    path = d / IDX_FILES["test_labels"]
    path.write_bytes(b"\x00\x00\x09\x99" + path.read_bytes()[4:])


def _mismatched(d):
    write_idx(d / IDX_FILES["test_labels"], np.arange(19) % 10)


def _bad_gzip(d):
    path = d / IDX_FILES["test_images"]
    (d / (IDX_FILES["test_images"] + ".gz")).write_bytes(gzip.compress(path.read_bytes())[:300])
    path.unlink()


DATA = [
    ("missing file", _missing_file, "train-labels-idx1-ubyte.*is missing"),
    ("truncated file", _truncated, "train-images-idx3-ubyte"),
    ("wrong magic number", _wrong_magic, "t10k-labels-idx1-ubyte"),
    ("labels and images disagree", _mismatched, "t10k"),
    ("corrupt gzip", _bad_gzip, "t10k-images-idx3-ubyte.gz"),
]


@pytest.mark.parametrize("spoil, message", [c[1:] for c in DATA], ids=[c[0] for c in DATA])
def test_bad_data_directory(spoil, message, tmp_path):
    _dataset(tmp_path)
    spoil(tmp_path)
    with pytest.raises(MnistFileError, match=message):
        load_mnist(tmp_path)


# --- trial results, checkpoints, searcher arguments ---------------------------------------

SPACE = {"x": tune.uniform(0, 1), "act": tune.choice(["relu", "tanh"])}


def _searcher(**kwargs):
    return GPEISearcher(space=SPACE, metric="loss", mode="min", **kwargs)


RESULTS = [
    ("missing metric", {"accuracy": 0.9}, "the result has no metric 'loss'"),
    ("metric is a string", {"loss": "nan-ish"}, "metric 'loss' is not a number: 'nan-ish'"),
    ("metric is None", {"loss": None}, "metric 'loss' is not a number: None"),
    ("metric is NaN", {"loss": math.nan}, "metric 'loss' is nan"),
    ("metric is infinite", {"loss": math.inf}, "metric 'loss' is inf"),
    ("no result at all", None, "the result has no metric 'loss'"),
]


@pytest.mark.parametrize("result, reason", [c[1:] for c in RESULTS], ids=[c[0] for c in RESULTS])
def test_bad_result(result, reason):
    searcher = _searcher()
    searcher.suggest("t")
    searcher.on_trial_complete("t", result)
    assert searcher.failures == {"t": reason} and searcher.n_observations == 0


def _restore(path: Path, kind=GPEISearcher):
    kind().restore(str(path))


def _write(path: Path, payload: bytes) -> Path:
    path.write_bytes(payload)
    return path


ARGUMENTS = [
    ("restore from a missing file", lambda p: _restore(p / "none.pkl"), "is not a GPEISearcher checkpoint"),
    ("restore from a text file", lambda p: _restore(_write(p / "x.txt", b"hello")), "is not a GPEISearcher checkpoint"),
    ("restore from another pickle", lambda p: _restore(_write(p / "x.pkl", pickle.dumps([1, 2]))),
     "is not a GPEISearcher checkpoint"),
    ("restore a GP checkpoint into Ax", lambda p: (_searcher().save(str(p / "gp.pkl")),
                                                   _restore(p / "gp.pkl", AxSearcher)),
     "is not a AxSearcher checkpoint"),
    ("point outside the space", lambda p: _searcher(points_to_evaluate=[{"x": 2.0, "act": "relu"}]).suggest("t"),
     "x: 2.0 is outside the search space"),
    ("unknown category in a point", lambda p: _searcher(points_to_evaluate=[{"x": 0.5, "act": "selu"}]).suggest("t"),
     "act: 'selu' is outside the search space"),
    ("rewards without points", lambda p: GPEISearcher(points_to_evaluate=[{"x": 0.1}], evaluated_rewards=[1, 2]),
     "one value per entry"),
    ("unknown mode", lambda p: GPEISearcher(mode="maximize"), "mode must be 'min' or 'max'"),
    ("unknown acquisition", lambda p: GPEISearcher(acquisition="pi"), "unknown acquisition 'pi'"),
    ("unknown failure handling", lambda p: GPEISearcher(failed_trials="retry"), "unknown failed_trials 'retry'"),
    ("warp powers the wrong way round", lambda p: GPEISearcher(warp_powers=(2.0, 0.0)),
     r"warp_powers must be \(low, high\) with low < high, got \(2.0, 0.0\)"),
]


@pytest.mark.parametrize("call, message", [c[1:] for c in ARGUMENTS], ids=[c[0] for c in ARGUMENTS])
def test_bad_argument(call, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        call(tmp_path)


def test_the_table_has_at_least_thirty_cases():
    cases = len(SPACES) + len(FLAGS) + 1 + 2 + len(DATA) + len(RESULTS) + len(ARGUMENTS)
    assert cases >= 30, cases
