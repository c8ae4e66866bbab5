"""Ray Tune ``param_space``  <->  the unit cube the GP works in.

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
  the kernel (see ``gp.py``), never their order.

``snap`` maps any point of the cube to the representable point it decodes
to, so the GP never sees two codes for one configuration.

Ray's domain classes are recognised by duck typing, so that the engine does
not import Ray: ``tune_searcher.py`` is the only module that does.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

Path = tuple[str, ...]


def _name(path: Path) -> str:
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
        # Round away the float error of start + k*step (0.30000000000000004).
        return float(round(value / self.step) * self.step) if self.step else value

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
            # Identity first (None, NaN-free objects), then equality of the same type,
            # so that True is not mistaken for 1.
            if category is value or (type(category) is type(value) and category == value):
                return i
        return None

    def encode(self, value: Any) -> float:
        k = self._find(value)
        if k is None:
            raise ValueError(f"{_name(self.path)}: {value!r} is not one of {list(self.categories)}")
        return self.encode_index(k)

    def decode(self, u: float) -> Any:
        return self.categories[self.index_of(u)]

    def contains(self, value: Any) -> bool:
        return self._find(value) is not None


Param = FloatParam | GridParam | CategoricalParam


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
                raise ValueError(f"{_name(p.path)}: {value!r} is outside the search space")
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

    def flat_names(self) -> list[str]:
        return [_name(p.path) for p in self.params]


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
            raise ValueError(f"{_name(path)}: missing from config")
        node = node[key]
    return node


def _store(config: dict, path: Path, value: Any) -> None:
    node = config
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value


# --- from Ray Tune's domain objects ----------------------------------------------------


def from_tune(param_space: Mapping[str, Any]) -> SearchSpace:
    """Convert a Ray Tune ``param_space`` (nested dicts allowed) to a ``SearchSpace``.

    Raises ``ValueError`` naming the parameter's path for anything a model-based
    searcher cannot search: ``sample_from``, ``grid_search``, ``randn``, empty
    choices, empty ranges, log scales that reach zero.
    """
    if not isinstance(param_space, Mapping):
        raise ValueError(f"param_space must be a dict, got {type(param_space).__name__}")
    params: list[Param] = []
    constants: list[tuple[Path, Any]] = []
    _walk(param_space, (), params, constants)
    if not params:
        raise ValueError("param_space has no searchable parameter (only constants)")
    return SearchSpace(tuple(params), tuple(constants))


def _walk(node: Mapping, prefix: Path, params: list, constants: list) -> None:
    for key, value in node.items():
        path = prefix + (str(key),)
        if isinstance(value, Mapping) and "grid_search" in value:
            raise ValueError(f"{_name(path)}: grid_search is not supported by a model-based searcher; use tune.choice")
        if isinstance(value, Mapping):
            if not value:
                constants.append((path, {}))
            _walk(value, path, params, constants)
        elif _is_domain(value):
            params.append(_convert(path, value))
        elif callable(value):
            raise ValueError(f"{_name(path)}: functions are not supported; give a tune domain or a constant")
        else:
            constants.append((path, value))


def _is_domain(value: Any) -> bool:
    return any(cls.__name__ == "Domain" and cls.__module__.startswith("ray.") for cls in type(value).__mro__)


def _sampler_parts(domain: Any) -> tuple[str, float | None]:
    """The sampler's kind (``_Uniform``, ``_LogUniform``, ...) and its quantum ``q`` if any."""
    sampler = domain.get_sampler()
    q = None
    if type(sampler).__name__ == "Quantized":
        q = sampler.q
        sampler = sampler.get_sampler()
    return type(sampler).__name__, q


def _convert(path: Path, domain: Any) -> Param:
    kind = type(domain).__name__
    name = _name(path)
    if kind == "Function":
        raise ValueError(f"{name}: sample_from is not supported by a model-based searcher")
    if kind == "Categorical":
        if getattr(domain, "sampler", None) is not None and type(domain.sampler).__name__ == "Grid":
            raise ValueError(f"{name}: grid_search is not supported by a model-based searcher")
        if len(domain.categories) == 0:
            raise ValueError(f"{name}: choice() needs at least one category")
        return CategoricalParam(path, tuple(domain.categories))
    sampler, q = _sampler_parts(domain)
    if sampler == "_Normal":
        raise ValueError(f"{name}: randn/qrandn (unbounded normal) is not supported; use uniform bounds")
    if sampler not in ("_Uniform", "_LogUniform"):
        raise ValueError(f"{name}: unsupported sampler {sampler}")
    log = sampler == "_LogUniform"
    lower, upper = float(domain.lower), float(domain.upper)
    if not (math.isfinite(lower) and math.isfinite(upper)):
        raise ValueError(f"{name}: bounds must be finite, got [{lower}, {upper}]")
    if log and lower <= 0:
        raise ValueError(f"{name}: a log scale needs lower > 0, got lower={domain.lower}")
    if q is not None and not (math.isfinite(q) and q > 0):
        raise ValueError(f"{name}: the quantisation step q must be positive, got {q}")
    if kind == "Float":
        return _float_param(path, lower, upper, log, q)
    if kind == "Integer":
        return _int_param(path, lower, upper, log, q)
    raise ValueError(f"{name}: unsupported domain {kind}")


def _float_param(path: Path, lower: float, upper: float, log: bool, q: float | None) -> Param:
    if lower >= upper:
        raise ValueError(f"{_name(path)}: lower ({lower}) must be below upper ({upper})")
    if q is None:
        return FloatParam(path, lower, upper, log)
    first, last = math.ceil(lower / q - 1e-9), math.floor(upper / q + 1e-9)
    return _grid(path, first * q, q, last - first + 1, integer=False, log=log)


def _int_param(path: Path, lower: float, upper: float, log: bool, q: float | None) -> Param:
    # Ray: randint/lograndint exclude ``upper``; quantised variants include it.
    if q is None:
        return _grid(path, lower, 1, int(upper - lower), integer=True, log=log)
    first, last = math.ceil(lower / q - 1e-9), math.floor(upper / q + 1e-9)
    return _grid(path, first * q, q, last - first + 1, integer=True, log=log)


def _grid(path: Path, start: float, step: float, size: int, *, integer: bool, log: bool) -> GridParam:
    if size < 1:
        raise ValueError(f"{_name(path)}: the range holds no value (lower must be below upper)")
    return GridParam(path, float(start), float(step), int(size), integer, log)


def sobol(space: SearchSpace, n: int, *, seed: int, skip: int = 0) -> np.ndarray:
    """``(n, d)`` snapped points of a scrambled Sobol sequence, after ``skip`` points."""
    from scipy.stats import qmc

    engine = qmc.Sobol(d=space.dim, scramble=True, seed=seed)
    if skip:
        engine.fast_forward(skip)
    return space.snap(engine.random(n))


def duplicates_of(candidates: np.ndarray, existing: np.ndarray, *, atol: float = 1e-9) -> np.ndarray:
    """``(m,)`` bool: which snapped ``candidates: (m, d)`` equal a row of ``existing: (k, d)``."""
    if len(existing) == 0 or len(candidates) == 0:
        return np.zeros(len(candidates), dtype=bool)
    close = np.abs(candidates[:, None, :] - existing[None, :, :]) <= atol
    return close.all(axis=2).any(axis=1)

