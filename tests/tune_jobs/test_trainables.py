"""Each trainable trains on a few digits inside a real Tuner and reports every epoch; devices follow Ray."""

import sys
import warnings

import pytest
from ray import tune

from tune_jobs import devices, mnist_cnn, torch_mlp
from tune_jobs.data import load_mnist
from tune_jobs.job import accuracy as top1

MLP_CONFIG = {"n_layers": 2, "neuron_pct": 0.1, "neuron_shrink": 0.5, "activation": "relu", "dropout": 0.1,
              "batch_norm": True, "optimizer": "adam", "lr": 3e-3, "weight_decay": 1e-5, "batch_size": 64,
              "shift": 1, "epochs": 2}
CNN_CONFIG = {"conv_blocks": 1, "filters": 8, "kernel_size": 3, "dense_units": 32, "dropout_conv": 0.1,
              "dropout_dense": 0.2, "optimizer": "rmsprop", "lr": 1e-3, "batch_size": 64, "epochs": 2}


@pytest.fixture(scope="module")
def small_data():
    return load_mnist().subset(500, 200)


@pytest.mark.parametrize("job, config", [(torch_mlp.JOB, MLP_CONFIG), (mnist_cnn.JOB, CNN_CONFIG),
                                         (mnist_cnn.JOB, dict(CNN_CONFIG, batch_norm=True, batch_size=16))],
                         ids=["torch_mlp", "mnist_cnn", "mnist_cnn_batch_norm"])
def test_trainable_reports_every_epoch_with_a_checkpoint(ray_session, tmp_path, small_data, job, config):
    tuner = tune.Tuner(
        tune.with_parameters(job.trainable, data=small_data),
        param_space=config,
        tune_config=tune.TuneConfig(num_samples=1),
        run_config=tune.RunConfig(storage_path=str(tmp_path), name=job.name, verbose=0),
    )
    result = tuner.fit()[0]
    assert result.error is None
    history = result.metrics_dataframe
    assert history["epoch"].tolist() == [1, 2]
    for column in ("val_accuracy", "val_loss", "train_loss"):
        assert history[column].notna().all()
    assert history["val_accuracy"].iloc[-1] > 0.3  # 10 classes: chance is 0.1
    assert result.checkpoint is not None
    test = top1(job.predict(result.checkpoint, config, small_data.x_test), small_data.y_test)
    assert 0.3 < test <= 1.0


def test_mlp_widths_follow_percentage_and_shrink():
    config = dict(MLP_CONFIG, n_layers=4, neuron_pct=0.5, neuron_shrink=0.25)
    assert torch_mlp.layer_widths(config) == [512, 128, 32, 16]


@pytest.mark.parametrize("batch_norm, normalised", [(None, 0), (False, 0), (True, 5)])
def test_cnn_batch_norm_follows_every_convolution_and_the_dense_layer(batch_norm, normalised):
    from keras import layers

    config = dict(CNN_CONFIG, conv_blocks=2)
    if batch_norm is not None:  # None: a config from before batch_norm was searched
        config["batch_norm"] = batch_norm
    model = mnist_cnn.build_model(config)
    assert sum(isinstance(layer, layers.BatchNormalization) for layer in model.layers) == normalised
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds.count("Conv2D") == 4 and kinds.count("Activation") == 5  # ReLU after each, normalised or not


def test_torch_uses_the_cpus_ray_gives_and_falls_back_when_the_gpu_is_not_real(monkeypatch):
    import torch

    monkeypatch.setattr(torch_mlp, "assigned_resources", lambda: (1, []))
    assert torch_mlp.select_device().type == "cpu" and torch.get_num_threads() == 1
    monkeypatch.setattr(torch_mlp, "assigned_resources", lambda: (2, [0]))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(RuntimeWarning, match=r"assigned GPU \[0\].*PyTorch sees no usable GPU"):
        assert torch_mlp.select_device().type == "cpu"
    assert torch.get_num_threads() == 2
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert torch_mlp.select_device().type == "cuda"


def test_tensorflow_device_follows_ray(monkeypatch):
    monkeypatch.setattr(mnist_cnn, "assigned_resources", lambda: (1, []))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        assert mnist_cnn.configure_tensorflow() == "/CPU:0"
    monkeypatch.setattr(mnist_cnn, "assigned_resources", lambda: (1, [0]))
    with pytest.warns(RuntimeWarning, match="TensorFlow sees no usable GPU"):
        assert mnist_cnn.configure_tensorflow() == "/CPU:0"


def test_assigned_resources_inside_a_trial(ray_session, tmp_path):
    def probe(config):
        cpus, gpus = devices.assigned_resources()
        tune.report({"cpus": cpus, "gpus": len(gpus)})

    tuner = tune.Tuner(tune.with_resources(probe, {"cpu": 2}), tune_config=tune.TuneConfig(num_samples=1),
                       run_config=tune.RunConfig(storage_path=str(tmp_path), name="probe", verbose=0))
    metrics = tuner.fit()[0].metrics
    assert (metrics["cpus"], metrics["gpus"]) == (2, 0)


class _RaisesWhenCollected:
    def __init__(self, exc: BaseException):
        self.exc = exc

    def __del__(self):
        raise self.exc


def test_quiet_stop_drops_only_the_system_exit_python_cannot_raise(monkeypatch, capsys):
    monkeypatch.setattr(sys, "unraisablehook", sys.__unraisablehook__)
    devices.quiet_stop()
    hook = sys.unraisablehook
    devices.quiet_stop()  # a reused worker calls it again: still one hook
    assert sys.unraisablehook is hook and hook is not sys.__unraisablehook__
    _RaisesWhenCollected(SystemExit(1))  # what Ray's SIGTERM handler raises inside a weakref callback
    assert capsys.readouterr().err == ""
    _RaisesWhenCollected(ValueError("a real bug"))
    err = capsys.readouterr().err
    assert "Exception ignored" in err and "ValueError: a real bug" in err


def test_mlp_training_shifts_each_digit_by_at_most_its_pixels(small_data):
    import torch

    x = torch.from_numpy(small_data.x_train[:64].copy())
    assert torch.equal(torch_mlp.shifted(x, 0), x)
    torch.manual_seed(0)
    moved = torch_mlp.shifted(x, 1)
    assert moved.shape == x.shape
    offsets = set()
    for image, original in zip(moved, x, strict=True):
        # the digits sit inside a blank border, so a 1-pixel shift keeps every stroke: one of the nine
        # translations of the original, found by rolling it back
        found = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)
                 if torch.equal(torch.roll(image, (-dy, -dx), (0, 1)), original)]
        assert len(found) >= 1
        offsets.add(found[0])
    assert len(offsets) >= 5  # each digit draws its own offset
    assert torch_mlp.search_space(10)["shift"] == 1
