"""tapegrad: a tensor autodiff library with a C++ tape and PyTorch's names.

>>> import tapegrad as tg
>>> x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> (x * x).sum().backward()
>>> x.grad.tolist()
[2.0, 4.0, 6.0]
"""

from tapegrad import _blas  # noqa: F401  (loads OpenBLAS before any product runs)
from tapegrad._core import (
    Tensor,
    dtype,
    get_num_threads,
    is_grad_enabled,
    manual_seed,
    set_num_threads,
)
from tapegrad._grad_mode import enable_grad, no_grad, set_grad_enabled
from tapegrad._tensor import (
    arange,
    exp,
    eye,
    from_numpy,
    full,
    log,
    matmul,
    mean,
    ones,
    ones_like,
    rand,
    randn,
    relu,
    reshape,
    sigmoid,
    sum,
    tanh,
    tensor,
    transpose,
    where,
    zeros,
    zeros_like,
    empty,
)
from tapegrad import autograd

float32 = dtype.float32
float64 = dtype.float64
int64 = dtype.int64

__version__ = "0.1.0"

__all__ = [
    "Tensor", "dtype", "float32", "float64", "int64", "tensor", "from_numpy", "zeros", "ones",
    "empty", "full", "zeros_like", "ones_like", "arange", "eye", "rand", "randn", "manual_seed",
    "set_num_threads", "get_num_threads", "no_grad", "enable_grad", "set_grad_enabled",
    "is_grad_enabled", "exp", "log", "tanh", "sigmoid", "relu", "sum", "mean", "reshape",
    "transpose", "matmul", "where", "autograd",
]
