"""Pictures of a sweep. Each function returns the matplotlib ``Figure`` and saves a PNG when given a path.

* ``plot_posterior_1d``: the classic Bayesian-optimisation figure for one
  parameter: the GP mean with a +-2 sigma band, the observations, the
  acquisition beneath and the next suggestion marked. With more than one
  parameter it is a slice through the best config (the other parameters held
  there), and the observations are projected onto the slice.
* ``plot_posterior_2d``: the posterior mean over two parameters with the trials on top.
* ``plot_importance``: parameter importance from the GP's ARD lengthscales.
* ``plot_convergence``: best-so-far against trial, one line per searcher.
* ``plot_regret_curves``: the benchmark's median and quartiles over seeds.

In a notebook a returned ``Figure`` shows itself. Figures are built with
``matplotlib.figure.Figure``, not pyplot, so that they draw headless (Ray
workers, CI) without touching the global backend a notebook has chosen.

    python -m searchers.plots docs/gp_posterior.png    # the README's picture: a 1-D tour's last step
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from .space import CategoricalParam, FloatParam, merge_config


def plot_posterior_1d(searcher, param: str, path: str | Path | None = None, *, base: Mapping[str, Any] | None = None,
                      objective: Callable[[dict], float] | None = None, points: int = 200) -> Figure:
    """GP mean, 95% predictive interval, observations and the acquisition along ``param``, next
    suggestion marked; with model averaging (the default) all of them are the averaged model's.

    ``searcher`` is a ``GPEISearcher`` with at least two observations; ``base``
    holds the other parameters (default: the best config observed);
    ``objective``, if given, is drawn as the true function (a config -> metric).
    """
    p = _param(searcher, param)
    if isinstance(p, CategoricalParam):
        raise ValueError(f"{param} is categorical: plot_posterior_1d needs a numeric parameter")
    observations = searcher.observations()
    base = dict(base) if base is not None else _best(searcher, observations)
    grid = _grid(p, points)
    configs = [_set(base, p.path, v) for v in grid]
    mean, _ = searcher.predict(configs)
    lower, upper = searcher.predict_interval(configs, 0.95)
    acq = searcher.acquisition(configs)
    nxt = searcher.preview()

    fig = Figure(figsize=(7.0, 5.6))
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1.4]})
    if objective is not None:
        top.plot(grid, [objective(c) for c in configs], color="black", linestyle="--", linewidth=1, label="target")
    xs = [_get(c, p.path) for c, _ in observations]
    ys = np.array([v for _, v in observations])
    # An output warp with a bounded range gives the interval an infinite end in the bad tail;
    # keep the view on the data and the band inside it.
    low, high = min(ys.min(), mean.min()), max(ys.max(), mean.max())
    view = (low - 0.5 * (high - low + 1e-12), high + 0.5 * (high - low + 1e-12))
    top.plot(grid, mean, color="C0", label="GP mean")
    top.fill_between(grid, np.clip(lower, *view), np.clip(upper, *view), color="C0", alpha=0.2,
                     label="95% predictive interval")
    top.scatter(xs, ys, color="C3", zorder=3, s=22,
                label="observations" if len(searcher.space.params) == 1 else "observations (projected)")
    top.set_ylim(*view)
    _draw_acquisition(bottom, grid, acq, searcher.acquisition_name)
    if nxt is not None:
        for ax in (top, bottom):
            ax.axvline(_get(nxt, p.path), color="C1", linestyle=":", label="next suggestion")
    top.set_ylabel(searcher.metric or "metric")
    if p.log:
        bottom.set_xscale("log")
    for ax in (top, bottom):
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    bottom.set_xlabel(param)
    where = "" if len(searcher.space.params) == 1 else " (slice through the best config)"
    top.set_title(f"GP posterior after {len(observations)} observations{where}")
    return _save(fig, path)


def _draw_acquisition(ax, grid: np.ndarray, acq: np.ndarray, name: str) -> None:
    ax.plot(grid, acq, color="C2", label="acquisition")
    # log EI plunges towards -inf at observed points; show the range where the choice is made.
    finite = acq[np.isfinite(acq)]
    if len(finite):
        ax.set_ylim(max(float(finite.min()), float(finite.max()) - 30.0) - 1.0, float(finite.max()) + 1.0)
    ax.set_ylabel("log EI" if name == "log_ei" else name)


def plot_posterior_2d(searcher, x_param: str, y_param: str, path: str | Path | None = None, *,
                      base: Mapping[str, Any] | None = None, points: int = 60) -> Figure:
    """Contours of the posterior mean over two numeric parameters, the trials on top, the best one starred."""
    px, py = _param(searcher, x_param), _param(searcher, y_param)
    for name, p in ((x_param, px), (y_param, py)):
        if isinstance(p, CategoricalParam):
            raise ValueError(f"{name} is categorical: plot_posterior_2d needs numeric parameters")
    observations = searcher.observations()
    base = dict(base) if base is not None else _best(searcher, observations)
    gx, gy = _grid(px, points), _grid(py, points)
    configs = [_set(_set(base, px.path, x), py.path, y) for y in gy for x in gx]
    mean, _ = searcher.predict(configs)

    fig = Figure(figsize=(6.4, 5.0))
    ax = fig.subplots()
    filled = ax.contourf(gx, gy, mean.reshape(len(gy), len(gx)), levels=20, cmap="viridis")
    fig.colorbar(filled, ax=ax, label=f"posterior mean of {searcher.metric or 'the metric'}")
    ax.scatter([_get(c, px.path) for c, _ in observations], [_get(c, py.path) for c, _ in observations],
               color="white", edgecolor="black", s=24, label="trials")
    best = _best(searcher, observations)
    ax.scatter([_get(best, px.path)], [_get(best, py.path)], marker="*", color="red", s=160, label="best")
    if px.log:
        ax.set_xscale("log")
    if py.log:
        ax.set_yscale("log")
    ax.set_xlabel(x_param)
    ax.set_ylabel(y_param)
    ax.set_title("GP posterior mean" + ("" if len(searcher.space.params) == 2 else " (slice through the best config)"))
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    return _save(fig, path)


def plot_importance(searcher, path: str | Path | None = None) -> Figure:
    """Horizontal bars of ``searcher.importance()`` (1 / lengthscale, normalised), most important on top."""
    importance = searcher.importance()
    names = list(importance)[::-1]
    fig = Figure(figsize=(6.0, 0.45 * len(names) + 1.4))
    ax = fig.subplots()
    ax.barh(names, [importance[n] for n in names], color="C0")
    ax.set_xlabel("importance (1 / ARD lengthscale, normalised)")
    ax.set_title("Which parameters the GP finds matter")
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return _save(fig, path)


def plot_convergence(curves: dict[str, np.ndarray], path: str | Path | None = None, *, metric: str = "val_accuracy",
                     title: str = "Model performance vs. number of iterations"):
    """Best-so-far ``metric`` against trial number, one line per searcher."""
    fig = Figure(figsize=(6.4, 4.0))
    ax = fig.subplots()
    for label, curve in curves.items():
        curve = np.asarray(curve, dtype=float)
        shown = np.where(np.isfinite(curve), curve, np.nan)
        ax.plot(np.arange(1, len(curve) + 1), shown, marker="o", markersize=3, drawstyle="steps-post", label=label)
    return _finish(fig, ax, path, xlabel="trial", ylabel=f"best {metric} so far", title=title)


def plot_learning_curves(curves: list[tuple[np.ndarray, np.ndarray]], path: str | Path | None = None, *,
                         full: int, best: int | None, metric: str = "val_accuracy"):
    """``metric`` against epoch, one line per trial ``(epochs, values)``: trials stopped before ``full``
    epochs faded, trial ``best`` (an index into ``curves``) highlighted."""
    fig = Figure(figsize=(6.4, 4.0))
    ax = fig.subplots()
    for i, (epochs, values) in enumerate(curves):
        if i != best:
            stopped = len(epochs) == 0 or max(epochs) < full
            ax.plot(epochs, values, color="tab:gray" if stopped else "tab:blue", alpha=0.25 if stopped else 0.6,
                    linewidth=1, marker="o" if len(epochs) == 1 else None, markersize=2)
    if best is not None:
        ax.plot(*curves[best], color="tab:red", linewidth=2.5, label=f"best trial ({best + 1})")
    ax.plot([], [], color="tab:gray", alpha=0.5, label="stopped early")
    ax.plot([], [], color="tab:blue", alpha=0.8, label=f"trained all {full} epochs")
    return _finish(fig, ax, path, xlabel="epoch", ylabel=metric, title="Learning curves of every trial")


def plot_convergence_in_time(curves: dict[str, tuple[np.ndarray, np.ndarray]], path: str | Path | None = None, *,
                             metric: str = "val_accuracy"):
    """Best-so-far ``metric`` against wall-clock seconds, ``curves[label] = (seconds, best so far)``."""
    fig = Figure(figsize=(6.4, 4.0))
    ax = fig.subplots()
    for label, (seconds, best) in curves.items():
        ax.plot(seconds, best, drawstyle="steps-post", marker="o", markersize=2, label=label)
    return _finish(fig, ax, path, xlabel="wall seconds", ylabel=f"best {metric} so far",
                   title="Model performance vs. wall time")


def plot_regret_curves(curves: dict[str, np.ndarray], path: str | Path | None = None, *, title: str,
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


def _finish(fig: Figure, ax, path: str | Path | None, *, xlabel: str, ylabel: str, title: str) -> Figure:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return _save(fig, path)


def _save(fig: Figure, path: str | Path | None) -> Figure:
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110)
    return fig


def _param(searcher, name: str):
    space = searcher.space
    if space is None:
        raise RuntimeError("the searcher has no search space yet")
    names = space.flat_names()
    if name not in names:
        raise ValueError(f"no searched parameter {name!r}; the searched ones are {names}")
    return space.params[names.index(name)]


def _grid(p, points: int) -> np.ndarray:
    """Values along a numeric parameter: evenly spaced (in log for log parameters), grids at their values."""
    if isinstance(p, FloatParam):
        if p.log:
            return np.geomspace(p.lower, p.upper, points)
        return np.linspace(p.lower, p.upper, points)
    values = np.array([p.decode(p.encode_index(k)) for k in range(p.size)], dtype=float)
    if len(values) > points:
        values = values[np.linspace(0, len(values) - 1, points).round().astype(int)]
    return values


def _best(searcher, observations: list[tuple[dict, float]]) -> dict:
    if not observations:
        raise ValueError("the searcher has no observations yet")
    pick = max if searcher.mode == "max" else min
    return pick(observations, key=lambda item: item[1])[0]


def _get(config: Mapping[str, Any], path: tuple) -> Any:
    for key in path:
        config = config[key]
    return config


def _set(config: Mapping[str, Any], path: tuple, value: Any) -> dict:
    override: dict = {}
    node = override
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value.item() if isinstance(value, np.generic) else value  # plain Python numbers in configs
    return merge_config(config, override)


def _demo(path: str) -> None:
    """A 1-D tour's last step: 3 Sobol points and 5 GP suggestions on a wavy function."""
    from ray import tune

    from . import GPEISearcher

    def target(config: dict) -> float:
        x = config["x"]
        return math.sin(3 * x) + x**2 - 0.7 * x

    searcher = GPEISearcher(seed=1, space={"x": tune.uniform(-1.0, 2.0)}, metric="y", mode="min", n_initial=3)
    for i in range(8):
        config = searcher.suggest(str(i))
        searcher.on_trial_complete(str(i), {"y": target(config)})
    plot_posterior_1d(searcher, "x", path, objective=target)
    print(f"wrote {path}")


if __name__ == "__main__":
    _demo(sys.argv[1] if len(sys.argv) > 1 else "gp_posterior.png")
