"""Inside a trial: the CPUs and GPUs Ray gave it, what to say when a GPU is not usable, its seed,
and quiet when Ray stops it."""

from __future__ import annotations

import json
import logging
import math
import os
import sys
import warnings
import zlib

logger = logging.getLogger("tune_jobs")


def assigned_resources() -> tuple[int, list]:
    """CPUs and GPU ids Ray gave this trial (outside Ray: every CPU, no GPU)."""
    import ray

    if not ray.is_initialized():
        return os.cpu_count() or 1, []
    cpus = ray.get_runtime_context().get_assigned_resources().get("CPU", 1)
    return max(1, int(math.ceil(cpus))), list(ray.get_gpu_ids())


def warn_fake_gpu(gpu_ids: list, framework: str) -> None:
    warnings.warn(
        f"Ray assigned GPU {gpu_ids} to this trial but {framework} sees no usable GPU on this node; "
        "training on the CPU instead", RuntimeWarning, stacklevel=2,
    )
    logger.warning("GPU %s assigned but not usable by %s: training on the CPU", gpu_ids, framework)


def quiet_stop() -> None:
    """Ray stops a trial (ASHA's decision, the time budget) with SIGTERM, whose handler raises
    ``SystemExit`` wherever the worker happens to be. Inside a weakref or ``__del__`` callback
    (TensorFlow and PyTorch run many) Python cannot raise it: it prints "Exception ignored" and a
    traceback, which Ray forwards to the sweep's console. Those ``SystemExit`` reports are dropped;
    any other exception Python cannot raise is reported as before. Idempotent (workers are reused)."""
    previous = sys.unraisablehook
    if getattr(previous, "drops_system_exit", False):
        return

    def hook(unraisable) -> None:
        if not isinstance(unraisable.exc_value, SystemExit):
            previous(unraisable)

    hook.drops_system_exit = True
    sys.unraisablehook = hook


def trial_seed(config: dict) -> int:
    """A seed of the trial's own, from its config (which includes the sweep's ``seed``): distinct
    trials train with distinct seeds, the same sweep seed gives the same ones, and a trial resumed
    from its checkpoint keeps its seed."""
    return zlib.crc32(json.dumps(config, sort_keys=True, default=str).encode())


def epoch_seed(config: dict, epoch: int) -> int:
    """The seed of one epoch's data order: a resumed trial continues the order it would have had."""
    return (trial_seed(config) * 1_000_003 + epoch) % 2**31
