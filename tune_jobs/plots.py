"""Pictures of a sweep. Each function saves a PNG and returns the matplotlib ``Figure``.

Figures are built with ``matplotlib.figure.Figure``, not pyplot, so that they
draw headless (Ray workers, CI) without touching the global backend a
notebook has chosen.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure


def plot_convergence(curves: dict[str, np.ndarray], path: str | Path, *, metric: str = "val_accuracy",
                     title: str = "Model performance vs. number of iterations"):
    """Best-so-far ``metric`` against trial number, one line per searcher."""
    fig = Figure(figsize=(6.4, 4.0))
    ax = fig.subplots()
    for label, curve in curves.items():
        curve = np.asarray(curve, dtype=float)
        shown = np.where(np.isfinite(curve), curve, np.nan)
        ax.plot(np.arange(1, len(curve) + 1), shown, marker="o", markersize=3, drawstyle="steps-post", label=label)
    return _finish(fig, ax, path, xlabel="trial", ylabel=f"best {metric} so far", title=title)


def plot_regret_curves(curves: dict[str, np.ndarray], path: str | Path, *, title: str,
                       ylabel: str = "simple regret", log: bool = True):
    """Median (line) and quartiles (band) over seeds of ``curves[label]: (seeds, evaluations)``."""
    fig = Figure(figsize=(6.4, 4.0))
    ax = fig.subplots()
    for label, runs in curves.items():
        runs = np.asarray(runs, dtype=float)
        if log:
            runs = np.maximum(runs, 1e-12)  # a regret of exactly 0 has no place on a log axis
        x = np.arange(1, runs.shape[1] + 1)
        q25, median, q75 = np.quantile(runs, [0.25, 0.5, 0.75], axis=0)
        (line,) = ax.plot(x, median, label=label)
        ax.fill_between(x, q25, q75, color=line.get_color(), alpha=0.2)
    if log:
        ax.set_yscale("log")
    return _finish(fig, ax, path, xlabel="evaluations", ylabel=ylabel, title=title)


def _finish(fig: Figure, ax, path: str | Path, *, xlabel: str, ylabel: str, title: str) -> Figure:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return fig
