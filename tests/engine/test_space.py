"""The encoded space on its own (no Ray): round trips for every parameter kind, snapping, the finite grid."""

import math

import numpy as np
import pytest

from searchers.space import CategoricalParam, FloatParam, GridParam, SearchSpace

ROUND_TRIPS = [
    (FloatParam(("x",), -2.0, 3.0), [-2.0, 0.123, 3.0]),
    (FloatParam(("lr",), 1e-5, 1e-1, log=True), [1e-5, 3.3e-3, 1e-1]),
    (GridParam(("k",), 2, 1, 7, integer=True), [2, 5, 8]),
    (GridParam(("q",), 0.0, 0.1, 11, integer=False), [0.0, 0.3, 0.7, 1.0]),
    (GridParam(("n",), 8, 8, 64, integer=True, log=True), [8, 64, 512]),
    (CategoricalParam(("c",), ("relu", None, True, 1, (3, 3))), ["relu", None, True, 1, (3, 3)]),
]


@pytest.mark.parametrize(("param", "values"), ROUND_TRIPS, ids=lambda p: getattr(p, "path", [""])[0])
def test_every_kind_decodes_what_it_encodes(param, values):
    space = SearchSpace((param,))
    for value in values:
        u = space.encode({param.path[0]: value})
        assert 0.0 <= u[0] <= 1.0
        decoded = space.decode(u)[param.path[0]]
        assert type(decoded) is type(value)
        assert decoded == (pytest.approx(value, rel=1e-12) if isinstance(param, FloatParam) else value)
        np.testing.assert_array_equal(space.snap(u[None])[0], u)


def test_quantised_values_carry_no_float_error():
    param = GridParam(("q",), 0.0, 0.1, 11, integer=False)
    assert [param.decode(param.encode_index(k)) for k in (3, 7)] == [0.3, 0.7]


def test_numeric_categories_are_matched_by_value_but_not_booleans():
    space = SearchSpace((CategoricalParam(("b",), (32, 64)),))
    assert space.decode(space.encode({"b": np.int64(64)}))["b"] == 64
    assert space.decode(space.encode({"b": 64.0}))["b"] == 64
    assert SearchSpace((CategoricalParam(("s",), ("relu", "tanh")),)).encode({"s": np.str_("tanh")})[0] == 0.75
    with pytest.raises(ValueError, match="outside the search space"):
        SearchSpace((CategoricalParam(("c",), (1, 2)),)).encode({"c": True})


def test_the_grid_lists_every_configuration_once():
    space = SearchSpace((GridParam(("k",), 0, 1, 3, integer=True), CategoricalParam(("c",), ("x", "y"))))
    grid = space.grid()
    assert grid.shape == (6, 2) and len(np.unique(grid, axis=0)) == 6
    assert {tuple(space.decode(u).items()) for u in grid} == {(("k", k), ("c", c)) for k in range(3) for c in "xy"}
    assert math.isinf(SearchSpace((FloatParam(("x",), 0, 1),)).size)
