"""The CNN job's classic first config trained alone for 20 epochs, outside Tune, printing validation
and test accuracy after every epoch (the job reports only the best-validation epoch's test accuracy).

    PYTHONPATH=. .venv/bin/python docs/cnn_job/batch_norm_7896724/train_alone.py SEED {base,bn} [EPOCHS]

``base`` is the config as the job had it before 7896724 (the same network, seeds and numbers as the
job's trial: seed 0 validates 0.9893 and tests 0.9813 at its best epoch, README's figures for it);
``bn`` the same with batch normalisation as 7896724 builds it (``mnist_cnn.build_model``), its seeds
those of the config without ``batch_norm``. One thread each; the logs beside this file ran two at a
time, so their seconds are not comparable.
"""

import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from tune_jobs.data import load_mnist  # noqa: E402
from tune_jobs.devices import epoch_seed, trial_seed  # noqa: E402
from tune_jobs.mnist_cnn import build_model  # noqa: E402

tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(1)
seed, variant = int(sys.argv[1]), sys.argv[2]
epochs = int(sys.argv[3]) if len(sys.argv) > 3 else 20
data = load_mnist(seed=seed)
config = {"conv_blocks": 2, "filters": 32, "kernel_size": 3, "dense_units": 128, "dropout_conv": 0.25,
          "dropout_dense": 0.5, "optimizer": "adam", "lr": 1e-3, "batch_size": 64, "augment": 0.1, "epochs": 20,
          "seed": seed}
keras.utils.set_random_seed(trial_seed(config))
model = build_model(dict(config, batch_norm=variant == "bn"))
start = time.time()
for epoch in range(epochs):
    keras.utils.set_random_seed(epoch_seed(config, epoch))
    model.fit(data.x_train[..., None], data.y_train, batch_size=config["batch_size"], epochs=1, verbose=0,
              shuffle=True)
    _, val = model.evaluate(data.x_val[..., None], data.y_val, batch_size=1024, verbose=0)
    _, test = model.evaluate(data.x_test[..., None], data.y_test, batch_size=1024, verbose=0)
    print(f"{variant} seed {seed} epoch {epoch + 1} val {val:.4f} test {test:.4f} t {time.time() - start:.0f}",
          flush=True)
