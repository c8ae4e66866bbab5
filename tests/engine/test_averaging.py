import math

import numpy as np
import pytest
from scipy.optimize import approx_fprime
from scipy.stats import kstest, norm

from searchers import averaging, gp, kernel
from searchers.acquisition import log_ei
from searchers.engine import BOEngine
from searchers.fidelity import AtFidelity
from searchers.optimize import AcquisitionFunction, AveragedAcquisition, OptimizeOptions, maximize_acquisition
from searchers.options import EngineOptions
from searchers.pending import condition_on_pending
from searchers.space import FloatParam, SearchSpace


def _data(n=15, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, d))
    y = np.sin(6 * X[:, 0]) + X[:, 1] ** 2 - X[:, 2]
    return X, (y - y.mean()) / y.std()


def _mixture(n=15, samples=6, seed=0):
    X, y = _data(n)
    cat = np.zeros(3, bool)
    start = gp.fit_params(X, y, cat, rng=np.random.default_rng(seed))
    draws = averaging.sample_params(X, y, cat, start, n_samples=samples, rng=np.random.default_rng(seed))
    return averaging.Mixture.build(X, y, cat, draws, scaling=gp.OutputScaling()), draws


def test_slice_sampler_draws_a_known_density():
    # A standard normal in 2-d, truncated far out; every sweep's state is a draw.
    rng = np.random.default_rng(0)
    draws = averaging.slice_sample(lambda x: -0.5 * float(x @ x) if np.all(np.abs(x) < 8) else -math.inf,
                                   np.array([3.0, -3.0]), n_sweeps=4000, rng=rng)[200:]
    assert np.abs(draws.mean(axis=0)).max() < 0.1
    np.testing.assert_allclose(draws.std(axis=0), 1.0, atol=0.06)
    assert kstest(draws[::5, 0], norm.cdf).pvalue > 0.01


def test_slice_sampler_refuses_a_start_outside_the_support():
    with pytest.raises(ValueError, match="density is positive"):
        averaging.slice_sample(lambda x: -math.inf, np.zeros(2), n_sweeps=3, rng=np.random.default_rng(0))


def test_log_posterior_is_the_fits_objective_up_to_a_constant():
    X, y = _data()
    D2 = kernel.sq_dists(X, X, np.zeros(3, bool))
    prior = gp.Prior.default(3)
    rng = np.random.default_rng(1)
    thetas = [prior.sample(rng) for _ in range(5)]
    ours = np.array([averaging.log_posterior(t, D2, y, prior) for t in thetas])
    fits = np.array([-gp._objective(t, D2, y, prior, None)[0] for t in thetas])
    np.testing.assert_allclose(ours - ours[0], fits - fits[0], rtol=1e-8, atol=1e-8)
    extra = np.linspace(0.0, 0.3, len(y))  # a multi-fidelity model's extra noise
    ours = np.array([averaging.log_posterior(t, D2, y, prior, extra) for t in thetas])
    fits = np.array([-gp._objective(t, D2, y, prior, extra)[0] for t in thetas])
    np.testing.assert_allclose(ours - ours[0], fits - fits[0], rtol=1e-8, atol=1e-8)
    outside = prior.upper + 1.0
    assert averaging.log_posterior(outside, D2, y, prior) == -math.inf


def test_samples_spread_around_the_map_fit_and_stay_in_the_prior_box():
    X, y = _data(n=8)
    cat = np.zeros(3, bool)
    start = gp.fit_params(X, y, cat, rng=np.random.default_rng(0))
    draws = averaging.sample_params(X, y, cat, start, n_samples=40, rng=np.random.default_rng(0))
    thetas = np.array([p.to_theta() for p in draws])
    prior = gp.Prior.default(3)
    assert np.all(thetas >= prior.lower) and np.all(thetas <= prior.upper)
    # With 8 points the lengthscales are uncertain: the chain moves by more than a factor 1.5.
    assert np.ptp(thetas[:, :3], axis=0).max() > math.log(1.5)
    assert len(np.unique(thetas[:, 0])) > 30


def test_mixture_predicts_with_the_law_of_total_variance():
    mixture, draws = _mixture()
    Xs = np.random.default_rng(2).random((9, 3))
    parts = [c.predict(Xs) for c in mixture.components]
    means = np.array([m for m, _ in parts])
    second = np.array([v for _, v in parts]) + means**2
    mean, var = mixture.predict(Xs)
    np.testing.assert_allclose(mean, means.mean(axis=0), rtol=1e-10)
    np.testing.assert_allclose(var, second.mean(axis=0) - mean**2, rtol=1e-8)
    each_mean, each_var = mixture.predict_each(Xs)
    np.testing.assert_allclose(each_mean, means, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(each_var, np.array([v for _, v in parts]), rtol=1e-8, atol=1e-12)
    assert np.all(var >= np.array([v for _, v in parts]).min(axis=0) - 1e-12)


def test_mixture_gradients_match_finite_differences():
    mixture, _ = _mixture()
    x = np.array([0.3, 0.6, 0.2])
    _, _, dmean, dvar = mixture.predict(x[None], grad=True)
    num_mean = approx_fprime(x, lambda z: mixture.predict(z[None])[0][0], 1e-6)
    num_var = approx_fprime(x, lambda z: mixture.predict(z[None])[1][0], 1e-6)
    np.testing.assert_allclose(dmean[0], num_mean, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(dvar[0], num_var, rtol=1e-4, atol=1e-6)


def test_averaged_log_ei_is_the_log_of_the_mean_ei_and_its_gradient_is_exact():
    mixture, _ = _mixture()
    bests = np.array([c.y.max() for c in mixture.components])
    averaged = AveragedAcquisition(mixture, log_ei, bests)
    U = np.random.default_rng(3).random((6, 3))
    single = np.array([AcquisitionFunction(c, log_ei, b)(U) for c, b in zip(mixture.components, bests, strict=True)])
    np.testing.assert_allclose(averaged(U), np.log(np.exp(single).mean(axis=0)), rtol=1e-10)
    x, h = U[0], 1e-6
    central = [(averaged((x + h * e)[None])[0] - averaged((x - h * e)[None])[0]) / (2 * h) for e in np.eye(3)]
    np.testing.assert_allclose(averaged.with_grad(x[None])[1][0], central, rtol=1e-5, atol=1e-6)
    # Far from the data every component's EI underflows; the log average stays finite.
    assert np.isfinite(averaged(np.full((1, 3), 50.0))).all()


class _CountingRows:
    """An acquisition that records how many rows each full evaluation was given."""

    def __init__(self, inner):
        self.inner, self.rows, self.screen = inner, [], inner.screen

    def __call__(self, U):
        self.rows.append(len(U))
        return self.inner(U)

    def with_grad(self, U):
        return self.inner.with_grad(U)


@pytest.mark.parametrize("screened", [True, False])
def test_only_the_screened_raw_candidates_are_evaluated_under_every_component(screened):
    mixture, _ = _mixture()
    bests = np.array([c.y.max() for c in mixture.components])
    screen = AcquisitionFunction(mixture.components[0], log_ei, float(bests[0])) if screened else None
    counting = _CountingRows(AveragedAcquisition(mixture, log_ei, bests, screen=screen))
    space = SearchSpace(tuple(FloatParam((f"x{i}",), 0.0, 1.0) for i in range(3)))
    options = OptimizeOptions(n_raw=512, n_perturb=64, n_screened=32)
    u = maximize_acquisition(counting, space, rng=np.random.default_rng(0), incumbents=mixture.X[:2],
                             exclude=mixture.X, options=options)
    assert u is not None and counting(u[None])[0] >= counting(mixture.X).max()
    first = counting.rows[0]  # the raw candidates, or their first chunk
    assert first == options.n_screened if screened else first > options.n_screened


def test_pending_points_are_believed_per_component():
    mixture, _ = _mixture()
    pending = np.array([[0.5, 0.5, 0.5]])
    believed = condition_on_pending(mixture, pending)
    for before, after in zip(mixture.components, believed.components, strict=True):
        np.testing.assert_allclose(after.y[-1], before.predict(pending)[0][0], rtol=1e-10)
        assert after.predict(pending)[1][0] < 0.05 * before.predict(pending)[1][0]


def _engine(options: EngineOptions, n=12, seed=0):
    space = SearchSpace(tuple(FloatParam((f"x{i}",), 0.0, 1.0) for i in range(3)))
    engine = BOEngine(space, seed=seed, options=options)
    rng = np.random.default_rng(seed)
    for _ in range(n):
        u = rng.random(3)
        engine.observe(u, float(np.sin(6 * u[0]) + u[1] ** 2 - u[2]))
    return engine


def test_engine_averages_by_default_and_map_on_request_or_above_the_size_bound():
    assert isinstance(_engine(EngineOptions()).refit(), averaging.Mixture)
    assert len(_engine(EngineOptions()).refit().components) == EngineOptions().hyper_samples
    assert isinstance(_engine(EngineOptions(hyper_samples=0)).refit(), gp.Posterior)
    assert isinstance(_engine(EngineOptions(average_until=10)).refit(), gp.Posterior)
    with pytest.raises(ValueError, match="hyper_samples"):
        EngineOptions(hyper_samples=-1)


def test_averaging_engine_is_reproducible_and_continues_its_chain():
    a, b = _engine(EngineOptions()), _engine(EngineOptions())
    first = a.propose()
    np.testing.assert_array_equal(first, b.propose())
    chain_state = a.params
    a.propose()
    assert not np.array_equal(chain_state.to_theta(), a.params.to_theta())  # the chain moved on


def test_current_model_and_acquisition_leave_the_engine_as_it_is():
    engine = _engine(EngineOptions())
    engine.propose()
    state = engine.params
    model = engine.current_model()
    values = engine.acquisition(np.random.default_rng(0).random((5, 3)))
    assert isinstance(model, averaging.Mixture) and values.shape == (5,) and np.isfinite(values).all()
    assert engine.params is state


def test_a_multi_fidelity_mixture_is_averaged_at_the_target():
    engine = BOEngine(_engine(EngineOptions()).space, seed=0)
    rng = np.random.default_rng(0)
    for trial in range(8):
        u = rng.random(3)
        for r in (1, 2, 4):
            engine.observe_partial(str(trial), u, r, float(u[0] + 0.1 * r))
    engine.observe_partial("7", engine.curves.configs["7"], 8, 1.0)
    model = engine.current_model()
    assert isinstance(model, AtFidelity) and isinstance(model.posterior, averaging.Mixture)
    assert engine.propose() is not None
