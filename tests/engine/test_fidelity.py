"""Multi-fidelity observations in the engine (no Ray): bounded curves, the fidelity coordinate, restarts."""

import numpy as np

from searchers import gp
from searchers.engine import BOEngine
from searchers.fidelity import LearningCurves, encode_fidelity, extra_noise, fit_fidelity_noise, kept_fidelities
from searchers.options import EngineOptions
from searchers.space import FloatParam, SearchSpace

SPACE = SearchSpace((FloatParam(("x",), 0.0, 1.0), FloatParam(("y",), 0.0, 1.0)))


def test_a_curve_keeps_powers_of_two_and_its_latest_result():
    assert kept_fidelities([1, 2, 3, 4, 5, 6, 7]) == [1, 2, 4, 7]
    curves = LearningCurves()
    for r in range(1, 28):
        curves.add("a", np.array([0.5, 0.5]), r, -1.0 / r)
    assert sorted(curves.results["a"]) == [1, 2, 4, 8, 16, 27] and len(curves) == 6


def test_a_restart_from_an_earlier_checkpoint_drops_the_later_results():
    curves = LearningCurves()
    for r in (1, 2, 3):
        assert curves.add("a", np.zeros(2), r, float(r))
    assert not curves.add("a", np.zeros(2), 2, 2.5)
    assert curves.results["a"] == {1.0: 1.0, 2.0: 2.5}


def test_fidelity_is_log_scaled_to_the_target():
    np.testing.assert_allclose(encode_fidelity(np.array([1, 3, 9, 27]), 9), [0.0, 0.5, 1.0, 1.0])
    np.testing.assert_allclose(encode_fidelity(np.array([1, 5]), 1), [1.0, 1.0])


def test_a_trial_stopped_early_enters_the_gp_at_its_fidelity_not_as_a_full_run():
    engine = BOEngine(SPACE, seed=0, options=EngineOptions(max_fidelity=8))
    rng = np.random.default_rng(0)
    for i in range(6):
        u = rng.random(2)
        for r in range(1, 9 if i < 3 else 2):  # three full runs, three stopped after epoch 1
            engine.observe_partial(str(i), u, r, -float(((u - 0.3) ** 2).sum()) - 0.5 / r)
    X, y = engine._training_data()
    assert len(engine.X) == 0 and engine.multi_fidelity
    assert X.shape == (3 * 4 + 3, 3)  # (u, t) rows: 1, 2, 4, 8 for each full run, 1 for each stopped one
    stopped = X[-3:]
    np.testing.assert_allclose(stopped[:, 2], 0.0)  # epoch 1 of 8: t = 0, never the target t = 1
    assert np.sum(X[:, 2] == 1.0) == 3


def test_the_acquisition_fidelity_follows_the_rule():
    def engine_with(rule):
        engine = BOEngine(SPACE, seed=0, options=EngineOptions(max_fidelity=8, fidelity_acquisition=rule))
        rng = np.random.default_rng(1)
        for i in range(10):  # every trial reaches epoch 2, one reaches 8
            for r in range(1, 9 if i == 0 else 3):
                engine.observe_partial(str(i), rng.random(2), r, float(r))
        return engine

    assert engine_with("target")._acquisition_fidelity() == 1.0
    assert engine_with("r_acq")._acquisition_fidelity() == encode_fidelity(2, 8)  # 10 trials >= d + 1 = 3 at r=2


def test_multi_fidelity_suggestions_are_new_and_the_model_ranks_by_the_target():
    engine = BOEngine(SPACE, seed=0, options=EngineOptions(max_fidelity=8))
    rng = np.random.default_rng(2)
    for i in range(12):
        u = rng.random(2)
        for r in range(1, 9 if i % 3 == 0 else 3):
            engine.observe_partial(str(i), u, r, -float(((u - 0.3) ** 2).sum()) - 0.5 / r)
    u = engine.propose()
    assert u is not None and not engine.has_seen(u)
    model = engine.current_model()
    mean = model.predict(np.array([[0.3, 0.3], [0.95, 0.95]]))[0]
    assert mean[0] > mean[1]


def test_the_trend_model_takes_a_learning_curve_trend_out_and_leaves_the_target_rows_as_they_are():
    def engine_with(model):
        engine = BOEngine(SPACE, seed=0, options=EngineOptions(max_fidelity=8, fidelity_model=model))
        rng = np.random.default_rng(3)
        for i in range(8):
            u = rng.random(2)
            for r in range(1, 9 if i % 2 == 0 else 3):  # curves that rise by 2 from epoch 1 to epoch 8
                engine.observe_partial(str(i), u, r, float(u[0]) + 2.0 * encode_fidelity(r, 8))
        return engine

    (X, y), (X_trend, y_trend) = engine_with("joint")._training_data(), engine_with("joint_trend")._training_data()
    np.testing.assert_array_equal(X, X_trend)
    target = X[:, -1] == 1.0
    np.testing.assert_allclose(y_trend[target], y[target])  # the trend is zero at the target fidelity
    slope = np.polyfit(1.0 - X[:, -1], y_trend, 1)[0]
    assert abs(slope) < 1e-9 < abs(np.polyfit(1.0 - X[:, -1], y, 1)[0])
    assert engine_with("joint_trend").propose() is not None


def _curves(rng: np.random.Generator, early_noise: float, trials: int = 14, epochs: int = 8):
    """Rows ``(u, t)`` and standardised values of a smooth function, plus noise of sd ``early_noise
    * (1 - t)`` (none at the target), for every epoch of ``trials`` configs."""
    U = rng.random((trials, 2))
    r = np.arange(1, epochs + 1)
    t = encode_fidelity(r, epochs)
    X = np.array([[*u, ti] for u in U for ti in t])
    f = np.sin(4 * X[:, 0]) + X[:, 1] - 0.5 * (1 - X[:, 2])
    y = f + early_noise * (1 - X[:, 2]) * rng.normal(size=len(f))
    return X, (y - y.mean()) / y.std()


def test_the_extra_noise_of_early_epochs_is_found_where_there_is_some_and_not_where_there_is_none():
    cat = np.zeros(3, bool)
    for early_noise, expect_extra in ((0.0, False), (0.6, True)):
        X, y = _curves(np.random.default_rng(3), early_noise)
        params = gp.fit_params(X, y, cat, rng=np.random.default_rng(0))
        level, theta = fit_fidelity_noise(params.to_theta(), X, y, cat)
        assert (level > 0) == expect_extra, (early_noise, level)
        np.testing.assert_array_equal(np.delete(theta, 4), np.delete(params.to_theta(), 4))  # only the noise moves
        if expect_extra:  # the target's noise is left small: the scatter is the early epochs'
            assert np.exp(theta[4]) < 0.1 * level
    np.testing.assert_allclose(extra_noise(np.array([0.0, 0.5, 1.0]), 0.3), [0.3, 0.075, 0.0])


def test_the_engine_learns_the_early_noise_keeps_it_across_a_save_and_can_leave_it_out():
    import pickle

    rng = np.random.default_rng(5)
    X, y = _curves(rng, 0.6, trials=10)
    engines = {on: BOEngine(SPACE, seed=0, options=EngineOptions(max_fidelity=8, fidelity_noise=on))
               for on in (True, False)}
    for engine in engines.values():
        for i, (row, value) in enumerate(zip(X, y, strict=True)):
            epoch = int(round(8 ** row[2]))
            engine.observe_partial(str(i // 8), row[:2], epoch, float(value))
    u = engines[True].propose()
    assert engines[True].fidelity_noise > 0 and engines[False].fidelity_noise == 0
    restored = pickle.loads(pickle.dumps(engines[True]))
    np.testing.assert_array_equal(restored.propose(), engines[True].propose())
    assert u is not None and engines[False].propose() is not None
