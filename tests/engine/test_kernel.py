"""The kernel's pieces on their own; the GP built on them is tested in test_gp.py."""

import numpy as np
import pytest

from searchers import kernel


def test_cholesky_jitter_is_bounded():
    K = np.ones((3, 3))  # rank one: needs jitter
    L = kernel.cholesky_with_jitter(K)
    assert np.allclose(L @ L.T, K, atol=1e-6)
    with pytest.raises(np.linalg.LinAlgError):
        kernel.cholesky_with_jitter(-np.eye(3))
