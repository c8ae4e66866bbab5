"""The cluster-launcher YAMLs pass Ray's own config validation and keep the security settings they promise."""

from pathlib import Path

import pytest
import yaml
from ray.autoscaler._private.util import prepare_config, validate_config

CLUSTER = Path(__file__).resolve().parents[1] / "cluster"
LAUNCHER_YAMLS = ["aws-gpu.yaml", "local.yaml"]


def _load(name):
    return yaml.safe_load((CLUSTER / name).read_text())


@pytest.mark.parametrize("name", LAUNCHER_YAMLS)
def test_ray_validates_the_cluster_yaml(name):
    validate_config(prepare_config(_load(name)))  # raises on any schema error
    with pytest.raises(Exception, match="max_wrkers"):  # and it does raise: a misspelt key
        validate_config(prepare_config(dict(_load(name), max_wrkers=3)))


@pytest.mark.parametrize("name", LAUNCHER_YAMLS)
def test_token_auth_everywhere_dashboard_on_loopback_gpu_builds(name):
    config = _load(name)
    starts = config["head_start_ray_commands"] + config["worker_start_ray_commands"]
    assert all("RAY_AUTH_MODE=token" in c for c in starts if "ray start" in c)
    assert "--dashboard-host=127.0.0.1" in " ".join(config["head_start_ray_commands"])
    assert config["file_mounts"]["~/.ray/auth_token"] == "~/.ray/auth_token"
    setup = " ".join(config["setup_commands"])
    assert "download.pytorch.org/whl/cu" in setup and "tensorflow[and-cuda]" in setup
    assert "tf-cpu" not in setup  # the CPU TensorFlow would shadow the GPU one


def test_aws_has_autoscaling_gpu_workers_behind_one_ssh_only_security_group():
    config = _load("aws-gpu.yaml")
    types = config["available_node_types"]
    gpu = types["gpu_worker"]
    assert gpu["node_config"]["InstanceType"].split(".")[0] in {"g5", "g4dn", "g6"}
    assert gpu["min_workers"] == 0 < gpu["max_workers"] and "cpu_worker" in types
    assert types[config["head_node_type"]]["resources"] == {"CPU": 0}
    groups = {tuple(t["node_config"]["SecurityGroupIds"]) for t in types.values()}
    assert len(groups) == 1  # Ray's own group would open SSH to 0.0.0.0/0
    script = (CLUSTER / "aws-security-group.sh").read_text()
    assert "--port 22 --cidr" in script and "--source-group" in script


def test_runtime_env_ships_the_code_not_the_environment():
    env = _load("runtime_env.yaml")
    assert env["working_dir"] == "."
    assert {".venv/", "results/", "data/"} <= set(env["excludes"])
