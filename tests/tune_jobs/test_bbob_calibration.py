"""The BBOB problems and the calibration report, through the benchmark's own code paths."""

import re

import cocoex
import numpy as np
import pytest

from tune_jobs import bbob, calibration
from tune_jobs.problems import problem_named


def test_bbob_names_evaluate_coco_and_reach_zero_regret_at_the_optimum():
    problem = problem_named("bbob_f3_d5")
    bare = cocoex.BareProblem("bbob", 3, 5, 1)
    best = dict(zip([f"x{i}" for i in range(5)], bare.best_parameter(), strict=True))
    assert problem.optimum == bare.best_value()
    assert problem(best) - problem.optimum == pytest.approx(0.0, abs=1e-9)
    assert problem({f"x{i}": 0.0 for i in range(5)}) > problem.optimum
    assert sorted(problem.space) == [f"x{i}" for i in range(5)]


def test_bbob_groups_expand_and_bad_names_are_refused():
    names = bbob.expand(["bbob_d2", "branin"])
    assert len(names) == 25 and names[0] == "bbob_f1_d2" and names[-1] == "branin"
    assert bbob.is_bbob("bbob_f24_d10") and bbob.is_bbob("bbob_d5") and not bbob.is_bbob("branin")
    for bad in ("bbob_f25_d2", "bbob_f1_d1", "bbob_x"):
        with pytest.raises(KeyError):
            problem_named(bad)


def test_calibration_scores_a_run_at_each_count():
    rows = calibration.score("bbob_f1_d2", "gp", seed=0, at=(8, 12), n_test=200)
    assert [r["observations"] for r in rows] == [8, 12]
    for r in rows:
        assert 0.0 <= r["coverage"] <= 1.0 and np.isfinite(r["nlpd"])
    # A sphere is what a GP models well: by 12 points most fresh values are inside the 95% interval.
    assert rows[-1]["coverage"] >= 0.8


def test_the_readme_commands_take_bbob_groups_and_write_their_tables(tmp_path):
    from tune_jobs import benchmark

    assert benchmark.main(["--problems", "bbob_d2", "--searchers", "gp", "random", "--seeds", "1", "--budget", "6",
                           "--batch", "1", "--timing", "--out", str(tmp_path / "bench")]) == 0
    summary = (tmp_path / "bench" / "summary.md").read_text()
    assert len(re.findall(r"^\| bbob_f\d+_d2 \| 1 \| (gp|random) \| 1 \|", summary, flags=re.M)) == 48
    assert calibration.main(["--problems", "branin", "bbob_f2_d2", "--searchers", "gp", "gp-map", "--seeds", "1",
                             "--at", "8", "--out", str(tmp_path / "cal")]) == 0
    text = (tmp_path / "cal" / "calibration.md").read_text()
    assert "gp at n=8:" in text and "gp-map at n=8:" in text and text.count("| bbob_f2_d2 | 8 |") == 2
