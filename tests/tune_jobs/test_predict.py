"""Classifying digits with a finished sweep's networks: the weights, best.json's members, the splits, bad input.

The jobs' own networks, loaded through this module's command line, are in test_jobs.py's smoke test."""

import json
from pathlib import Path

import numpy as np
import pytest

from tune_jobs import predict
from tune_jobs.data import load_mnist, reload, write_idx
from tune_jobs.job import Job


def _fixed_job(outputs: dict[str, np.ndarray]) -> Job:
    """A job whose network ``config["name"]`` answers ``outputs[name]`` for any images."""
    return Job(name="fixed", trainable=lambda config, data: None, search_space=lambda epochs: {},
               predict=lambda checkpoint, config, images: outputs[config["name"]], description="")


def test_a_member_chosen_twice_weighs_double(tmp_path):
    a, b = np.eye(10)[[0, 1]], np.eye(10)[[1, 1]]
    networks = predict.Networks(_fixed_job({"a": a, "b": b}),
                                ((({"name": "a"}), (str(tmp_path),), 2), ({"name": "b"}, (str(tmp_path),), 1)), "two")
    np.testing.assert_allclose(networks.predict(np.zeros((2, 28, 28))), (2 * a + b) / 3)


def test_a_network_is_the_mean_of_its_checkpoints(tmp_path):
    answers = {"early": np.eye(10)[[0, 1]], "late": np.eye(10)[[2, 2]], "other": np.eye(10)[[5, 5]]}
    job = Job(name="fixed", trainable=lambda config, data: None, search_space=lambda epochs: {}, description="",
              predict=lambda checkpoint, config, images: answers[checkpoint.path.rsplit("/", 1)[1]])
    for name in answers:
        (tmp_path / name).mkdir()
    networks = predict.Networks(job, (({}, (str(tmp_path / "early"), str(tmp_path / "late")), 1),
                                      ({}, (str(tmp_path / "other"),), 1)), "two")
    expected = ((answers["early"] + answers["late"]) / 2 + answers["other"]) / 2
    np.testing.assert_allclose(networks.predict(np.zeros((2, 28, 28))), expected)


def _write_summary(run_dir, *, ensemble: bool = True, one_path_each: bool = False) -> dict:
    """A best.json whose trials 3, 5, 8 each kept two checkpoints; ``one_path_each`` as sweeps wrote it before
    kept checkpoints were averaged (a path per network)."""
    checkpoints = {}
    for trial in ("3", "5", "8"):
        checkpoints[trial] = [str(run_dir / f"checkpoint_{trial}_{epoch}") for epoch in (4, 5)]
        for path in checkpoints[trial]:
            Path(path).mkdir()
        if one_path_each:
            checkpoints[trial] = checkpoints[trial][0]
    summary = {"job": "torch_mlp", "best_trial": 3, "best_config": {"lr": 0.3},
               "checkpoint": checkpoints["3"] if one_path_each else checkpoints["3"][0], "test_accuracy": 0.9,
               **({} if one_path_each else {"checkpoints": checkpoints["3"]}),
               "ensemble": {"members": {"3": 2, "8": 1}, "checkpoints": {"3": checkpoints["3"], "8": checkpoints["8"]},
                            "configs": {"3": {"lr": 0.3}, "8": {"lr": 0.8}}, "val_accuracy": 0.95,
                            "test_accuracy": 0.94} if ensemble else None}
    (run_dir / "best.json").write_text(json.dumps(summary))
    return summary


def test_load_takes_the_ensembles_members_with_their_configs_and_weights(tmp_path):
    summary = _write_summary(tmp_path)
    networks = predict.load(tmp_path)
    assert networks.job.name == "torch_mlp"
    assert networks.members == (({"lr": 0.3}, tuple(summary["ensemble"]["checkpoints"]["3"]), 2),
                                ({"lr": 0.8}, tuple(summary["ensemble"]["checkpoints"]["8"]), 1))
    assert networks.label == "ensemble of 2 networks (trials 3 x2, 8)"
    assert predict.load(tmp_path, best_config=True).members == (({"lr": 0.3}, tuple(summary["checkpoints"]), 1),)


def test_a_best_json_from_before_averaging_gives_a_path_per_network(tmp_path):
    summary = _write_summary(tmp_path, one_path_each=True)
    assert predict.load(tmp_path).members == (({"lr": 0.3}, (summary["ensemble"]["checkpoints"]["3"],), 2),
                                              ({"lr": 0.8}, (summary["ensemble"]["checkpoints"]["8"],), 1))
    assert predict.load(tmp_path, best_config=True).members == (({"lr": 0.3}, (summary["checkpoint"],), 1),)


def test_without_an_ensemble_the_best_configs_network_answers(tmp_path):
    summary = _write_summary(tmp_path, ensemble=False)
    assert predict.load(tmp_path).members == (({"lr": 0.3}, tuple(summary["checkpoints"]), 1),)


def test_a_missing_run_or_checkpoint_is_named(tmp_path):
    with pytest.raises(predict.PredictError, match="best.json does not exist"):
        predict.load(tmp_path)
    summary = _write_summary(tmp_path)
    Path(summary["ensemble"]["checkpoints"]["8"][1]).rmdir()
    with pytest.raises(predict.PredictError, match=f"checkpoint {summary['ensemble']['checkpoints']['8'][1]} is not"):
        predict.load(tmp_path)


def test_the_recipe_reloads_the_same_splits(tmp_path, monkeypatch):
    data = load_mnist(seed=2).subset(300, 100)
    monkeypatch.setenv("MNIST_DIR", str(tmp_path / "elsewhere"))  # the recipe says where; the variable does not
    again = reload(json.loads(json.dumps(data.recipe())))
    for split in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(again, split), getattr(data, split))
    assert not np.array_equal(reload({**data.recipe(), "seed": 3}).y_test, data.y_test)


def test_images_from_npy_or_idx_uint8_or_float(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    np.save(tmp_path / "u8.npy", pixels)
    np.save(tmp_path / "flat.npy", (pixels / 255.0).reshape(5, 784))
    write_idx(tmp_path / "images-idx3-ubyte.gz", pixels)
    for name in ("u8.npy", "flat.npy", "images-idx3-ubyte.gz"):
        images = predict.read_images(tmp_path / name)
        assert images.shape == (5, 28, 28) and images.dtype == np.float32
        np.testing.assert_allclose(images, pixels / 255.0, atol=1e-7)


@pytest.mark.parametrize("array, message", [(np.zeros((5, 28)), "shape"), (np.full((2, 28, 28), 2.0), r"\[0, 1\]"),
                                            (np.full((2, 28, 28), np.nan), r"\[0, 1\]")])
def test_bad_images_are_refused_with_the_reason(tmp_path, array, message):
    np.save(tmp_path / "bad.npy", array)
    with pytest.raises(predict.PredictError, match=message):
        predict.read_images(tmp_path / "bad.npy")
    (tmp_path / "text.idx").write_text("not an idx file")
    with pytest.raises(predict.PredictError, match="not a .npy array or an IDX image file"):
        predict.read_images(tmp_path / "text.idx")
