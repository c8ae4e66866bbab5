"""A real two-node Ray on this machine, the tune jobs submitted to it with ``ray job submit``.

Ray will not run two nodes on 127.0.0.1, so the test makes two hosts: two
network namespaces joined by a veth pair, 10.78.0.1 (head, no GPU) and
10.78.0.2 (worker, one declared GPU that is not real). Each node is a
``ray start --block`` in its own process group; the fixture kills those groups
and deletes the namespaces, also when a test fails. Token authentication is on:
every node and client reads the same token file.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAD_IP, WORKER_IP = "10.78.0.1", "10.78.0.2"
DASHBOARD = f"http://{HEAD_IP}:8265"


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


class TwoNodeRay:
    def __init__(self, tmp: Path):
        tag = f"rg{os.getpid() % 100000}"
        self.head_ns, self.worker_ns = f"{tag}h", f"{tag}w"
        self.tmp = tmp
        self.token = tmp / "auth_token"
        self.token.write_text(secrets.token_hex(32))
        self.token.chmod(0o600)
        self.env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}", RAY_AUTH_MODE="token",
                        RAY_AUTH_TOKEN_PATH=str(self.token))
        for key in ("RAY_ADDRESS", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"):
            self.env.pop(key, None)
        self.nodes: list[subprocess.Popen] = []
        self.namespaces: list[str] = []
        # Ray's session directories hold Unix sockets: their paths must stay short (< 108 bytes).
        self.ray_tmp = Path(tempfile.mkdtemp(prefix="rg", dir="/tmp"))

    def start(self) -> None:
        for ns in (self.head_ns, self.worker_ns):
            _ip("netns", "add", ns)
            self.namespaces.append(ns)
        _ip("link", "add", f"{self.head_ns}v", "type", "veth", "peer", "name", f"{self.worker_ns}v")
        for ns, address in ((self.head_ns, HEAD_IP), (self.worker_ns, WORKER_IP)):
            _ip("link", "set", f"{ns}v", "netns", ns)
            _ip("-n", ns, "addr", "add", f"{address}/24", "dev", f"{ns}v")
            _ip("-n", ns, "link", "set", f"{ns}v", "up")
            _ip("-n", ns, "link", "set", "lo", "up")
        self._node(self.head_ns, "head", "--head", "--port", "6379", "--dashboard-host", HEAD_IP,
                   "--dashboard-port", "8265", "--node-ip-address", HEAD_IP, "--num-cpus", "1", "--num-gpus", "0")
        self._wait_for_nodes(1)
        self._node(self.worker_ns, "worker", "--address", f"{HEAD_IP}:6379", "--node-ip-address", WORKER_IP,
                   "--num-cpus", "1", "--num-gpus", "1")
        self._wait_for_nodes(2)

    def _node(self, ns: str, name: str, *args: str) -> None:
        log = open(self.tmp / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        command = ["ip", "netns", "exec", ns, "ray", "start", "--block", "--temp-dir", str(self.ray_tmp / name), *args]
        self.nodes.append(subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                           start_new_session=True))

    def run(self, *command: str, timeout: float = 600, env: dict | None = None) -> subprocess.CompletedProcess:
        """``command`` on the head host (only the two namespaces can reach 10.78.0.x)."""
        return subprocess.run(["ip", "netns", "exec", self.head_ns, *command], env=env or self.env, cwd=ROOT,
                              capture_output=True, text=True, timeout=timeout)

    def _wait_for_nodes(self, count: int, timeout: float = 120) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            out = self.run("ray", "list", "nodes", "--address", DASHBOARD, "--format", "json", timeout=60)
            if out.returncode == 0 and out.stdout.count('"state": "ALIVE"') >= count:
                return
            time.sleep(2)
        logs = "\n".join(p.read_text()[-2000:] for p in self.tmp.glob("*.log"))
        raise TimeoutError(f"the Ray cluster did not reach {count} alive node(s):\n{out.stdout}{out.stderr}\n{logs}")

    def stop(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for node in self.nodes:
                try:
                    os.killpg(node.pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.time() + 15
            while sig == signal.SIGTERM and time.time() < deadline and any(n.poll() is None for n in self.nodes):
                time.sleep(0.5)
        for ns in self.namespaces:  # anything left inside our own namespaces is ours
            pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        shutil.rmtree(self.ray_tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2 to make the two test hosts (network namespaces)")
    ray_cluster = TwoNodeRay(tmp_path_factory.mktemp("two-node"))
    try:
        ray_cluster.start()
        yield ray_cluster
    finally:
        ray_cluster.stop()


def _submit(cluster: TwoNodeRay, name: str, *flags: str) -> tuple[subprocess.CompletedProcess, pd.DataFrame]:
    storage = cluster.tmp / "results"
    out = cluster.run("ray", "job", "submit", "--address", DASHBOARD, "--runtime-env", "cluster/runtime_env.yaml",
                      "--", "python", "-m", "tune_jobs.torch_mlp", "--smoke", "--storage-path", str(storage),
                      "--name", name, *flags)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    assert "succeeded" in out.stdout + out.stderr
    return out, pd.read_csv(storage / name / "trials.csv")


def test_job_submitted_to_two_nodes_runs_trials_on_both(cluster):
    out, frame = _submit(cluster, "both", "--num-samples", "4", "--max-concurrent", "2")
    assert len(frame) == 4 and (frame["error"].isna() | (frame["error"] == "")).all()
    assert set(frame["node_ip"]) == {HEAD_IP, WORKER_IP}, frame[["trial", "node_ip"]]
    assert "test accuracy" in out.stdout


def test_gpu_trials_go_only_to_the_gpu_node_and_fall_back_to_cpu(cluster):
    out, frame = _submit(cluster, "gpu", "--num-samples", "2", "--gpus-per-trial", "0.5")
    assert set(frame["node_ip"]) == {WORKER_IP}, frame[["trial", "node_ip"]]
    assert "PyTorch sees no usable GPU on this node; training on the CPU" in out.stdout + out.stderr


def test_job_api_refuses_a_client_without_the_token(cluster):
    env = {k: v for k, v in cluster.env.items() if not k.startswith("RAY_AUTH")}
    env["HOME"] = str(cluster.tmp)  # no ~/.ray/auth_token either
    out = cluster.run("ray", "job", "list", "--address", DASHBOARD, env=env, timeout=120)
    assert out.returncode != 0 and "token" in (out.stdout + out.stderr).lower()
