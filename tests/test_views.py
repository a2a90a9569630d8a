"""Views that alias, in-place ops on recorded graphs and version counters, as PyTorch's.

Each view op returns a tensor sharing its input's memory (checked through data_ptr,
stride and writes in both directions); in-place writes through views change the
base and are differentiated through (CopySlices); a tensor saved for backward and
then changed in place makes backward raise. Values and gradients are compared with
PyTorch when it is installed.
"""

import numpy as np
import pytest
import tapegrad as tg

F64 = tg.float64


def _torch():
    return pytest.importorskip("torch")


# --- every view shares memory ------------------------------------------------------

VIEWS = {
    "slice": lambda t: t[1:3],
    "slice_step": lambda t: t[::2, 1:],
    "select": lambda t: t[1],
    "select_dim1": lambda t: t[:, 2],
    "narrow": lambda t: t.narrow(1, 1, 2),
    "transpose": lambda t: t.transpose(0, 1),
    "t": lambda t: t.t(),
    "T": lambda t: t.T,
    "permute": lambda t: t.permute(1, 0),
    "movedim": lambda t: t.movedim(0, 1),
    "expand": lambda t: t[:, :1].expand(4, 3),
    "unsqueeze": lambda t: t.unsqueeze(1),
    "squeeze": lambda t: t[:1].squeeze(0),
    "view": lambda t: t.view(2, 6),
    "reshape": lambda t: t.reshape(12),
    "flatten": lambda t: t.flatten(),
    "diagonal": lambda t: t.diagonal(),
    "diagonal_offset": lambda t: t.diagonal(1),
    "unfold": lambda t: t[0].unfold(0, 2, 1),
    "split": lambda t: t.split(2)[1],
    "chunk": lambda t: t.chunk(2, dim=1)[0],
    "unbind": lambda t: t.unbind(1)[2],
    "as_strided": lambda t: t.as_strided((2, 2), (1, 3), 1),
    "ellipsis": lambda t: t[..., 1],
    "none": lambda t: t[None, 1:],
}


@pytest.mark.parametrize("name", list(VIEWS))
def test_view_shares_memory_both_ways(name):
    base = tg.tensor(np.arange(12.0).reshape(4, 3))
    v = VIEWS[name](base)
    assert v._base is base
    before = base.clone()
    target = v if name != "expand" else base[:, :1]  # an expanded view can't be written
    with tg.no_grad():
        target.add_(100)
    changed = (base != before)
    assert changed.any().item(), f"{name}: a write through the view did not reach the base"
    # and a write to the base is seen through the view
    base.zero_()
    assert (v == 0).all().item()


@pytest.mark.parametrize("name", list(VIEWS))
def test_views_match_torch_geometry(name):
    torch = _torch()
    ours = VIEWS[name](tg.arange(12.0).view(4, 3))
    ref = VIEWS[name](torch.arange(12.0).view(4, 3))
    assert ours.shape == tuple(ref.shape)
    assert ours.stride() == ref.stride()
    assert ours.storage_offset() == ref.storage_offset()
    assert ours.is_contiguous() == ref.is_contiguous()
    np.testing.assert_array_equal(ours.numpy(), ref.numpy())


def test_views_are_o1():
    x = tg.zeros(1000, 1000)
    for v in (x.t(), x[::3], x[:, 5], x.view(10, 100, 1000), x.unsqueeze(0), x.diagonal()):
        assert v.data_ptr() >= x.data_ptr()
        assert v.data_ptr() < x.data_ptr() + x.nbytes


def test_reshape_copies_only_when_it_must():
    x = tg.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]])
    assert x.reshape(3, 2)._base is x
    assert x.reshape(3, 2).reshape(6)._base is x  # the base is always the tensor that owns
    xt = x.t()
    y = xt.reshape(6)  # not expressible as a view of the transposed layout
    assert y.data_ptr() != x.data_ptr()
    assert y.tolist() == [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        xt.view(6)


def test_contiguous_and_strides():
    x = tg.arange(6.0).view(2, 3)
    assert x.is_contiguous() and x.stride() == (3, 1) and x.storage_offset() == 0
    t = x.t()
    assert not t.is_contiguous() and t.stride() == (1, 3)
    c = t.contiguous()
    assert c.is_contiguous() and c.data_ptr() != x.data_ptr()
    assert x.contiguous() is x
    assert x[1].storage_offset() == 3
    assert x.stride(1) == 1 and x.stride(-2) == 3


def test_writes_through_views_as_in_pytorch():
    x = tg.zeros(3, 4)
    x[0:2].add_(1)
    x[:, 1] = 0
    x.t()[2, 1] = 5
    x[2, ::2] = tg.tensor([7.0, 8.0])
    assert x.tolist() == [[1, 0, 1, 1], [1, 0, 5, 1], [7, 0, 8, 0]]


def test_numpy_sees_views():
    x = tg.arange(6.0).view(2, 3)
    a = x.t().numpy()
    assert a.strides == (4, 12)
    x[0, 1] = 42
    assert a[1, 0] == 42


# --- in-place ops on recorded graphs ------------------------------------------------


def test_inplace_on_non_leaf_is_recorded():
    a = tg.tensor([1.0, 2.0, 3.0], dtype=F64, requires_grad=True)
    x = a * 2
    x.mul_(a)  # x = 2a²
    x.sum().backward()
    assert a.grad.tolist() == [4.0, 8.0, 12.0]
    assert x.grad_fn is not None


def test_inplace_on_leaf_that_requires_grad_raises():
    w = tg.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w.add_(1)
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        w[0:2].mul_(2)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        w[0] = 3.0
    with tg.no_grad():
        w.add_(1)
        w[0] = 5.0
    assert w.tolist() == [5.0, 2.0, 2.0]
    assert w.is_leaf and w.requires_grad


def test_modified_saved_tensor_raises_with_versions():
    a = tg.ones(3, requires_grad=True)
    b = tg.ones(3, requires_grad=True)
    x = a * 1
    y = x * b  # saves x
    assert x._version == 0
    x.add_(1)
    assert x._version == 1
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation.*version 1; "
                                           r"expected version 0"):
        y.sum().backward()


def test_saved_output_modified_in_place_raises():
    a = tg.ones(3, requires_grad=True)
    y = (a * 1).exp()  # saves its output
    z = y * 1
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_inplace_that_does_not_touch_saved_tensors_is_fine():
    a = tg.tensor([1.0, 2.0], dtype=F64, requires_grad=True)
    x = a * 1
    y = x.exp()  # saves its output, not x
    x.add_(1)
    y.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), np.exp([1.0, 2.0]))


def test_versions_are_shared_by_views():
    x = tg.zeros(4)
    v = x[1:3]
    v.add_(1)
    assert x._version == v._version == 1
    x.mul_(2)
    assert v._version == 2


def test_data_has_its_own_version_counter():
    x = tg.zeros(3)
    d = x.data
    d.add_(1)
    assert x.tolist() == [1.0, 1.0, 1.0]
    assert x._version == 0


def test_copy_slices_gradients():
    a = tg.tensor([1.0, 2.0, 3.0, 4.0], dtype=F64, requires_grad=True)
    w = tg.tensor([10.0, 20.0], dtype=F64, requires_grad=True)
    x = a * 1
    x[1:3] = w * 3  # overwrites the middle of x
    x[0:2].mul_(w)  # x[0] = a0·w0, x[1] = 3·w0·w1
    assert x.grad_fn.name() == "CopySlices"
    loss = (x * tg.tensor([1.0, 2.0, 3.0, 4.0], dtype=F64)).sum()
    loss.backward()
    # loss = a0·w0 + 2·3w0·w1 + 3·3w1 + 4·a3
    assert a.grad.tolist() == [10.0, 0.0, 0.0, 4.0]
    assert w.grad.tolist() == [1.0 + 6 * 20.0, 6 * 10.0 + 9.0]


def test_view_of_base_written_through_another_view_rebuilds_its_grad_fn():
    a = tg.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=F64, requires_grad=True)
    x = a * 1
    col = x[:, 0]  # made before the write
    x[0].mul_(10)  # writes x[0, 0], which col reads
    col.sum().backward()
    assert a.grad.tolist() == [[10.0, 0.0], [1.0, 0.0]]


def test_inplace_matches_torch():
    torch = _torch()

    def run(lib, x0, w0):
        x0 = lib.tensor(x0, dtype=lib.float64, requires_grad=True)
        w0 = lib.tensor(w0, dtype=lib.float64, requires_grad=True)
        x = x0.clone()
        x[:, 1:].mul_(w0)
        x.t()[0].add_(w0[1])
        x[x > 0.6] = 0.5
        v = x.view(-1)
        v[::2] += w0[0]
        x.t()[2].sigmoid_()
        loss = (x ** 2).sum()
        loss.backward()
        return loss.item(), x0.grad.numpy(), w0.grad.numpy()

    rng = np.random.default_rng(0)
    x0, w0 = rng.standard_normal((3, 3)).tolist(), rng.standard_normal(2).tolist()
    ours, ref = run(tg, x0, w0), run(torch, x0, w0)
    assert ours[0] == pytest.approx(ref[0], rel=1e-12)
    np.testing.assert_allclose(ours[1], ref[1], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ours[2], ref[2], rtol=1e-12, atol=1e-14)


def test_inplace_double_backward():
    a = tg.tensor([0.5, -1.0], dtype=F64, requires_grad=True)
    x = a * a
    x.mul_(a)  # a³
    (g,) = tg.autograd.grad(x.sum(), a, create_graph=True)
    (gg,) = tg.autograd.grad(g.sum(), a)
    assert gg.tolist() == [3.0, -6.0]


def test_expanded_tensor_cannot_be_written():
    x = tg.zeros(3, 1).expand(3, 4)
    with pytest.raises(RuntimeError, match="single memory location"):
        x.add_(1)


def test_inplace_dtype_rules():
    i = tg.tensor([1, 2])
    with pytest.raises(RuntimeError, match="can't be cast"):
        i.add_(1.5)
    i[0] = 2.7  # assignment casts, as PyTorch
    assert i.tolist() == [2, 2]
    f = tg.tensor([1.0])
    f.add_(tg.tensor([1], dtype=tg.int64))
    assert f.tolist() == [2.0]


def test_relu_inplace_module_and_functional():
    x = tg.tensor([-1.0, 2.0])
    y = tg.nn.functional.relu(x, inplace=True)
    assert y is x and x.tolist() == [0.0, 2.0]
    x = tg.tensor([-1.0, 2.0])
    assert tg.nn.ReLU(inplace=True)(x) is x
    a = tg.tensor([-1.0, 2.0], requires_grad=True)
    h = a * 1
    tg.nn.ReLU(inplace=True)(h).sum().backward()
    assert a.grad.tolist() == [0.0, 1.0]


@pytest.mark.parametrize("name", ["add_", "sub_", "mul_", "div_", "pow_", "clamp_", "relu_",
                                  "sigmoid_", "tanh_", "neg_", "exp_", "fill_", "zero_",
                                  "copy_", "masked_fill_", "index_put_", "__iadd__",
                                  "__isub__", "__imul__", "__itruediv__", "setitem"])
def test_every_inplace_op_gradient_matches_torch(name):
    torch = _torch()
    calls = {
        "add_": lambda L, x, w: x.add_(w, alpha=2),
        "sub_": lambda L, x, w: x.sub_(w),
        "mul_": lambda L, x, w: x.mul_(w),
        "div_": lambda L, x, w: x.div_(w + 3),
        "pow_": lambda L, x, w: x.pow_(2),
        "clamp_": lambda L, x, w: x.clamp_(-0.5, 0.5),
        "relu_": lambda L, x, w: x.relu_(),
        "sigmoid_": lambda L, x, w: x.sigmoid_(),
        "tanh_": lambda L, x, w: x.tanh_(),
        "neg_": lambda L, x, w: x.neg_(),
        "exp_": lambda L, x, w: x.exp_(),
        "fill_": lambda L, x, w: x.fill_(w[1, 0]),
        "zero_": lambda L, x, w: x.zero_(),
        "copy_": lambda L, x, w: x.copy_(w * 2),
        "masked_fill_": lambda L, x, w: x.masked_fill_(x > 0, 3.0),
        "index_put_": lambda L, x, w: x.index_put_((L.tensor([0, 1]),), w[0]),
        "__iadd__": lambda L, x, w: x.__iadd__(w),
        "__isub__": lambda L, x, w: x.__isub__(w),
        "__imul__": lambda L, x, w: x.__imul__(w),
        "__itruediv__": lambda L, x, w: x.__itruediv__(w + 3),
        "setitem": lambda L, x, w: x.__setitem__((slice(None), 1), w[:, 0] * 2),
    }

    def run(lib):
        rng = np.random.default_rng(1)
        a = lib.tensor(rng.standard_normal((2, 3)), dtype=lib.float64, requires_grad=True)
        w = lib.tensor(rng.standard_normal((2, 3)), dtype=lib.float64, requires_grad=True)
        x = a * 1.5
        calls[name](lib, x, w)
        (x * lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=lib.float64)).sum().backward()
        return x.detach().numpy(), a.grad.numpy(), w.grad

    ours, ref = run(tg), run(torch)
    np.testing.assert_allclose(ours[0], ref[0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ours[1], ref[1], rtol=1e-12, atol=1e-14)
    assert (ours[2] is None) == (ref[2] is None)
    if ref[2] is not None:
        np.testing.assert_allclose(ours[2].numpy(), ref[2].numpy(), rtol=1e-12, atol=1e-14)


# --- matmul reads transposed views without copying ------------------------------------


def test_matmul_of_transposed_views_matches_numpy():
    rng = np.random.default_rng(2)
    for m, k, n in [(3, 4, 5), (64, 48, 40)]:
        a = rng.standard_normal((k, m))
        b = rng.standard_normal((n, k))
        A, B = tg.tensor(a), tg.tensor(b)
        np.testing.assert_allclose((A.t() @ B.t()).numpy(), a.T @ b.T, rtol=1e-12)
        np.testing.assert_allclose((A.t() @ tg.tensor(b.T.copy())).numpy(), a.T @ b.T,
                                   rtol=1e-12)
        # a column-strided (non-unit, non-transposed) view is copied and still right
        C = tg.tensor(rng.standard_normal((m, 2 * k)))
        np.testing.assert_allclose((C[:, ::2] @ B.t()).numpy(), C.numpy()[:, ::2] @ b.T,
                                   rtol=1e-12)


def test_linear_backward_through_transposed_views():
    rng = np.random.default_rng(3)
    x = tg.tensor(rng.standard_normal((8, 5)), requires_grad=True)
    w = tg.tensor(rng.standard_normal((4, 5)), requires_grad=True)
    assert tg.autograd.gradcheck(lambda x, w: tg.nn.functional.linear(x, w), (x, w))
    assert tg.autograd.gradgradcheck(lambda x, w: tg.nn.functional.linear(x, w), (x, w))
