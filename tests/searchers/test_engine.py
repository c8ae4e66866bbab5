"""The engine without Ray: acquisition optimisation, pending points, determinism, quality."""

import numpy as np
import pytest
from ray import tune

from searchers.acquisition import log_ei
from searchers.engine import BOEngine, EngineOptions, default_n_initial
from searchers.gp import fit
from searchers.optimize import Objective, maximize
from searchers.pending import condition_on_pending
from searchers.space import duplicates_of, from_tune
from tune_jobs.problems import branin, hartmann6

BRANIN = from_tune({"x1": tune.uniform(-5, 10), "x2": tune.uniform(0, 15)})


def _run(engine, f, n, names):
    for _ in range(n):
        u = engine.propose()
        config = engine.space.decode(u)
        engine.observe(u, -f(np.array([config[k] for k in names])))
    return engine


def test_default_initial_design_scales_with_dimension():
    assert [default_n_initial(d) for d in (1, 3, 6, 15)] == [5, 6, 12, 20]


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
    space = from_tune({"x": tune.uniform(0, 1), "k": tune.randint(0, 10), "c": tune.choice("abc")})
    rng = np.random.default_rng(0)
    X = space.snap(rng.random((12, 3)))
    y = -((X[:, 0] - 0.3) ** 2) - (X[:, 1] - 0.55) ** 2 + (X[:, 2] > 0.5)
    post = fit(X, y, space.categorical_mask, rng=rng)
    objective = Objective(post, log_ei, float(post.y.max()))
    u = maximize(objective, space, rng=rng, incumbents=X[np.argsort(-y)[:3]], exclude=X)
    grid = space.snap(np.random.default_rng(1).random((20000, 3)))
    grid = grid[~duplicates_of(grid, X)]
    assert objective(u[None])[0] >= objective(grid).max() - 1e-6
    assert not duplicates_of(u[None], X)[0]


def test_exhausted_discrete_space_returns_none():
    space = from_tune({"k": tune.randint(0, 3), "c": tune.choice([True, False])})
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


def test_four_pending_suggestions_are_distinct_and_spread_out():
    space = from_tune({f"x{i}": tune.uniform(0, 1) for i in range(6)})
    engine = _run(BOEngine(space, seed=1), hartmann6, 15, [f"x{i}" for i in range(6)])
    batch = []
    for _ in range(4):
        batch.append(engine.propose(np.array(batch).reshape(-1, 6)))
    batch = np.array(batch)
    repeated = np.array([engine.propose() for _ in range(4)])  # no pending: the same point again and again
    assert len(np.unique(batch, axis=0)) == 4
    assert _spread(batch) > 0.05
    assert _spread(batch) > 10 * _spread(repeated)
    assert not duplicates_of(batch, engine.X).any()
