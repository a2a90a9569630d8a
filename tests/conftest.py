"""Shared fixtures for the tapegrad test suite.

* ``torch``: the PyTorch module, or a skip when PyTorch isn't installed.
* every test starts from a fixed seed, for tapegrad's generator and NumPy's.
"""

import numpy as np
import pytest
import tapegrad as tg

SEED = 1234


def import_torch():
    """PyTorch, or a pytest skip when it isn't installed."""
    return pytest.importorskip("torch")


@pytest.fixture
def torch():
    return import_torch()


@pytest.fixture(autouse=True)
def _seed_and_global_state():
    """Seeds both generators; afterwards checks that the test left grad mode and the
    thread count as it found them (restoring them either way)."""
    tg.manual_seed(SEED)
    np.random.seed(SEED)
    threads = tg.get_num_threads()
    yield
    grad_mode_leaked = not tg.is_grad_enabled()
    threads_leaked = tg.get_num_threads() != threads
    tg.set_grad_enabled(True)
    tg.set_num_threads(threads)
    assert not grad_mode_leaked, "the test left grad mode disabled"
    assert not threads_leaked, "the test changed the number of threads"


@pytest.fixture
def rng():
    """A NumPy generator with a fixed seed, fresh for each test."""
    return np.random.default_rng(SEED)
