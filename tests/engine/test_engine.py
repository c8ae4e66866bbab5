"""The engine without Ray: acquisition optimisation, pending points, determinism, quality."""

import numpy as np
import pytest

from searchers.acquisition import log_ei
from searchers.engine import BOEngine
from searchers.gp import fit
from searchers.optimize import AcquisitionFunction, maximize_acquisition
from searchers.options import EngineOptions, default_n_initial
from searchers.pending import condition_on_pending
from searchers.points import duplicates_of, sobol
from searchers.space import CategoricalParam, FloatParam, GridParam, SearchSpace
from tune_jobs.functions import branin, hartmann6


def _space(*params) -> SearchSpace:
    return SearchSpace(tuple(params))


def _float(name, lower=0.0, upper=1.0):
    return FloatParam((name,), lower, upper)


def _int(name, lower, upper):  # lower .. upper - 1, as tune.randint
    return GridParam((name,), lower, 1, upper - lower, integer=True)


def _choice(name, categories):
    return CategoricalParam((name,), tuple(categories))


BRANIN = _space(_float("x1", -5, 10), _float("x2", 0, 15))


def _run(engine, f, n, names):
    for _ in range(n):
        u = engine.propose()
        config = engine.space.decode(u)
        engine.observe(u, -f(np.array([config[k] for k in names])))
    return engine


def test_default_initial_design_scales_with_dimension():
    assert [default_n_initial(d) for d in (1, 3, 6, 15)] == [5, 6, 12, 20]


def test_a_short_sweeps_initial_design_takes_at_most_a_fifth_of_its_trials():
    assert [default_n_initial(10, trials) for trials in (12, 40, 100, 1000)] == [5, 8, 20, 20]
    assert default_n_initial(2, 100) == 5 and default_n_initial(6, None) == 12
    assert BOEngine(BRANIN, options=EngineOptions(trials=30)).n_initial == 5
    assert BOEngine(BRANIN, options=EngineOptions(trials=30, n_initial=9)).n_initial == 9
    with pytest.raises(ValueError, match="trials must be at least 1"):
        EngineOptions(trials=0)


def test_centre_first_starts_the_design_at_the_centre_then_sobol():
    space = _space(_float("x", -5, 10), _int("n", 1, 9), _choice("act", ["relu", "tanh", "gelu"]))
    engine = BOEngine(space, seed=3, options=EngineOptions(centre_first=True, n_initial=5))
    first = []
    for _ in range(6):
        first.append(engine.propose())
        engine.observe(first[-1], -float(np.sum(first[-1] ** 2)))
    np.testing.assert_array_equal(first[0], [0.5, 4.5 / 8, 0.5])  # x = 2.5; n = 5 of 1..8; "tanh"
    np.testing.assert_array_equal(first[1:5], sobol(space, 4, seed=3))
    assert engine.n_fits == 1  # the sixth point is the GP's
    np.testing.assert_array_equal(BOEngine(space, seed=3).propose(), sobol(space, 1, seed=3)[0])


def test_explore_fraction_continues_the_design_every_third_proposal():
    engine = BOEngine(BRANIN, seed=4, options=EngineOptions(n_initial=5, explore_fraction=1 / 3))
    points = []
    for _ in range(11):
        points.append(engine.propose())
        engine.observe(points[-1], -branin(np.array(list(BRANIN.decode(points[-1]).values()))))
    design = sobol(BRANIN, 7, seed=4)
    np.testing.assert_array_equal(points[:5], design[:5])
    np.testing.assert_array_equal([points[7], points[10]], design[5:7])  # the 3rd and 6th after the design
    assert engine.n_fits == 4  # the model's: 6th, 7th, 9th, 10th
    with pytest.raises(ValueError, match="explore_fraction"):
        EngineOptions(explore_fraction=1.0)


def test_same_seed_same_suggestions_and_different_seed_differs():
    runs = [_run(BOEngine(BRANIN, seed=s), branin, 12, ["x1", "x2"]).X for s in (7, 7, 8)]
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.allclose(runs[0], runs[2])


def test_gp_beats_its_initial_design_on_branin():
    engine = _run(BOEngine(BRANIN, seed=0), branin, 25, ["x1", "x2"])
    best = -engine.y.max()
    assert best < 0.5  # optimum 0.397887; the 6-point Sobol design alone is near 5
    assert -engine.y[:6].max() > 1.0


def test_maximize_finds_the_acquisition_maximum_of_a_mixed_space():
    space = _space(_float("x"), _int("k", 0, 10), _choice("c", "abc"))
    rng = np.random.default_rng(0)
    X = space.snap(rng.random((12, 3)))
    y = -((X[:, 0] - 0.3) ** 2) - (X[:, 1] - 0.55) ** 2 + (X[:, 2] > 0.5)
    post = fit(X, y, space.categorical_mask, rng=rng)
    objective = AcquisitionFunction(post, log_ei, float(post.y.max()))
    u = maximize_acquisition(objective, space, rng=rng, incumbents=X[np.argsort(-y)[:3]], exclude=X)
    grid = space.snap(np.random.default_rng(1).random((20000, 3)))
    grid = grid[~duplicates_of(grid, X)]
    assert objective(u[None])[0] >= objective(grid).max() - 1e-6
    assert not duplicates_of(u[None], X)[0]


def test_exhausted_discrete_space_returns_none():
    space = _space(_int("k", 0, 3), _choice("c", [True, False]))
    engine = BOEngine(space, seed=0, options=EngineOptions(n_initial=2))
    seen = []
    for _ in range(6):
        u = engine.propose()
        seen.append(tuple(u))
        engine.observe(u, float(len(seen)))
    assert len(set(seen)) == 6
    assert engine.propose() is None


@pytest.mark.parametrize("strategy", ["believer", "liar_worst", "liar_mean"])
def test_pending_points_lose_their_variance(strategy):
    rng = np.random.default_rng(0)
    X = rng.random((8, 2))
    post = fit(X, np.sin(5 * X[:, 0]) + X[:, 1], np.zeros(2, bool), rng=rng)
    pending = np.array([[0.5, 0.5]])
    conditioned = condition_on_pending(post, pending, strategy)
    after, before = conditioned.predict(pending)[1][0], post.predict(pending)[1][0]
    assert after < 0.05 * before and after < 2 * post.params.noise_var
    if strategy == "believer":
        np.testing.assert_allclose(conditioned.predict(pending)[0], post.predict(pending)[0], atol=1e-6)


def _spread(points):
    d = np.sqrt(((points[:, None, :] - points[None, :, :]) ** 2).sum(-1))
    return d[np.triu_indices(len(points), 1)].min()


@pytest.mark.parametrize("hyper_samples", [0, 8])
def test_four_pending_suggestions_are_distinct_and_spread_out(hyper_samples):
    space = _space(*[_float(f"x{i}") for i in range(6)])
    engine = _run(BOEngine(space, seed=1, options=EngineOptions(hyper_samples=hyper_samples)), hartmann6, 15,
                  [f"x{i}" for i in range(6)])
    batch = []
    for _ in range(4):
        batch.append(engine.propose(np.array(batch).reshape(-1, 6)))
    batch = np.array(batch)
    assert len(np.unique(batch, axis=0)) == 4
    assert _spread(batch) > 0.05
    if hyper_samples == 0:  # the MAP fit without pending: the same point again and again
        repeated = np.array([engine.propose() for _ in range(4)])
        assert _spread(batch) > 10 * _spread(repeated)
    assert not duplicates_of(batch, engine.X).any()


def _random_finite_space(rng) -> SearchSpace:
    kinds = [lambda i: _int(f"k{i}", 0, int(rng.integers(2, 5))),
             lambda i: _choice(f"c{i}", "abcd"[: int(rng.integers(2, 5))]),
             lambda i: GridParam((f"q{i}",), 0.0, 0.25, int(rng.integers(2, 5)), integer=False)]
    return _space(*[kinds[int(rng.integers(3))](i) for i in range(int(rng.integers(1, 4)))])


def test_never_finished_while_an_untried_configuration_exists():
    """500 histories on small finite spaces, with repeated observations, failures and pending points:
    ``propose`` returns None exactly when every distinct configuration is taken, else an untaken one."""
    rng = np.random.default_rng(0)
    early = 0
    for _ in range(500):
        space = _random_finite_space(rng)
        grid = space.grid()
        engine = BOEngine(space, seed=int(rng.integers(100)))
        taken = grid[rng.random(len(grid)) < rng.uniform(0.3, 1.0)]
        for u in taken:
            for _ in range(int(rng.integers(1, 3))):  # duplicates in the history
                if rng.random() < 0.2:
                    engine.observe_failure(u)
                else:
                    engine.observe(u, float(rng.normal()))
        pending = grid[~duplicates_of(grid, taken)][: int(rng.integers(0, 2))]
        free = grid[~duplicates_of(grid, np.vstack([taken, pending]))]
        u = engine.propose(pending)
        if u is None:
            early += len(free) > 0
        else:
            assert duplicates_of(u[None], free)[0]
    assert early == 0


@pytest.mark.parametrize("choose, plain", [(False, False), (True, True)])
def test_choose_warp_reaches_the_engines_model(choose, plain):
    space = SearchSpace((FloatParam(("a",), 0.0, 1.0), FloatParam(("b",), 0.0, 1.0)))
    engine = BOEngine(space, seed=0, options=EngineOptions(choose_warp=choose, hyper_samples=2))
    rng = np.random.default_rng(0)
    for u in rng.beta(0.4, 2.0, (30, 2)):  # a linear function seen mostly near 0 (test_gp's case)
        engine.observe(u, float(u.sum()))
    model = engine.refit()
    assert all((c.scaling.power is None) == plain for c in model.components)
