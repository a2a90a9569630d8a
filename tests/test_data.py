"""tg.utils.data: TensorDataset, DataLoader and default_collate, against PyTorch's."""

import collections

import numpy as np
import pytest
import tapegrad as tg
from tapegrad.utils.data import DataLoader, Dataset, TensorDataset, default_collate


def dataset(n=10, features=3):
    """Rows of x are i*10 + [0, 1, 2], so a row tells which sample it is; y is i."""
    x = np.arange(n)[:, None] * 10.0 + np.arange(features)
    return TensorDataset(tg.tensor(x), tg.tensor(np.arange(n)))


def labels(loader):
    """The sample indices of one epoch, batch by batch, checking x and y agree."""
    epoch = []
    for xb, yb in loader:
        np.testing.assert_array_equal(xb.numpy()[:, 0], yb.numpy() * 10.0)
        epoch.append(yb.tolist())
    return epoch


# --- TensorDataset ---------------------------------------------------------------


def test_tensor_dataset_items_and_length():
    x, y = tg.randn(6, 2, 3), tg.tensor(np.arange(6))
    ds = TensorDataset(x, y)
    assert len(ds) == 6 and ds.tensors == (x, y)
    item = ds[4]
    assert isinstance(item, tuple) and len(item) == 2
    np.testing.assert_array_equal(item[0].numpy(), x.numpy()[4])
    assert item[1].item() == 4 and item[1].dtype == tg.int64
    assert isinstance(Dataset(), Dataset) and isinstance(ds, Dataset)


def test_tensor_dataset_rejects_bad_tensors():
    with pytest.raises(ValueError, match="Size mismatch between tensors"):
        TensorDataset(tg.zeros(5, 2), tg.zeros(4))
    with pytest.raises(ValueError):
        TensorDataset()
    with pytest.raises(ValueError, match="0-d"):
        TensorDataset(tg.tensor(1.0))
    with pytest.raises(TypeError, match="ndarray"):
        TensorDataset(np.zeros(3))


# --- batching -------------------------------------------------------------------------


@pytest.mark.parametrize("batch_size, drop_last, sizes", [
    (1, False, [1] * 10), (3, False, [3, 3, 3, 1]), (3, True, [3, 3, 3]),
    (4, False, [4, 4, 2]), (4, True, [4, 4]), (5, True, [5, 5]), (10, False, [10]),
    (10, True, [10]), (12, False, [10]), (12, True, []),
])
@pytest.mark.parametrize("shuffle", [False, True])
def test_batch_shapes_and_length(batch_size, drop_last, sizes, shuffle):
    loader = DataLoader(dataset(), batch_size=batch_size, shuffle=shuffle, drop_last=drop_last)
    assert len(loader) == len(sizes)
    batches = list(loader)
    assert len(batches) == len(sizes)
    for batch, size in zip(batches, sizes):
        assert isinstance(batch, tuple) and len(batch) == 2
        xb, yb = batch
        assert xb.shape == (size, 3) and yb.shape == (size,)
        assert xb.dtype == tg.float64 and yb.dtype == tg.int64


def test_in_order_without_shuffle():
    assert labels(DataLoader(dataset(), batch_size=4)) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_default_batch_size_is_one():
    loader = DataLoader(dataset(3))
    assert loader.batch_size == 1 and len(loader) == 3
    assert [yb.tolist() for _, yb in loader] == [[0], [1], [2]]


def test_multidimensional_samples():
    images = tg.randn(7, 2, 4, 4)
    (xb,) = next(iter(DataLoader(TensorDataset(images), batch_size=5)))
    assert xb.shape == (5, 2, 4, 4)
    np.testing.assert_array_equal(xb.numpy(), images.numpy()[:5])


def test_empty_dataset():
    loader = DataLoader(TensorDataset(tg.zeros(0, 3)), batch_size=2, shuffle=True)
    assert len(loader) == 0 and list(loader) == []


def test_one_index_operation_per_tensor_per_batch(monkeypatch):
    ds = dataset(20)
    calls = []
    getitem = tg.Tensor.__getitem__

    def counting(self, key):
        calls.append(key)
        return getitem(self, key)

    def no_per_sample_access(self, index):
        raise AssertionError("the loader fetched a single sample")

    monkeypatch.setattr(tg.Tensor, "__getitem__", counting)
    monkeypatch.setattr(TensorDataset, "__getitem__", no_per_sample_access)
    batches = list(DataLoader(ds, batch_size=8, shuffle=True))
    monkeypatch.undo()
    assert len(batches) == 3
    assert len(calls) == 3 * 2  # 3 batches × 2 tensors


def test_tensor_dataset_subclass_getitem_is_used():
    class Doubled(TensorDataset):
        def __getitem__(self, index):
            return tuple(t[index] * 2 for t in self.tensors)

    batches = list(DataLoader(Doubled(tg.tensor(np.arange(5))), batch_size=2))
    assert [xb.tolist() for (xb,) in batches] == [[0, 2], [4, 6], [8]]


# --- shuffling -------------------------------------------------------------------------


@pytest.mark.parametrize("batch_size", [1, 3, 7, 50])
def test_shuffle_covers_every_sample_once_per_epoch(batch_size):
    loader = DataLoader(dataset(50), batch_size=batch_size, shuffle=True)
    for _ in range(3):
        seen = sorted(i for batch in labels(loader) for i in batch)
        assert seen == list(range(50))


def test_shuffle_with_drop_last_gives_distinct_samples():
    loader = DataLoader(dataset(50), batch_size=7, shuffle=True, drop_last=True)
    seen = [i for batch in labels(loader) for i in batch]
    assert len(seen) == 49 and len(set(seen)) == 49


def test_shuffle_is_repeatable_with_manual_seed():
    loader = DataLoader(dataset(50), batch_size=8, shuffle=True)
    tg.manual_seed(7)
    first = [labels(loader), labels(loader)]
    tg.manual_seed(7)
    second = [labels(loader), labels(loader)]
    assert first == second
    tg.manual_seed(8)
    assert labels(loader) != first[0]


def test_shuffle_uses_tapegrads_generator_not_numpys():
    loader = DataLoader(dataset(50), batch_size=8, shuffle=True)
    orders = []
    for numpy_seed in (1, 2):
        np.random.seed(numpy_seed)
        tg.manual_seed(3)
        orders.append(labels(loader))
    assert orders[0] == orders[1]


def test_epochs_differ():
    loader = DataLoader(dataset(50), batch_size=50, shuffle=True)
    epochs = [labels(loader)[0] for _ in range(4)]
    assert all(epochs[i] != epochs[j] for i in range(4) for j in range(i))
    assert all(epoch != list(range(50)) for epoch in epochs)


# --- generic datasets and collation -----------------------------------------------------


class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return tg.tensor([float(i), float(i * i)]), i, i / 2


def test_generic_dataset_is_collated():
    loader = DataLoader(Squares(5), batch_size=2)
    assert len(loader) == 3
    batches = list(loader)
    xb, ib, hb = batches[0]
    assert xb.shape == (2, 2) and xb.tolist() == [[0.0, 0.0], [1.0, 1.0]]
    assert ib.dtype == tg.int64 and ib.tolist() == [0, 1]
    assert hb.dtype == tg.float64 and hb.tolist() == [0.0, 0.5]
    assert [b[1].tolist() for b in batches] == [[0, 1], [2, 3], [4]]


def test_generic_dataset_shuffle_covers_every_sample():
    loader = DataLoader(Squares(11), batch_size=4, shuffle=True)
    seen = sorted(i for _, ib, _ in loader for i in ib.tolist())
    assert seen == list(range(11))


def test_list_dataset_and_custom_collate():
    samples = [tg.full((2,), float(i)) for i in range(5)]
    batches = list(DataLoader(samples, batch_size=2))
    assert [b.shape for b in batches] == [(2, 2), (2, 2), (1, 2)]
    sums = list(DataLoader(samples, batch_size=2,
                           collate_fn=lambda batch: sum(t.sum().item() for t in batch)))
    assert sums == [2.0, 10.0, 8.0]
    # a custom collate_fn gets the samples of a TensorDataset too
    ds = dataset(4)
    got = list(DataLoader(ds, batch_size=3, collate_fn=lambda batch: len(batch)))
    assert got == [3, 1]


def test_default_collate_structures():
    point = collections.namedtuple("point", ["x", "label"])
    batch = default_collate([point(tg.zeros(3), 1), point(tg.ones(3), 2)])
    assert type(batch) is point and batch.x.shape == (2, 3) and batch.label.tolist() == [1, 2]
    batch = default_collate([{"a": 1.5, "s": "x", "n": np.ones(2, dtype=np.float32)},
                             {"a": 2.5, "s": "y", "n": np.zeros(2, dtype=np.float32)}])
    assert batch["a"].dtype == tg.float64 and batch["s"] == ["x", "y"]
    assert batch["n"].dtype == tg.float32 and batch["n"].shape == (2, 2)
    batch = default_collate([[True, 0], [False, 1]])
    assert isinstance(batch, list) and batch[0].dtype == tg.int64 and batch[0].tolist() == [1, 0]
    assert default_collate([np.float32(1.0), np.float32(2.0)]).dtype == tg.float32
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([(1, 2), (3,)])
    with pytest.raises(TypeError, match="object"):
        default_collate([object(), object()])


# --- bad arguments -----------------------------------------------------------------------


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, "4", True, None])
def test_batch_size_must_be_a_positive_int(batch_size):
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(dataset(), batch_size=batch_size)


def test_bad_arguments():
    with pytest.raises(ValueError, match="drop_last"):
        DataLoader(dataset(), drop_last="yes")
    with pytest.raises(ValueError, match="generator"):
        DataLoader(dataset(), generator=object())
    with pytest.raises(TypeError, match="__len__"):
        DataLoader(iter(range(3)))
    loader = DataLoader(dataset(), batch_size=np.int64(4), generator=None)
    assert len(loader) == 3


# --- parity with PyTorch -------------------------------------------------------------------


@pytest.mark.parametrize("batch_size, drop_last", [(1, False), (3, False), (3, True),
                                                   (4, True), (10, False), (16, False)])
def test_batches_match_torch(torch, batch_size, drop_last):
    x = np.random.randn(10, 2, 3)
    y = np.arange(10) % 3
    w = np.random.rand(10).astype(np.float32)
    ours = DataLoader(TensorDataset(tg.tensor(x), tg.tensor(y), tg.tensor(w)),
                      batch_size=batch_size, drop_last=drop_last)
    theirs = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.tensor(x), torch.tensor(y), torch.tensor(w)),
        batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    ours, theirs = list(ours), list(theirs)
    assert len(ours) == len(theirs)
    for batch, expected in zip(ours, theirs):
        assert len(batch) == len(expected)
        for a, b in zip(batch, expected):
            assert a.dtype.name == str(b.dtype).removeprefix("torch.")
            np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_collation_matches_torch(torch):
    ours = list(DataLoader(Squares(5), batch_size=2))
    samples = [(torch.tensor(s[0].numpy()), s[1], s[2]) for s in (Squares(5)[i] for i in range(5))]
    theirs = list(torch.utils.data.DataLoader(samples, batch_size=2))
    assert len(ours) == len(theirs)
    for batch, expected in zip(ours, theirs):
        for a, b in zip(batch, expected):
            assert a.dtype.name == str(b.dtype).removeprefix("torch.")
            np.testing.assert_array_equal(a.numpy(), b.numpy())
