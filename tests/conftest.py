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
def _seed():
    tg.manual_seed(SEED)
    np.random.seed(SEED)
    yield


@pytest.fixture
def rng():
    """A NumPy generator with a fixed seed, fresh for each test."""
    return np.random.default_rng(SEED)
