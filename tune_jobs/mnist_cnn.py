"""A Keras convnet on MNIST digits (TensorFlow backend), architecture and training tuned by the GP searcher.

    python -m tune_jobs.mnist_cnn                      # 19-minute multi-fidelity GP sweep, 2 at a time, ASHA
    python -m tune_jobs.mnist_cnn --scheduler fifo     # every trial trains all its epochs
    python -m tune_jobs.mnist_cnn --smoke              # a tiny run, for tests

The classic convnet of the Bayesian-optimisation articles,
Conv-Conv-MaxPool-Dropout-Flatten-Dense-Dropout-Dense with RMSprop, generalised:
``conv_blocks`` repeats the Conv-Conv-MaxPool-Dropout block (filters doubling
from block to block), and filters, kernel size, dense units, both dropout
rates, batch normalisation (after every convolution and the dense layer),
optimizer, learning rate and batch size are searched, and so is
``augment``: random shifts of up to that fraction of the image (and rotations
of up to half of it, as a fraction of a turn) while training: on 3,500
training digits that is what lifts a convnet past 98% (README, "The jobs"),
and it needs more epochs, so trials train up to 20 under ASHA.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
from ray import tune

from . import cli
from .data import MnistData
from .devices import assigned_resources, epoch_seed, quiet_stop, trial_seed, warn_fake_gpu
from .job import Job

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def search_space(epochs: int) -> dict:
    return {
        "conv_blocks": tune.randint(1, 3),
        "filters": tune.choice([16, 32, 64]),
        "kernel_size": tune.choice([3, 5]),
        "dense_units": tune.qlograndint(32, 256, 32),
        "dropout_conv": tune.uniform(0.0, 0.5),
        "dropout_dense": tune.uniform(0.0, 0.6),
        "optimizer": tune.choice(["rmsprop", "adam"]),
        "lr": tune.loguniform(1e-4, 1e-2),
        "batch_size": tune.choice([32, 64, 128]),
        "augment": tune.uniform(0.0, 0.15),
        "batch_norm": tune.choice([True, False]),
        "epochs": epochs,
    }


def configure_tensorflow() -> str:
    """Threads limited to the CPUs Ray gave; the assigned GPU if TF can use it. Returns the device name.

    Must run before TensorFlow executes its first operation in this process.
    """
    import tensorflow as tf

    cpus, gpu_ids = assigned_resources()
    try:
        tf.config.threading.set_intra_op_parallelism_threads(cpus)
        tf.config.threading.set_inter_op_parallelism_threads(min(2, cpus))
    except RuntimeError:
        pass  # already initialised in this process (a reused worker): the first setting stands
    gpus = tf.config.list_physical_devices("GPU")  # Ray's CUDA_VISIBLE_DEVICES leaves only the assigned ones
    if gpu_ids and not gpus:
        warn_fake_gpu(gpu_ids, "TensorFlow")
    return "/GPU:0" if gpu_ids and gpus else "/CPU:0"


def build_model(config: dict):
    import keras
    from keras import layers

    model = keras.Sequential([keras.Input(shape=(28, 28, 1))])
    augment = config.get("augment", 0.0)
    if augment > 0.005:  # active only while training
        model.add(layers.RandomTranslation(augment, augment, fill_mode="constant"))
        model.add(layers.RandomRotation(augment / 2, fill_mode="constant"))
    batch_norm = config.get("batch_norm", False)  # a config from before it was searched: none
    filters = config["filters"]
    for _ in range(config["conv_blocks"]):
        for _ in range(2):
            _add_relu_layer(model, layers.Conv2D(filters, config["kernel_size"], padding="same",
                                                 use_bias=not batch_norm), batch_norm)
        model.add(layers.MaxPooling2D(2))
        model.add(layers.Dropout(config["dropout_conv"]))
        filters *= 2
    model.add(layers.Flatten())
    _add_relu_layer(model, layers.Dense(config["dense_units"], use_bias=not batch_norm), batch_norm)
    model.add(layers.Dropout(config["dropout_dense"]))
    model.add(layers.Dense(10, activation="softmax"))
    optimizer = {"rmsprop": keras.optimizers.RMSprop, "adam": keras.optimizers.Adam}[config["optimizer"]]
    model.compile(optimizer=optimizer(learning_rate=config["lr"]), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _add_relu_layer(model, layer, batch_norm: bool) -> None:
    """``layer``, batch-normalised if asked, then ReLU."""
    from keras import layers

    model.add(layer)
    if batch_norm:
        # Keras's default momentum, 0.99, leaves the running statistics that inference uses far from
        # the batches' after a few hundred steps: measured, the classic config with it validated at
        # chance (0.10-0.26) for its first 8 epochs of 55 steps, where 0.9 gave 0.885 after one.
        model.add(layers.BatchNormalization(momentum=0.9))
    model.add(layers.Activation("relu"))


def train_cnn(config: dict, data: MnistData) -> None:
    """Ray Tune trainable: trains, then reports and checkpoints after every epoch."""
    import keras
    import tensorflow as tf

    quiet_stop()
    device = configure_tensorflow()
    # A reused worker (reuse_actors) still holds Keras's global state from the last trial. Measured with 12
    # trials in one process (2 conv blocks, 512 digits, an epoch each): the resident set grows about 20 MB a
    # trial with or without this (933 -> 1,162 MB, against 952 -> 1,188 without): TensorFlow keeps memory it
    # does not return, so a 19-minute sweep's worker ends some 0.5 GB larger than it started.
    keras.backend.clear_session()
    keras.utils.set_random_seed(trial_seed(config))
    x_train, x_val = data.x_train[..., None], data.x_val[..., None]

    with tf.device(device):
        model = build_model(config)
        start_epoch = 0
        checkpoint = tune.get_checkpoint()
        if checkpoint:
            with checkpoint.as_directory() as directory:
                model = keras.models.load_model(Path(directory) / "model.keras")
                start_epoch = int((Path(directory) / "epoch").read_text())
        for epoch in range(start_epoch, config["epochs"]):
            keras.utils.set_random_seed(epoch_seed(config, epoch))  # data order and augmentation, resumable
            history = model.fit(x_train, data.y_train, batch_size=config["batch_size"], epochs=1, verbose=0,
                                shuffle=True)
            val_loss, val_accuracy = model.evaluate(x_val, data.y_val, batch_size=1024, verbose=0)
            metrics = {"val_accuracy": float(val_accuracy), "val_loss": float(val_loss),
                       "train_loss": float(history.history["loss"][-1]), "epoch": epoch + 1}
            with tempfile.TemporaryDirectory() as directory:
                model.save(os.path.join(directory, "model.keras"))
                Path(directory, "epoch").write_text(str(epoch + 1))
                tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(directory))


def checkpoint_predict(checkpoint, config: dict, images: np.ndarray) -> np.ndarray:
    """Class probabilities ``(n, 10)`` of the network in ``checkpoint`` for ``images: (n, 28, 28)``."""
    import keras

    with checkpoint.as_directory() as directory:
        model = keras.models.load_model(Path(directory) / "model.keras")
    return np.asarray(model.predict(images[..., None], batch_size=1024, verbose=0), dtype=float)


JOB = Job(
    name="mnist_cnn",
    trainable=train_cnn,
    search_space=search_space,
    predict=checkpoint_predict,
    description="GP sweep of a Keras convnet (architecture and training) on MNIST digits.",
    defaults={"num_samples": 40, "epochs": 20, "scheduler": "asha", "time_budget": 1140},
    # The sweep affords some 15-25 trials in its 19 minutes: the default initial design of 2 d = 20
    # Sobol trials would be all of them, so the GP takes over after 8; and the first trial is the
    # classic config (Keras's MNIST convnet with Adam's defaults and 10% shifts), batch-normalised: on
    # three splits' validation digits that learnt faster and ended as well or better (docs/cnn_job/README.md).
    first_configs=({"conv_blocks": 2, "filters": 32, "kernel_size": 3, "dense_units": 128, "dropout_conv": 0.25,
                    "dropout_dense": 0.5, "optimizer": "adam", "lr": 1e-3, "batch_size": 64, "augment": 0.1,
                    "batch_norm": True},),
    gp_options={"n_initial": 8},
    smoke={"num_samples": 2, "epochs": 1, "max_concurrent": 2, "scheduler": "fifo", "time_budget": None},
    smoke_subset=(400, 200),
)

if __name__ == "__main__":
    cli.run(JOB)
