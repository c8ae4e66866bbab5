"""``cluster/aws-gpu.yaml``'s autoscaling, on Ray's fake multi-node provider.

Ray's ``fake_multinode`` provider launches each "instance" as another Ray node
on this machine, so the autoscaler runs for real: our YAML's node types (a
head with no CPUs for trials, GPU and CPU worker types from 0 workers, their
limits) go to it with the cloud's instance types replaced by the resources
those instances have. The cluster lives in a network namespace with only a
loopback interface (``tests/ray_hosts.py``), token authentication on.

The jobs are submitted without a ``working_dir``: every fake node shares one
session directory, and the uploaded working directory was deleted by one
node's runtime-env agent under another node's trials (``FileNotFoundError``
from ``os.getcwd()``, seen here). The project is installed on these "nodes",
as the YAML's setup commands install it on real ones.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

from tests.ray_hosts import ROOT, RayHosts, running

DASHBOARD = "http://127.0.0.1:8265"
# What Ray would detect on the YAML's instance types.
INSTANCE_RESOURCES = {"m5.xlarge": {"CPU": 4}, "g5.xlarge": {"CPU": 4, "GPU": 1}, "c6i.2xlarge": {"CPU": 8}}
FAKE_HEAD_TYPE = "ray.head.default"  # the name the fake provider gives its head node


def fake_config(path) -> dict:
    """A ``fake_multinode`` cluster config with the node types, limits and resources of the YAML at ``path``."""
    real = yaml.safe_load(path.read_text())
    types = {}
    for name, spec in real["available_node_types"].items():
        resources = {**INSTANCE_RESOURCES[spec["node_config"]["InstanceType"]], **spec.get("resources", {})}
        node_type = {"resources": resources, "node_config": {}, "max_workers": spec.get("max_workers", 0)}
        if name != real["head_node_type"]:
            node_type["min_workers"] = spec.get("min_workers", 0)
        types[FAKE_HEAD_TYPE if name == real["head_node_type"] else name] = node_type
    return {
        "cluster_name": real["cluster_name"], "max_workers": real["max_workers"],
        "upscaling_speed": real.get("upscaling_speed", 1.0), "idle_timeout_minutes": real["idle_timeout_minutes"],
        "provider": {"type": "fake_multinode", "use_node_id_as_ip": True, "disable_node_updaters": True,
                     "disable_launch_config_check": True},
        "available_node_types": types, "head_node_type": FAKE_HEAD_TYPE, "auth": {}, "docker": {},
        "file_mounts": {}, "cluster_synced_files": [], "file_mounts_sync_continuously": False,
        "rsync_exclude": [], "rsync_filter": [], "initialization_commands": [], "setup_commands": [],
        "head_setup_commands": [], "worker_setup_commands": [], "head_start_ray_commands": [],
        "worker_start_ray_commands": [],
    }


class FakeCloud(RayHosts):
    def start(self, config: dict) -> None:
        ns = self.add_namespace("f")
        path = self.tmp / "fake_cluster.json"
        path.write_text(json.dumps(config))
        head = config["available_node_types"][FAKE_HEAD_TYPE]["resources"]
        env = dict(self.env, RAY_FAKE_CLUSTER="1", AUTOSCALER_UPDATE_INTERVAL_S="1")
        self.node(ns, "head", "--head", "--port", "6379", "--autoscaling-config", str(path),
                  "--dashboard-host", "127.0.0.1", "--num-cpus", str(head.get("CPU", 0)),
                  "--num-gpus", str(head.get("GPU", 0)), env=env)
        self.wait_for_nodes(DASHBOARD, 1)

    def active_workers(self) -> dict[str, int]:
        """Worker node type -> how many are up, from ``ray status``."""
        out = self.run("ray", "status", "--address", "127.0.0.1:6379", timeout=120)
        assert out.returncode == 0, out.stderr
        active = out.stdout.split("Active:", 1)[1].split("Pending:", 1)[0]
        counts = {}
        for line in active.strip().splitlines():
            count, _, name = line.strip().partition(" ")
            if count.isdigit() and name != FAKE_HEAD_TYPE:
                counts[name] = int(count)
        return counts


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    config = fake_config(ROOT / "cluster" / "aws-gpu.yaml")
    with running(FakeCloud, tmp_path_factory.mktemp("fake-cloud"), config) as fake:
        yield fake


def _submit(cloud: FakeCloud, name: str, *flags: str) -> tuple[str, pd.DataFrame]:
    storage = cloud.tmp / "results"
    out = cloud.run("ray", "job", "submit", "--address", DASHBOARD,
                    "--runtime-env-json", json.dumps({"env_vars": {"PYTHONUNBUFFERED": "1"}}), "--",
                    "python", "-m", "tune_jobs.torch_mlp", "--smoke", "--storage-path", str(storage), "--name", name,
                    "--num-samples", "2", *flags)
    text = out.stdout + out.stderr
    assert out.returncode == 0 and "succeeded" in text, text[-5000:]
    return text, pd.read_csv(storage / name / "trials.csv")


def test_fake_config_keeps_the_yamls_node_types():
    config = fake_config(ROOT / "cluster" / "aws-gpu.yaml")
    types = config["available_node_types"]
    assert types[FAKE_HEAD_TYPE]["resources"]["CPU"] == 0  # the head runs no trials
    assert types["gpu_worker"]["resources"]["GPU"] == 1 and types["gpu_worker"]["min_workers"] == 0
    assert "GPU" not in types["cpu_worker"]["resources"]


def test_sweeps_scale_up_the_worker_type_they_need(cloud):
    assert cloud.active_workers() == {}  # the YAML starts with no workers
    _, frame = _submit(cloud, "cpu")
    assert len(frame) == 2 and (frame["error"].isna() | (frame["error"] == "")).all()
    assert cloud.active_workers() == {"cpu_worker": 1}  # CPU trials leave the GPU type at 0

    text, frame = _submit(cloud, "gpu", "--gpus-per-trial", "1")
    assert len(frame) == 2 and (frame["error"].isna() | (frame["error"] == "")).all()
    workers = cloud.active_workers()
    assert workers.get("gpu_worker", 0) >= 1, workers  # GPU trials made the autoscaler add GPU nodes
    assert "PyTorch sees no usable GPU on this node; training on the CPU" in text
