"""Ray Tune's ``param_space`` -> ``space.SearchSpace``: the one place that reads Ray's domain objects.

Ray's public sample classes (``ray.tune.search.sample``) are matched with
``isinstance``, as Ray's own adapters do (``tune/search/optuna/optuna_search.py``).
Anything a model-based searcher cannot search is refused with a ``ValueError``
naming the parameter's path: ``sample_from``, ``grid_search``, ``randn``,
empty choices, empty ranges, log scales that reach zero, and a domain inside a
list (Tune would pass it to the trainable unresolved).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ray.tune.search.sample import (
    Categorical,
    Domain,
    Float,
    Function,
    Grid,
    Integer,
    LogUniform,
    Normal,
    Quantized,
    Uniform,
)

from .space import CategoricalParam, FloatParam, GridParam, Param, Path, SearchSpace, path_name


def from_tune(param_space: Mapping[str, Any]) -> SearchSpace:
    """Convert a Ray Tune ``param_space`` (nested dicts allowed) to a ``SearchSpace``."""
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
            raise ValueError(f"{path_name(path)}: grid_search is not supported by a model-based searcher; "
                             "use tune.choice")
        if isinstance(value, Mapping):
            if not value:
                constants.append((path, {}))
            _walk(value, path, params, constants)
        elif isinstance(value, Domain):
            params.append(_convert(path, value))
        elif isinstance(value, list | tuple):
            _refuse_nested_domains(path, value)
            constants.append((path, value))
        elif callable(value):
            raise ValueError(f"{path_name(path)}: functions are not supported; give a tune domain or a constant")
        else:
            constants.append((path, value))


def _refuse_nested_domains(path: Path, values: list | tuple) -> None:
    for i, value in enumerate(values):
        inner = path + (str(i),)
        if isinstance(value, Domain) or (isinstance(value, Mapping) and _holds_domain(value)):
            raise ValueError(f"{path_name(inner)}: a search domain inside a list is not searched; "
                             "give each searched value its own key")
        if isinstance(value, list | tuple):
            _refuse_nested_domains(inner, value)


def _holds_domain(node: Mapping) -> bool:
    return any(isinstance(v, Domain) or (isinstance(v, Mapping) and _holds_domain(v)) for v in node.values())


def _convert(path: Path, domain: Domain) -> Param:
    name = path_name(path)
    if isinstance(domain, Function):
        raise ValueError(f"{name}: sample_from is not supported by a model-based searcher")
    if isinstance(domain, Categorical):
        if isinstance(domain.sampler, Grid):
            raise ValueError(f"{name}: grid_search is not supported by a model-based searcher")
        if len(domain.categories) == 0:
            raise ValueError(f"{name}: choice() needs at least one category")
        return CategoricalParam(path, tuple(domain.categories))
    if not isinstance(domain, Float | Integer):
        raise ValueError(f"{name}: unsupported domain {type(domain).__name__}")
    sampler = domain.get_sampler()
    q = None
    if isinstance(sampler, Quantized):
        q, sampler = sampler.q, sampler.get_sampler()
    if isinstance(sampler, Normal):
        raise ValueError(f"{name}: randn/qrandn (unbounded normal) is not supported; use uniform bounds")
    if not isinstance(sampler, Uniform | LogUniform):
        raise ValueError(f"{name}: unsupported sampler {type(sampler).__name__}")
    log = isinstance(sampler, LogUniform)
    lower, upper = float(domain.lower), float(domain.upper)
    _check_range(name, lower, upper, log, q)
    if isinstance(domain, Float):
        return _float_param(path, lower, upper, log, q)
    return _int_param(path, lower, upper, log, q)


def _check_range(name: str, lower: float, upper: float, log: bool, q: float | None) -> None:
    if not (math.isfinite(lower) and math.isfinite(upper)):
        raise ValueError(f"{name}: bounds must be finite, got [{lower}, {upper}]")
    if log and lower <= 0:
        raise ValueError(f"{name}: a log scale needs lower > 0, got lower={lower:g}")
    if q is not None and not (math.isfinite(q) and q > 0):
        raise ValueError(f"{name}: the quantisation step q must be positive, got {q}")


def _float_param(path: Path, lower: float, upper: float, log: bool, q: float | None) -> Param:
    if lower >= upper:
        raise ValueError(f"{path_name(path)}: lower ({lower}) must be below upper ({upper})")
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
        raise ValueError(f"{path_name(path)}: the range holds no value (lower must be below upper)")
    return GridParam(path, float(start), float(step), int(size), integer, log)
