"""GPEISearcher learning from every result a trial reports, with Tune's ASHA."""

import logging
import time

import numpy as np
import pytest
from ray import tune

from searchers import GPEISearcher

SPACE = {"x": tune.uniform(0, 1), "y": tune.uniform(0, 1)}


def _accuracy(config, epoch):
    return 1.0 - (config["x"] - 0.3) ** 2 - (config["y"] - 0.6) ** 2 - 0.5 / epoch


def _searcher(**kwargs):
    return GPEISearcher(space=SPACE, metric="acc", mode="max", seed=0, max_fidelity=8, **kwargs)


def _run(searcher, trials, stop_at, start=0):
    for i in range(start, start + trials):
        config = searcher.suggest(str(i))
        for epoch in range(1, stop_at(i) + 1):
            searcher.on_trial_result(str(i), {"acc": _accuracy(config, epoch), "training_iteration": epoch})
        searcher.on_trial_complete(str(i), {"acc": _accuracy(config, stop_at(i)), "training_iteration": stop_at(i)})


def test_a_trial_stopped_at_epoch_one_is_in_the_model_at_fidelity_one():
    searcher = _searcher()
    _run(searcher, 6, lambda i: 8 if i < 3 else 1)
    curves = searcher.engine.curves
    assert [sorted(curves.results[str(i)]) for i in range(6)] == [[1, 2, 4, 8]] * 3 + [[1]] * 3
    assert len(searcher.engine.X) == 0  # no trial was taken for a finished full run
    assert searcher.n_observations == 6 and searcher.engine.multi_fidelity


def test_results_of_unknown_or_finished_trials_are_ignored():
    searcher = _searcher()
    _run(searcher, 2, lambda i: 2)
    before = len(searcher.engine.curves)
    searcher.on_trial_result("never-suggested", {"acc": 0.5, "training_iteration": 3})
    searcher.on_trial_result("0", {"acc": 0.9, "training_iteration": 5})  # arrives after its completion
    assert len(searcher.engine.curves) == before and "never-suggested" not in searcher.engine.curves.results


def test_a_bad_or_decreasing_fidelity_is_named(caplog):
    searcher = _searcher()
    config = searcher.suggest("t7")
    with pytest.raises(ValueError, match="trial t7: training_iteration must be a positive number, got 'two'"):
        searcher.on_trial_result("t7", {"acc": 0.5, "training_iteration": "two"})
    for epoch in (1, 2, 3):
        searcher.on_trial_result("t7", {"acc": _accuracy(config, epoch), "training_iteration": epoch})
    with caplog.at_level(logging.WARNING):
        searcher.on_trial_result("t7", {"acc": 0.1, "training_iteration": 2})
    assert "trial t7 reported fidelity 2" in caplog.text
    assert searcher.engine.curves.results["t7"] == {1.0: _accuracy(config, 1), 2.0: 0.1}


def test_a_paused_trial_holds_no_place_and_one_stopped_while_paused_is_no_failure():
    """HyperBand pauses trials at a rung until their bracket has caught up: the searcher keeps to
    ``max_concurrent_trials`` among the others, and a paused trial the bracket lets go (Tune completes
    it without a result) stays in the model at the epochs it trained."""
    searcher = _searcher()
    assert searcher.set_max_concurrency(2)  # kept by the searcher: Tune adds no ConcurrencyLimiter
    a, _ = searcher.suggest("a"), searcher.suggest("b")
    assert searcher.suggest("c") is None
    searcher.on_trial_result("a", {"acc": _accuracy(a, 1), "training_iteration": 1})
    searcher.on_pause("a")
    assert searcher.suggest("c") is not None and searcher.suggest("d") is None
    assert len(searcher._pending()) == 2  # b and c train; a waits
    searcher.on_unpause("a")
    assert len(searcher._pending()) == 3 and searcher.suggest("d") is None
    searcher.on_pause("a")
    searcher.on_trial_complete("a")  # the bracket stopped it, paused
    assert searcher.engine.curves.results["a"] == {1.0: _accuracy(a, 1)}
    assert len(searcher.engine.failed) == 0 and "a" not in searcher._running
    assert searcher.suggest("d") is None  # b and c hold the two places
    searcher.on_trial_complete("b", {"acc": 0.5, "training_iteration": 1})
    assert searcher.suggest("d") is not None


def test_save_and_restore_keep_every_epoch_and_resume_identically(tmp_path):
    searcher = _searcher()
    _run(searcher, 10, lambda i: 8 if i % 3 == 0 else 2)
    path = tmp_path / "searcher.pkl"
    searcher.save(str(path))
    restored = GPEISearcher()
    restored.restore(str(path))
    assert restored.engine.curves.results == searcher.engine.curves.results
    for i in range(10, 13):
        a, b = searcher.suggest(str(i)), restored.suggest(str(i))
        assert a == b
        for s in (searcher, restored):
            s.on_trial_result(str(i), {"acc": _accuracy(a, 1), "training_iteration": 1})


def test_a_real_tuner_with_asha_feeds_every_epoch_to_the_searcher(ray_session, tmp_path):
    from ray.tune.schedulers import ASHAScheduler

    from tune_jobs.tuner import build_tuner

    def trainable(config):
        for epoch in range(1, 9):
            time.sleep(0.2)  # an epoch that takes time, so that ASHA's decisions arrive before the trial ends
            tune.report({"acc": _accuracy(config, epoch)})

    # Two good configs first, then two poor ones that ASHA must stop at its first rungs.
    first = [{"x": 0.3, "y": 0.6}, {"x": 0.32, "y": 0.58}, {"x": 1.0, "y": 0.0}, {"x": 0.0, "y": 1.0}]
    searcher = GPEISearcher(seed=0, max_fidelity=8, points_to_evaluate=first)
    tuner = build_tuner(trainable, SPACE, metric="acc", mode="max", num_samples=12, storage_path=str(tmp_path),
                        name="asha", search_alg=searcher, max_concurrent=2,
                        scheduler=ASHAScheduler(max_t=8, grace_period=1, reduction_factor=2))
    results = tuner.fit()
    epochs = [r.metrics["training_iteration"] for r in results]
    curves = searcher.engine.curves.results
    assert len(results) == 12 and not results.errors
    assert min(epochs) < 8  # ASHA stopped some trials early
    assert sorted(max(c) for c in curves.values()) == sorted(epochs)  # each trial in the model as far as it went
    assert len(searcher.engine.X) == 0 and searcher.n_observations == 12
    assert np.isfinite(searcher.predict({"x": 0.3, "y": 0.6})[0]).all()
    seconds = searcher.engine.epoch_seconds.trials  # Tune's time_this_iter_s, every epoch of every trial
    assert {t: sorted(e) for t, (_, e) in seconds.items()} == {t: list(range(1, int(max(c)) + 1))
                                                               for t, c in curves.items()}
    assert all(0.2 <= s < 1.0 for _, e in seconds.values() for f, s in e.items() if f > 1)


def test_a_real_tuner_with_hyperband_pauses_and_resumes_the_searchers_trials(ray_session, tmp_path):
    """Ray's HyperBandForBOHB with the GP: trials pause at a rung and resume from their checkpoints, the
    sweep never stalls on places held by paused trials, and the trials a bracket let go are no failures."""
    import tempfile
    from pathlib import Path

    from ray.tune.schedulers import HyperBandForBOHB

    from tune_jobs.tuner import build_tuner

    def trainable(config):
        start = 0
        if tune.get_checkpoint():
            with tune.get_checkpoint().as_directory() as directory:
                start = int((Path(directory) / "epoch").read_text())
        for epoch in range(start + 1, 10):
            with tempfile.TemporaryDirectory() as directory:
                (Path(directory) / "epoch").write_text(str(epoch))
                tune.report({"acc": _accuracy(config, epoch), "epoch": epoch},
                            checkpoint=tune.Checkpoint.from_directory(directory))

    class Recording(GPEISearcher):
        paused: list[str] = []  # one searcher in this test

        def on_pause(self, trial_id):
            self.paused.append(trial_id)
            super().on_pause(trial_id)

    searcher = Recording(seed=0, fidelity_attr="epoch", max_fidelity=9, n_initial=4)
    tuner = build_tuner(trainable, SPACE, metric="acc", mode="max", num_samples=13, storage_path=str(tmp_path),
                        name="hyperband", search_alg=searcher, max_concurrent=2,
                        scheduler=HyperBandForBOHB(max_t=9, reduction_factor=3))
    results = tuner.fit()
    epochs = [r.metrics["epoch"] for r in results]
    assert len(results) == 13 and not results.errors
    assert set(epochs) == {1, 3, 9} and searcher.paused  # trials stopped at each of HyperBand's rungs
    curves = searcher.engine.curves.results
    assert sorted(max(c) for c in curves.values()) == sorted(epochs)  # each trial in the model as far as it went
    assert len(searcher.engine.failed) == 0 and searcher.n_observations == 13


def test_the_target_fidelity_comes_from_the_tuners_stopping_condition(ray_session, tmp_path):
    """Tune hands a searcher the RunConfig's ``stop``, not the scheduler: a stop on the fidelity is the target."""

    def trainable(config):
        for epoch in range(1, 9):
            tune.report({"acc": _accuracy(config, epoch), "epoch": epoch})

    from_stop, given = GPEISearcher(seed=0, fidelity_attr="epoch"), GPEISearcher(seed=0, fidelity_attr="epoch",
                                                                                max_fidelity=8)
    for searcher in (from_stop, given):
        tuner = tune.Tuner(trainable, param_space=SPACE,
                           tune_config=tune.TuneConfig(metric="acc", mode="max", num_samples=2, search_alg=searcher),
                           run_config=tune.RunConfig(stop={"epoch": 5}, storage_path=str(tmp_path), verbose=0))
        assert [r.metrics["epoch"] for r in tuner.fit()] == [5, 5]
    # The target before any trial reached it (the default would be the most reached so far); a given one stands.
    assert from_stop.engine.options.max_fidelity == 5 and given.engine.options.max_fidelity == 8
