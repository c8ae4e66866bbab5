"""Shared fixtures: one local Ray for the whole session, on loopback only."""

from __future__ import annotations

import os
import time
import warnings

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


@pytest.fixture(autouse=True)
def _ray_cpus_released(request):
    """After each test on the shared Ray, its CPUs are free again.

    A CPU still held after 60 s by a job that is alive (this process's sweeps, or a job the test left
    running) fails the test, naming what holds it. One held by a job that has ended is Ray's to free:
    a warning names it. Either way the placement groups are removed, or every later test that needs
    both CPUs would wait for them forever.
    """
    yield
    if "ray_session" not in request.fixturenames:
        return
    import ray
    from ray.util.placement_group import PlacementGroup

    total = ray.cluster_resources().get("CPU", 0.0)
    deadline = time.monotonic() + 60  # a driver that just exited is noticed within seconds
    while ray.available_resources().get("CPU", 0.0) < total and time.monotonic() < deadline:
        time.sleep(0.2)
    held = total - ray.available_resources().get("CPU", 0.0)
    if held <= 0:
        return
    ended = {job["JobID"] for job in ray._private.state.jobs() if job["IsDead"]}
    groups = [g for g in ray.util.placement_group_table().values() if g["state"] != "REMOVED"]
    actors = [a for a in ray._private.state.actors().values() if a["State"] != "DEAD"]
    for group in groups:
        ray.util.remove_placement_group(PlacementGroup(ray.PlacementGroupID.from_hex(group["placement_group_id"])))
    message = (f"{held:g} CPU of the shared Ray still held 60 s after the test. Placement groups (removed now): "
               + "; ".join(f"{g['placement_group_id']} {g['state']} {g['bundles']}" for g in groups)
               + ". Actors: " + "; ".join(f"{a['ActorClassName']} job {a['JobID']} {a['State']} pid {a['Pid']}"
                                          for a in actors) + f". Ended jobs: {sorted(ended)}")
    live = [g for g in groups if not g["placement_group_id"].endswith(tuple(ended))]  # the id ends with its job's id
    live += [a for a in actors if a["JobID"] not in ended]
    if (groups or actors) and not live:
        warnings.warn(f"Ray did not free what ended jobs held: {message}", stacklevel=1)
    else:
        pytest.fail(message)
