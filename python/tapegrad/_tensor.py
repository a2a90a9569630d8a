"""Tensor creation and the Python conveniences of Tensor (repr, lists, NumPy)."""

import builtins
import collections
import numbers

import numpy as np

from tapegrad import _core, _indexing
from tapegrad._core import Tensor
from tapegrad._grad_mode import no_grad

_DEFAULT = _core.dtype.float32


def _shape(args, name):
    if len(args) == 1 and not isinstance(args[0], numbers.Integral):
        try:
            args = tuple(args[0])
        except TypeError:
            raise TypeError(f"{name}: the shape must be integers or a sequence of integers, got "
                            f"{type(args[0]).__name__}") from None
    for a in args:
        if not isinstance(a, numbers.Integral) or isinstance(a, bool):
            raise TypeError(f"{name}: shape entries must be integers, got {type(a).__name__}")
    shape = [int(a) for a in args]
    if any(d > 2**63 - 1 for d in shape):
        raise TypeError(f"{name}: the size {builtins.max(shape)} failed to unpack: Overflow "
                        "when unpacking long long")
    if any(d < 0 for d in shape):
        raise ValueError(f"{name}: negative dimension in shape {tuple(shape)}")
    return shape


def _finish(t, requires_grad):
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data, dtype=None, requires_grad=False):
    """A new tensor holding a copy of ``data`` (a list, a number, an array or a Tensor).

    NumPy arrays keep their dtype (float64 stays float64, integers give int64);
    Python floats give float32 and Python ints give int64.

    >>> tg.tensor([[1.0, 2.0], [3.0, 4.0]]).shape
    (2, 2)
    """
    if isinstance(data, Tensor):
        t = data.detach().clone()
        if dtype is not None:
            t = t.to(dtype)
        return _finish(t, requires_grad)
    if isinstance(data, (np.ndarray, np.generic)):
        arr = np.asarray(data)
    else:
        try:
            arr = np.asarray(data)
        except ValueError as e:
            raise ValueError(f"tensor: could not convert the data to a tensor: {e}") from None
        huge = arr.dtype == np.float64 and arr.size and np.fmax.reduce(np.abs(arr.ravel()))
        if arr.dtype == object or arr.dtype == np.uint64 or (huge and huge >= 2**63):
            # NumPy holds ints beyond int64 as uint64, objects or float64 (for
            # [2**63, -1]): an error, as in PyTorch, unless a float makes it all floats
            arr = _beyond_int64(data, arr)
        if arr.dtype == np.float64 and dtype is None:
            dtype = _DEFAULT  # Python floats give the default dtype, as in PyTorch
        if arr.dtype == object:
            raise TypeError("tensor: could not convert the data to a tensor (ragged or "
                            "non-numeric entries)")
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"tensor: can't convert data of dtype {arr.dtype}")
    return _finish(_core._from_numpy(arr, dtype, True), requires_grad)


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _beyond_int64(data, arr):
    """``arr`` (NumPy's reading of ``data``) when ``data`` holds ints that int64 can't hold:
    floats when ``data`` has a float too, else ValueError, as PyTorch (never wrapped)."""
    big, floats, stack = None, False, [data]
    while stack:
        v = stack.pop()
        if isinstance(v, (list, tuple)):
            stack.extend(v)
        elif isinstance(v, (float, np.floating)):
            floats = True
        elif isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_)):
            if big is None and not _INT64_MIN <= int(v) <= _INT64_MAX:
                big = int(v)
    if big is None:
        return arr
    if not floats:
        raise ValueError(f"tensor: Overflow when unpacking long long: {big} does not fit in "
                         "int64")
    return np.asarray(data, dtype=np.float64)  # OverflowError beyond the doubles, as PyTorch


def from_numpy(array):
    """A tensor sharing memory with a C-contiguous, writeable float32/float64/int64
    array (copying only when it cannot share), as ``torch.from_numpy``.

    >>> a = np.zeros(3); t = tg.from_numpy(a); a[0] = 1; t[0].item()
    1.0
    """
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray, got {type(array).__name__}")
    return _core._from_numpy(array, None, False)


def _dt(dtype):
    return _DEFAULT if dtype is None else dtype


def empty(*shape, dtype=None, requires_grad=False):
    """An uninitialized tensor of the given shape."""
    return _finish(_core._empty(_shape(shape, "empty"), _dt(dtype)), requires_grad)


def zeros(*shape, dtype=None, requires_grad=False):
    """A tensor of zeros. ``tg.zeros(2, 3)`` or ``tg.zeros((2, 3))``."""
    return _finish(_core._zeros(_shape(shape, "zeros"), _dt(dtype)), requires_grad)


def ones(*shape, dtype=None, requires_grad=False):
    """A tensor of ones. ``tg.ones(2, 3)`` or ``tg.ones((2, 3))``."""
    return _finish(_core._full(_shape(shape, "ones"), 1.0, _dt(dtype)), requires_grad)


def full(shape, fill_value, dtype=None, requires_grad=False):
    """A tensor filled with ``fill_value``: ``tg.full((2, 2), 7.0)``."""
    if dtype is None:
        dtype = _core.dtype.int64 if isinstance(fill_value, numbers.Integral) else _DEFAULT
    shape = _shape((shape,), "full")
    if dtype == _core.dtype.int64 and isinstance(fill_value, numbers.Integral):
        # exactly, not through a double (which holds integers only up to 2**53)
        if not _INT64_MIN <= int(fill_value) <= _INT64_MAX:
            raise RuntimeError(f"full: value cannot be converted to type int64_t without "
                               f"overflow: {int(fill_value)}")
        t = _core._full(shape, 0.0, dtype)
        return _finish(t._assign(int(fill_value), "full") if t.numel() else t, requires_grad)
    return _finish(_core._full(shape, float(fill_value), dtype), requires_grad)


def zeros_like(t, dtype=None, requires_grad=False):
    """Zeros with the shape (and dtype, unless given) of ``t``."""
    return zeros(*t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def ones_like(t, dtype=None, requires_grad=False):
    """Ones with the shape (and dtype, unless given) of ``t``."""
    return ones(*t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False):
    """Values from ``start`` to ``end`` (exclusive) by ``step``: ``tg.arange(5)``."""
    if end is None:
        start, end = 0, start
    ints = all(isinstance(v, numbers.Integral) for v in (start, end, step))
    if dtype is None:
        dtype = _core.dtype.int64 if ints else _DEFAULT
    big = ints and builtins.max(builtins.abs(int(v)) for v in (start, end)) > 2**53
    if big and dtype == _core.dtype.int64:
        # beyond 2**53 a double can't hold every integer: NumPy counts exactly
        for v in (start, end):
            if not _INT64_MIN <= int(v) <= _INT64_MAX:
                raise RuntimeError(f"arange: value cannot be converted to type int64_t "
                                   f"without overflow: {int(v)}")
        if step == 0:
            raise ValueError("arange: step must be nonzero")
        if (step > 0 and end < start) or (step < 0 and end > start):
            raise ValueError(f"arange: upper bound and larger bound inconsistent with step "
                             f"sign (start {start}, end {end}, step {step})")
        values = np.arange(int(start), int(end), int(step), dtype=np.int64)
        return _finish(_core._from_numpy(values, dtype, True), requires_grad)
    return _finish(_core._arange(float(start), float(end), float(step), dtype), requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False):
    """The identity matrix (n × m): ``tg.eye(3)``."""
    return _finish(_core._eye(int(n), int(n if m is None else m), _dt(dtype)), requires_grad)


def rand(*shape, dtype=None, requires_grad=False):
    """Uniform samples on [0, 1) from tapegrad's generator (see ``tg.manual_seed``)."""
    return _finish(_core._rand(_shape(shape, "rand"), _dt(dtype)), requires_grad)


def randn(*shape, dtype=None, requires_grad=False):
    """Standard normal samples from tapegrad's generator (see ``tg.manual_seed``)."""
    return _finish(_core._randn(_shape(shape, "randn"), _dt(dtype)), requires_grad)


# Functions that mirror the Tensor methods.
exp, log, tanh, sigmoid, relu = _core.exp, _core.log, _core.tanh, _core.sigmoid, _core.relu
sqrt, sin, cos, abs = _core.sqrt, _core.sin, _core.cos, _core.abs  # noqa: A001
softplus, clamp, maximum, minimum = _core.softplus, _core.clamp, _core.maximum, _core.minimum
matmul, where, transpose, outer, dot = (_core.matmul, _core.where, _core.transpose, _core.outer,
                                        _core.dot)
matrix_exp, cat, stack = _core.matrix_exp, _core.cat, _core.stack
softmax, log_softmax = _core.softmax, _core.log_softmax

max_return = collections.namedtuple("max", ["values", "indices"])
min_return = collections.namedtuple("min", ["values", "indices"])


def max(input, dim=None, keepdim=False):  # noqa: A001 (PyTorch's name)
    """The largest element, or ``(values, indices)`` along ``dim`` as PyTorch's.

    With a tensor as second argument it is ``tg.maximum``. Ties in the full
    reduction share the gradient evenly; along a dim the gradient goes to the
    returned index.

    >>> tg.max(tg.tensor([[1.0, 5.0], [7.0, 2.0]]), dim=1).indices.tolist()
    [1, 0]
    """
    if isinstance(dim, Tensor):
        return _core.maximum(input, dim)
    if dim is None:
        return _core._max_all(input)
    return max_return(*_core._max_dim(input, dim, keepdim))


def min(input, dim=None, keepdim=False):  # noqa: A001
    """The smallest element, or ``(values, indices)`` along ``dim`` as PyTorch's."""
    if isinstance(dim, Tensor):
        return _core.minimum(input, dim)
    if dim is None:
        return _core._min_all(input)
    return min_return(*_core._min_dim(input, dim, keepdim))


def var(input, dim=None, unbiased=True, keepdim=False, *, correction=None):
    """Variance over ``dim`` (unbiased by default, as PyTorch)."""
    return input.var(dim, unbiased, keepdim, correction=correction)


def logsumexp(input, dim, keepdim=False):
    """log(sum(exp(x))) over ``dim``, stable for large inputs."""
    return input.logsumexp(dim, keepdim)


def norm(input, p="fro", dim=None, keepdim=False):
    """The p-norm over ``dim`` (all elements by default; 'fro' is the 2-norm).

    >>> tg.norm(tg.tensor([3.0, 4.0])).item()
    5.0
    """
    if p in ("fro", None):
        p = 2.0
    elif p == "nuc" or isinstance(p, str):
        raise ValueError(f"norm: unsupported norm type {p!r}")
    return _core.norm(input, float(p), dim, keepdim)


def flatten(input, start_dim=0, end_dim=-1):
    """``input`` with dims start_dim..end_dim merged into one."""
    return input.flatten(start_dim, end_dim)


def permute(input, dims):
    """``input`` with its dims reordered."""
    return input.permute(*dims)


def squeeze(input, dim=None):
    """``input`` without its size-1 dims (or only ``dim``, if it has size 1)."""
    return input.squeeze(dim)


def unsqueeze(input, dim):
    """``input`` with a new size-1 dim at ``dim``."""
    return input.unsqueeze(dim)


def sum(input, dim=None, keepdim=False):  # noqa: A001 (PyTorch's name)
    """Sum over ``dim`` (None: all dims): ``tg.sum(x, dim=1, keepdim=True)``."""
    return input.sum(dim, keepdim)


def mean(input, dim=None, keepdim=False):
    """Mean over ``dim`` (None: all dims)."""
    return input.mean(dim, keepdim)


def reshape(input, shape):
    """``input`` with a new shape (one entry may be -1)."""
    return input.reshape(shape)


# --- Python conveniences on the C++ Tensor class ---------------------------


def _backward(self, gradient=None, retain_graph=None, create_graph=False):
    """Accumulates d(self)/d(leaf) into the ``.grad`` of every leaf that requires grad.

    >>> x = tg.tensor(3.0, requires_grad=True); (x * x).backward(); x.grad.item()
    6.0
    """
    if retain_graph is None:
        retain_graph = create_graph
    if gradient is not None and not isinstance(gradient, Tensor):
        gradient = tensor(gradient, dtype=self.dtype)
    self._backward(gradient, bool(retain_graph), bool(create_graph))


def _tolist(self):
    return self._numpy_data().tolist()


def _repr(self):
    body = np.array2string(self._numpy_data(), separator=", ", prefix="tensor(")
    extras = []
    if self.dtype != _DEFAULT and self.dtype != _core.dtype.int64:
        extras.append(f"dtype={self.dtype!r}")
    if self.grad_fn is not None:
        extras.append(f"grad_fn={self.grad_fn}")
    elif self.requires_grad:
        extras.append("requires_grad=True")
    return "tensor(" + body + "".join(", " + e for e in extras) + ")"


def _iter(self):
    if self.ndim == 0:
        raise TypeError("iteration over a 0-d tensor")
    # differentiable rows, as PyTorch's
    for i in range(self.shape[0]):
        yield self[i]


def _array(self, dtype=None, copy=None):
    a = self._numpy_data()
    return a if dtype is None else a.astype(dtype)


def _bool(self):
    if self.numel() != 1:
        raise RuntimeError(
            f"Boolean value of Tensor with {self.numel()} elements is ambiguous")
    return builtins.bool(self.item())


Tensor.backward = _backward
Tensor.max = max
Tensor.min = min
Tensor.norm = norm
Tensor.__getitem__ = _indexing.getitem
Tensor.tolist = _tolist
Tensor.__repr__ = _repr
Tensor.__str__ = _repr
Tensor.__iter__ = _iter
Tensor.__array__ = _array
Tensor.__array_ufunc__ = None  # NumPy defers to Tensor's reflected operators
Tensor.__bool__ = _bool
Tensor.__float__ = lambda self: float(self.item())
Tensor.__int__ = lambda self: int(self.item())
Tensor.__doc__ = """An N-dimensional array of float32, float64 or int64 on the C++ tape.

>>> x = tg.tensor([1.0, 2.0], requires_grad=True)
>>> y = (x ** 2).sum(); y.backward(); x.grad
tensor([2., 4.])
"""
_core.dtype.__repr__ = lambda self: f"tapegrad.{self.name}"
_core.dtype.__str__ = _core.dtype.__repr__


# In-place updates (outside the graph), as in `with tg.no_grad(): w -= lr * w.grad`.
def _inplace(name, fn):
    def method(self, *args, **kwargs):
        if _core.is_grad_enabled() and any(isinstance(a, Tensor) and a.requires_grad
                                           for a in args):
            raise RuntimeError(f"{name}: an in-place update from a tensor that requires grad "
                               "is not recorded on the tape; use the out-of-place op")
        with no_grad():
            value = fn(self, *args, **kwargs)
        return self._assign(value, name)

    method.__name__ = name
    method.__doc__ = f"In-place ``{name}``: updates this tensor's data; not recorded on the tape."
    return method


def _scaled(other, alpha):
    return other if alpha == 1 else other * alpha


Tensor.add_ = _inplace("add_", lambda s, o, alpha=1: s + _scaled(o, alpha))
Tensor.sub_ = _inplace("sub_", lambda s, o, alpha=1: s - _scaled(o, alpha))
Tensor.mul_ = _inplace("mul_", lambda s, o: s * o)
Tensor.div_ = _inplace("div_", lambda s, o: s / o)
Tensor.copy_ = _inplace("copy_", lambda s, o: o)
Tensor.fill_ = _inplace("fill_", lambda s, v: v)
Tensor.zero_ = _inplace("zero_", lambda s: 0)
Tensor.__iadd__ = _inplace("__iadd__", lambda s, o: s + o)
Tensor.__isub__ = _inplace("__isub__", lambda s, o: s - o)
Tensor.__imul__ = _inplace("__imul__", lambda s, o: s * o)
Tensor.__itruediv__ = _inplace("__itruediv__", lambda s, o: s / o)


def _deepcopy(self, memo):
    """A detached copy with its own memory (a Parameter stays a Parameter)."""
    if not self.is_leaf:
        raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support "
                           "the deepcopy protocol")
    data = self.detach().clone()
    copy = data if type(self) is Tensor else type(self)(data, self.requires_grad)
    if self.requires_grad:
        copy.requires_grad_(True)
    if self.grad is not None:
        copy.grad = self.grad.detach().clone()
    memo[id(self)] = copy
    return copy


Tensor.__deepcopy__ = _deepcopy
Tensor.neg = _core.neg
Tensor.add = lambda self, other, alpha=1: self + _scaled(other, alpha)
Tensor.sub = lambda self, other, alpha=1: self - _scaled(other, alpha)
Tensor.mul = lambda self, other: self * other
Tensor.div = lambda self, other: self / other
Tensor.pow = lambda self, exponent: self ** exponent
Tensor.matrix_exp = _core.matrix_exp
Tensor.view_as = lambda self, other: self.view(other.shape)
Tensor.reshape_as = lambda self, other: self.reshape(other.shape)
Tensor.expand_as = lambda self, other: self.expand(other.shape)
