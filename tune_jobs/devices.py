"""Inside a trial: the CPUs and GPUs Ray gave it, and what to say when a GPU is not usable."""

from __future__ import annotations

import logging
import math
import os
import warnings

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
