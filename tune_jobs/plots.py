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
    ax.set_xlabel("trial")
    ax.set_ylabel(f"best {metric} so far")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return fig
