"""The progress line: what it counts as running while a scheduler pauses and resumes trials."""

from types import SimpleNamespace

from tune_jobs.console import Progress


def test_a_paused_trial_is_counted_as_paused_and_a_resumed_one_once(capsys):
    progress = Progress(5, metric="acc", mode="max")
    trials = [SimpleNamespace(trial_id=name, status="RUNNING", config={}, last_result={}) for name in "abc"]
    a, b, c = trials
    progress.on_trial_start(0, trials[:2], a)
    progress.on_trial_start(0, trials[:2], b)
    a.status = "PAUSED"  # HyperBand pauses a at a rung, c takes its worker
    progress.on_trial_start(0, trials, c)
    a.status = "RUNNING"  # a resumes: Tune starts it again
    progress.on_trial_start(0, trials, a)
    c.status = "PAUSED"
    b.last_result, b.status = {"acc": 0.5, "training_iteration": 3}, "TERMINATED"
    progress.on_trial_result(0, trials, b, b.last_result)
    progress.on_trial_complete(0, trials, b)
    line = capsys.readouterr().out.strip()
    assert "trial 2: acc 0.5000 after 3 epochs" in line and "| 1 running, 1 paused |" in line, line
