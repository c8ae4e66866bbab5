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
    assert (tmp_path / "gp" / "trials.csv").exists() and (tmp_path / "random" / "best.json").exists()


@pytest.mark.parametrize("name", ["gp_tour.ipynb", "mnist_sweep.ipynb"])
def test_notebooks_use_the_package_for_pictures(name):
    source = "\n".join(cell.source for cell in nbformat.read(NOTEBOOKS / name, as_version=4).cells)
    assert "import matplotlib" not in source and "plt." not in source and "searchers.plots" in source
