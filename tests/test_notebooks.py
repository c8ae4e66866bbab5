"""The notebooks run top to bottom in a real Jupyter kernel; any cell error fails the test."""

import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _execute(name: str, tmp_path: Path) -> nbformat.NotebookNode:
    book = nbformat.read(NOTEBOOKS / name, as_version=4)
    assert all(not cell.get("outputs") for cell in book.cells if cell.cell_type == "code"), "stored with outputs"
    start = time.time()
    NotebookClient(book, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    print(f"{name}: {time.time() - start:.0f} s")
    return book


def _text(book) -> str:
    return "".join(o.get("text", "") for cell in book.cells for o in cell.get("outputs", []))


def _images(book) -> int:
    return sum("image/png" in o.get("data", {}) for cell in book.cells for o in cell.get("outputs", []))


def test_gp_tour(tmp_path):
    book = _execute("gp_tour.ipynb", tmp_path)
    assert _images(book) == 7  # one picture per GP step, and the last
    assert "posterior std at the 9 observations" in _text(book)


def test_mnist_sweep(ray_session, tmp_path, monkeypatch):
    monkeypatch.setenv("RAY_ADDRESS", ray_session)  # the notebook's ray.init() joins the session's Ray
    monkeypatch.setenv("NOTEBOOK_STORAGE", str(tmp_path))
    book = _execute("mnist_sweep.ipynb", tmp_path)
    assert _images(book) == 4  # convergence, 1-D slice, 2-D contour, importance
    assert "test accuracy" in _text(book)
    assert "ensemble of " in _text(book)  # the sweep's ensemble loaded back (tune_jobs.predict), its figure asserted
    assert (tmp_path / "gp" / "trials.csv").exists() and (tmp_path / "random" / "best.json").exists()


@pytest.mark.parametrize("name", ["gp_tour.ipynb", "mnist_sweep.ipynb"])
def test_notebooks_use_the_package_for_pictures(name):
    source = "\n".join(cell.source for cell in nbformat.read(NOTEBOOKS / name, as_version=4).cells)
    assert "import matplotlib" not in source and "plt." not in source and "searchers.plots" in source


def test_the_notebooks_ray_listens_on_loopback_only(tmp_path, monkeypatch):
    """The notebook's own first cell, after an ``import ray`` of the user's, in a live kernel."""
    import subprocess

    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.delenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", raising=False)
    monkeypatch.setenv("NOTEBOOK_STORAGE", str(tmp_path))
    first = next(c for c in nbformat.read(NOTEBOOKS / "mnist_sweep.ipynb", as_version=4).cells if c.cell_type == "code")
    book = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import ray"),
        first,
        nbformat.v4.new_code_cell("node = ray._private.worker.global_worker.node\n"
                                  "print('PIDS', *[p.process.pid for ps in node.all_processes.values() for p in ps])"),
    ])
    client = NotebookClient(book, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    with client.setup_kernel():
        for index, cell in enumerate(book.cells):
            client.execute_cell(cell, index)
        pids = _text(book).split("PIDS", 1)[1].split()
        sockets = subprocess.run(["ss", "-Htlnp"], capture_output=True, text=True, check=True).stdout.splitlines()
        ours = [line.split()[3] for line in sockets if any(f"pid={pid}," in line for pid in pids)]
    assert len(ours) >= 3, sockets  # GCS, raylet, object manager at least
    assert all(a.startswith(("127.0.0.1:", "[::1]:", "[::ffff:127.0.0.1]:")) for a in ours), ours
