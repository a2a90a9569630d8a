"""Loads the OpenBLAS of the scipy-openblas32 wheel for large matrix products.

Without it (or if it cannot be loaded) tapegrad falls back to Eigen's product.
"""

import os

from tapegrad import _core


def _load():
    try:
        import scipy_openblas32
    except ImportError:
        return False
    lib_dir = scipy_openblas32.get_lib_dir()
    name = scipy_openblas32.get_library()
    for candidate in (f"lib{name}.so", f"lib{name}.dylib", f"{name}.dll"):
        path = os.path.join(lib_dir, candidate)
        if os.path.exists(path):
            return _core._load_blas(path)
    return False


loaded = _load()
