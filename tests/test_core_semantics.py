"""The semantics PyTorch code relies on: bool and int32 with PyTorch's type promotion,
dtype conversions, custom autograd Functions, tensor and module hooks, nested forward
mode, and the small API points scripts trip on. Compared with PyTorch when installed."""

import math

import numpy as np
import pytest
import tapegrad as tg
from tapegrad.autograd import forward_ad as fwAD

F64 = tg.float64


def _torch():
    return pytest.importorskip("torch")


# --- bool and int32 ------------------------------------------------------------------


def test_comparisons_and_logical_ops_are_bool():
    x = tg.tensor([1.0, -2.0, 3.0])
    m = x > 0
    assert m.dtype == tg.bool and m.tolist() == [True, False, True]
    assert (m & (x < 2)).tolist() == [True, False, False]
    assert (m | (x < 0)).tolist() == [True, True, True]
    assert (m ^ True).tolist() == [False, True, False]
    assert (~m).tolist() == [False, True, False]
    assert tg.logical_and(x, m).tolist() == [True, False, True]
    assert tg.logical_or(x > 5, m).tolist() == [True, False, True]
    assert tg.logical_xor(m, m).tolist() == [False, False, False]
    assert tg.logical_not(x).tolist() == [False, False, False]
    assert m.all().item() is False and m.any().item() is True
    assert tg.all(tg.ones(2, 3) > 0, dim=1).tolist() == [True, True]
    assert tg.any(tg.zeros(2, 2), dim=0, keepdim=True).shape == (1, 2)


def test_bitwise_ops_on_integers():
    a, b = tg.tensor([12, 10]), tg.tensor([10, 6])
    assert (a & b).tolist() == [8, 2]
    assert tg.bitwise_or(a, b).tolist() == [14, 14]
    assert tg.bitwise_xor(a, b).tolist() == [6, 12]
    assert tg.bitwise_not(a).tolist() == [-13, -11]
    with pytest.raises(TypeError, match="bitwise_and"):
        tg.ones(2) & tg.ones(2)


def test_masks_index_and_assign():
    x = tg.tensor([[1.0, -2.0], [3.0, -4.0]], requires_grad=True)
    y = x[x > 0]
    assert y.tolist() == [1.0, 3.0]
    (y * tg.tensor([10.0, 20.0])).sum().backward()
    assert x.grad.tolist() == [[10.0, 0.0], [20.0, 0.0]]
    z = tg.zeros(2, 3)
    z[z == 0] = 5.0
    z[tg.tensor([True, False])] = tg.tensor([1.0, 2.0, 3.0])
    assert z.tolist() == [[1.0, 2.0, 3.0], [5.0, 5.0, 5.0]]
    assert tg.masked_select(tg.arange(4), tg.tensor([True, False, True, False])).tolist() == [0, 2]
    w = tg.arange(4.0)
    w.masked_fill_(w > 1, -1.0)
    assert w.tolist() == [0.0, 1.0, -1.0, -1.0]


def test_nonzero_and_count_nonzero():
    x = tg.tensor([[0, 3], [4, 0]])
    assert tg.nonzero(x).tolist() == [[0, 1], [1, 0]]
    rows, cols = x.nonzero(as_tuple=True)
    assert rows.tolist() == [0, 1] and cols.tolist() == [1, 0]
    assert tg.count_nonzero(x).item() == 2
    assert tg.count_nonzero(x, dim=0).tolist() == [1, 1]


def test_sum_of_bool_and_int32_is_int64():
    assert (tg.tensor([1.0, 2.0]) > 0).sum().dtype == tg.int64
    assert tg.tensor([1, 2], dtype=tg.int32).sum().dtype == tg.int64
    assert tg.tensor([True, True]).sum().item() == 2
    assert tg.tensor([1, 2]).sum(dtype=tg.float64).dtype == F64
    assert tg.tensor([2, 3]).prod(dtype=tg.float32).dtype == tg.float32


def test_numpy_bool_and_int32_round_trip():
    b = np.array([True, False])
    t = tg.tensor(b)
    assert t.dtype == tg.bool and t.numpy().dtype == np.bool_
    i = tg.from_numpy(np.array([1, 2], dtype=np.int32))
    assert i.dtype == tg.int32 and i.numpy().dtype == np.int32


@pytest.mark.parametrize("a, b", [("bool", "int32"), ("int32", "int64"), ("int32", "float32"),
                                  ("bool", "float64"), ("int64", "float32"),
                                  ("float32", "float64")])
def test_type_promotion_matches_torch(a, b):
    torch = _torch()
    ta, tb = getattr(tg, a), getattr(tg, b)
    x, y = tg.ones(2, dtype=ta), tg.ones(2, dtype=tb)
    tx, ty = torch.ones(2, dtype=getattr(torch, a)), torch.ones(2, dtype=getattr(torch, b))
    for f in (lambda u, v: u * v, lambda u, v: u + v):
        if "bool" in (a, b) and a == b:
            continue
        assert f(x, y).dtype.name == str(f(tx, ty).dtype).split(".")[1]
    # 0-d tensors and Python numbers decide only when of a higher category
    for scalar in (2, 2.5, True):
        ours = (x * scalar).dtype.name
        ref = str((tx * scalar).dtype).split(".")[1]
        assert ours == ref, (a, scalar)
    assert (x * tg.tensor(2.0, dtype=F64)).dtype.name == \
        str((tx * torch.tensor(2.0, dtype=torch.float64)).dtype).split(".")[1]


def test_dtype_aliases_and_conversions():
    assert tg.float is tg.float32 and tg.double is tg.float64
    assert tg.long is tg.int64 and tg.int is tg.int32 and tg.bool is tg.dtype.bool
    x = tg.tensor([1.5, -2.5, 0.0])
    assert x.bool().tolist() == [True, True, False]
    assert x.int().dtype == tg.int32 and x.int().tolist() == [1, -2, 0]
    assert x.long().dtype == tg.int64
    assert x.double().dtype == F64 and x.float() is x
    assert x.type(tg.int32).dtype == tg.int32 and x.type() == "tapegrad.float32"
    assert x.to(tg.float64).dtype == F64 and x.to(tg.zeros(1, dtype=tg.int64)).dtype == tg.int64
    assert x.to("cpu") is x and x.cpu() is x
    with pytest.raises(RuntimeError, match="cuda"):
        x.to("cuda")


def test_empty_like_and_full_like():
    x = tg.zeros(2, 3, dtype=F64)
    assert tg.empty_like(x).shape == (2, 3) and tg.empty_like(x).dtype == F64
    assert tg.full_like(x, 7).tolist() == [[7.0] * 3] * 2
    assert tg.full_like(x, 1, dtype=tg.int32).dtype == tg.int32


def test_argmax_argmin_match_numpy():
    a = np.array([[1.0, 5.0, 5.0], [7.0, 2.0, 7.0]])
    x = tg.tensor(a)
    assert tg.argmax(x).item() == np.argmax(a)
    assert x.argmax(1).tolist() == np.argmax(a, 1).tolist()
    assert x.argmin(0, keepdim=True).shape == (1, 3)
    assert tg.argmin(x, dim=1).tolist() == np.argmin(a, 1).tolist()


def test_bool_ops_match_torch():
    torch = _torch()
    rng = np.random.default_rng(0)
    a = rng.integers(-3, 4, (3, 4))
    b = rng.integers(-3, 4, (3, 4))
    for name in ("logical_and", "logical_or", "logical_xor", "bitwise_and", "bitwise_or",
                 "bitwise_xor", "eq", "lt", "floor_divide", "remainder"):
        if name in ("floor_divide", "remainder"):
            b = np.where(b == 0, 1, b)
        ours = getattr(tg, name)(tg.tensor(a), tg.tensor(b))
        ref = getattr(torch, name)(torch.tensor(a), torch.tensor(b))
        np.testing.assert_array_equal(ours.numpy(), ref.numpy(), err_msg=name)
        assert ours.dtype.name == str(ref.dtype).split(".")[1]


# --- the small API points scripts trip on ---------------------------------------------


def test_functional_forms_and_operators():
    a, b = tg.tensor([7.0, -7.0]), tg.tensor([2.0, 2.0])
    assert tg.add(a, b, alpha=2).tolist() == [11.0, -3.0]
    assert tg.sub(a, 1, alpha=3).tolist() == [4.0, -10.0]
    assert tg.mul(a, b).tolist() == [14.0, -14.0]
    assert tg.div(a, b).tolist() == [3.5, -3.5]
    assert tg.true_divide(tg.tensor([1, 2]), 2).tolist() == [0.5, 1.0]
    assert tg.pow(b, 3).tolist() == [8.0, 8.0]
    assert tg.div(a, b, rounding_mode="floor").tolist() == [3.0, -4.0]
    assert tg.div(a, b, rounding_mode="trunc").tolist() == [3.0, -3.0]
    assert (a // b).tolist() == [3.0, -4.0] and (a % 3).tolist() == [1.0, 2.0]
    assert (tg.tensor([7, -7]) // 2).tolist() == [3, -4]
    with pytest.raises(RuntimeError, match="rounding_mode"):
        tg.div(a, b, rounding_mode="round")


def test_axis_and_keepdims_aliases():
    x = tg.ones(2, 3)
    assert x.sum(axis=1).tolist() == [3.0, 3.0]
    assert x.mean(axis=0, keepdims=True).shape == (1, 3)


def test_sum_over_empty_dims_reduces_everything():
    x = tg.ones(2, 3)
    assert x.sum(()).item() == 6.0
    assert x.sum(dim=[]).item() == 6.0


def test_neg_of_0d_and_format():
    t = tg.tensor(1.5)
    assert t.neg().item() == -1.5
    assert f"{t:.2f}" == "1.50"
    assert f"{tg.tensor(3):d}" == "3"


def test_integer_powers():
    assert (tg.tensor(5) ** tg.tensor(23)).item() == 5 ** 23 % 2 ** 64 - (2 ** 64 if 5 ** 23 %
                                                                          2 ** 64 >= 2 ** 63
                                                                          else 0)
    assert (tg.tensor([2, -1, 1, 0]) ** tg.tensor([-1, -3, -2, 2])).tolist() == [0, -1, 1, 0]
    with pytest.raises(RuntimeError, match="negative integer powers"):
        tg.tensor([2, 3]) ** -1


def test_second_derivative_of_power_zero_at_zero():
    x = tg.tensor(0.0, dtype=F64, requires_grad=True)
    (g,) = tg.autograd.grad(x ** 0.0, x, create_graph=True)
    (gg,) = tg.autograd.grad(g, x)
    assert g.item() == 0.0 and gg.item() == 0.0


def test_non_adjacent_index_arrays_and_lists_match_torch():
    torch = _torch()
    a = np.arange(60.0).reshape(3, 4, 5)
    x, t = tg.tensor(a), torch.tensor(a)
    for key in ([0, 2], ([0, 2], slice(None), [1, 3]), (slice(None), [0, 1], [2, 3]),
                (1, [0, 1], [2, 3]), ([[0], [2]], slice(1, 3), [1, 4]), (Ellipsis, [0, 4]),
                (None, [1, 2], 0), (tg.tensor([True, False, True]),)):
        tkey = tuple(torch.tensor(k.tolist()) if isinstance(k, tg.Tensor) else k
                     for k in (key if isinstance(key, tuple) else (key,)))
        ours, ref = x[key], t[tkey]
        assert ours.shape == tuple(ref.shape), key
        np.testing.assert_array_equal(ours.numpy(), ref.numpy())


def test_shape_errors_are_runtime_errors_as_in_torch():
    with pytest.raises(RuntimeError):
        tg.ones(2, 3) @ tg.ones(2, 3)
    with pytest.raises(RuntimeError):
        tg.ones(6).reshape(4)
    with pytest.raises(RuntimeError):
        tg.ones(2, 3).permute(0)
    with pytest.raises(RuntimeError):
        tg.ones(3) + tg.ones(4)


def test_ops_keep_their_schema_and_docstrings():
    import inspect

    sig = inspect.signature(tg.add)
    assert list(sig.parameters) == ["input", "other", "alpha"]
    assert sig.parameters["alpha"].kind is inspect.Parameter.KEYWORD_ONLY
    assert ">>>" in tg.add.__doc__ and ">>>" in tg.Tensor.sum.__doc__
    with pytest.raises(TypeError, match="exp"):
        tg.exp(2.0)
    with pytest.raises(TypeError, match="unexpected keyword"):
        tg.ones(2).sum(dims=0)


# --- custom autograd Functions -----------------------------------------------------------


class LegendrePolynomial3(tg.autograd.Function):
    """P3(x) = ½(5x³ − 3x), the PyTorch tutorial's example."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)


class MyReLU(tg.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0
        return grad_input


def test_tutorial_functions():
    x = tg.tensor([-1.0, 0.5, 2.0], dtype=F64, requires_grad=True)
    y = LegendrePolynomial3.apply(x)
    assert y.grad_fn.name() == "LegendrePolynomial3Backward"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 1.5 * (5 * x.detach().numpy() ** 2 - 1))
    assert tg.autograd.gradcheck(LegendrePolynomial3.apply, (x,))
    # the backward is written with ops, so it differentiates again
    assert tg.autograd.gradgradcheck(LegendrePolynomial3.apply, (x,))
    z = tg.tensor([-1.0, 2.0], requires_grad=True)
    MyReLU.apply(z).sum().backward()
    assert z.grad.tolist() == [0.0, 1.0]


def test_function_with_non_tensor_args_and_needs_input_grad():
    seen = {}

    class Scale(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x, factor, y):
            seen["needs"] = ctx.needs_input_grad
            ctx.factor = factor
            return x * factor + y

        @staticmethod
        def backward(ctx, g):
            return g * ctx.factor, None, g

    x = tg.ones(2, requires_grad=True)
    y = tg.ones(2)
    Scale.apply(x, 3.0, y).sum().backward()
    assert seen["needs"] == (True, False, False)
    assert x.grad.tolist() == [3.0, 3.0]


def test_function_errors_and_non_differentiable_outputs():
    class Bad(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g, g

    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        Bad.apply(tg.ones(2, requires_grad=True)).sum().backward()

    class SortWithIndex(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            idx = tg.argmax(x, keepdim=True)
            ctx.mark_non_differentiable(idx)
            return x * 1, idx

        @staticmethod
        def backward(ctx, g, g_idx):
            assert g_idx is None or not g_idx.requires_grad
            return g

    out, idx = SortWithIndex.apply(tg.ones(3, requires_grad=True))
    assert out.requires_grad and not idx.requires_grad


def test_saved_tensor_modified_in_place_raises_in_function():
    x = tg.ones(2, requires_grad=True)
    h = x * 1
    y = LegendrePolynomial3.apply(h)
    h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_saving_an_output_keeps_no_cycle_and_works():
    import gc
    import weakref

    class Exp(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * y

    x = tg.tensor([0.0, 1.0], dtype=F64, requires_grad=True)
    y = Exp.apply(x)
    assert tg.autograd.gradgradcheck(Exp.apply, (x,))
    ref = weakref.ref(y)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([0.0, 1.0]))
    del y
    gc.collect()
    assert ref() is None


def test_once_differentiable():
    class Cube(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        @tg.autograd.once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x ** 2

    x = tg.tensor([2.0], requires_grad=True)
    (g,) = tg.autograd.grad(Cube.apply(x), x)
    assert g.item() == 12.0
    v = tg.ones(1, requires_grad=True)
    (g,) = tg.autograd.grad(Cube.apply(x), x, grad_outputs=v, create_graph=True)
    assert g.item() == 12.0
    with pytest.raises(RuntimeError, match="once_differentiable"):
        g.backward()


def test_function_jvp():
    class Square(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_forward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

        @staticmethod
        def jvp(ctx, t):
            (x,) = ctx.saved_tensors
            return 2 * x * t

    x = tg.tensor([1.0, 3.0], dtype=F64)
    _, jv = tg.autograd.functional.jvp(Square.apply, x, tg.ones(2, dtype=F64))
    assert jv.tolist() == [2.0, 6.0]


def test_functions_match_torch():
    torch = _torch()

    def run(lib):
        class P3(lib.autograd.Function):
            @staticmethod
            def forward(ctx, input):
                ctx.save_for_backward(input)
                return 0.5 * (5 * input ** 3 - 3 * input)

            @staticmethod
            def backward(ctx, grad_output):
                (input,) = ctx.saved_tensors
                return grad_output * 1.5 * (5 * input ** 2 - 1)

        x = lib.tensor([-0.7, 0.3, 1.1], dtype=lib.float64, requires_grad=True)
        y = P3.apply(x * 2)
        (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad((g * g).sum(), x)
        return y.detach().numpy(), g.detach().numpy(), gg.numpy()

    for ours, ref in zip(run(tg), run(torch)):
        np.testing.assert_allclose(ours, ref, rtol=1e-12)


# --- hooks ------------------------------------------------------------------------------


def test_tensor_hooks_on_leaves_and_non_leaves():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    h1 = x.register_hook(lambda g: seen.append(g.tolist()))
    y = x * 3
    y.register_hook(lambda g: g * 10)  # replaces the gradient flowing into y
    y.sum().backward()
    assert seen == [[30.0, 30.0]]
    assert x.grad.tolist() == [30.0, 30.0]
    h1.remove()
    x.grad = None
    (x * 1).sum().backward()
    assert seen == [[30.0, 30.0]] and x.grad.tolist() == [1.0, 1.0]
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        tg.ones(2).register_hook(lambda g: g)


def test_retain_grad():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    assert y.retains_grad
    (y * y).sum().backward()
    assert y.grad.tolist() == [4.0, 8.0]
    assert x.grad.tolist() == [8.0, 16.0]


def test_post_accumulate_grad_hook():
    w = tg.ones(2, requires_grad=True)
    calls = []
    w.register_post_accumulate_grad_hook(lambda t: calls.append(t.grad.tolist()))
    (w * 2).sum().backward()
    (w * 3).sum().backward()
    assert calls == [[2.0, 2.0], [5.0, 5.0]]
    with pytest.raises(RuntimeError, match="non-leaf"):
        (w * 1).register_post_accumulate_grad_hook(lambda t: None)


def test_hooks_match_torch():
    torch = _torch()

    def run(lib):
        x = lib.tensor([1.0, -2.0, 3.0], dtype=lib.float64, requires_grad=True)
        h = x * x
        h.register_hook(lambda g: g.clamp(max=1.0))
        h.retain_grad()
        out = (h * lib.tensor([0.5, 2.0, 3.0], dtype=lib.float64)).sum()
        out.backward()
        return x.grad.numpy(), h.grad.numpy()

    for ours, ref in zip(run(tg), run(torch)):
        np.testing.assert_allclose(ours, ref)


def test_module_forward_hooks():
    lin = tg.nn.Linear(2, 2)
    calls = []
    pre = lin.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    post = lin.register_forward_hook(lambda m, args, out: calls.append(out.shape) or out + 1)
    out = lin(tg.ones(3, 2))
    assert calls == [(3, 2)]
    expected = (lin.bias + 1).detach().numpy()[None].repeat(3, 0)
    np.testing.assert_allclose(out.detach().numpy(), expected)
    pre.remove()
    post.remove()
    out = lin(tg.ones(1, 2))
    assert calls == [(3, 2)]
    kw = lin.register_forward_pre_hook(lambda m, args, kwargs: ((args[0] * 2,), kwargs),
                                       with_kwargs=True)
    doubled = lin(tg.ones(1, 2))
    kw.remove()
    np.testing.assert_allclose(doubled.detach().numpy(), lin(tg.full((1, 2), 2.0)).detach().numpy())


# --- forward mode that nests ----------------------------------------------------------------


def test_nested_jvp_gives_second_directional_derivatives():
    jvp = tg.autograd.functional.jvp
    f = lambda x: (x ** 3).sum()  # noqa: E731
    x = tg.tensor([1.0, 2.0], dtype=F64)
    u = tg.tensor([1.0, 0.5], dtype=F64)
    v = tg.tensor([0.3, -1.0], dtype=F64)

    def directional(x):
        return jvp(f, x, u)[1]  # ∇f·u = Σ 3x²u

    _, second = jvp(directional, x, v)  # uᵀ∇²f v = Σ 6x·u·v
    assert second.item() == pytest.approx(float(np.sum(6 * np.array([1.0, 2.0]) *
                                                     np.array([1.0, 0.5]) *
                                                     np.array([0.3, -1.0]))))


def test_forward_over_reverse_hessian_vector_product():
    a = np.array([[2.0, 1.0], [1.0, 3.0]])
    at = tg.tensor(a)
    x = tg.tensor([0.5, -1.0], dtype=F64, requires_grad=True)
    v = tg.tensor([1.0, 2.0], dtype=F64)

    def grad_f(x):
        loss = 0.5 * tg.dot(x, at @ x) + (x ** 4).sum()
        (g,) = tg.autograd.grad(loss, x, create_graph=True)
        return g

    _, hv = tg.autograd.functional.jvp(grad_f, x, v)
    h = a + np.diag(12 * np.array([0.5, -1.0]) ** 2)
    np.testing.assert_allclose(hv.numpy(), h @ np.array([1.0, 2.0]))


def test_forward_ad_api_levels():
    x = tg.tensor([1.0, 2.0], dtype=F64)
    with fwAD.dual_level() as outer:
        xd = fwAD.make_dual(x, tg.ones(2, dtype=F64))
        with fwAD.dual_level() as inner:
            xdd = fwAD.make_dual(xd, tg.tensor([1.0, 0.0], dtype=F64))
            y = (xdd ** 3).sum()
            primal, t_inner = fwAD.unpack_dual(y, level=inner)
            assert t_inner.item() == pytest.approx(3.0)  # 3x₀²
            _, tt = fwAD.unpack_dual(t_inner, level=outer)
            assert tt.item() == pytest.approx(6.0)  # 6x₀
        _, t_outer = fwAD.unpack_dual(primal, level=outer)
        assert t_outer.item() == pytest.approx(15.0)  # 3(1 + 4)
    assert fwAD.unpack_dual(y).tangent is None
    with pytest.raises(RuntimeError):
        fwAD.make_dual(x, tg.ones(3, dtype=F64))


def test_nested_forward_matches_torch():
    torch = _torch()

    def run(lib, jvp):
        x = lib.tensor([0.3, -0.8, 1.2], dtype=lib.float64)
        u = lib.tensor([1.0, 2.0, -1.0], dtype=lib.float64)
        v = lib.tensor([0.5, 0.5, 0.25], dtype=lib.float64)
        f = lambda z: (z.sin() * z.exp()).sum()  # noqa: E731
        return jvp(lambda z: jvp(f, (z,), (u,))[1], (x,), (v,))[1].item()

    import warnings

    ours = run(tg, lambda f, xs, vs: tg.autograd.functional.jvp(f, xs, vs))
    with warnings.catch_warnings():  # torch.func's import warns about torch.jit
        warnings.simplefilter("ignore", DeprecationWarning)
        ref = run(torch, lambda f, xs, vs: torch.func.jvp(f, xs, vs))
    assert ours == pytest.approx(ref, rel=1e-12)


def test_math_is_untouched():
    assert math.isclose(tg.tensor(2.0).sqrt().item(), math.sqrt(2.0), rel_tol=1e-7)
