"""Long sweeps through a real Tuner stay bounded: the searcher keeps up with 1,000 trials."""

import pytest

from tune_jobs.long_sweep import run


def test_short_sweep(ray_session, tmp_path):
    searcher, _, best = run(30, 2, 0, str(tmp_path))
    assert searcher.n_observations == 30 and len(searcher.timings) >= 30 and best < 0


@pytest.mark.slow
def test_thousand_trial_sweep_completes(ray_session, tmp_path):
    searcher, _, best = run(1000, 2, 0, str(tmp_path))
    assert searcher.n_observations == 1000 and not searcher.failures
    assert best < -3.0  # Hartmann6's optimum is -3.32
