"""Autograd: the lecture notes' worked examples, graph mechanics, grad modes, threads."""

import re
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest
import tapegrad as tg
from tapegrad.autograd.gradcheck import GradcheckError  # as torch.autograd.gradcheck's

F64 = tg.float64


def scalar(v, requires_grad=True, dtype=F64):
    return tg.tensor(v, dtype=dtype, requires_grad=requires_grad)


POINTS = [(1.0, 2.0), (-0.5, 3.0), (2.5, -1.25), (0.0, 0.0), (-3.0, -4.0)]


# --- worked example 1: f(x, y) = x²y + (x+y)² -----------------------------------


def f1(x, y):
    return x * x * y + (x + y) ** 2


@pytest.mark.parametrize("xv, yv", POINTS)
def test_lecture_f_gradient(xv, yv):
    x, y = scalar(xv), scalar(yv)
    f = f1(x, y)
    assert f.item() == pytest.approx(xv * xv * yv + (xv + yv) ** 2, rel=1e-14, abs=1e-14)
    f.backward()
    assert x.grad.item() == pytest.approx(2 * xv * yv + 2 * (xv + yv), rel=1e-14, abs=1e-14)
    assert y.grad.item() == pytest.approx(xv ** 2 + 2 * (xv + yv), rel=1e-14, abs=1e-14)


@pytest.mark.parametrize("xv, yv", POINTS)
def test_lecture_f_gradient_via_autograd_grad(xv, yv):
    x, y = scalar(xv), scalar(yv)
    gx, gy = tg.autograd.grad(f1(x, y), (x, y))
    assert isinstance(gx, tg.Tensor) and isinstance(gy, tg.Tensor)
    assert gx.item() == pytest.approx(2 * xv * yv + 2 * (xv + yv), rel=1e-14, abs=1e-14)
    assert gy.item() == pytest.approx(xv ** 2 + 2 * (xv + yv), rel=1e-14, abs=1e-14)
    assert x.grad is None and y.grad is None  # autograd.grad doesn't touch .grad


@pytest.mark.parametrize("xv, yv", POINTS)
def test_lecture_f_hessian(xv, yv):
    x, y = scalar(xv), scalar(yv)
    gx, gy = tg.autograd.grad(f1(x, y), (x, y), create_graph=True)
    assert gx.requires_grad and gy.requires_grad
    hxx, hxy = tg.autograd.grad(gx, (x, y), retain_graph=True)
    hyx, hyy = tg.autograd.grad(gy, (x, y))
    expected = [[2 * yv + 2, 2 * xv + 2], [2 * xv + 2, 2.0]]
    got = [[hxx.item(), hxy.item()], [hyx.item(), hyy.item()]]
    np.testing.assert_allclose(got, expected, rtol=1e-14, atol=1e-14)


def test_lecture_f_vectorized_float32():
    xs = np.array([p[0] for p in POINTS], dtype=np.float32)
    ys = np.array([p[1] for p in POINTS], dtype=np.float32)
    x = tg.tensor(xs, requires_grad=True)
    y = tg.tensor(ys, requires_grad=True)
    f1(x, y).sum().backward()
    assert x.grad.dtype == tg.float32
    np.testing.assert_allclose(x.grad.numpy(), 2 * xs * ys + 2 * (xs + ys), rtol=1e-6)
    np.testing.assert_allclose(y.grad.numpy(), xs ** 2 + 2 * (xs + ys), rtol=1e-6)


# --- worked example 2: f = (x1 + w1)² (x1 w1 + x2 w2) -----------------------------


def f2(x1, x2, w1, w2):
    return (x1 + w1) ** 2 * (x1 * w1 + x2 * w2)


@pytest.mark.parametrize("vals", [(1.0, 2.0, 3.0, 4.0), (-1.5, 0.5, 2.0, -3.0),
                                  (0.25, -2.0, -0.25, 1.0)])
def test_lecture_neuron_gradient(vals):
    x1v, x2v, w1v, w2v = vals
    x1, x2 = scalar(x1v, requires_grad=False), scalar(x2v, requires_grad=False)
    w1, w2 = scalar(w1v), scalar(w2v)
    f = f2(x1, x2, w1, w2)
    s, p = x1v + w1v, x1v * w1v + x2v * w2v
    assert f.item() == pytest.approx(s * s * p, rel=1e-14)
    f.backward()
    assert w1.grad.item() == pytest.approx(2 * s * p + s * s * x1v, rel=1e-13, abs=1e-14)
    assert w2.grad.item() == pytest.approx(s * s * x2v, rel=1e-13, abs=1e-14)
    assert x1.grad is None and x2.grad is None


def test_lecture_neuron_gradient_all_inputs():
    x1v, x2v, w1v, w2v = 0.5, -1.0, 1.5, 2.0
    ts = [scalar(v) for v in (x1v, x2v, w1v, w2v)]
    g = tg.autograd.grad(f2(*ts), ts)
    s, p = x1v + w1v, x1v * w1v + x2v * w2v
    expected = [2 * s * p + s * s * w1v, s * s * w2v, 2 * s * p + s * s * x1v, s * s * x2v]
    np.testing.assert_allclose([t.item() for t in g], expected, rtol=1e-14)


# --- graph mechanics -----------------------------------------------------------


def test_fan_out_accumulates():
    x = tg.tensor([1.0, -2.0, 0.5], dtype=F64, requires_grad=True)
    y = x * x + x * 3  # x is used three times
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.array([1.0, -2.0, 0.5]) + 3)


def test_fan_out_through_non_leaf():
    x = tg.tensor(2.0, dtype=F64, requires_grad=True)
    h = x * x  # h used by three consumers
    (h * h + h.exp() + h).backward()
    # d/dx [x^4 + exp(x^2) + x^2] = 4x^3 + 2x exp(x^2) + 2x
    assert x.grad.item() == pytest.approx(32 + 4 * np.exp(4.0) + 4, rel=1e-14)


def test_gradients_accumulate_across_backward_calls():
    x = tg.tensor([1.0, 2.0], dtype=F64, requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 7.0])


def test_retain_graph_allows_second_backward():
    x = tg.tensor([1.0, 2.0], dtype=F64, requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first, rtol=1e-15)
    np.testing.assert_allclose(first, np.exp([1.0, 2.0]) * (np.array([1.0, 2.0]) + 1))


def test_second_backward_without_retain_graph_raises():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError):
        y.backward()
    # the grads of the first backward are intact
    assert x.grad.tolist() == [2.0, 4.0]


def test_saved_tensors_freed_after_backward_of_shared_subgraph():
    x = tg.tensor(1.5, dtype=F64, requires_grad=True)
    h = x.exp()
    a = h * 2
    a.backward()  # frees h's node too
    with pytest.raises(RuntimeError):
        (h * 3).backward()


def test_backward_with_explicit_gradient():
    x = tg.tensor([1.0, 2.0, 3.0], dtype=F64, requires_grad=True)
    y = x * x
    y.backward(tg.tensor([1.0, 0.5, -1.0], dtype=F64))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0, -6.0])


def test_backward_of_0d_output_with_explicit_gradient():
    x = tg.tensor(3.0, requires_grad=True)
    (x * x).backward(tg.tensor(2.0))
    assert x.grad.item() == 12.0


def test_autograd_backward_of_several_tensors():
    x = tg.tensor([1.0, 2.0], dtype=F64, requires_grad=True)
    a = (x * x).sum()
    b = x * 3
    tg.autograd.backward([a, b], [None, tg.tensor([1.0, -1.0], dtype=F64)])
    np.testing.assert_allclose(x.grad.numpy(), [2.0 + 3.0, 4.0 - 3.0])


def test_autograd_backward_single_scalar():
    x = tg.tensor([1.0, 2.0], dtype=F64, requires_grad=True)
    tg.autograd.backward((x * x).sum())
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


def test_leaf_grads_are_separate_buffers():
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = tg.tensor([4.0, 5.0, 6.0], requires_grad=True)
    z = x + y
    g = tg.tensor([1.0, 1.0, 1.0])
    z.backward(g)
    assert x.grad is not y.grad
    assert not np.shares_memory(x.grad.numpy(), y.grad.numpy())
    assert not np.shares_memory(x.grad.numpy(), g.numpy())
    # accumulating into x.grad must not change y.grad or the gradient passed in
    (x * 3).sum().backward()
    assert x.grad.tolist() == [4.0, 4.0, 4.0]
    assert y.grad.tolist() == [1.0, 1.0, 1.0]
    assert g.tolist() == [1.0, 1.0, 1.0]
    (x + y).backward(g)
    assert x.grad.tolist() == [5.0, 5.0, 5.0]
    assert y.grad.tolist() == [2.0, 2.0, 2.0]
    assert g.tolist() == [1.0, 1.0, 1.0]


def test_leaf_grad_does_not_alias_the_seed_through_identity_ops():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x.reshape(2)  # an identity-shaped op
    g = tg.tensor([1.0, 1.0])
    y.backward(g)
    (x * 1.0).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]
    assert g.tolist() == [1.0, 1.0]


def test_grad_of_non_leaf_is_not_kept_and_leaf_flags():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    assert x.is_leaf and not y.is_leaf
    assert x.grad_fn is None and y.grad_fn is not None
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]
    c = tg.tensor([1.0, 2.0])
    assert c.is_leaf and not c.requires_grad


def test_requires_grad_setter_on_leaf():
    x = tg.tensor([1.0, 2.0])
    assert not (x * 2).requires_grad
    x.requires_grad = True
    assert x.requires_grad
    y = x * 2
    assert y.requires_grad
    x.requires_grad = False
    assert not (x * 2).requires_grad
    z = tg.ones(2).requires_grad_()
    assert z.requires_grad
    assert z.requires_grad_(False) is z and not z.requires_grad


def test_detach_stops_gradient():
    x = tg.tensor([1.0, 2.0], dtype=F64, requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    (x * d).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 2.0])


def test_mixed_dtype_promotion_and_grad_dtypes():
    a = tg.tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    b = tg.tensor(np.array([3.0, 4.0], dtype=np.float64), requires_grad=True)
    c = a * b
    assert c.dtype == tg.float64
    c.sum().backward()
    assert a.grad.dtype == tg.float32
    assert b.grad.dtype == tg.float64
    assert a.grad.tolist() == [3.0, 4.0]
    assert b.grad.tolist() == [1.0, 2.0]


def test_mixed_dtype_matmul_and_where():
    a = tg.tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    b = tg.tensor(np.full((3,), 2.0), requires_grad=True)
    y = a @ b
    assert y.dtype == tg.float64
    y.sum().backward()
    assert a.grad.dtype == tg.float32 and b.grad.dtype == tg.float64
    np.testing.assert_allclose(a.grad.numpy(), np.full((2, 3), 2.0))
    np.testing.assert_allclose(b.grad.numpy(), np.full(3, 2.0))


def test_int64_cannot_require_grad():
    with pytest.raises(RuntimeError):
        tg.tensor([1, 2], requires_grad=True)
    t = tg.tensor([1, 2])
    with pytest.raises(RuntimeError):
        t.requires_grad_()
    with pytest.raises(RuntimeError):
        t.requires_grad = True
    assert not t.requires_grad
    with pytest.raises(RuntimeError):
        tg.zeros(2, dtype=tg.int64, requires_grad=True)


def test_int_tensor_in_graph_gets_no_grad():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    i = tg.tensor([3, 4])
    (x * i).sum().backward()
    assert x.grad.tolist() == [3.0, 4.0]
    assert i.grad is None


# --- grad modes --------------------------------------------------------------------


def test_no_grad_records_nothing():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    assert tg.is_grad_enabled()
    with tg.no_grad():
        assert not tg.is_grad_enabled()
        y = x * 2 + x.exp()
        z = (x @ x).tanh()
    assert tg.is_grad_enabled()
    for t in (y, z):
        assert not t.requires_grad
        assert t.grad_fn is None
        assert t.is_leaf
    np.testing.assert_allclose(y.numpy(), [2 + np.exp(1.0), 4 + np.exp(2.0)], rtol=1e-6)


def test_no_grad_decorator():
    @tg.no_grad()
    def f(t):
        assert not tg.is_grad_enabled()
        return t * t

    x = tg.tensor([1.0], requires_grad=True)
    y = f(x)
    assert not y.requires_grad and y.grad_fn is None
    assert tg.is_grad_enabled()
    assert f.__name__ == "f"


def test_enable_grad_inside_no_grad():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with tg.no_grad():
        with tg.enable_grad():
            assert tg.is_grad_enabled()
            y = x * x
        assert not tg.is_grad_enabled()
        z = x * x
    assert y.requires_grad and y.grad_fn is not None
    assert not z.requires_grad
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 4.0]


def test_enable_grad_decorator_inside_no_grad():
    @tg.enable_grad()
    def f(t):
        return t * 3

    x = tg.tensor([1.0], requires_grad=True)
    with tg.no_grad():
        y = f(x)
    assert y.requires_grad


def test_set_grad_enabled_function_and_context():
    x = tg.tensor([1.0], requires_grad=True)
    try:
        tg.set_grad_enabled(False)
        assert not tg.is_grad_enabled()
        assert not (x * 2).requires_grad
        tg.set_grad_enabled(True)
        assert tg.is_grad_enabled()
        with tg.set_grad_enabled(False):
            assert not (x * 2).requires_grad
        assert tg.is_grad_enabled()
        with tg.no_grad():
            with tg.set_grad_enabled(True):
                assert (x * 2).requires_grad
            assert not tg.is_grad_enabled()
    finally:
        tg.set_grad_enabled(True)


def test_no_grad_restores_mode_after_exception():
    with pytest.raises(ZeroDivisionError), tg.no_grad():
        _ = 1 / 0
    assert tg.is_grad_enabled()


def test_backward_inside_no_grad_still_computes_grads():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    with tg.no_grad():
        y.backward()
    assert x.grad.tolist() == [2.0, 4.0]


def test_grad_mode_is_thread_local():
    entered, release = threading.Event(), threading.Event()
    seen = {}

    def worker():
        with tg.no_grad():
            seen["worker"] = tg.is_grad_enabled()
            entered.set()
            release.wait(10)

    t = threading.Thread(target=worker)
    t.start()
    try:
        assert entered.wait(10)
        seen["main"] = tg.is_grad_enabled()
        x = tg.tensor([1.0], requires_grad=True)
        seen["main_records"] = (x * 2).requires_grad
    finally:
        release.set()
        t.join(10)
    assert seen == {"worker": False, "main": True, "main_records": True}


# --- higher derivatives ------------------------------------------------------------


def nth_derivative(fn, xv, n):
    x = tg.tensor(xv, dtype=F64, requires_grad=True)
    y = fn(x)
    for _ in range(n):
        (y,) = tg.autograd.grad(y, x, create_graph=True)
    return y.item()


@pytest.mark.parametrize("xv", [-1.5, 0.5, 2.0])
def test_third_derivative_of_x4(xv):
    assert nth_derivative(lambda x: x ** 4, xv, 1) == pytest.approx(4 * xv ** 3, rel=1e-14)
    assert nth_derivative(lambda x: x ** 4, xv, 2) == pytest.approx(12 * xv ** 2, rel=1e-14)
    assert nth_derivative(lambda x: x ** 4, xv, 3) == pytest.approx(24 * xv, rel=1e-14)
    assert nth_derivative(lambda x: x * x * x * x, xv, 3) == pytest.approx(24 * xv, rel=1e-14)
    assert nth_derivative(lambda x: x ** 4, xv, 4) == pytest.approx(24.0, rel=1e-14)


@pytest.mark.parametrize("xv", [-1.0, 0.0, 0.7])
def test_derivatives_of_x_exp_x(xv):
    # d^n/dx^n (x e^x) = e^x (x + n)
    for n in range(1, 5):
        got = nth_derivative(lambda x: x.exp() * x, xv, n)
        assert got == pytest.approx(np.exp(xv) * (xv + n), rel=1e-13, abs=1e-15)


@pytest.mark.parametrize("xv", [-0.8, 0.3])
def test_higher_derivatives_of_tanh_sigmoid_log(xv):
    t = np.tanh(xv)
    assert nth_derivative(lambda x: x.tanh(), xv, 2) == pytest.approx(-2 * t * (1 - t * t),
                                                                      rel=1e-13)
    s = 1 / (1 + np.exp(-xv))
    assert nth_derivative(lambda x: x.sigmoid(), xv, 2) == pytest.approx(
        s * (1 - s) * (1 - 2 * s), rel=1e-12)
    # log(x^2): d³/dx³ = 4 / x³
    assert nth_derivative(lambda x: (x * x).log(), xv, 3) == pytest.approx(4 / xv ** 3,
                                                                         rel=1e-12)


def test_create_graph_backward_gives_differentiable_grads():
    x = tg.tensor([1.0, 2.0], dtype=F64, requires_grad=True)
    (x ** 3).sum().backward(create_graph=True)
    g = x.grad
    assert g.requires_grad and g.grad_fn is not None
    np.testing.assert_allclose(g.detach().numpy(), [3.0, 12.0])
    (h,) = tg.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), [6.0, 12.0])


def test_grad_without_create_graph_is_not_differentiable():
    x = tg.tensor([1.0, 2.0], dtype=F64, requires_grad=True)
    (g,) = tg.autograd.grad((x ** 3).sum(), x)
    assert not g.requires_grad and g.grad_fn is None


# --- autograd.grad -----------------------------------------------------------------


def test_autograd_grad_non_leaf_inputs():
    x = tg.tensor([1.0, -2.0], dtype=F64, requires_grad=True)
    y = x * 2
    z = (y ** 2).sum()
    gy, gx = tg.autograd.grad(z, [y, x])
    np.testing.assert_allclose(gy.numpy(), [4.0, -8.0])
    np.testing.assert_allclose(gx.numpy(), [8.0, -16.0])
    assert x.grad is None


def test_autograd_grad_returns_tuple_and_accepts_single_tensor():
    x = tg.tensor(2.0, dtype=F64, requires_grad=True)
    res = tg.autograd.grad(x * x, x)
    assert isinstance(res, tuple) and len(res) == 1
    assert res[0].item() == 4.0


def test_autograd_grad_allow_unused():
    x = tg.tensor([1.0], requires_grad=True)
    u = tg.tensor([5.0], requires_grad=True)
    gx, gu = tg.autograd.grad((x * 3).sum(), [x, u], allow_unused=True)
    assert gx.tolist() == [3.0]
    assert gu is None


def test_autograd_grad_with_grad_outputs():
    x = tg.tensor([1.0, 2.0, 3.0], dtype=F64, requires_grad=True)
    (g,) = tg.autograd.grad(x * x, x, grad_outputs=tg.tensor([1.0, 0.0, 2.0], dtype=F64))
    np.testing.assert_allclose(g.numpy(), [2.0, 0.0, 12.0])


def test_autograd_grad_several_outputs_sum():
    x = tg.tensor([1.0, 2.0], dtype=F64, requires_grad=True)
    (g,) = tg.autograd.grad([(x * x).sum(), (x * 5).sum()], [x])
    np.testing.assert_allclose(g.numpy(), [7.0, 9.0])


def test_autograd_grad_retain_graph():
    x = tg.tensor([1.0, 2.0], dtype=F64, requires_grad=True)
    y = (x * x).sum()
    (g1,) = tg.autograd.grad(y, x, retain_graph=True)
    (g2,) = tg.autograd.grad(y, x)
    np.testing.assert_allclose(g1.numpy(), g2.numpy())
    with pytest.raises(RuntimeError):
        tg.autograd.grad(y, x)


# --- gradcheck itself can fail ---------------------------------------------------------


def test_gradcheck_detects_a_wrong_gradient():
    x = tg.tensor([1.0, 2.0, -0.5], dtype=F64, requires_grad=True)
    # d/dx (x.detach() * x) is reported as x, while the numbers say 2x.
    with pytest.raises(GradcheckError) as info:
        tg.autograd.gradcheck(lambda t: t.detach() * t, (x,))
    assert isinstance(info.value, RuntimeError)
    msg = str(info.value)
    # the worst entry is element 1 (x = 2): analytical 2.0 against numerical 4.0
    assert re.search(r"\b1\b", msg), msg
    assert "2.0" in msg and re.search(r"(4\.0|3\.99999)", msg), msg
    assert tg.autograd.gradcheck(lambda t: t.detach() * t, (x,), raise_exception=False) is False


def test_gradgradcheck_detects_a_wrong_second_derivative():
    x = tg.tensor([1.0, 2.0], dtype=F64, requires_grad=True)
    # first derivative of sum(x*x.detach()) w.r.t. x is x.detach(), whose own derivative
    # is reported as 0, while the finite differences of the vjp see 1.
    with pytest.raises(GradcheckError):
        tg.autograd.gradgradcheck(lambda t: t * t.detach(), (x,))


def test_gradcheck_accepts_a_right_gradient():
    x = tg.tensor([1.0, 2.0, -0.5], dtype=F64, requires_grad=True)
    y = tg.tensor([0.5, -1.0, 2.0], dtype=F64, requires_grad=True)
    assert tg.autograd.gradcheck(lambda a, b: (a * b).exp() + a / b, (x, y)) is True
    assert tg.autograd.gradgradcheck(lambda a, b: (a * b).exp() + a / b, (x, y)) is True


# --- threads, depth, shared sub-expressions ---------------------------------------------


def _run(code, timeout=60):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], check=False,
                          capture_output=True, text=True, timeout=timeout)


# The thread and depth tests run in a subprocess: a data race or a stack overflow that
# crashes the interpreter must fail the test, not kill pytest.


def test_two_threads_differentiate_their_own_graphs():
    r = _run("""
        import threading
        import numpy as np
        import tapegrad as tg

        errors, done = [], []

        def worker(seed):
            try:
                rng = np.random.default_rng(seed)
                for _ in range(300):
                    xv = rng.uniform(-2, 2, (3, 4))
                    wv = rng.uniform(-2, 2, (4, 2))
                    x = tg.tensor(xv, requires_grad=True)
                    w = tg.tensor(wv, requires_grad=True)
                    out = ((x @ w).tanh() * x.sum(dim=1, keepdim=True)).sum()
                    out.backward()
                    t = np.tanh(xv @ wv)
                    s = xv.sum(axis=1, keepdims=True)
                    dt = (1 - t * t) * s
                    gx = dt @ wv.T + t.sum(axis=1, keepdims=True) * np.ones_like(xv)
                    gw = xv.T @ dt
                    np.testing.assert_allclose(out.item(), (t * s).sum(), rtol=1e-12)
                    np.testing.assert_allclose(x.grad.numpy(), gx, rtol=1e-10, atol=1e-12)
                    np.testing.assert_allclose(w.grad.numpy(), gw, rtol=1e-10, atol=1e-12)
                done.append(seed)
            except BaseException as e:
                errors.append(repr(e))

        threads = [threading.Thread(target=worker, args=(s,)) for s in (1, 2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == [], errors
        assert sorted(done) == [1, 2]
        print("ok")
    """)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.strip() == "ok"


def test_two_threads_with_large_tensors():
    # Large operands take the kernels' parallel / GIL-released paths concurrently.
    r = _run("""
        import threading
        import numpy as np
        import tapegrad as tg

        errors, done = [], []

        def worker(seed):
            try:
                rng = np.random.default_rng(seed)
                for _ in range(15):
                    av = rng.standard_normal((160, 200))
                    bv = rng.standard_normal((200, 120))
                    a = tg.tensor(av, requires_grad=True)
                    b = tg.tensor(bv, requires_grad=True)
                    h = (a @ b).tanh()
                    loss = (h * h).mean() + a.exp().sum(dim=0).mean()
                    loss.backward()
                    t = np.tanh(av @ bv)
                    n = t.size
                    dh = 2 * t / n * (1 - t * t)
                    ga = dh @ bv.T + np.exp(av) / av.shape[1]
                    gb = av.T @ dh
                    np.testing.assert_allclose(loss.item(),
                                               (t * t).mean() + np.exp(av).sum(0).mean(),
                                               rtol=1e-12)
                    np.testing.assert_allclose(a.grad.numpy(), ga, rtol=1e-9, atol=1e-12)
                    np.testing.assert_allclose(b.grad.numpy(), gb, rtol=1e-9, atol=1e-12)
                done.append(seed)
            except BaseException as e:
                errors.append(repr(e))

        threads = [threading.Thread(target=worker, args=(s,)) for s in (3, 4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == [], errors
        assert sorted(done) == [3, 4]
        print("ok")
    """)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.strip() == "ok"


def test_two_threads_share_one_retained_graph():
    # PyTorch: concurrent backward over a shared graph with retain_graph=True is safe.
    r = _run("""
        import threading
        import numpy as np
        import tapegrad as tg

        xv = np.linspace(-1, 1, 50)
        x = tg.tensor(xv, requires_grad=True)
        y = (x.tanh() * x).sum()
        expected = np.tanh(xv) + xv / np.cosh(xv) ** 2
        errors = []

        def worker():
            try:
                for _ in range(200):
                    (g,) = tg.autograd.grad(y, x, retain_graph=True)
                    np.testing.assert_allclose(g.numpy(), expected, rtol=1e-12)
            except BaseException as e:
                errors.append(repr(e))

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == [], errors
        print("ok")
    """)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.strip() == "ok"


def test_deep_chain_does_not_crash():
    # In a subprocess: a recursion overflow in backward or in freeing the graph must fail
    # this test, not kill pytest.
    r = _run("""
        import tapegrad as tg
        for n in (10_000, 100_000):
            x = tg.tensor(1.0, dtype=tg.float64, requires_grad=True)
            y = x
            for _ in range(n):
                y = y * 1.0001
            y.backward()
            assert abs(x.grad.item() - 1.0001 ** n) <= 1e-9 * 1.0001 ** n, x.grad.item()
            del y
            # a deep graph that is dropped without backward
            z = x
            for _ in range(n):
                z = z + 1.0
            assert z.item() == 1.0 + n
            del z
            # a deep graph freed by backward, then its output dropped
            w = x
            for _ in range(n):
                w = w.tanh()
            w.backward()
            del w
        print("ok")
    """)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.strip() == "ok"


def test_dropping_a_graph_of_a_million_nodes():
    # Freeing used to recurse once per node (through the edges, and through the tensors
    # that rules save, which hold the node before): 300,000 nodes overflowed the stack.
    # (test_deep_chain_does_not_crash frees deep graphs after backward.)
    r = _run("""
        import tapegrad as tg
        x = tg.tensor(1.0, requires_grad=True)
        # dropped without backward; mul saves its input, which holds the previous node
        y = x
        for i in range(1_000_000):
            y = -y if i % 2 else y * 1.0
        del y
        print("ok")
    """, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.strip() == "ok"


def test_shared_subexpressions_are_fast():
    # Each of 60 layers uses the previous layer twice: 2**60 paths, 120 nodes.
    r = _run("""
        import time
        import tapegrad as tg
        x = tg.tensor([0.3, -0.7], dtype=tg.float64, requires_grad=True)
        y = x
        for _ in range(60):
            y = (y + y) * 0.5
        t0 = time.perf_counter()
        y.sum().backward()
        dt = time.perf_counter() - t0
        assert x.grad.tolist() == [1.0, 1.0], x.grad.tolist()
        x2 = tg.tensor(0.5, dtype=tg.float64, requires_grad=True)
        y2 = x2
        for _ in range(60):
            y2 = y2 * 0.5 + y2 * 0.5
        (g,) = tg.autograd.grad(y2, x2)
        assert g.item() == 1.0, g.item()
        print(dt)
    """, timeout=30)
    assert r.returncode == 0, r.stderr[-3000:]
    assert float(r.stdout.strip()) < 2.0
