"""Tensor indexing: ``t[i]``, ``t[a:b:s]``, ``t[..., j]``, ``t[None]``, ``t[idx]`` and
``t[rows, cols]``, built from three differentiable primitives (slice, squeeze and
index_select). Index arrays are not differentiated.

The results are new tensors (tapegrad's tensors are always contiguous), not
views: an in-place update of ``t[0:2]`` does not change ``t``, unlike PyTorch.
Boolean masks and index arrays separated by other indices are not supported."""

import numbers

import numpy as np

from tapegrad import _core
from tapegrad._core import Tensor


def _is_index_array(k):
    return isinstance(k, (Tensor, np.ndarray, list))


def _as_index_array(k):
    if isinstance(k, Tensor):
        if k.dtype != _core.dtype.int64:
            raise IndexError(f"index: tensors used as indices must be int64, got {k.dtype!r}")
        return k._numpy_data()
    arr = np.asarray(k)
    if arr.dtype == bool:
        raise IndexError("index: boolean masks are not supported; use integer indices")
    if arr.size == 0:
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iu":
        raise IndexError(f"index: index arrays must hold integers, got dtype {arr.dtype}")
    return arr.astype(np.int64, copy=False)


def getitem(x, key):
    # the two most common keys skip the general walk below
    if type(key) is int and x.ndim > 0:
        size = x.shape[0]
        if not -size <= key < size:
            raise IndexError(f"index {key} is out of bounds for dimension 0 with size {size}")
        key %= size
        return _core._slice(x, 0, key, key + 1, 1).squeeze(0)
    if type(key) is Tensor and key.dtype == _core.dtype.int64 and x.ndim > 0:
        return _core._index_select(x, 0, key)  # checks bounds, wraps negatives
    if not isinstance(key, tuple):
        key = (key,)
    explicit = sum(1 for k in key if k is not None and k is not Ellipsis)
    if sum(1 for k in key if k is Ellipsis) > 1:
        raise IndexError("index: an index can only have a single ellipsis ('...')")
    if explicit > x.ndim:
        raise IndexError(f"index: too many indices for tensor of dimension {x.ndim} "
                         f"(got {explicit}, shape {x.shape})")
    out, dim, i = x, 0, 0
    while i < len(key):
        k = key[i]
        if k is Ellipsis:
            dim += x.ndim - explicit
        elif k is None:
            out = out.unsqueeze(dim)
            dim += 1
        elif isinstance(k, bool):
            raise IndexError("index: boolean indices are not supported")
        elif isinstance(k, numbers.Integral):
            size = out.shape[dim]
            k = int(k)
            if not -size <= k < size:
                raise IndexError(f"index {k} is out of bounds for dimension {dim} with size "
                                 f"{size}")
            k %= size
            out = _core._slice(out, dim, k, k + 1, 1).squeeze(dim)
        elif isinstance(k, slice):
            size = out.shape[dim]
            if k.step is not None and k.step <= 0:
                raise ValueError(f"index: slice step must be positive, got {k.step}")
            start, stop, step = k.indices(size)
            stop = max(stop, start)
            if (start, stop, step) != (0, size, 1):
                out = _core._slice(out, dim, start, stop, step)
            dim += 1
        elif _is_index_array(k):
            # adjacent index arrays broadcast together and pick along
            # merged dims through one linear index
            group = [k]
            while i + 1 < len(key) and _is_index_array(key[i + 1]):
                i += 1
                group.append(key[i])
            out, dim = _advanced(out, dim, group)
            if any(_is_index_array(k) for k in key[i + 1:]):
                raise IndexError("index: index arrays separated by other indices are not "
                                 "supported")
        else:
            raise TypeError(f"index: unsupported index of type {type(k).__name__}")
        i += 1
    # x[:] and x[...] are new tensors (views), never x itself, as in PyTorch
    return out.view(out.shape) if out is x else out


def _advanced(x, dim, group):
    if len(group) == 1:  # one index array: index_select checks and wraps it in C++
        k = group[0]
        if isinstance(k, Tensor):
            _as_index_array(k)  # dtype check
            index = k
        else:
            index = _core._from_numpy(np.array(_as_index_array(k), dtype=np.int64, order="C"),
                                      _core.dtype.int64, True)
        return _core._index_select(x, dim, index), dim + index.ndim
    arrays = [_as_index_array(k) for k in group]
    sizes = x.shape[dim:dim + len(arrays)]
    for j, (a, size) in enumerate(zip(arrays, sizes)):
        bad = (a < -size) | (a >= size)
        if bad.any():
            raise IndexError(f"index {int(a[bad].flat[0])} is out of bounds for dimension "
                             f"{dim + j} with size {size}")
    try:
        arrays = np.broadcast_arrays(*arrays)
    except ValueError:
        raise IndexError("index: shape mismatch: index arrays could not be broadcast together "
                         f"with shapes {[np.shape(a) for a in arrays]}") from None
    linear = np.zeros(arrays[0].shape, dtype=np.int64)
    for a, size in zip(arrays, sizes):
        linear = linear * size + np.where(a < 0, a + size, a)
    if len(arrays) > 1:
        merged = list(x.shape[:dim]) + [-1] + list(x.shape[dim + len(arrays):])
        if x.numel() == 0:
            merged[dim] = int(np.prod(sizes))
        x = x.reshape(merged)
    # np.array, not np.ascontiguousarray: a 0-d index must stay 0-d (it drops the dim)
    index = _core._from_numpy(np.array(linear, dtype=np.int64, order="C"), _core.dtype.int64,
                              True)
    return _core._index_select(x, dim, index), dim + linear.ndim
