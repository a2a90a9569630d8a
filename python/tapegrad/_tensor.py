"""Tensors from Python data, and the Python conveniences of Tensor (repr, lists,
NumPy, iteration, ``to``). Every op is in the op table of the C++ core; this module
lists none of them."""

import builtins
import numbers
import threading

import numpy as np

from tapegrad import _core
from tapegrad._core import Tensor


def tensor(data, dtype=None, requires_grad=False):
    """A new tensor holding a copy of ``data`` (a list, a number, an array or a Tensor).

    NumPy arrays keep their dtype (float64 stays float64, bool stays bool);
    Python floats give the default dtype (float32), ints give int64, bools bool.

    >>> tg.tensor([[1.0, 2.0], [3.0, 4.0]]).shape
    (2, 2)
    """
    if isinstance(data, Tensor):
        t = data.detach().clone()
    else:
        arr = _as_array(data)
        python_floats = not isinstance(data, (np.ndarray, np.generic))
        if dtype is None and arr.dtype == np.float64 and python_floats:
            dtype = _core.get_default_dtype()  # Python floats take the default dtype
        t = _core._from_numpy(arr, dtype, True)
    if dtype is not None and t.dtype != dtype:
        t = t._to_dtype(dtype)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _as_array(data):
    if isinstance(data, (np.ndarray, np.generic)):
        return np.asarray(data)
    if isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) for d in _flat(data)):
        data = _nested_lists(data)
    try:
        arr = np.asarray(data)
    except (ValueError, OverflowError) as e:
        raise ValueError(f"tensor: could not convert the data to a tensor: {e}") from None
    huge = arr.dtype == np.float64 and arr.size and np.fmax.reduce(np.abs(arr.ravel()))
    if arr.dtype == object or arr.dtype == np.uint64 or (huge and huge >= 2**63):
        # NumPy holds ints beyond int64 as uint64, objects or float64 (for
        # [2**63, -1]): an error, as in PyTorch, unless a float makes it all floats
        arr = _beyond_int64(data, arr)
    if arr.dtype == object:
        raise TypeError("tensor: could not convert the data to a tensor (ragged or "
                        "non-numeric entries)")
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"tensor: can't convert data of dtype {arr.dtype}")
    return arr


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _beyond_int64(data, arr):
    """``arr`` (NumPy's reading of ``data``) when ``data`` holds ints that int64 can't hold:
    floats when ``data`` has a float too, else ValueError, as PyTorch (never wrapped)."""
    big, floats = None, False
    for v in _flat(data):
        if isinstance(v, (float, np.floating)):
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


def _flat(data):
    if isinstance(data, (list, tuple)):
        for d in data:
            yield from _flat(d)
    else:
        yield data


def _nested_lists(data):
    if isinstance(data, Tensor):
        return data.tolist()
    if isinstance(data, (list, tuple)):
        return [_nested_lists(d) for d in data]
    return data


def from_numpy(array):
    """A tensor sharing memory with ``array`` (any strides, non-negative), as
    ``torch.from_numpy``; writes through either are seen by the other.

    >>> a = np.zeros(3); t = tg.from_numpy(a); a[0] = 1; t[0].item()
    1.0
    """
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray, got {type(array).__name__}")
    return _core._from_numpy(array, None, False)


# --- Python conveniences on the C++ Tensor class ---------------------------

_create_graph_mode = threading.local()


class recording_backward_graphs:
    """Within it (on this thread) every ``backward()`` behaves as
    ``backward(create_graph=True)``: closures written for first-order optimizers then
    leave differentiable gradients (what ``tg.optim.Newton`` needs)."""

    def __enter__(self):
        self._previous = getattr(_create_graph_mode, "on", False)
        _create_graph_mode.on = True

    def __exit__(self, *exc):
        _create_graph_mode.on = self._previous


def _backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulates d(self)/d(leaf) into the ``.grad`` of every leaf that requires grad.

    >>> x = tg.tensor(3.0, requires_grad=True); (x * x).backward(); x.grad.item()
    6.0
    """
    if getattr(_create_graph_mode, "on", False):  # inside a Newton closure
        create_graph = True
    if retain_graph is None:
        retain_graph = create_graph
    if gradient is not None and not isinstance(gradient, Tensor):
        gradient = tensor(gradient, dtype=self.dtype)
    if inputs is not None:
        inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        grads = _core._grad([self], inputs, None if gradient is None else [gradient],
                            bool(retain_graph), bool(create_graph), True)
        for t, g in zip(inputs, grads):
            if g is not None:
                t.grad = g if t.grad is None else t.grad + g
        return
    self._backward(gradient, bool(retain_graph), bool(create_graph))


def _tolist(self):
    return self._numpy_data().tolist()


def _repr(self):
    body = np.array2string(self._numpy_data(), separator=", ", prefix="tensor(")
    extras = []
    if self.dtype not in (_core.get_default_dtype(), _core.dtype.int64, _core.dtype.bool):
        extras.append(f"dtype={self.dtype!r}")
    if self.grad_fn is not None:
        extras.append(f"grad_fn={self.grad_fn}")
    elif self.requires_grad:
        extras.append("requires_grad=True")
    return "tensor(" + body + "".join(", " + e for e in extras) + ")"


def _format(self, spec):
    if self.ndim == 0:
        return format(self.item(), spec)
    return format(str(self), spec)


def _iter(self):
    if self.ndim == 0:
        raise TypeError("iteration over a 0-d tensor")
    # differentiable rows (views), as PyTorch's
    return iter(self.unbind(0))


def _contains(self, element):
    if isinstance(element, (Tensor, numbers.Number)):
        return builtins.bool((self == element).any().item())
    raise RuntimeError(f"Tensor.__contains__ only supports Tensor or scalar, but you passed in "
                       f"a {type(element).__name__}.")


def _array(self, dtype=None, copy=None):
    a = self._numpy_data()
    return a if dtype is None else a.astype(dtype)


def _bool(self):
    if self.numel() != 1:
        raise RuntimeError(f"Boolean value of Tensor with {self.numel()} elements is ambiguous")
    return builtins.bool(self.item())


def _index(self):
    if self.numel() != 1 or self.dtype.is_floating_point or self.dtype == _core.dtype.bool:
        raise TypeError("only integer tensors of a single element can be converted to an index")
    return self.item()


def _to(self, *args, **kwargs):
    """Tensor.to(dtype), .to(other), .to(device), .to(device, dtype): a tensor of the
    requested dtype (``self`` itself when nothing changes). Only the CPU exists.

    >>> tg.tensor([1, 2]).to(tg.float64).dtype
    tapegrad.float64
    """
    dtype = kwargs.pop("dtype", None)
    kwargs.pop("non_blocking", None)
    copy = kwargs.pop("copy", False)
    device = kwargs.pop("device", None)
    if kwargs:
        raise TypeError(f"to() got an unexpected keyword argument {next(iter(kwargs))!r}")
    for a in args:
        if isinstance(a, _core.dtype):
            dtype = a
        elif isinstance(a, Tensor):
            dtype = a.dtype
        elif isinstance(a, str) or a is None or type(a).__name__ == "device":
            device = a
        else:
            raise TypeError(f"to() received an invalid argument of type {type(a).__name__}")
    if device is not None and str(device).split(":")[0] != "cpu":
        raise RuntimeError(f"to(): device {str(device)!r} is not available; tapegrad runs on "
                           "the CPU only")
    out = self if dtype is None else self._to_dtype(dtype)
    return out.clone() if copy and out is self else out


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


def _type(self, dtype=None):
    if dtype is None:
        return f"tapegrad.{self.dtype.name}"
    return self._to_dtype(dtype)


Tensor.backward = _backward
Tensor.tolist = _tolist
Tensor.__repr__ = _repr
Tensor.__str__ = _repr
Tensor.__format__ = _format
Tensor.__iter__ = _iter
Tensor.__contains__ = _contains
Tensor.__array__ = _array
Tensor.__array_ufunc__ = None  # NumPy defers to Tensor's reflected operators
Tensor.__bool__ = _bool
Tensor.__float__ = lambda self: float(self.item())
Tensor.__int__ = lambda self: int(self.item())
Tensor.__index__ = _index
Tensor.__deepcopy__ = _deepcopy
Tensor.to = _to
Tensor.cpu = lambda self: self
Tensor.type = _type
Tensor.__doc__ = """An N-dimensional array of float32, float64, int64, int32 or bool on the
C++ tape, with PyTorch's views, type promotion and autograd.

>>> x = tg.tensor([1.0, 2.0], requires_grad=True)
>>> y = (x ** 2).sum(); y.backward(); x.grad
tensor([2., 4.])
"""
_core.dtype.__repr__ = lambda self: f"tapegrad.{self.name}"
_core.dtype.__str__ = _core.dtype.__repr__
