"""Datasets and mini-batches, as ``torch.utils.data``.

>>> x, y = tg.randn(10, 3), tg.tensor(np.arange(10))
>>> loader = DataLoader(TensorDataset(x, y), batch_size=4, shuffle=True)
>>> len(loader), [tuple(xb.shape) for xb, yb in loader]
(3, [(4, 3), (4, 3), (2, 3)])
"""

import collections.abc
import numbers

import numpy as np

from tapegrad._core import Tensor, dtype, rand, stack
from tapegrad._tensor import tensor

__all__ = ["Dataset", "TensorDataset", "DataLoader", "default_collate"]


class Dataset:
    """Base class of map-style datasets: subclasses define ``__getitem__(i)`` and
    ``__len__()``. Any object with those two methods works with :class:`DataLoader`."""

    def __getitem__(self, index):
        raise NotImplementedError("Dataset subclasses must define __getitem__")


class TensorDataset(Dataset):
    """Samples are the rows of equally long tensors: ``dataset[i]`` is
    ``(t[i] for t in tensors)`` as a tuple.

    >>> ds = TensorDataset(tg.randn(5, 2), tg.tensor(np.arange(5)))
    >>> len(ds), ds[3][1].item()
    (5, 3)
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        for t in tensors:
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset: expected tensors, got {type(t).__name__}")
            if t.ndim == 0:
                raise ValueError("TensorDataset: a 0-d tensor has no samples to index")
        sizes = [t.shape[0] for t in tensors]
        if any(size != sizes[0] for size in sizes):
            raise ValueError(f"Size mismatch between tensors: first dimensions {sizes}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]


def default_collate(batch):
    """Merges a list of samples into a batch, as PyTorch's ``default_collate``:
    tensors and NumPy arrays are stacked along a new first dim, Python ints (and
    bools: tapegrad has no bool dtype) become an int64 tensor, Python floats a float64
    tensor, strings stay a list, and tuples, lists, named tuples and dicts are
    collated field by field.

    >>> default_collate([(tg.zeros(2), 1), (tg.ones(2), 0)])[1]
    tensor([1, 0])
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(batch)
    if isinstance(elem, np.ndarray) or (isinstance(elem, np.generic)
                                        and elem.dtype.kind in "iuf"):
        return tensor(np.stack(batch))
    if isinstance(elem, (bool, np.bool_, numbers.Integral)):
        return tensor(np.array(batch, dtype=np.int64))
    if isinstance(elem, numbers.Real):
        return tensor(np.array(batch, dtype=np.float64))
    if isinstance(elem, str):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        return {key: default_collate([sample[key] for sample in batch]) for key in elem}
    if isinstance(elem, (tuple, list)):
        if any(len(sample) != len(elem) for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [default_collate(list(samples)) for samples in zip(*batch)]
        if hasattr(elem, "_fields"):  # a named tuple
            return type(elem)(*fields)
        return tuple(fields) if isinstance(elem, tuple) else fields
    raise TypeError(f"default_collate: samples must be tensors, NumPy arrays, numbers, strings, "
                    f"dicts, tuples or lists; found {type(elem).__name__}")


class DataLoader:
    """Iterates over ``dataset`` in batches of ``batch_size`` samples, as PyTorch's.

    A :class:`TensorDataset` gives tuples of tensors, each batch cut with one index
    operation per tensor. Another dataset (anything with ``__getitem__`` and
    ``__len__``) gives ``collate_fn`` (default :func:`default_collate`) applied to the
    list of its samples. With ``shuffle=True`` every epoch (every ``iter(loader)``)
    draws a new order from tapegrad's generator, so ``tg.manual_seed`` makes it
    repeatable. ``drop_last=True`` skips a final batch smaller than ``batch_size``.
    ``generator`` is accepted for PyTorch compatibility and must be None: tapegrad has
    one global generator.

    >>> loader = DataLoader(TensorDataset(tg.arange(5)), batch_size=2)
    >>> [xb.tolist() for (xb,) in loader]
    [[0, 1], [2, 3], [4]]
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, *, drop_last=False,
                 collate_fn=None, generator=None):
        if (not isinstance(batch_size, numbers.Integral) or isinstance(batch_size, bool)
                or batch_size <= 0):
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size!r}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got "
                             f"drop_last={drop_last!r}")
        if generator is not None:
            raise ValueError("DataLoader: only generator=None is supported; seed tapegrad's "
                             "generator with tg.manual_seed instead")
        if not (hasattr(dataset, "__getitem__") and hasattr(dataset, "__len__")):
            raise TypeError(f"DataLoader: the dataset must define __getitem__ and __len__, "
                            f"got {type(dataset).__name__}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = drop_last
        self.collate_fn = collate_fn

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            # a permutation from tapegrad's generator (not NumPy's), for tg.manual_seed
            order = np.argsort(rand(n, dtype=dtype.float64).numpy(), kind="stable")
        else:
            order = np.arange(n, dtype=np.int64)
        # rows straight from the tensors, unless a subclass changes what a sample is
        fast = (isinstance(self.dataset, TensorDataset) and self.collate_fn is None
                and type(self.dataset).__getitem__ is TensorDataset.__getitem__)
        collate = self.collate_fn or default_collate
        for b in range(len(self)):
            index = order[b * self.batch_size:(b + 1) * self.batch_size]
            if fast:
                yield tuple(t[index] for t in self.dataset.tensors)
            else:
                yield collate([self.dataset[int(i)] for i in index])
