"""Indexing: t[i], t[a:b:s], t[..., j], t[None], integer arrays, t[rows, cols].

Every key is checked against NumPy's indexing of the same array: values and shapes,
the backward (np.add.at of the weights: repeated indices accumulate), the jvp, and
against PyTorch when installed. Out-of-range and unsupported keys raise IndexError
(see also test_bad_inputs.py, which runs them in a subprocess).
"""

import numpy as np
import pytest
import tapegrad as tg

SHAPE = (4, 5, 3)

# name: (the key for tapegrad, the same key for NumPy, the same key for torch given torch)
# Keys of plain ints/slices/lists/NumPy arrays serve all three.
_same = None
KEYS = {
    "int": (1, _same),
    "negative_int": (-1, _same),
    "int_int": ((2, -4), _same),
    "int_int_int": ((3, 0, -1), _same),
    "slice": (slice(1, 3), _same),
    "slice_step": (slice(0, 4, 2), _same),
    "slice_step_3_middle": ((slice(None), slice(None, None, 3)), _same),
    "slice_negative_bounds": (slice(-3, -1), _same),
    "slice_beyond_end": (slice(2, 50), _same),
    "slice_empty": (slice(3, 1), _same),
    "slice_full": (slice(None), _same),
    "slices_two_dims": ((slice(1, None), slice(None, 2)), _same),
    "ellipsis_last": ((Ellipsis, 1), _same),
    "ellipsis_first": ((0, Ellipsis), _same),
    "ellipsis_middle": ((1, Ellipsis, 2), _same),
    "ellipsis_alone": (Ellipsis, _same),
    "none_front": (None, _same),
    "none_middle": ((slice(None), None, 2), _same),
    "none_and_int": ((None, 1, None), _same),
    "int_tensor": ("tensor:[3, 0, 1]", np.array([3, 0, 1])),
    "int_tensor_2d": ("tensor:[[0, 1], [3, 3]]", np.array([[0, 1], [3, 3]])),
    "int_tensor_0d": ("tensor:2", np.array(2)),
    "numpy_0d_array": (np.array(2), _same),
    "all_then_int_tensor_0d": ((slice(None), "tensor:1"), (slice(None), np.array(1))),
    "numpy_array": (np.array([1, -1, 0]), _same),
    "numpy_int32_array": (np.array([2, 0], dtype=np.int32), _same),
    "list": ([0, 2], _same),
    "empty_list": ([], np.array([], dtype=np.int64)),
    "repeated": ([1, 1, 3, 1], _same),
    "rows_cols": (([0, 3, 2], [4, 0, 4]), _same),
    "rows_cols_broadcast": ((np.array([[0], [3]]), np.array([1, 4, 1])), _same),
    "rows_cols_repeated": (([1, 1, 1], [2, 2, 0]), _same),
    "rows_cols_depth": (([1, 2], [0, 4], [2, 2]), _same),
    "rows_cols_tensors": (("tensor:[0, 3]", "tensor:[-1, 2]"),
                          (np.array([0, 3]), np.array([-1, 2]))),
    "slice_then_list": ((slice(1, None), [0, 2]), _same),
    "all_then_array": ((slice(None), np.array([4, 0, 4])), _same),
    "all_then_tensor": ((slice(None), "tensor:[1, 0]"), (slice(None), np.array([1, 0]))),
    "all_all_list": ((slice(None), slice(None), [2, 0]), _same),
    "ellipsis_then_list": ((Ellipsis, [2, 2]), _same),
    "list_then_int": (([3, 0], 1), _same),
    "list_then_slice": (([3, 0], slice(1, 3)), _same),
    "int_then_list": ((2, [4, 1]), _same),
    "slice_step_then_rows_cols": ((slice(None, None, 2), [0, 1], [2, 0]), _same),
}


def _tg_key(key):
    if isinstance(key, tuple):
        return tuple(_tg_key(k) for k in key)
    if isinstance(key, str) and key.startswith("tensor:"):
        return tg.tensor(eval(key[len("tensor:"):]))
    return key


def _torch_key(torch, key):
    if isinstance(key, tuple):
        return tuple(_torch_key(torch, k) for k in key)
    if isinstance(key, str) and key.startswith("tensor:"):
        return torch.tensor(eval(key[len("tensor:"):]))
    if isinstance(key, np.ndarray):
        return torch.from_numpy(key.astype(np.int64))
    if isinstance(key, list) and not key:
        return torch.tensor([], dtype=torch.int64)
    return key


def _np_key(name):
    key, np_key = KEYS[name]
    return key if np_key is _same else np_key


def _np_grad(a, key, w):
    g = np.zeros_like(a)
    np.add.at(g, key, w)
    return g


@pytest.fixture
def array():
    return np.random.default_rng(3).standard_normal(SHAPE)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", list(KEYS))
def test_index_matches_numpy(name, dtype, array):
    a = array.astype(dtype)
    key = _tg_key(KEYS[name][0])
    expected = a[_np_key(name)]
    x = tg.tensor(a, requires_grad=True)
    y = x[key]
    assert isinstance(y, tg.Tensor)
    assert y.shape == expected.shape
    assert y.dtype == x.dtype
    np.testing.assert_array_equal(y.detach().numpy(), expected)
    # backward: weights scattered back, repeated indices accumulate
    w = np.random.default_rng(4).standard_normal(expected.shape).astype(dtype)
    (y * tg.tensor(w)).sum().backward()
    assert x.grad.shape == a.shape and x.grad.dtype == x.dtype
    np.testing.assert_allclose(x.grad.numpy(), _np_grad(a, _np_key(name), w), rtol=1e-6,
                               atol=1e-7)


@pytest.mark.parametrize("name", list(KEYS))
def test_index_jvp_and_gradcheck(name, array):
    key = _tg_key(KEYS[name][0])
    v = np.random.default_rng(5).standard_normal(SHAPE)
    value, jv = tg.autograd.functional.jvp(lambda t: t[key], tg.tensor(array), tg.tensor(v))
    np.testing.assert_array_equal(value.numpy(), array[_np_key(name)])
    np.testing.assert_array_equal(jv.numpy(), v[_np_key(name)])  # indexing is linear
    small = tg.tensor(array, requires_grad=True)
    assert tg.autograd.gradcheck(lambda t: t[key] * t[key], (small,))


@pytest.mark.parametrize("name", list(KEYS))
def test_index_matches_torch(name, array, torch):
    key, _ = KEYS[name]
    x = tg.tensor(array, requires_grad=True)
    t = torch.tensor(array, requires_grad=True)
    y, z = x[_tg_key(key)], t[_torch_key(torch, key)]
    assert y.shape == tuple(z.shape)
    np.testing.assert_array_equal(y.detach().numpy(), z.detach().numpy())
    w = np.random.default_rng(4).standard_normal(y.shape)
    (y * tg.tensor(w)).sum().backward()
    (z * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-15, atol=0)


def test_repeated_indices_accumulate_exactly():
    x = tg.tensor([1.0, 2.0, 3.0], dtype=tg.float64, requires_grad=True)
    y = x[[0, 0, 2, 0]]
    assert y.detach().tolist() == [1.0, 1.0, 3.0, 1.0]
    (y * tg.tensor([1.0, 10.0, 100.0, 1000.0], dtype=tg.float64)).sum().backward()
    assert x.grad.tolist() == [1011.0, 0.0, 100.0]
    m = tg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    m[[1, 1], [2, 2]].sum().backward()
    assert m.grad.tolist() == [[0.0, 0.0, 0.0], [0.0, 0.0, 2.0]]


def test_chained_indexing_and_second_derivative():
    x = tg.tensor(np.linspace(-1, 1, 12).reshape(3, 4), dtype=tg.float64, requires_grad=True)
    y = x[1:][:, [0, 3, 3]][-1]  # row 2, columns 0, 3, 3
    (g,) = tg.autograd.grad((y ** 3).sum(), x, create_graph=True)
    xs = np.linspace(-1, 1, 12).reshape(3, 4)
    expected = np.zeros((3, 4))
    expected[2, 0] = 3 * xs[2, 0] ** 2
    expected[2, 3] = 2 * 3 * xs[2, 3] ** 2
    np.testing.assert_allclose(g.detach().numpy(), expected, rtol=1e-14)
    (h,) = tg.autograd.grad(g.sum(), x)
    expected_h = np.zeros((3, 4))
    expected_h[2, 0] = 6 * xs[2, 0]
    expected_h[2, 3] = 2 * 6 * xs[2, 3]
    np.testing.assert_allclose(h.numpy(), expected_h, rtol=1e-14)


def test_index_does_not_change_the_source_and_int_tensors_index_int_tensors():
    a = tg.tensor([[1, 2, 3], [4, 5, 6]])
    assert a[1].tolist() == [4, 5, 6] and a[1].dtype == tg.int64
    assert a[:, [2, 0]].tolist() == [[3, 1], [6, 4]]
    assert a[tg.tensor([1, 1]), tg.tensor([0, 2])].tolist() == [4, 6]
    assert a[-1, -1].item() == 6
    assert a.tolist() == [[1, 2, 3], [4, 5, 6]]


def test_index_of_0d_and_empty_tensors():
    s = tg.tensor(2.5, requires_grad=True)
    assert s[None].shape == (1,) and s[...].shape == ()
    e = tg.zeros(0, 3)
    assert e[:, 1].shape == (0,)
    assert e[[]].shape == (0, 3)
    with pytest.raises(IndexError):
        e[0]


@pytest.mark.parametrize("key", [3, -4, 10, (0, 5), (0, -6), (0, 0, 3)], ids=str)
def test_out_of_range_int_raises_index_error(key):
    x = tg.ones(3, 5, 3)
    with pytest.raises(IndexError, match="out of bounds|out of range"):
        x[key]


@pytest.mark.parametrize("make_key", [
    lambda: tg.tensor([0, 3]),
    lambda: tg.tensor([-4]),
    lambda: np.array([5]),
    lambda: [0, 1, 2, 3],
    lambda: ([0, 1], [0, 5]),
    lambda: (slice(None), [7]),
    lambda: (np.array([[2], [3]]), np.array([0])),
], ids=["tensor", "tensor_negative", "array", "list", "rows_cols", "slice_then_list",
        "rows_2d"])
def test_out_of_range_index_array_raises_index_error(make_key):
    x = tg.ones(3, 5)
    with pytest.raises(IndexError, match="out of bounds|out of range"):
        x[make_key()]


@pytest.mark.parametrize("make_key", [
    lambda: tg.tensor([0.0, 1.0]),
    lambda: tg.tensor([1.0], dtype=tg.float64),
    lambda: np.array([0.0, 1.0]),
    lambda: np.array([True, False]),
    lambda: tg.ones(5) > 0,
    lambda: ([0, 1], [0, 1, 2]),
    lambda: (0, 0, 0),
], ids=["float_tensor", "double_tensor", "float_array", "bool_array_wrong_size",
        "mask_wrong_size", "unbroadcastable", "too_many"])
def test_unsupported_index_raises_index_error(make_key):
    # floating indices, masks of the wrong shape, too many indices: IndexError, as PyTorch
    x = tg.ones(3, 5)
    with pytest.raises(IndexError):
        x[make_key()]


def test_empty_list_index_gradient():
    x = tg.ones(3, 2, requires_grad=True)
    y = x[[]]
    assert y.shape == (0, 2)
    (y.sum() + x.sum()).backward()
    assert x.grad.tolist() == [[1.0, 1.0]] * 3
