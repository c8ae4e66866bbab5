import math

import numpy as np
import pytest
from ray import tune

from searchers.points import duplicates_of, sobol
from searchers.space import CategoricalParam, FloatParam, GridParam
from searchers.tune_space import from_tune

CASES = [
    # (domain, sample values, expected decoded type, admissible-set check)
    (tune.uniform(-2.0, 3.0), [-2.0, 0.123, 3.0], float, lambda v: -2 <= v <= 3),
    (tune.quniform(0.0, 1.0, 0.25), [0.0, 0.25, 1.0], float, lambda v: v in (0, 0.25, 0.5, 0.75, 1.0)),
    (tune.loguniform(1e-5, 1e-1), [1e-5, 3.3e-3, 1e-1], float, lambda v: 1e-5 <= v <= 1e-1),
    (tune.qloguniform(1e-3, 1.0, 1e-3), [1e-3, 0.05, 1.0], float,
     lambda v: 1e-3 <= v <= 1 and math.isclose(v / 1e-3, round(v / 1e-3))),
    (tune.randint(2, 9), [2, 5, 8], int, lambda v: 2 <= v <= 8),
    (tune.qrandint(0, 20, 5), [0, 5, 20], int, lambda v: v in (0, 5, 10, 15, 20)),
    (tune.lograndint(1, 1025), [1, 32, 1024], int, lambda v: 1 <= v <= 1024),
    (tune.qlograndint(8, 512, 8), [8, 64, 512], int, lambda v: 8 <= v <= 512 and v % 8 == 0),
    (tune.choice(["relu", "tanh", None, True, 1, (3, 3)]), ["relu", None, True, 1, (3, 3)], object, lambda v: True),
]


@pytest.mark.parametrize("domain, values, kind, admissible", CASES)
def test_round_trip_every_domain_kind(domain, values, kind, admissible):
    space = from_tune({"p": domain})
    for value in values:
        decoded = space.decode(space.encode({"p": value}))["p"]
        if kind is object:
            assert decoded is value or (decoded == value and type(decoded) is type(value))
        else:
            assert type(decoded) is kind
            assert decoded == pytest.approx(value, rel=1e-9)
    for u in np.linspace(0, 1, 101):
        decoded = space.decode(np.array([u]))["p"]
        assert admissible(decoded), decoded


def test_uniform_codes_sample_discrete_values_evenly():
    space = from_tune({"i": tune.randint(0, 4), "c": tune.choice("abc"), "q": tune.quniform(0, 1, 0.5)})
    U = np.random.default_rng(0).random((30000, 3))
    configs = [space.decode(u) for u in U[:6000]]
    for key, n in (("i", 4), ("c", 3), ("q", 3)):
        counts = np.unique([c[key] for c in configs], return_counts=True)[1]
        assert len(counts) == n
        assert counts.min() / counts.max() > 0.85


def test_log_scale_is_uniform_in_log_space():
    space = from_tune({"lr": tune.loguniform(1e-4, 1.0)})
    assert space.decode(np.array([0.5]))["lr"] == pytest.approx(1e-2)
    assert space.encode({"lr": 1e-3})[0] == pytest.approx(0.25)


def test_nested_spaces_and_constants_pass_through():
    space = from_tune({"model": {"width": tune.randint(8, 65), "act": "relu", "extra": {}}, "epochs": 3,
                       "opt": {"lr": tune.loguniform(1e-4, 1e-1)}})
    assert space.flat_names() == ["model/width", "opt/lr"]
    config = space.decode(np.array([0.5, 0.5]))
    assert config["model"]["act"] == "relu" and config["epochs"] == 3 and config["model"]["extra"] == {}
    assert isinstance(config["model"]["width"], int)
    np.testing.assert_allclose(space.encode(config), space.snap(np.array([[0.5, 0.5]]))[0])


def test_param_kinds_and_masks():
    space = from_tune({"a": tune.uniform(0, 1), "b": tune.randint(0, 3), "c": tune.choice([1, 2])})
    assert [type(p) for p in space.params] == [FloatParam, GridParam, CategoricalParam]
    assert space.continuous_mask.tolist() == [True, False, False]
    assert space.categorical_mask.tolist() == [False, False, True]
    assert space.size == math.inf
    assert from_tune({"b": tune.randint(0, 3), "c": tune.choice([1, 2])}).size == 6


def test_snap_is_idempotent_and_new():
    space = from_tune({"a": tune.uniform(0, 1), "b": tune.qrandint(0, 10, 2), "c": tune.choice("xyz")})
    U = np.random.default_rng(1).random((50, 3))
    S = space.snap(U)
    assert S is not U and not np.array_equal(S, U)
    np.testing.assert_array_equal(space.snap(S), S)
    np.testing.assert_array_equal(S[:, 0], U[:, 0])


def test_sobol_points_are_snapped_and_distinct():
    space = from_tune({"a": tune.uniform(0, 1), "b": tune.uniform(0, 1)})
    P = sobol(space, 16, seed=3)
    assert P.shape == (16, 2) and len(np.unique(P, axis=0)) == 16
    np.testing.assert_array_equal(P[8:], sobol(space, 8, seed=3, skip=8))
    assert duplicates_of(P[:3], P).all() and not duplicates_of(P[:3] + 1e-3, P).any()


def test_duplicates_of_many_candidates_keeps_the_tolerance_rule():
    """Thousands of candidates against hundreds of rows take the sorted-projection path; the
    answer is still: some row within ``atol`` in every coordinate."""
    rng = np.random.default_rng(2)
    existing = np.round(rng.random((500, 6)), 2)
    existing[:, 2] = rng.integers(0, 3, 500)  # a categorical code: many rows share it
    offsets = rng.choice([0.0, 4e-10, -9e-10, 3e-9], size=(2000, 6), p=[0.7, 0.1, 0.1, 0.1])
    candidates = np.vstack([existing[rng.integers(0, 500, 2000)] + offsets, np.round(rng.random((2000, 6)), 2)])
    rule = (np.abs(candidates[:, None, :] - existing[None, :, :]) <= 1e-9).all(axis=2).any(axis=1)
    assert 100 < rule.sum() < 2000  # near-duplicates on both sides of the tolerance
    np.testing.assert_array_equal(duplicates_of(candidates, existing), rule)


def test_encode_rejects_values_outside_the_space():
    space = from_tune({"a": tune.randint(0, 3), "c": tune.choice(["x", "y"])})
    with pytest.raises(ValueError, match="a: 3 is outside"):
        space.encode({"a": 3, "c": "x"})
    with pytest.raises(ValueError, match="c: 'z' is outside"):
        space.encode({"a": 1, "c": "z"})
    with pytest.raises(ValueError, match="c: missing"):
        space.encode({"a": 1})
    with pytest.raises(ValueError, match="c: True is outside"):
        from_tune({"c": tune.choice([1, 2])}).encode({"c": True})  # True == 1, but is not the category 1


def _log_with_zero_lower():
    """Ray refuses to build this domain itself, but a hand-edited one reaches us."""
    domain = tune.loguniform(1e-3, 1.0)
    domain.lower = 0.0
    return domain


@pytest.mark.parametrize(
    "space, message",
    [
        ({"net": {"f": tune.sample_from(lambda c: 1)}}, r"net/f: sample_from is not supported"),
        ({"g": tune.grid_search([1, 2])}, r"g: grid_search is not supported"),
        ({"f": lambda c: 1}, r"f: functions are not supported"),
        ({"c": tune.choice([])}, r"c: choice\(\) needs at least one category"),
        ({"x": tune.uniform(2.0, 1.0)}, r"x: lower \(2.0\) must be below upper \(1.0\)"),
        ({"x": tune.uniform(1.0, 1.0)}, r"x: lower \(1.0\) must be below upper"),
        ({"i": tune.randint(3, 3)}, r"i: the range holds no value"),
        ({"a": {"b": tune.randint(5, 1)}}, r"a/b: the range holds no value"),
        ({"lr": _log_with_zero_lower()}, r"lr: a log scale needs lower > 0"),
        ({"n": tune.randn(0, 1)}, r"n: randn/qrandn .* not supported"),
        ({"k": 3}, r"no searchable parameter"),
        ([1, 2], r"param_space must be a dict"),
    ],
)
def test_bad_spaces_raise_naming_the_parameter(space, message):
    with pytest.raises(ValueError, match=message):
        from_tune(space)


def test_vectorised_snap_agrees_with_decoding_one_value_at_a_time():
    space = from_tune({"n": tune.qlograndint(8, 512, 8), "k": tune.randint(-3, 7), "q": tune.quniform(0.1, 0.9, 0.1),
                       "c": tune.choice(["a", None, 3]), "lg": tune.lograndint(1, 1000)})
    U = np.random.default_rng(0).random((2000, space.dim))
    U[:5] = [[0.0] * 5, [1.0] * 5, [0.5] * 5, [1e-12] * 5, [1 - 1e-12] * 5]
    S = space.snap(U)
    for u, s in zip(U, S, strict=True):
        assert space.decode(s) == space.decode(u)
        np.testing.assert_allclose(s, [p.encode_index(p.index_of(x)) for p, x in zip(space.params, u, strict=True)],
                                   rtol=0, atol=1e-12)
