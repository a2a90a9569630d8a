"""tapegrad: a tensor autodiff library with a C++ tape and PyTorch's names.

>>> import tapegrad as tg
>>> x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> (x * x).sum().backward()
>>> x.grad.tolist()
[2.0, 4.0, 6.0]
"""

from tapegrad import (
    _blas,  # noqa: F401  (loads OpenBLAS before any product runs)
    _core,
)
from tapegrad._core import (
    Tensor,
    dtype,
    get_default_dtype,
    get_num_threads,
    get_rng_state,
    is_grad_enabled,
    manual_seed,
    set_default_dtype,
    set_num_threads,
    set_rng_state,
)
from tapegrad._grad_mode import enable_grad, no_grad, set_grad_enabled
from tapegrad._tensor import from_numpy, tensor

# Every public function of the op table (tg.add, tg.zeros, tg.where, ...).
_OPS = [name for name in _core._op_functions if not name.startswith("_")]
globals().update({name: getattr(_core, name) for name in _OPS})

from tapegrad import autograd, datasets, nn, optim, utils  # noqa: E402
from tapegrad.serialization import load, save  # noqa: E402

float32 = float = dtype.float32  # noqa: A001 (PyTorch's names)
float64 = double = dtype.float64
int64 = long = dtype.int64
int32 = int = dtype.int32  # noqa: A001
bool = dtype.bool  # noqa: A001

__version__ = "0.1.0"

__all__ = [
    "Tensor", "dtype", "float32", "float", "float64", "double", "int64", "long", "int32", "int",
    "bool", "get_default_dtype", "set_default_dtype", "manual_seed", "get_rng_state",
    "set_rng_state", "set_num_threads", "get_num_threads", "no_grad", "enable_grad",
    "set_grad_enabled", "is_grad_enabled", "autograd", "datasets", "nn", "optim", "utils", "save",
    "load", "tensor", "from_numpy", *_OPS,
]
