"""The engine imports and runs with Ray absent: only the adapter modules may import it."""

import subprocess
import sys

ENGINE = ["space", "gp", "warping", "acquisition", "optimize", "pending", "engine"]


def test_the_engine_runs_with_ray_blocked():
    script = f"""
import sys
sys.modules["ray"] = None  # any 'import ray' now raises ImportError
import numpy as np
from searchers import {", ".join(ENGINE)}
space = space.SearchSpace((space.FloatParam(("x",), 0.0, 1.0),))
eng = engine.BOEngine(space, seed=0)
for _ in range(8):
    u = eng.propose()
    eng.observe(u, -float((u[0] - 0.3) ** 2))
assert not any(name == "ray" or name.startswith("ray.") for name, m in sys.modules.items() if m is not None)
print("best", eng.X[eng.y.argmax()][0])
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert abs(float(out.stdout.split()[-1]) - 0.3) < 0.1
