"""Kinks, ties, extreme and non-finite inputs.

* The derivative conventions at kinks and ties (relu and abs at 0, clamp's bounds,
  max/min ties, maximum/minimum ties, norms at 0...), in reverse and forward mode:
  against PyTorch when it is installed, against the convention PyTorch documents
  (written out below) either way.
* log_softmax, logsumexp, softplus, sigmoid and softmax stay finite and accurate for
  inputs of ±1000 in float32, with finite gradients.
* inf and NaN propagate as IEEE arithmetic and PyTorch say, and never crash.
"""

import warnings

import numpy as np
import pytest
import tapegrad as tg

INF, NAN = float("inf"), float("nan")


def _softplus(m, x, **kw):
    if m is tg:
        return tg.softplus(x, **kw)
    return m.nn.functional.softplus(x, **kw)


def _diag(g):
    return np.diag(np.asarray(g, dtype=np.float64))


# --- kinks and ties -----------------------------------------------------------------
#
# name: (f(module, *inputs), input values, expected Jacobian d out / d inputs, as a
# matrix of shape (out.numel(), sum of in.numel()), by PyTorch's conventions).

KINKS = {
    # relu'(0) = 0
    "relu_at_0": (lambda m, x: x.relu(), [[-1.0, 0.0, 2.0]], _diag([0, 0, 1])),
    # abs'(0) = sign(0) = 0
    "abs_at_0": (lambda m, x: x.abs(), [[-1.5, 0.0, 2.0]], _diag([-1, 0, 1])),
    # the bounds are inclusive: clamp passes the gradient where min <= x <= max
    "clamp_bounds": (lambda m, x: x.clamp(-1.0, 1.0), [[-2.0, -1.0, 0.0, 1.0, 2.0]],
                     _diag([0, 1, 1, 1, 0])),
    "clamp_min_bound": (lambda m, x: x.clamp(min=0.0), [[-1.0, 0.0, 1.0]], _diag([0, 1, 1])),
    "clamp_max_bound": (lambda m, x: x.clamp(max=0.0), [[-1.0, 0.0, 1.0]], _diag([1, 1, 0])),
    "clamp_fn_bounds": (lambda m, x: m.clamp(x, min=0.5, max=0.5), [[0.0, 0.5, 1.0]],
                        _diag([0, 1, 0])),
    # max()/min() without dim: ties share the gradient evenly
    "max_all_ties": (lambda m, x: m.max(x), [[1.0, 3.0, 3.0, 0.0, 3.0]],
                     np.array([[0, 1 / 3, 1 / 3, 0, 1 / 3]])),
    "min_all_ties": (lambda m, x: x.min(), [[1.0, 0.0, 3.0, 0.0]], np.array([[0, 0.5, 0, 0.5]])),
    "max_all_all_equal": (lambda m, x: x.max(), [[2.0, 2.0, 2.0, 2.0]], np.full((1, 4), 0.25)),
    "max_all_ties_2d": (lambda m, x: x.max(), [[[1.0, 4.0], [4.0, -1.0]]],
                        np.array([[0, 0.5, 0.5, 0]])),
    # maximum/minimum: a tie sends half the gradient to each side
    "maximum_ties": (lambda m, x, y: m.maximum(x, y), [[1.0, 2.0, 3.0], [1.0, 0.0, 3.0]],
                     np.hstack([_diag([0.5, 1, 0.5]), _diag([0.5, 0, 0.5])])),
    "minimum_ties": (lambda m, x, y: m.minimum(x, y), [[1.0, 2.0, 3.0], [1.0, 0.0, 3.0]],
                     np.hstack([_diag([0.5, 0, 0.5]), _diag([0.5, 1, 0.5])])),
    "max_binary_ties": (lambda m, x, y: m.max(x, y), [[5.0, -1.0], [5.0, 2.0]],
                        np.hstack([_diag([0.5, 0]), _diag([0.5, 1])])),
    "maximum_same_tensor": (lambda m, x: m.maximum(x, x), [[1.0, -2.0]], _diag([1, 1])),
    # norms at 0: gradient 0, not nan
    "norm_2_at_0": (lambda m, x: m.norm(x), [[0.0, 0.0, 0.0]], np.zeros((1, 3))),
    "norm_2_at_0_method": (lambda m, x: x.norm(), [[[0.0, 0.0], [0.0, 0.0]]], np.zeros((1, 4))),
    "norm_2_dim_zero_row": (lambda m, x: m.norm(x, dim=1), [[[0.0, 0.0], [3.0, 4.0]]],
                            np.array([[0, 0, 0, 0], [0, 0, 0.6, 0.8]])),
    "norm_1_at_0": (lambda m, x: m.norm(x, p=1), [[0.0, -2.0, 0.0]], np.array([[0, -1, 0]])),
    "norm_inf_at_0": (lambda m, x: m.norm(x, p=INF), [[0.0, 0.0]], np.zeros((1, 2))),
    "norm_3_at_0": (lambda m, x: m.norm(x, p=3), [[0.0, 0.0, 0.0]], np.zeros((1, 3))),
    "norm_1_5_at_0": (lambda m, x: m.norm(x, p=1.5), [[0.0, 0.0]], np.zeros((1, 2))),
    # the inf-norm is a max of |x|: ties share evenly, with the sign of x
    "norm_inf_ties": (lambda m, x: m.norm(x, p=INF), [[-3.0, 1.0, 3.0]],
                      np.array([[-0.5, 0, 0.5]])),
    # softplus is linear only strictly above the threshold (beta * x > threshold)
    "softplus_at_threshold": (lambda m, x: _softplus(m, x, beta=1.0, threshold=1.0),
                              [[1.0, 1.5]], _diag([1 / (1 + np.exp(-1.0)), 1.0])),
}


def torch_jvp(torch, f, primals, tangents):
    """torch.func.jvp (PyTorch's true forward mode). Its first use loads TorchScript
    decompositions that emit a DeprecationWarning, which pytest would make an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import torch.func

        return torch.func.jvp(f, primals, tangents)


def _jacobians(module, f, values, dtype):
    """(J by reverse mode, J by forward mode) of f at values, as dense matrices."""
    if module is tg:
        xs = [tg.tensor(np.array(v, dtype=dtype), requires_grad=True) for v in values]
    else:
        xs = [module.tensor(np.array(v, dtype=dtype), requires_grad=True) for v in values]
    out = f(module, *xs)
    n_out = int(np.prod(out.shape))
    sizes = [int(np.prod(x.shape)) for x in xs]
    rev = np.zeros((n_out, sum(sizes)))
    for r in range(n_out):
        seed = np.zeros(n_out, dtype=dtype)
        seed[r] = 1.0
        if module is tg:
            gs = tg.autograd.grad(out, xs, grad_outputs=tg.tensor(seed.reshape(out.shape)),
                                  retain_graph=True)
        else:
            gs = module.autograd.grad(out, xs, grad_outputs=module.tensor(seed.reshape(out.shape)),
                                      retain_graph=True)
        rev[r] = np.concatenate([g.detach().numpy().reshape(-1) for g in gs])
    fwd = np.zeros((n_out, sum(sizes)))
    primals = [np.array(v, dtype=dtype) for v in values]
    col = 0
    for k, size in enumerate(sizes):
        for j in range(size):
            tangents = [np.zeros_like(p) for p in primals]
            tangents[k].reshape(-1)[j] = 1.0
            if module is tg:
                _, jv = tg.autograd.functional.jvp(
                    lambda *a: f(tg, *a), tuple(tg.tensor(p) for p in primals),
                    tuple(tg.tensor(t) for t in tangents))
                fwd[:, col] = jv.numpy().reshape(-1)
            else:
                _, jv = torch_jvp(module, lambda *a: f(module, *a),
                                  tuple(module.tensor(p) for p in primals),
                                  tuple(module.tensor(t) for t in tangents))
                fwd[:, col] = jv.detach().numpy().reshape(-1)
            col += 1
    return rev, fwd


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", list(KINKS))
def test_kink_convention_reverse_mode(name, dtype):
    f, values, expected = KINKS[name]
    rev, _ = _jacobians(tg, f, values, dtype)
    np.testing.assert_allclose(rev, expected, rtol=1e-6, atol=0)


@pytest.mark.parametrize("name", list(KINKS))
def test_kink_convention_forward_mode(name):
    f, values, expected = KINKS[name]
    _, fwd = _jacobians(tg, f, values, np.float64)
    np.testing.assert_allclose(fwd, expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize("name", list(KINKS))
def test_kink_convention_matches_torch(name, torch):
    f, values, _ = KINKS[name]
    rev, fwd = _jacobians(tg, f, values, np.float64)
    t_rev, t_fwd = _jacobians(torch, f, values, np.float64)
    np.testing.assert_allclose(rev, t_rev, rtol=1e-12, atol=0, err_msg="reverse mode")
    np.testing.assert_allclose(fwd, t_fwd, rtol=1e-12, atol=0, err_msg="forward mode")


def test_sqrt_at_0_has_infinite_derivative():
    # d sqrt(x)/dx = 1 / (2 sqrt(x)) = +inf at 0, in both modes (as PyTorch)
    x = tg.tensor([0.0, 4.0], dtype=tg.float64, requires_grad=True)
    x.sqrt().sum().backward()
    assert x.grad.tolist() == [INF, 0.25]
    _, jv = tg.autograd.functional.jvp(lambda t: t.sqrt(), tg.tensor([0.0, 4.0], dtype=tg.float64),
                                       tg.tensor([1.0, 2.0], dtype=tg.float64))
    assert jv.tolist() == [INF, 0.5]


def test_relu_and_abs_at_0_second_derivative_is_0():
    x = tg.tensor([0.0, 1.0, -1.0], dtype=tg.float64, requires_grad=True)
    (g,) = tg.autograd.grad((x.relu() + x.abs()).sum(), x, create_graph=True)
    np.testing.assert_array_equal(g.detach().numpy(), [0.0, 2.0, -1.0])
    if g.requires_grad:  # otherwise the second derivative is 0 by construction
        (h,) = tg.autograd.grad(g.sum(), x, allow_unused=True)
        assert h is None or np.all(h.numpy() == 0.0)


def _one_hot(indices, shape, dim):
    out = np.zeros(shape)
    np.put_along_axis(out, np.expand_dims(indices, dim), 1.0, axis=dim)
    return out


@pytest.mark.parametrize("which", ["max", "min"])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_min_dim_ties_send_the_gradient_to_the_returned_index(which, keepdim):
    # Along a dim, the whole gradient goes to the element at the returned index, which
    # must be one of the tied extrema.
    x_np = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0], [-1.0, 5.0, 0.0, 5.0]])
    if which == "min":
        x_np = -x_np
    x = tg.tensor(x_np, requires_grad=True)
    values, indices = getattr(x, which)(dim=1, keepdim=keepdim)
    idx = indices.numpy().reshape(-1)
    extremum = getattr(np, which)(x_np, axis=1)
    np.testing.assert_array_equal(x_np[np.arange(3), idx], extremum)
    np.testing.assert_array_equal(values.detach().numpy().reshape(-1), extremum)
    values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), _one_hot(idx, x_np.shape, 1))
    _, jv = tg.autograd.functional.jvp(lambda t: getattr(t, which)(dim=1).values,
                                       tg.tensor(x_np), tg.tensor(np.arange(12.0).reshape(3, 4)))
    np.testing.assert_array_equal(jv.numpy(), np.arange(12.0).reshape(3, 4)[np.arange(3), idx])


@pytest.mark.parametrize("which", ["max", "min"])
def test_max_min_dim_ties_match_torch(which, torch):
    x_np = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0], [-1.0, 5.0, 0.0, 5.0]])
    for dim in (0, 1):
        x = tg.tensor(x_np, requires_grad=True)
        t = torch.tensor(x_np, requires_grad=True)
        a, b = getattr(x, which)(dim=dim), getattr(t, which)(dim=dim)
        np.testing.assert_array_equal(a.indices.numpy(), b.indices.numpy())
        a.values.sum().backward()
        b.values.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


def test_clamp_with_min_above_max_matches_torch_convention():
    # PyTorch: clamp(x, min, max) = min(max(x, min), max); with min > max every element
    # is max and no gradient flows (no x satisfies min <= x <= max).
    x = tg.tensor([-1.0, 1.0, 1.5, 2.0, 3.0], dtype=tg.float64, requires_grad=True)
    y = x.clamp(min=2.0, max=1.0)
    assert y.detach().tolist() == [1.0] * 5
    y.sum().backward()
    assert x.grad.tolist() == [0.0] * 5


# --- extreme finite inputs ------------------------------------------------------------

BIG = np.array([-1000.0, -200.0, -20.0, -1.0, 0.0, 1e-7, 1.0, 20.0, 200.0, 1000.0])


def _np_logsumexp(a):
    m = np.max(a)
    return m + np.log(np.sum(np.exp(a - m)))


def _np_softmax(a):
    e = np.exp(a - np.max(a))
    return e / e.sum()


def _np_sigmoid(a):
    e = np.exp(-np.abs(a))  # never overflows
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e))


def _np_softplus(a):
    return np.maximum(a, 0) + np.log1p(np.exp(-np.abs(a)))


# name: (tapegrad fn, torch fn, float64 reference value, float64 reference gradient of
# sum(w * f(x)) as a function of (x, w))
STABLE = {
    "log_softmax": (lambda x: x.log_softmax(0), lambda T, x: T.log_softmax(x, 0),
                    lambda a: a - _np_logsumexp(a),
                    lambda a, w: w - _np_softmax(a) * w.sum()),
    "softmax": (lambda x: tg.softmax(x, 0), lambda T, x: T.softmax(x, 0), _np_softmax,
                lambda a, w: _np_softmax(a) * (w - np.sum(w * _np_softmax(a)))),
    "logsumexp": (lambda x: x.logsumexp(0), lambda T, x: T.logsumexp(x, 0), _np_logsumexp,
                  lambda a, w: w * _np_softmax(a)),
    "softplus": (lambda x: tg.softplus(x, ), lambda T, x: T.nn.functional.softplus(x), _np_softplus,
                 lambda a, w: w * _np_sigmoid(a)),
    "sigmoid": (lambda x: x.sigmoid(), lambda T, x: T.sigmoid(x), _np_sigmoid,
                lambda a, w: w * _np_sigmoid(a) * (1 - _np_sigmoid(a))),
}

_INPUTS = {
    "mixed": BIG,
    "all_huge": np.array([1000.0, 999.0, 998.0, 1000.0]),
    "all_tiny": np.array([-1000.0, -999.0, -1001.0]),
    "one_huge": np.array([1000.0, 0.0, -1000.0]),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("inputs", list(_INPUTS))
@pytest.mark.parametrize("name", list(STABLE))
def test_stable_ops_at_extreme_inputs(name, inputs, dtype):
    fn, _, ref, ref_grad = STABLE[name]
    a = _INPUTS[inputs].astype(dtype)
    w_np = np.linspace(-1.0, 2.0, a.size)
    x = tg.tensor(a, requires_grad=True)
    y = fn(x)
    got = y.detach().numpy()
    assert got.dtype == dtype
    assert np.all(np.isfinite(got)), got
    with np.errstate(all="ignore"):
        expected = ref(a.astype(np.float64))
        expected_grad = ref_grad(a.astype(np.float64), w_np if got.ndim else np.float64(1.0))
    tol = 1e-6 if dtype == np.float32 else 1e-13
    # (the reference sees the same float32-rounded inputs; PyTorch is this accurate)
    np.testing.assert_allclose(got, expected, rtol=tol, atol=tol)
    w = tg.tensor(w_np.astype(dtype)) if got.ndim else tg.tensor(np.ones((), dtype=dtype))
    (y * w).sum().backward()
    g = x.grad.numpy()
    assert np.all(np.isfinite(g)), g
    np.testing.assert_allclose(g, expected_grad, rtol=max(tol, 1e-12) * 10, atol=tol * 10)


@pytest.mark.parametrize("name", list(STABLE))
def test_stable_ops_jvp_at_extreme_inputs(name):
    fn, _, _, ref_grad = STABLE[name]
    a = _INPUTS["mixed"]
    v = np.linspace(1.0, -1.0, a.size)
    _, jv = tg.autograd.functional.jvp(fn, tg.tensor(a), tg.tensor(v))
    jv = jv.numpy()
    assert np.all(np.isfinite(jv))
    # the Jacobian's rows from the reference gradients: row i = ref_grad(a, e_i)
    with np.errstate(all="ignore"):
        if jv.ndim:
            jac = np.array([ref_grad(a, e) for e in np.eye(a.size)])
        else:
            jac = ref_grad(a, np.float64(1.0))[None, :]
    np.testing.assert_allclose(jv.reshape(-1), jac @ v, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", list(STABLE))
def test_stable_ops_at_extreme_inputs_match_torch(name, dtype, torch):
    fn, torch_fn, _, _ = STABLE[name]
    a = BIG.astype(dtype)
    rows = np.stack([a, a[::-1], a * 0.5])  # along dim 0 of each column
    x = tg.tensor(rows.T.copy(), requires_grad=True)
    t = torch.tensor(rows.T.copy(), requires_grad=True)
    y, z = fn(x), torch_fn(torch, t)
    np.testing.assert_allclose(y.detach().numpy(), z.detach().numpy(), rtol=1e-6, atol=1e-6)
    w = np.linspace(-1.0, 2.0, y.numel()).reshape(y.shape).astype(dtype)
    (y * tg.tensor(w)).sum().backward()
    (z * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-6, atol=1e-6)


def test_softmax_rows_of_extremes_in_2d():
    x = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0], [1000.0, 1000.0, -5.0]],
                 dtype=np.float32)
    s = tg.softmax(tg.tensor(x), dim=1).numpy()
    np.testing.assert_allclose(s, [[1, 0, 0], [1 / 3] * 3, [0.5, 0.5, 0]], rtol=1e-6, atol=1e-30)
    ls = tg.log_softmax(tg.tensor(x), dim=1).numpy()
    np.testing.assert_allclose(ls, [[0, -2000, -1000], [-np.log(3)] * 3,
                                    [-np.log(2), -np.log(2), -1005 - np.log(2)]], rtol=1e-6)
    lse = tg.tensor(x).logsumexp(dim=1).numpy()
    np.testing.assert_allclose(lse, [1000, -1000 + np.log(3), 1000 + np.log(2)], rtol=1e-6)


# --- inf and NaN ---------------------------------------------------------------------
#
# name: (f(module, x), input values, expected values by IEEE arithmetic / PyTorch)

NONFINITE = {
    "exp": (lambda m, x: x.exp(), [INF, -INF, NAN, 0.0], [INF, 0.0, NAN, 1.0]),
    "log": (lambda m, x: x.log(), [0.0, -0.0, -1.0, INF, NAN], [-INF, -INF, NAN, INF, NAN]),
    "sqrt": (lambda m, x: x.sqrt(), [-1.0, INF, NAN, 0.0, -INF], [NAN, INF, NAN, 0.0, NAN]),
    "tanh": (lambda m, x: x.tanh(), [INF, -INF, NAN], [1.0, -1.0, NAN]),
    "sigmoid": (lambda m, x: x.sigmoid(), [INF, -INF, NAN], [1.0, 0.0, NAN]),
    "relu": (lambda m, x: x.relu(), [INF, -INF, NAN], [INF, 0.0, NAN]),
    "abs": (lambda m, x: x.abs(), [-INF, INF, NAN], [INF, INF, NAN]),
    "sin": (lambda m, x: x.sin(), [INF, -INF, NAN], [NAN, NAN, NAN]),
    "cos": (lambda m, x: x.cos(), [INF, NAN], [NAN, NAN]),
    "softplus": (lambda m, x: _softplus(m, x), [INF, -INF, NAN], [INF, 0.0, NAN]),
    "clamp": (lambda m, x: x.clamp(0.0, 1.0), [NAN, INF, -INF, 0.5], [NAN, 1.0, 0.0, 0.5]),
    "neg": (lambda m, x: -x, [INF, NAN], [-INF, NAN]),
    "div_by_zero": (lambda m, x: 1.0 / x, [0.0, -0.0, INF], [INF, -INF, 0.0]),
    "zero_over_zero": (lambda m, x: x / x, [0.0, INF], [NAN, NAN]),
    "pow_negative_of_zero": (lambda m, x: x ** -1.0, [0.0, INF], [INF, 0.0]),
    "inf_minus_inf": (lambda m, x: x - x, [INF, 1.0], [NAN, 0.0]),
    "max_all_nan": (lambda m, x: m.max(x), [1.0, NAN, 3.0], NAN),
    "min_all_nan": (lambda m, x: x.min(), [1.0, NAN, -3.0], NAN),
    "max_all_inf": (lambda m, x: x.max(), [1.0, INF, 3.0], INF),
    "min_all_neg_inf": (lambda m, x: x.min(), [1.0, -INF, 3.0], -INF),
    "max_dim_nan": (lambda m, x: x.reshape(2, 3).max(dim=1).values,
                    [1.0, NAN, 3.0, 2.0, 5.0, 4.0], [NAN, 5.0]),
    "min_dim_nan": (lambda m, x: x.reshape(2, 3).min(dim=0).values,
                    [1.0, NAN, 3.0, 2.0, 5.0, -INF], [1.0, NAN, -INF]),
    "maximum_nan": (lambda m, x: m.maximum(x, x[[2, 1, 0]]), [1.0, 0.0, NAN], [NAN, 0.0, NAN]),
    "minimum_nan": (lambda m, x: m.minimum(x, x * 0.0 + 2.0), [NAN, 3.0, 1.0], [NAN, 2.0, 1.0]),
    "sum_inf_minus_inf": (lambda m, x: x.sum(), [INF, -INF, 1.0], NAN),
    "sum_inf": (lambda m, x: x.sum(), [INF, 1.0], INF),
    "mean_inf": (lambda m, x: x.mean(), [INF, 1.0], INF),
    "mean_nan": (lambda m, x: x.mean(), [NAN, 1.0], NAN),
    "var_inf": (lambda m, x: x.var(), [INF, 1.0], NAN),
    "var_nan": (lambda m, x: x.var(), [NAN, 1.0, 2.0], NAN),
    "norm_inf": (lambda m, x: m.norm(x), [INF, 1.0], INF),
    "norm_nan": (lambda m, x: m.norm(x), [NAN, 1.0], NAN),
    "norm_1_inf": (lambda m, x: m.norm(x, p=1), [-INF, 1.0], INF),
    "norm_inf_norm_nan": (lambda m, x: m.norm(x, p=INF), [NAN, 1.0], NAN),
    "logsumexp_inf": (lambda m, x: x.logsumexp(0), [INF, 0.5], INF),
    "logsumexp_all_neg_inf": (lambda m, x: x.logsumexp(0), [-INF, -INF], -INF),
    "logsumexp_one_neg_inf": (lambda m, x: x.logsumexp(0), [-INF, 0.0], 0.0),
    "logsumexp_nan": (lambda m, x: x.logsumexp(0), [NAN, 0.0], NAN),
    "softmax_neg_inf": (lambda m, x: x.softmax(0), [-INF, 0.0, 0.0], [0.0, 0.5, 0.5]),
    "softmax_inf": (lambda m, x: x.softmax(0), [INF, 0.5], [NAN, NAN]),
    "softmax_nan": (lambda m, x: x.softmax(0), [NAN, 0.5], [NAN, NAN]),
    "log_softmax_neg_inf": (lambda m, x: x.log_softmax(0), [-INF, 0.0], [-INF, 0.0]),
    "log_softmax_inf": (lambda m, x: x.log_softmax(0), [INF, 0.0], [NAN, NAN]),
    "matmul_inf_times_zero": (lambda m, x: m.matmul(x.reshape(1, 2), m.tensor(
        [[0.0], [1.0]], dtype=x.dtype)), [INF, 1.0], [[NAN]]),
    "matmul_inf": (lambda m, x: x.reshape(2, 1) @ x.reshape(1, 2), [INF, 1.0],
                   [[INF, INF], [INF, 1.0]]),
    "dot_inf": (lambda m, x: m.dot(x, x), [INF, 1.0], INF),
    "where_picks_finite": (lambda m, x: m.where(x > 0, x.log(), x * 0.0), [-1.0, 0.0, 2.0],
                           [0.0, 0.0, np.log(2.0)]),
    "cat_stack_nan": (lambda m, x: m.stack([m.cat([x, x]), m.cat([x, x])]), [NAN, INF],
                      [[NAN, INF, NAN, INF]] * 2),
    "index_nan": (lambda m, x: x[[1, 1]], [0.0, NAN], [NAN, NAN]),
}


def _nonfinite_run(module, f, values, dtype):
    x = module.tensor(np.array(values, dtype=dtype), requires_grad=True)
    y = f(module, x)
    y.sum().backward()
    return y.detach().numpy(), x.grad.detach().numpy()


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", list(NONFINITE))
def test_nonfinite_values_propagate(name, dtype):
    f, values, expected = NONFINITE[name]
    value, grad = _nonfinite_run(tg, f, values, dtype)  # never crashes, never raises
    assert value.dtype == dtype and grad.dtype == dtype
    assert grad.shape == (len(values),)
    np.testing.assert_array_equal(value, np.array(expected, dtype=dtype))


def test_matrix_exp_of_inf_is_not_finite():
    # exp([[inf, 0], [0, 0]]) = [[inf, 0], [0, 1]] mathematically; any algorithm that
    # scales and squares gets inf/nan in the first entry. It must not crash or hang.
    out = tg.matrix_exp(tg.tensor([[INF, 0.0], [0.0, 0.0]], dtype=tg.float64)).numpy()
    assert not np.isfinite(out[0, 0])


@pytest.mark.parametrize("name", list(NONFINITE))
def test_nonfinite_values_match_torch(name, torch):
    f, values, _ = NONFINITE[name]
    value, _ = _nonfinite_run(tg, f, values, np.float64)
    t_value, _ = _nonfinite_run(torch, f, values, np.float64)
    np.testing.assert_array_equal(value, t_value)


@pytest.mark.parametrize("name", list(NONFINITE))
def test_nonfinite_gradients_match_torch(name, torch):
    f, values, _ = NONFINITE[name]
    _, grad = _nonfinite_run(tg, f, values, np.float64)
    _, t_grad = _nonfinite_run(torch, f, values, np.float64)
    np.testing.assert_array_equal(grad, t_grad)


def test_nonfinite_indices_of_max_min_match_torch_convention():
    # PyTorch: a NaN is the max and the min; its index is returned
    x = tg.tensor([[1.0, NAN, 3.0], [2.0, 5.0, 4.0]], dtype=tg.float64)
    assert x.max(dim=1).indices.tolist() == [1, 1]
    assert x.min(dim=1).indices.tolist() == [1, 0]
    assert x.max(dim=0).indices.tolist()[1] == 0


def test_where_gradient_through_masked_nan_branch():
    # The classic: where(x > 0, sqrt(x), 0) at x = 0 has a nan gradient in PyTorch
    # (0 * inf from the unselected branch); with a safe input there is none.
    x = tg.tensor([0.0, 4.0], dtype=tg.float64, requires_grad=True)
    tg.where(x > 0, x.sqrt(), x * 0.0).sum().backward()
    g = x.grad.numpy()
    assert np.isnan(g[0]) and g[1] == 0.25
    y = tg.tensor([0.0, 4.0], dtype=tg.float64, requires_grad=True)
    safe = tg.where(y > 0, y, y * 0.0 + 1.0)
    tg.where(y > 0, safe.sqrt(), y * 0.0).sum().backward()
    assert y.grad.tolist() == [0.0, 0.25]
