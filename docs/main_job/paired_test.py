"""How many test digits separate two sweeps' networks, and how sure that is: paired, digit by digit.

    PYTHONPATH=. .venv/bin/python docs/main_job/paired_test.py RUN_A RUN_B [RUN_A RUN_B ...]

Each pair is two finished sweeps on the same split of the digits (the same ``--seed``), e.g. the GP's and
random search's sweeps of one seed of ``python -m tune_jobs.repeat torch_mlp --searchers gp random``. For
the best config's network and for the ensemble of each sweep (as ``best.json`` names them, loaded by
``tune_jobs.predict``) it prints: the test accuracies; the digits only A gets right and only B gets right
(their difference is the accuracy gap in digits); McNemar's exact two-sided p-value on those discordant
digits; and the share of 10,000 bootstrap resamples of the test digits on which A scores at least B. A
record of a measurement, not part of the package.
"""

import argparse
from pathlib import Path

import numpy as np
from scipy.stats import binomtest

from tune_jobs import predict
from tune_jobs.data import reload


def correct(run: Path, *, best_config: bool, x_test: np.ndarray, y_test: np.ndarray) -> np.ndarray:
    """``(n,)`` bool: which test digits the run's network (or ensemble) classifies right."""
    return predict.load(run, best_config=best_config).predict(x_test).argmax(axis=1) == y_test


def compare(a: np.ndarray, b: np.ndarray, rng: np.random.Generator, resamples: int = 10_000) -> dict:
    only_a, only_b = int((a & ~b).sum()), int((~a & b).sum())
    p = binomtest(only_a, only_a + only_b).pvalue if only_a + only_b else 1.0
    draws = rng.integers(0, len(a), size=(resamples, len(a)))
    at_least = float(((a[draws].sum(axis=1) - b[draws].sum(axis=1)) >= 0).mean())
    return {"acc_a": a.mean(), "acc_b": b.mean(), "only_a": only_a, "only_b": only_b, "mcnemar_p": p,
            "p_a_at_least_b": at_least}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("runs", nargs="+", type=Path)
    args = parser.parse_args()
    if len(args.runs) % 2:
        parser.error("give the runs in pairs: A B [A B ...]")
    rng = np.random.default_rng(0)
    for a_run, b_run in zip(args.runs[::2], args.runs[1::2], strict=True):
        recipe = predict.read_summary(a_run)["data_recipe"]
        if predict.read_summary(b_run)["data_recipe"] != recipe:
            raise SystemExit(f"{a_run} and {b_run} split the digits differently")
        data = reload(recipe)
        for label, best_config in (("best config", True), ("ensemble", False)):
            a, b = (correct(run, best_config=best_config, x_test=data.x_test, y_test=data.y_test)
                    for run in (a_run, b_run))
            r = compare(a, b, rng)
            gap = r["only_a"] - r["only_b"]
            print(f"{a_run.name} vs {b_run.name}, {label}: test {r['acc_a']:.4f} vs {r['acc_b']:.4f} on {len(a)} "
                  f"digits; right only in A {r['only_a']}, only in B {r['only_b']} (gap {gap:+d}); "
                  f"McNemar p {r['mcnemar_p']:.2f}; A >= B in {r['p_a_at_least_b']:.0%} of resamples")


if __name__ == "__main__":
    main()
