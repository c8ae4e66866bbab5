"""Shared fixtures: one local Ray for the whole session, on loopback only."""

from __future__ import annotations

import os

# Before ray is imported anywhere: keep a single-node Ray on 127.0.0.1.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
os.environ.setdefault("RAY_DEDUP_LOGS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def ray_session():
    """A local Ray shared by every test that needs one; its address is exported for subprocess jobs."""
    import ray

    context = ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", configure_logging=False)
    address = context.address_info["gcs_address"]
    yield address
    ray.shutdown()
