#!/usr/bin/env python3
"""One entry point that sets itself up: ``python3 dev.py sweep`` and ``python3 dev.py test``.

On first use (or when ``pyproject.toml`` changes) it creates ``.venv/`` in the
repository root and installs the project with every extra. PyTorch is
installed first at a pinned CPU build (``TORCH_SPEC``, default
``torch==2.13.0``), because a looser requirement pulled in by another package
can fetch a multi-GB CUDA build; set ``TORCH_SPEC`` for another build.

    python3 dev.py sweep [job flags]   # GP sweep of the PyTorch MLP on MNIST digits
    python3 dev.py test [pytest args]  # the test suite (slow tests: -m slow)
    python3 dev.py run MODULE [args]   # any module in the venv, e.g. tune_jobs.benchmark
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".dev-installed"
TORCH_SPEC = os.environ.get("TORCH_SPEC", "torch==2.13.0")


def _fingerprint() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + TORCH_SPEC.encode()).hexdigest()


def ensure_venv() -> None:
    if STAMP.exists() and STAMP.read_text() == _fingerprint():
        return
    if not PYTHON.exists():
        print(f"[dev] creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    pip = [str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    print(f"[dev] installing {TORCH_SPEC} first, then the project with all extras", flush=True)
    subprocess.run(pip + [TORCH_SPEC], check=True)
    subprocess.run(pip + ["-e", f"{ROOT}[all]"], check=True)
    STAMP.write_text(_fingerprint())


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("sweep", "test", "run"):
        print(__doc__)
        return 2
    ensure_venv()
    command, rest = argv[0], argv[1:]
    if command == "sweep":
        cmd = [str(PYTHON), "-m", "tune_jobs.torch_mlp", *rest]
    elif command == "test":
        cmd = [str(PYTHON), "-m", "pytest", *rest]
    else:
        cmd = [str(PYTHON), "-m", *rest]
    return subprocess.call(cmd, cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
