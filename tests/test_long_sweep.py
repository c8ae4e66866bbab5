"""Long sweeps through a real Tuner stay bounded: the searcher keeps up with 1,000 trials.

The command with 12 trials runs in the default suite (tests/test_readme_commands.py).
"""

import pytest

from tune_jobs.long_sweep import run


@pytest.mark.slow
@pytest.mark.timeout(7200)
def test_thousand_trial_sweep_completes(ray_session, tmp_path):
    searcher, _, best = run(1000, 2, 0, str(tmp_path))
    assert searcher.n_observations == 1000 and not searcher.failures
    assert best < -3.0  # Hartmann6's optimum is -3.32
