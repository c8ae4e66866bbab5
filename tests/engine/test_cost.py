"""What a config costs: epoch seconds learnt per trial, and log EI per second."""

import numpy as np
import pytest
from scipy.optimize import approx_fprime

from searchers import gp
from searchers.acquisition import log_ei
from searchers.cost import EpochSeconds, PerSecond, fit_cost
from searchers.engine import BOEngine
from searchers.optimize import AcquisitionFunction
from searchers.options import EngineOptions
from searchers.space import FloatParam, SearchSpace

SPACE = SearchSpace((FloatParam(("x0",), 0.0, 1.0), FloatParam(("x1",), 0.0, 1.0)))


def test_a_trials_cost_is_its_median_epoch_after_the_first_and_one_epoch_trials_are_left_out():
    seconds = EpochSeconds()
    seconds.add("a", np.array([0.1, 0.2]), 1, 9.0)  # start-up in the first epoch
    for epoch, s in ((2, 1.0), (3, 3.0), (4, 2.0), (4, 2.5)):  # a repeated report replaces
        seconds.add("a", np.array([0.1, 0.2]), epoch, s)
    seconds.add("b", np.array([0.7, 0.7]), 1, 4.0)
    X, y = seconds.data(2)
    np.testing.assert_array_equal(X, [[0.1, 0.2]])
    np.testing.assert_allclose(y, [np.log(2.5)])


def test_log_ei_per_second_subtracts_the_predicted_log_seconds_and_its_gradient_is_right():
    rng = np.random.default_rng(0)
    X = rng.random((12, 2))
    seconds = EpochSeconds()
    for i, u in enumerate(X):
        seconds.add(str(i), u, 1, 5.0)
        seconds.add(str(i), u, 2, float(np.exp(2 * u[0])))
    cost = fit_cost(seconds, np.zeros(2, bool), rng=rng, warm_start=None)
    model = gp.fit(X, np.sin(4 * X[:, 1]), np.zeros(2, bool), rng=rng)
    plain = AcquisitionFunction(model, log_ei, float(model.y.max()))
    per_second = PerSecond(plain, cost, 0.5)
    U = np.array([[0.1, 0.3], [0.9, 0.3]])
    np.testing.assert_allclose(per_second(U), plain(U) - 0.5 * per_second.log_seconds(U))
    assert per_second.log_seconds(U)[1] - per_second.log_seconds(U)[0] == pytest.approx(1.6, abs=0.2)  # 2 * 0.8
    value, grad = per_second.with_grad(U)
    np.testing.assert_allclose(value, per_second(U))
    for i, u in enumerate(U):
        np.testing.assert_allclose(grad[i], approx_fprime(u, lambda v: per_second(v[None])[0], 1e-6),
                                   rtol=1e-4, atol=1e-6)


def _proposals(cost_power: float) -> np.ndarray:
    """Five proposals once 12 trials say that x1 = 0.5 is best, x0 does not matter, and an epoch
    costs exp(3 x0) seconds."""
    engine = BOEngine(SPACE, seed=1, options=EngineOptions(cost_power=cost_power, hyper_samples=0))
    rng = np.random.default_rng(1)
    for i, u in enumerate(rng.random((12, 2))):
        engine.observe(u, -(u[1] - 0.5) ** 2)
        for epoch in (1, 2, 3):
            engine.observe_seconds(str(i), u, epoch, float(np.exp(3 * u[0])))
    out = []
    for _ in range(5):
        out.append(engine.propose(np.array(out) if out else None))
    return np.array(out)


def test_with_a_cost_power_the_engine_goes_where_epochs_are_cheap():
    cheap, plain = _proposals(1.0), _proposals(0.0)
    assert cheap[0, 0] < 0.1 < plain[0, 0]  # the first: where the metric is best and epochs cheapest
    assert cheap[:, 0].mean() < plain[:, 0].mean() - 0.1  # the pending ones spread out from there
    assert np.all(np.abs(cheap[:, 1] - 0.5) < 0.25)  # still where the metric is good


def test_cost_power_needs_log_ei():
    with pytest.raises(ValueError, match="cost_power"):
        EngineOptions(cost_power=1.0, acquisition="ucb")
    with pytest.raises(ValueError, match="cost_power"):
        EngineOptions(cost_power=-1.0)


def test_the_cost_model_conditions_on_the_latest_trials():
    seconds = EpochSeconds()
    for i in range(5):
        for epoch in (1, 2):
            seconds.add(str(i), np.full(2, i / 10), epoch, float(i + 1))
    X, y = seconds.data(2, latest=2)
    np.testing.assert_allclose(X[:, 0], [0.3, 0.4])
    np.testing.assert_allclose(y, np.log([4.0, 5.0]))
