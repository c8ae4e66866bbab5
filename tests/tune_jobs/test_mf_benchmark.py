"""The multi-fidelity benchmark: MF-Hartmann as defined, learning-curve tables written and replayed, the
simulated clock and Ray's own ASHA deciding, side by side."""

import re

import numpy as np
import pandas as pd
import pytest

from tune_jobs import lc_table, mf_benchmark, torch_mlp
from tune_jobs import simulate as simulate_module
from tune_jobs.mf_problems import HARTMANN3_OPTIMUM, LearningCurveTable, MFHartmann
from tune_jobs.simulate import make_method, simulate


def test_mf_hartmann_is_hartmann_at_the_last_epoch_and_biased_and_noisy_below():
    h3 = MFHartmann(3)
    optimum = {"x0": 0.114614, "x1": 0.555649, "x2": 0.852547}
    assert h3.value(optimum, h3.epochs) == pytest.approx(HARTMANN3_OPTIMUM, abs=1e-5)
    assert h3.value(optimum, 1) > h3.value(optimum, 8) > h3.value(optimum, h3.epochs)  # worse at low fidelity
    assert h3.value(optimum, 4) == h3.value(optimum, 4)  # the noise is a function of config and epoch
    h6 = MFHartmann(6)
    assert h6.score({f"x{i}": v for i, v in enumerate((0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573))},
                    0.0) == pytest.approx(0.0, abs=1e-4)


def test_a_simulated_sweep_spends_its_budget_and_asha_stops_trials():
    problem = MFHartmann(3, epochs=8)
    fifo = simulate(problem, "random+fifo", seed=0, workers=2, budget=10 * 8)
    asha = simulate(problem, "random+asha", seed=0, workers=2, budget=10 * 8)
    assert fifo.trials in (10, 11, 12)  # ten full runs, and the ones still running when the budget ran out
    assert asha.trials > 2 * fifo.trials  # ASHA stopped most trials early and started others
    assert np.all(np.diff(fifo.spent) > 0) and fifo.seconds[-1] <= 10 * 8 / 2 + 8


def test_the_multi_fidelity_searcher_sees_every_epoch_in_the_simulation():
    problem = MFHartmann(3, epochs=8)
    trace = simulate(problem, "mf-gp+asha", seed=0, workers=2, budget=12 * 8)
    assert trace.scores[-1] < 1.5 and trace.trials > 12


def test_bohb_learns_only_under_hyperband_which_pauses_and_resumes_trials(monkeypatch):
    """Ray's HyperBandForBOHB driven as Tune drives it: trials paused at a rung resume when their bracket
    has caught up, and TuneBOHB fits its KDEs from the budgets in the results. Under ASHA it never does."""
    made = []

    def capture(*args):
        made.append(make_method(*args))
        return made[-1]

    monkeypatch.setattr(simulate_module, "make_method", capture)
    problem = MFHartmann(3, epochs=9)
    simulate(problem, "bohb+hyperband", seed=0, workers=2, budget=20 * 9)
    searcher, scheduler = made[-1]
    # The first bracket, 9 trials: an epoch each, the best third on to 3 epochs, the best of those to 9 (paused
    # at each rung until the bracket caught up, then resumed).
    first = sorted(trial.epoch for trial in scheduler._trial_info if int(trial.trial_id) < 9)
    assert first == [1] * 6 + [3] * 2 + [9]
    # Then 5 trials from 3 epochs and 3 full runs, and the next band begins: a trial paused after its last
    # epoch stays in its bracket (Tune pauses it before it sees the trainable return), so that bracket fills.
    band = {int(trial.trial_id): (band_index, trial.epoch) for trial, (_, band_index) in scheduler._trial_info.items()}
    assert [band[i] for i in range(14, 17)] == [(0, 9)] * 3 and band[17][0] == 1
    assert searcher.bohber.kde_models
    simulate(problem, "bohb+asha", seed=0, workers=2, budget=20 * 9)
    assert not made[-1][0].bohber.kde_models


def test_a_table_is_written_from_a_real_tuner_and_replayed(ray_session, tmp_path, monkeypatch):
    monkeypatch.setenv("RAY_ADDRESS", ray_session)
    out = tmp_path / "mlp.csv.gz"
    assert lc_table.main(["torch_mlp", "--configs", "3", "--epochs", "2", "--subset", "300", "150",
                          "--out", str(out)]) == 0
    table = pd.read_csv(out)
    assert sorted(table["config_id"].unique()) == [0, 1, 2] and set(table["epoch"]) == {1, 2}
    assert table["seconds"].gt(0).all() and table["val_accuracy"].between(0, 1).all()
    replay = LearningCurveTable.load(out, "lc_mlp", torch_mlp.search_space(2))
    configs = lc_table.random_configs(torch_mlp.JOB, 3, 2, seed=0)
    for i, config in enumerate(configs):  # each table config answers for itself
        assert replay.value(config, 2) == pytest.approx(table.query(f"config_id == {i} and epoch == 2")
                                                         ["val_accuracy"].item())
    assert replay.distinct(configs + configs[:1]) == 3
    taken = set()  # a sweep trains each table config once: asked again, the table answers with the next nearest
    claimed = [replay.claim(configs[0], taken) for _ in range(4)]
    assert claimed[0] == configs[0] and replay.distinct(claimed[:3]) == 3 and claimed[3] == configs[0]


def test_the_command_writes_its_summary(tmp_path):
    assert mf_benchmark.main(["--quick", "--methods", "gp+fifo", "random+asha", "--full-runs", "8",
                              "--out", str(tmp_path)]) == 0
    summary = (tmp_path / "mf_summary.md").read_text()
    assert all(m in summary for m in ("gp+fifo", "random+asha", "median_at_25%", "median_at_75%"))
    runs = pd.read_csv(tmp_path / "mf_runs.csv")
    assert len(runs) == 2 * 3 and runs["final"].notna().all() and (runs["budget"] == 8 * 32).all()
    assert (runs["distinct"] == runs["trials"]).all()  # MF-Hartmann is continuous: every config its own


def test_the_score_at_a_share_of_the_budget_is_the_best_found_by_then():
    row = pd.Series({"spent": "2 5 9", "scores": "0.7 0.5 0.6", "budget": 10})
    assert np.isnan(mf_benchmark.score_at(row, 0.1, "min"))  # no result after one epoch
    assert [mf_benchmark.score_at(row, f, "min") for f in (0.2, 0.5, 0.9, 1.0)] == [0.7, 0.5, 0.5, 0.5]
    assert [mf_benchmark.score_at(row, f, "max") for f in (0.2, 0.5, 0.9)] == [0.7, 0.7, 0.7]


def test_suggest_timing_over_seeds(capsys):
    assert mf_benchmark.main(["--timing", "30", "--timing-seeds", "2"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"with 30 per-epoch results in, 2 seed\(s\): median [\d.]+ s \[[\d.]+, [\d.]+\]", out), out


def test_tpe_searches_a_quantised_log_integer_as_a_choice_of_its_values():
    from ray import tune

    from tune_jobs import peers

    space = peers.without_log_steps({"units": tune.qlograndint(32, 256, 32), "nested": {"x": tune.uniform(0, 1)}})
    assert space["units"].categories == [32, 64, 96, 128, 160, 192, 224, 256]
    searcher = peers.optuna("tpe")(0)
    assert searcher.set_search_properties("val_accuracy", "max", space)
    assert searcher.suggest("t0")["units"] in space["units"].categories


class _TwoSecondEpochs(MFHartmann):
    def epoch_seconds(self, config: dict, epoch: int) -> float:
        return 2.0


def test_a_budget_of_training_seconds_counts_each_epochs_seconds(tmp_path):
    problem = _TwoSecondEpochs(3, epochs=8)
    in_epochs = simulate(problem, "mf-gp-cost+asha", seed=0, workers=2, budget=10 * 8)
    in_seconds = simulate(problem, "mf-gp-cost+asha", seed=0, workers=2, budget=10 * 8 * 2.0, unit="seconds")
    assert in_seconds.configs == in_epochs.configs  # the same sweep, its compute counted in seconds
    np.testing.assert_allclose(in_seconds.spent, 2 * in_epochs.spent)
    assert mf_benchmark.main(["--quick", "--methods", "random+asha", "--budget-unit", "seconds", "--full-runs", "4",
                              "--out", str(tmp_path)]) == 0
    runs = pd.read_csv(tmp_path / "mf_runs.csv")
    assert (runs["unit"] == "seconds").all() and (runs["budget"] == 4 * 32.0).all()


def test_every_stored_table_is_a_problem_named_by_its_file():
    tables = {name: problem for name, problem in mf_benchmark.problems().items() if name.startswith("lc_")}
    shapes = {name: (len(table.configs), table.epochs) for name, table in tables.items()}
    assert shapes == {"lc_torch_mlp": (200, 10), "lc_torch_mlp_600": (600, 10), "lc_mnist_cnn": (40, 12)}


def test_a_run_that_ends_at_gp_fifos_median_has_reached_it():
    best = 724 / 750  # an accuracy on 750 digits, no short decimal
    runs = pd.DataFrame([{"problem": "lc_t", "method": method, "seed": seed, "budget": 10, "final": best,
                          "trials": 3, "distinct": 3, "suggest_s": 0.1, "spent": mf_benchmark.numbers([2, 6]),
                          "scores": mf_benchmark.numbers([0.9, best])}
                         for method in ("gp+fifo", "mf-gp+asha") for seed in range(3)])
    assert [float(s) for s in runs["scores"][0].split()] == [0.9, best]
    summary = mf_benchmark.summarise(runs, {"lc_t": "max"}).set_index("method")
    assert (summary["reached"] == "3/3").all() and (summary["share_of_budget_to_gp_fifo_median"] == 0.6).all()
