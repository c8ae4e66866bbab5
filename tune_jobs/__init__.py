"""What a user runs: MNIST trainables, the sweep jobs, their reports, and the searcher benchmark.

    python -m tune_jobs.torch_mlp --help
    python -m tune_jobs.mnist_cnn --help
    python -m tune_jobs.benchmark --help
"""

import os

# A Ray that a job starts itself must listen on 127.0.0.1 only. Ray reads this when it is
# imported, so it is set here, before any job module imports ray. Jobs that join a cluster
# (RAY_ADDRESS set, as under `ray job submit`) leave Ray's own choice alone.
if not os.environ.get("RAY_ADDRESS"):
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
