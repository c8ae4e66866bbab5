"""Test hosts for a real multi-node Ray on one machine, and their clean-up.

A host is a network namespace (``ip netns add``); a Ray node is a ``ray start
--block`` inside one, in its own process group. ``stop`` kills those groups,
then anything still inside our namespaces, then deletes the namespaces: never
``ray stop`` or a kill by process name, which would hit other Ray instances on
the machine. Token authentication is on: every node and client reads the same
token file.
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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


@contextmanager
def running(hosts_class: type[RayHosts], tmp: Path, *start_args) -> Iterator[RayHosts]:
    """A started ``hosts_class(tmp)``, stopped also when a test fails; skips without root and iproute2."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2 to make test hosts (network namespaces)")
    hosts = hosts_class(tmp)
    try:
        hosts.start(*start_args)
        yield hosts
    finally:
        hosts.stop()


class RayHosts:
    def __init__(self, tmp: Path):
        self.tag = f"rg{os.getpid() % 100000}"
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

    def add_namespace(self, suffix: str) -> str:
        """A new host with only its loopback interface up."""
        ns = f"{self.tag}{suffix}"
        ip("netns", "add", ns)
        self.namespaces.append(ns)
        ip("-n", ns, "link", "set", "lo", "up")
        return ns

    def node(self, ns: str, name: str, *args: str, env: dict | None = None) -> None:
        """``ray start --block *args`` on host ``ns``, logging to ``<tmp>/<name>.log``."""
        log = open(self.tmp / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        command = ["ip", "netns", "exec", ns, "ray", "start", "--block", "--temp-dir", str(self.ray_tmp / name), *args]
        self.nodes.append(subprocess.Popen(command, env=env or self.env, stdout=log, stderr=subprocess.STDOUT,
                                           start_new_session=True))

    def run_in(self, ns: str, *command: str, timeout: float = 600, env: dict | None = None
               ) -> subprocess.CompletedProcess:
        return subprocess.run(["ip", "netns", "exec", ns, *command], env=env or self.env, cwd=ROOT,
                              capture_output=True, text=True, timeout=timeout)

    def run(self, *command: str, timeout: float = 600, env: dict | None = None) -> subprocess.CompletedProcess:
        """``command`` on the first host, the head's."""
        return self.run_in(self.namespaces[0], *command, timeout=timeout, env=env)

    def wait_for_nodes(self, dashboard: str, count: int, timeout: float = 120) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            out = self.run("ray", "list", "nodes", "--address", dashboard, "--format", "json", timeout=60)
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
