"""A real two-node Ray on this machine, the tune jobs submitted to it with ``ray job submit``.

Ray will not run two nodes on 127.0.0.1, so the test makes two hosts: two
network namespaces joined by a veth pair, 10.78.0.1 (head, no GPU) and
10.78.0.2 (worker, one declared GPU that is not real); clients run on the
head's host. The fixture stops the nodes and deletes the namespaces also when
a test fails (``tests/ray_hosts.py``). Token authentication is on.
"""

from __future__ import annotations

import json
import re
import subprocess
import time

import pandas as pd
import pytest

from tests.ray_hosts import RayHosts, ip, running

HEAD_IP, WORKER_IP = "10.78.0.1", "10.78.0.2"
DASHBOARD = f"http://{HEAD_IP}:8265"


class TwoNodeRay(RayHosts):
    def start(self) -> None:
        self.head_ns, self.worker_ns = self.add_namespace("h"), self.add_namespace("w")
        ip("link", "add", f"{self.head_ns}v", "type", "veth", "peer", "name", f"{self.worker_ns}v")
        for ns, address in ((self.head_ns, HEAD_IP), (self.worker_ns, WORKER_IP)):
            ip("link", "set", f"{ns}v", "netns", ns)
            ip("-n", ns, "addr", "add", f"{address}/24", "dev", f"{ns}v")
            ip("-n", ns, "link", "set", f"{ns}v", "up")
        self.node(self.head_ns, "head", "--head", "--port", "6379", "--dashboard-host", HEAD_IP,
                  "--dashboard-port", "8265", "--node-ip-address", HEAD_IP, "--num-cpus", "1", "--num-gpus", "0")
        self.wait_for_nodes(DASHBOARD, 1)
        self.node(self.worker_ns, "worker", "--address", f"{HEAD_IP}:6379", "--node-ip-address", WORKER_IP,
                  "--num-cpus", "1", "--num-gpus", "1")
        self.wait_for_nodes(DASHBOARD, 2)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with running(TwoNodeRay, tmp_path_factory.mktemp("two-node")) as two_nodes:
        yield two_nodes


def _submit(cluster: TwoNodeRay, name: str, *flags: str, uri: bool = False,
            module: str = "tune_jobs.torch_mlp") -> tuple[subprocess.CompletedProcess, pd.DataFrame | None]:
    """``ray job submit`` of ``module`` with ``flags``; a job gets ``--smoke`` and a storage path on the
    head's disk, as a ``file://`` URI with ``uri`` (as ``s3://`` would be on a cloud cluster)."""
    storage = cluster.tmp / "results"
    job_flags = ["--smoke", "--storage-path", f"file://{storage}" if uri else str(storage), "--name", name]
    out = cluster.run("ray", "job", "submit", "--address", DASHBOARD, "--runtime-env", "cluster/runtime_env.yaml",
                      "--", "python", "-m", module, *(job_flags if module != "tune_jobs.predict" else []), *flags)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    assert "succeeded" in out.stdout + out.stderr
    trials = storage / name / "trials.csv"
    return out, pd.read_csv(trials) if trials.exists() else None


def test_job_submitted_to_two_nodes_runs_trials_on_both_and_its_networks_predict(cluster):
    out, frame = _submit(cluster, "both", "--num-samples", "4", "--max-concurrent", "2", uri=True)
    assert len(frame) == 4 and (frame["error"].isna() | (frame["error"] == "")).all()
    assert set(frame["node_ip"]) == {HEAD_IP, WORKER_IP}, frame[["trial", "node_ip"]]
    assert "test accuracy" in out.stdout
    # The sweep's ensemble, read back through the storage URI by a job on the cluster, scores what best.json says.
    best = json.loads((cluster.tmp / "results" / "both" / "best.json").read_text())
    out, _ = _submit(cluster, "both", f"file://{cluster.tmp / 'results' / 'both'}", module="tune_jobs.predict")
    assert f"test accuracy {best['ensemble']['test_accuracy']:.4f} on " in out.stdout, out.stdout[-3000:]


def test_gpu_trials_go_only_to_the_gpu_node_and_fall_back_to_cpu(cluster):
    out, frame = _submit(cluster, "gpu", "--num-samples", "2", "--gpus-per-trial", "0.5")
    assert set(frame["node_ip"]) == {WORKER_IP}, frame[["trial", "node_ip"]]
    assert "PyTorch sees no usable GPU on this node; training on the CPU" in out.stdout + out.stderr


def test_job_api_refuses_a_client_without_the_token(cluster):
    env = {k: v for k, v in cluster.env.items() if not k.startswith("RAY_AUTH")}
    env["HOME"] = str(cluster.tmp)  # no ~/.ray/auth_token either
    out = cluster.run("ray", "job", "list", "--address", DASHBOARD, env=env, timeout=120)
    assert out.returncode != 0 and "token" in (out.stdout + out.stderr).lower()


def test_no_wait_submit_then_status_and_logs(cluster):
    storage = cluster.tmp / "results"
    out = cluster.run("ray", "job", "submit", "--no-wait", "--address", DASHBOARD, "--runtime-env",
                      "cluster/runtime_env.yaml", "--", "python", "-m", "tune_jobs.torch_mlp", "--smoke",
                      "--storage-path", str(storage), "--name", "no-wait", "--num-samples", "2", timeout=120)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    job_id = re.search(r"raysubmit_\w+", out.stdout + out.stderr).group(0)
    deadline, status = time.time() + 600, ""
    while time.time() < deadline:
        out = cluster.run("ray", "job", "status", job_id, "--address", DASHBOARD, timeout=60)
        status = out.stdout + out.stderr  # e.g. "Job 'raysubmit_...' succeeded"
        if re.search(r"succeeded|failed|stopped", status, re.IGNORECASE):
            break
        time.sleep(3)
    assert "succeeded" in status, status
    out = cluster.run("ray", "job", "logs", job_id, "--address", DASHBOARD, timeout=120)
    logs = out.stdout + out.stderr
    assert out.returncode == 0 and "Best config" in logs, logs[-5000:]
    assert (storage / "no-wait" / "trials.csv").exists()
