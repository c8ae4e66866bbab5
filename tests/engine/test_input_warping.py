import numpy as np
import pytest

from searchers import averaging, calibration, gp, kernel
from searchers.engine import BOEngine
from searchers.fidelity import AtFidelity
from searchers.input_warping import InputWarp, WarpedInputs, fit_input_warp
from searchers.options import EngineOptions
from searchers.space import CategoricalParam, FloatParam, SearchSpace


def _warp():
    return InputWarp(np.array([True, True, False]), np.array([2.0, 0.5, 1.0]), np.array([0.7, 1.8, 1.0]))


def test_a_warp_maps_the_cube_onto_itself_monotonely_and_leaves_the_unmasked_coordinates():
    u = np.linspace(0.0, 1.0, 201)
    U = np.column_stack([u, u, u])
    W = _warp().apply(U)
    assert np.allclose(W[[0, -1], :2], [[0, 0], [1, 1]], atol=1e-6)
    assert (np.diff(W[:, :2], axis=0) > 0).all()
    np.testing.assert_array_equal(W[:, 2], u)
    np.testing.assert_allclose(InputWarp.identity(np.ones(3, bool)).apply(U), U, atol=1e-12)


def test_the_slope_is_the_derivative():
    U = np.random.default_rng(0).uniform(0.05, 0.95, (20, 3))
    h = 1e-6
    central = (_warp().apply(U + h) - _warp().apply(U - h)) / (2 * h)
    np.testing.assert_allclose(_warp().slope(U), central, rtol=1e-5)


def test_the_fit_bends_the_coordinate_where_the_function_changes_fast():
    # f changes fast near u0 = 1 and slowly near 0: a warp with a > 1 spreads the end near 1.
    rng = np.random.default_rng(1)
    X = rng.random((30, 2))
    y = np.sin(12 * X[:, 0] ** 4) + 0.1 * X[:, 1]
    y = (y - y.mean()) / y.std()
    cat = np.zeros(2, bool)
    params = gp.fit_params(X, y, cat, rng=np.random.default_rng(0))
    theta, prior = params.to_theta(), gp.Prior.default(2)

    def log_likelihood(W):
        return averaging.log_posterior(theta, kernel.sq_dists(W, W, cat), y, prior)

    identity = InputWarp.identity(np.ones(2, bool))
    fitted = fit_input_warp(X, log_likelihood, identity)
    assert fitted.a[0] > 1.0
    assert log_likelihood(fitted.apply(X)) + fitted.log_prior() > log_likelihood(X)


@pytest.mark.parametrize("samples", [0, 4])
def test_a_warped_model_predicts_at_warped_inputs_with_chain_ruled_gradients(samples):
    rng = np.random.default_rng(2)
    X, cat = rng.random((15, 3)), np.zeros(3, bool)
    y = np.sin(5 * X[:, 0]) + X[:, 1]
    warp = _warp()
    W = warp.apply(X)
    params = gp.fit_params(W, y, cat, rng=np.random.default_rng(0))
    model = gp.Posterior.build(W, y, cat, params)
    if samples:
        draws = averaging.sample_params(W, y, cat, params, n_samples=samples, rng=np.random.default_rng(0))
        model = averaging.Mixture.build(W, y, cat, draws, scaling=model.scaling)
    warped = WarpedInputs(model, warp)
    U = rng.uniform(0.1, 0.9, (4, 3))
    np.testing.assert_allclose(warped.predict(U)[0], model.predict(warp.apply(U))[0])
    mean, var, dmean, dvar = warped.predict(U, grad=True)
    h = 1e-6
    for j in range(3):
        step = np.zeros(3)
        step[j] = h
        up, down = warped.predict(U + step), warped.predict(U - step)
        np.testing.assert_allclose(dmean[:, j], (up[0] - down[0]) / (2 * h), rtol=1e-4, atol=1e-7)
        np.testing.assert_allclose(dvar[:, j], (up[1] - down[1]) / (2 * h), rtol=1e-4, atol=1e-7)
    each = warped.predict_each(U, grad=True)
    assert each[2].shape == (max(samples, 1), 4, 3)


def _mixed_space():
    return SearchSpace((FloatParam(("x",), 0.0, 1.0), FloatParam(("lr",), 1e-4, 1e-1, log=True),
                        CategoricalParam(("act",), ("relu", "tanh"))))


def _objective(u):
    return float(np.sin(9 * u[0] ** 3) - (u[1] - 0.3) ** 2 + 0.2 * u[2])


@pytest.mark.parametrize("samples", [0, 8])
def test_an_engine_with_input_warping_suggests_with_pending_trials_and_is_reproducible(samples):
    space = _mixed_space()
    options = EngineOptions(input_warping=True, hyper_samples=samples)

    def run():
        engine = BOEngine(space, seed=3, options=options)
        points = []
        for i in range(16):
            pending = np.array(points[-2:]) if i % 3 == 0 and len(points) >= 2 else None
            u = engine.propose(pending)
            points.append(u)
            engine.observe(u, _objective(u))
        return engine, np.array(points)

    engine, points = run()
    assert np.array_equal(points, run()[1])
    assert len(np.unique(points, axis=0)) == len(points)
    warp = engine.warp
    assert warp is not None and list(warp.mask) == [True, True, False]
    assert (warp.a[2], warp.b[2]) == (1.0, 1.0)  # the categorical coordinate is never warped
    lower, upper = calibration.interval(engine.current_model(), points[:3])
    assert (lower < upper).all()


@pytest.mark.parametrize("samples", [0, 8])
def test_a_multi_fidelity_engine_warps_configs_but_not_the_fidelity(samples):
    space = SearchSpace((FloatParam(("x",), 0.0, 1.0), FloatParam(("z",), 0.0, 1.0)))
    options = EngineOptions(input_warping=True, max_fidelity=8, hyper_samples=samples)
    engine = BOEngine(space, seed=0, options=options)
    rng = np.random.default_rng(0)
    for trial in range(8):
        u = rng.random(2)
        for r in (1, 2, 4, 8)[: 1 + trial % 4]:
            engine.observe_partial(f"t{trial}", u, r, float(np.sin(6 * u[0]) + np.log(r)))
    assert engine.propose() is not None
    assert list(engine.warp.mask) == [True, True, False]
    model = engine.current_model()
    assert isinstance(model, AtFidelity)
    lower, upper = calibration.interval(model, rng.random((3, 2)))
    assert (lower < upper).all()
