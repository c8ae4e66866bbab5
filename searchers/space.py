"""A search space and its encoding: configs  <->  the unit cube the GP works in.

Notation: a search space has ``d`` searchable parameters; an encoded point is
``u: (d,)`` in ``[0, 1]^d`` and a batch is ``U: (m, d)``.

Each parameter owns one coordinate:

* float: ``u`` is linear in the value (or in ``log(value)``);
* integer and quantised float: a grid of ``m`` values ``v_k = v_0 + k*step``;
  the cube is split into ``m`` cells of equal width (of equal width in log
  space for log parameters, the grid widened by half a step at both ends), so
  uniform sampling in ``u`` is uniform over the grid;
* categorical with ``k`` choices: ``k`` equal cells, category ``i`` sits at
  the cell centre ``(i + 0.5) / k``. Only equality of these codes matters to
  the kernel (see ``kernel.py``), never their order.

``snap`` maps any point of the cube to the representable point it decodes
to, so the GP never sees two codes for one configuration.

This module knows nothing of Ray: ``tune_space.from_tune`` builds a
``SearchSpace`` from a Ray Tune ``param_space``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

Path = tuple[str, ...]


def path_name(path: Path) -> str:
    return "/".join(path)


@dataclass(frozen=True)
class FloatParam:
    """A continuous parameter on ``[lower, upper]``, optionally log-scaled."""

    path: Path
    lower: float
    upper: float
    log: bool = False

    @property
    def is_continuous(self) -> bool:
        return True

    def _span(self) -> tuple[float, float]:
        if self.log:
            return math.log(self.lower), math.log(self.upper)
        return self.lower, self.upper

    def encode(self, value: Any) -> float:
        lo, hi = self._span()
        x = math.log(value) if self.log else float(value)
        return float(np.clip((x - lo) / (hi - lo), 0.0, 1.0))

    def decode(self, u: float) -> float:
        lo, hi = self._span()
        x = lo + float(np.clip(u, 0.0, 1.0)) * (hi - lo)
        value = math.exp(x) if self.log else x
        return float(min(max(value, self.lower), self.upper))

    def contains(self, value: Any) -> bool:
        return _is_real(value) and self.lower <= value <= self.upper


@dataclass(frozen=True)
class GridParam:
    """Values ``start + k * step`` for ``k = 0 .. size-1`` (integers, quantised floats).

    ``integer`` says whether decoded values are ``int``. Grid value ``k`` owns the
    interval ``[v_k - step/2, v_k + step/2]``, mapped linearly (or by ``log``)
    onto the cube, so sampling ``u`` uniformly samples the grid as Ray would.
    """

    path: Path
    start: float
    step: float
    size: int
    integer: bool
    log: bool = False

    @property
    def is_continuous(self) -> bool:
        return False

    @property
    def last(self) -> float:
        return self.start + (self.size - 1) * self.step

    def _warp(self, x: float) -> float:
        return math.log(x) if self.log else x

    def _span(self) -> tuple[float, float]:
        half = self.step / 2
        return self._warp(self.start - half), self._warp(self.last + half)

    def _value(self, k: int) -> float | int:
        value = self.start + k * self.step
        if self.integer:
            return int(round(value))
        # 12 significant digits drop the float error of start + k*step (0.30000000000000004 -> 0.3).
        return float(f"{value:.12g}")

    def index_of(self, u: float) -> int:
        lo, hi = self._span()
        x = lo + float(np.clip(u, 0.0, 1.0)) * (hi - lo)
        value = math.exp(x) if self.log else x
        return int(np.clip(round((value - self.start) / self.step), 0, self.size - 1))

    def encode_index(self, k: int) -> float:
        lo, hi = self._span()
        return (self._warp(self.start + k * self.step) - lo) / (hi - lo)

    def snap_codes(self, u: np.ndarray) -> np.ndarray:
        """``encode_index(index_of(u))`` for a whole column of codes at once."""
        lo, hi = self._span()
        x = lo + np.clip(u, 0.0, 1.0) * (hi - lo)
        k = np.clip(np.round(((np.exp(x) if self.log else x) - self.start) / self.step), 0, self.size - 1)
        value = self.start + k * self.step
        return ((np.log(value) if self.log else value) - lo) / (hi - lo)

    def encode(self, value: Any) -> float:
        k = int(np.clip(round((float(value) - self.start) / self.step), 0, self.size - 1))
        return self.encode_index(k)

    def decode(self, u: float) -> float | int:
        return self._value(self.index_of(u))

    def contains(self, value: Any) -> bool:
        if not _is_real(value) or not self.start - 1e-9 <= value <= self.last + 1e-9:
            return False
        k = (value - self.start) / self.step
        return math.isclose(k, round(k), abs_tol=1e-6)


@dataclass(frozen=True)
class CategoricalParam:
    """A choice among ``categories``; decoding returns the very objects given."""

    path: Path
    categories: tuple

    @property
    def is_continuous(self) -> bool:
        return False

    @property
    def size(self) -> int:
        return len(self.categories)

    def index_of(self, u: float) -> int:
        return int(np.clip(math.floor(float(u) * self.size), 0, self.size - 1))

    def encode_index(self, k: int) -> float:
        return (k + 0.5) / self.size

    def snap_codes(self, u: np.ndarray) -> np.ndarray:
        """``encode_index(index_of(u))`` for a whole column of codes at once."""
        return (np.clip(np.floor(u * self.size), 0, self.size - 1) + 0.5) / self.size

    def _find(self, value: Any) -> int | None:
        for i, category in enumerate(self.categories):
            # Identity first (None, NaN-free objects), then equality of the same kind, so that
            # True is not mistaken for 1, while 64.0 and np.int64(64) find 64 and np.str_ finds str.
            if category is value or (_same_kind(category, value) and category == value):
                return i
        return None

    def encode(self, value: Any) -> float:
        k = self._find(value)
        if k is None:
            raise ValueError(f"{path_name(self.path)}: {value!r} is not one of {list(self.categories)}")
        return self.encode_index(k)

    def decode(self, u: float) -> Any:
        return self.categories[self.index_of(u)]

    def contains(self, value: Any) -> bool:
        return self._find(value) is not None


Param = FloatParam | GridParam | CategoricalParam


def _same_kind(a: Any, b: Any) -> bool:
    if type(a) is type(b):
        return True
    kinds = ((str,), (bool, np.bool_))
    return any(isinstance(a, k) and isinstance(b, k) for k in kinds) or (_is_real(a) and _is_real(b))


def _is_real(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


@dataclass(frozen=True)
class SearchSpace:
    """The searchable parameters of a ``param_space`` and the constants around them."""

    params: tuple[Param, ...]
    constants: tuple[tuple[Path, Any], ...] = ()

    @property
    def dim(self) -> int:
        return len(self.params)

    @property
    def categorical_mask(self) -> np.ndarray:
        """``(d,)`` bool: the coordinates the kernel compares by equality only."""
        return np.array([isinstance(p, CategoricalParam) for p in self.params], dtype=bool)

    @property
    def continuous_mask(self) -> np.ndarray:
        """``(d,)`` bool: the coordinates a gradient-based optimiser may move freely."""
        return np.array([p.is_continuous for p in self.params], dtype=bool)

    @property
    def size(self) -> float:
        """How many distinct configurations exist (``inf`` with any float parameter)."""
        total = 1.0
        for p in self.params:
            total *= math.inf if p.is_continuous else p.size
        return total

    def encode(self, config: Mapping[str, Any]) -> np.ndarray:
        """A (possibly nested) config dict to ``u: (d,)``; raises if a value is outside the space."""
        u = np.empty(self.dim)
        for j, p in enumerate(self.params):
            value = _lookup(config, p.path)
            if not p.contains(value):
                raise ValueError(f"{path_name(p.path)}: {value!r} is outside the search space")
            u[j] = p.encode(value)
        return u

    def decode(self, u: np.ndarray) -> dict:
        """``u: (d,)`` to a nested config dict, constants included."""
        config: dict = {}
        for path, value in self.constants:
            _store(config, path, value)
        for p, x in zip(self.params, np.asarray(u, dtype=float), strict=False):
            _store(config, p.path, p.decode(x))
        return config

    def snap(self, U: np.ndarray) -> np.ndarray:
        """``U: (m, d)`` -> the codes of the configurations they decode to (a new array)."""
        S = np.clip(np.array(U, dtype=float, copy=True), 0.0, 1.0)
        for j, p in enumerate(self.params):
            if not p.is_continuous:
                S[:, j] = p.snap_codes(S[:, j])
        return S

    def centre(self) -> np.ndarray:
        """``(d,)``: the code of the configuration in the middle of every parameter's range."""
        return self.snap(np.full((1, self.dim), 0.5))[0]

    def grid(self) -> np.ndarray:
        """``(size, d)``: every configuration's code, for a space without continuous parameters."""
        if not np.isfinite(self.size):
            raise ValueError("a space with continuous parameters has no finite grid")
        axes = [np.array([p.encode_index(k) for k in range(p.size)]) for p in self.params]
        return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, self.dim)

    def flat_names(self) -> list[str]:
        return [path_name(p.path) for p in self.params]


def merge_config(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict:
    """``base`` with the (possibly nested, possibly partial) values of ``override`` put in; a new dict."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge_config(merged[key], value)
        else:
            merged[key] = value
    return merged


def _lookup(config: Mapping[str, Any], path: Path) -> Any:
    node: Any = config
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            raise ValueError(f"{path_name(path)}: missing from config")
        node = node[key]
    return node


def _store(config: dict, path: Path, value: Any) -> None:
    node = config
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value
