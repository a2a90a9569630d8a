"""The functional API, tg.autograd.functional: vjp, jvp, hvp, jacobian, hessian.

Expected values come from formulas (the lecture notes' f(x, y) = x²y + (x+y)², a
quadratic ½xᵀAx − bᵀx) and from central differences of NumPy code; the return
structures (a tensor, a tuple, a tuple of tuples) and the values are compared with
torch.autograd.functional when PyTorch is installed.
"""

import functools
import zlib

import numpy as np
import pytest
import tapegrad as tg
from tapegrad.autograd import functional as F

F64 = tg.float64

# --- the lecture notes' f(x, y) = x²y + (x+y)² -------------------------------------

POINTS = [(1.0, 2.0), (-0.5, 3.0), (2.5, -1.25), (0.0, 0.0), (-3.0, -4.0)]


def lecture_f(x, y):
    return x * x * y + (x + y) ** 2


def _scalar(v, dtype=F64):
    return tg.tensor(v, dtype=dtype)


def _is_0d_tensor(t):
    return isinstance(t, tg.Tensor) and t.shape == ()


@pytest.mark.parametrize("xv, yv", POINTS)
def test_lecture_hessian_is_a_tuple_of_tuples_of_0d_tensors(xv, yv):
    h = F.hessian(lecture_f, (_scalar(xv), _scalar(yv)))
    assert isinstance(h, tuple) and len(h) == 2
    assert all(isinstance(row, tuple) and len(row) == 2 for row in h)
    assert all(_is_0d_tensor(t) and t.dtype == F64 for row in h for t in row)
    expected = [[2 * yv + 2, 2 * xv + 2], [2 * xv + 2, 2.0]]
    got = [[t.item() for t in row] for row in h]
    np.testing.assert_allclose(got, expected, rtol=1e-14, atol=1e-14)
    assert not any(t.requires_grad for row in h for t in row)


@pytest.mark.parametrize("xv, yv", POINTS)
def test_lecture_gradient_via_vjp(xv, yv):
    x, y = _scalar(xv), _scalar(yv)
    value, (gx, gy) = F.vjp(lecture_f, (x, y))  # v may be omitted: the output is a scalar
    assert _is_0d_tensor(value) and _is_0d_tensor(gx) and _is_0d_tensor(gy)
    assert value.item() == pytest.approx(xv * xv * yv + (xv + yv) ** 2, rel=1e-14, abs=1e-14)
    assert gx.item() == pytest.approx(2 * xv * yv + 2 * (xv + yv), rel=1e-14, abs=1e-14)
    assert gy.item() == pytest.approx(xv ** 2 + 2 * (xv + yv), rel=1e-14, abs=1e-14)
    _, (gx3, gy3) = F.vjp(lecture_f, (x, y), _scalar(3.0))
    assert gx3.item() == pytest.approx(3 * gx.item(), rel=1e-14, abs=1e-14)
    assert gy3.item() == pytest.approx(3 * gy.item(), rel=1e-14, abs=1e-14)
    assert x.grad is None and not x.requires_grad  # the inputs are left alone


@pytest.mark.parametrize("xv, yv", POINTS)
def test_lecture_hvp_and_jvp(xv, yv):
    x, y = _scalar(xv), _scalar(yv)
    vx, vy = 0.75, -1.5
    value, (hx, hy) = F.hvp(lecture_f, (x, y), (_scalar(vx), _scalar(vy)))
    H = np.array([[2 * yv + 2, 2 * xv + 2], [2 * xv + 2, 2.0]])
    assert _is_0d_tensor(value) and _is_0d_tensor(hx) and _is_0d_tensor(hy)
    np.testing.assert_allclose([hx.item(), hy.item()], H @ [vx, vy], rtol=1e-14, atol=1e-14)
    value, jv = F.jvp(lecture_f, (x, y), (_scalar(vx), _scalar(vy)))
    grad = np.array([2 * xv * yv + 2 * (xv + yv), xv ** 2 + 2 * (xv + yv)])
    assert _is_0d_tensor(jv)
    assert jv.item() == pytest.approx(grad @ [vx, vy], rel=1e-14, abs=1e-14)
    J = F.jacobian(lecture_f, (x, y))
    assert isinstance(J, tuple) and len(J) == 2 and all(_is_0d_tensor(t) for t in J)
    np.testing.assert_allclose([t.item() for t in J], grad, rtol=1e-14, atol=1e-14)


def test_lecture_hessian_matches_torch(torch):
    from torch.autograd import functional as TF

    for xv, yv in POINTS:
        h = F.hessian(lecture_f, (_scalar(xv), _scalar(yv)))
        th = TF.hessian(lecture_f, (torch.tensor(xv, dtype=torch.float64),
                                    torch.tensor(yv, dtype=torch.float64)))
        assert_same_structure(h, th, rtol=1e-14)


# --- the quadratic f(x) = ½ xᵀAx − bᵀx ---------------------------------------------


@pytest.fixture
def quadratic(rng):
    n = 5
    M = rng.standard_normal((n, n))
    A = M + M.T  # symmetric
    b = rng.standard_normal(n)
    x = rng.standard_normal(n)
    At, bt = tg.tensor(A), tg.tensor(b)

    def f(z):
        return 0.5 * (z @ At @ z) - bt @ z

    return f, A, b, x


def test_quadratic_hessian_is_A(quadratic):
    f, A, _, x = quadratic
    H = F.hessian(f, tg.tensor(x))
    assert isinstance(H, tg.Tensor), f"hessian of a Tensor input returned {type(H).__name__}"
    assert H.shape == A.shape and H.dtype == F64
    np.testing.assert_allclose(H.numpy(), A, rtol=1e-13, atol=1e-13)


def test_quadratic_hvp_is_A_v(quadratic, rng):
    f, A, b, x = quadratic
    v = rng.standard_normal(x.size)
    value, hv = F.hvp(f, tg.tensor(x), tg.tensor(v))
    assert isinstance(hv, tg.Tensor) and hv.shape == x.shape
    assert value.item() == pytest.approx(0.5 * x @ A @ x - b @ x, rel=1e-13)
    np.testing.assert_allclose(hv.numpy(), A @ v, rtol=1e-13, atol=1e-13)


def test_quadratic_gradient_and_jacobian_of_gradient_is_A(quadratic):
    f, A, b, x = quadratic
    _, g = F.vjp(f, tg.tensor(x))
    np.testing.assert_allclose(g.numpy(), A @ x - b, rtol=1e-13, atol=1e-13)

    def gradient(z):
        return F.vjp(f, z, create_graph=True)[1]

    J = F.jacobian(gradient, tg.tensor(x))
    assert isinstance(J, tg.Tensor) and J.shape == A.shape
    np.testing.assert_allclose(J.numpy(), A, rtol=1e-13, atol=1e-13)
    # the same through autograd.grad with create_graph
    def gradient2(z):
        return tg.autograd.grad(f(z), z, create_graph=True)[0]

    np.testing.assert_allclose(F.jacobian(gradient2, tg.tensor(x)).numpy(), A, rtol=1e-13,
                               atol=1e-13)


def test_quadratic_jvp_of_gradient_is_A_v(quadratic, rng):
    # forward over the reverse-mode gradient written out as a function: A x - b
    _, A, b, x = quadratic
    At, bt = tg.tensor(A), tg.tensor(b)
    v = rng.standard_normal(x.size)
    _, jv = F.jvp(lambda z: At @ z - bt, tg.tensor(x), tg.tensor(v))
    np.testing.assert_allclose(jv.numpy(), A @ v, rtol=1e-13, atol=1e-13)


def test_quadratic_matches_torch(quadratic, rng, torch):
    from torch.autograd import functional as TF

    _, A, b, x = quadratic
    v = rng.standard_normal(x.size)

    def make(m):
        At, bt = m.tensor(A), m.tensor(b)
        return lambda z: 0.5 * (z @ At @ z) - bt @ z

    for name in ("hvp", "vjp", "hessian"):
        args = (tg.tensor(x),) if name != "hvp" else (tg.tensor(x), tg.tensor(v))
        targs = (torch.tensor(x),) if name != "hvp" else (torch.tensor(x), torch.tensor(v))
        got = getattr(F, name)(make(tg), *args)
        expected = getattr(TF, name)(make(torch), *targs)
        assert_same_structure(got, expected, rtol=1e-12, err=name)


# --- Jacobian shapes and values against finite differences -----------------------


def _np_jacobian(f, arrays, eps=1e-6):
    """J[i][j] of shape out_i.shape + in_j.shape by central differences of NumPy f
    (a function of arrays returning an array or a tuple of arrays)."""
    outs = f(*arrays)
    outs = outs if isinstance(outs, tuple) else (outs,)
    J = [[np.zeros(np.shape(o) + a.shape) for a in arrays] for o in outs]
    for j, a in enumerate(arrays):
        for k in range(a.size):
            plus = [x.copy() for x in arrays]
            minus = [x.copy() for x in arrays]
            plus[j].reshape(-1)[k] += eps
            minus[j].reshape(-1)[k] -= eps
            fp, fm = f(*plus), f(*minus)
            fp = fp if isinstance(fp, tuple) else (fp,)
            fm = fm if isinstance(fm, tuple) else (fm,)
            for i in range(len(outs)):
                d = (np.asarray(fp[i]) - np.asarray(fm[i])) / (2 * eps)
                J[i][j][(...,) + np.unravel_index(k, a.shape)] = d
    return J


W24 = np.linspace(-1.0, 1.0, 8).reshape(2, 4)
C3 = np.array([0.5, -1.0, 2.0])

# name: (f(module, *inputs) for tapegrad and torch, the same in NumPy, input shapes,
#        tuple input?, tuple output?)
JAC_CASES = {
    "vector_to_vector": (lambda m, x: x.sin() * x.sum(), lambda x: np.sin(x) * x.sum(), [(3,)],
                         False, False),
    "vector_to_matrix": (lambda m, x: x[:2].unsqueeze(1) * m.tensor(W24) + x.sum(),
                         lambda x: x[:2, None] * W24 + x.sum(), [(3,)], False, False),
    "matrix_to_vector": (lambda m, X: X.tanh() @ m.tensor(C3), lambda X: np.tanh(X) @ C3,
                         [(2, 3)], False, False),
    "matrix_to_matrix": (lambda m, X: X @ X.T, lambda X: X @ X.T, [(2, 3)], False, False),
    "vector_to_scalar": (lambda m, x: (x * x).sum().exp(), lambda x: np.exp((x * x).sum()),
                         [(3,)], False, False),
    "scalar_to_vector": (lambda m, s: s * m.tensor(C3) + s * s, lambda s: s * C3 + s * s, [()],
                         False, False),
    "scalar_to_scalar": (lambda m, s: s.exp() * s, lambda s: np.exp(s) * s, [()], False, False),
    "tuple_in_tensor_out": (lambda m, x, y: x.sum() * y.sigmoid(),
                            lambda x, y: x.sum() / (1 + np.exp(-y)), [(3,), (2,)], True, False),
    "tuple_in_tuple_out": (lambda m, x, Y: (Y @ x, (x * x).sum() + Y.sum()),
                           lambda x, Y: (Y @ x, (x * x).sum() + Y.sum()), [(2,), (3, 2)], True,
                           True),
    "tensor_in_tuple_out": (lambda m, x: (x.exp(), x.sum(), x[None] * x[:, None]),
                            lambda x: (np.exp(x), x.sum(), x[None] * x[:, None]), [(3,)], False,
                            True),
    "unused_input": (lambda m, x, y: x * 2.0, lambda x, y: x * 2.0, [(2,), (3,)], True, False),
    "single_tuple_input": (lambda m, x: x.softmax(0), lambda x: np.exp(x) / np.exp(x).sum(),
                           [(3,)], True, False),
    "reductions": (lambda m, X: m.cat([X.max(dim=1).values, X.logsumexp(0), X.var(1)]),
                   lambda X: np.concatenate([X.max(1), np.log(np.exp(X).sum(0)), X.var(1, ddof=1)]),
                   [(2, 3)], False, False),
}


def _case_inputs(name, shapes):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    return [rng.uniform(-1.5, 1.5, s) for s in shapes]


def _as_struct(arrays, tupled, module=tg):
    ts = tuple(module.tensor(a) for a in arrays)
    return ts if tupled else ts[0]


def _unpack_jacobian(J, tuple_in, tuple_out):
    """tapegrad's/torch's jacobian result as J[i][j] lists."""
    if not tuple_in and not tuple_out:
        return [[J]]
    if not tuple_out:
        return [list(J)]
    if not tuple_in:
        return [[row] for row in J]
    return [list(row) for row in J]


@pytest.mark.parametrize("name", list(JAC_CASES))
def test_jacobian_shapes_and_values(name):
    f, ref, shapes, tuple_in, tuple_out = JAC_CASES[name]
    f = functools.partial(f, tg)
    arrays = _case_inputs(name, shapes)
    J = F.jacobian(f, _as_struct(arrays, tuple_in))
    # the structure: a tensor, a tuple over inputs, a tuple over outputs, or both
    if not tuple_in and not tuple_out:
        assert isinstance(J, tg.Tensor)
    else:
        assert isinstance(J, tuple)
        n_outer = len(ref(*arrays)) if tuple_out else len(shapes)
        assert len(J) == n_outer
        if tuple_in and tuple_out:
            assert all(isinstance(row, tuple) and len(row) == len(shapes) for row in J)
        else:
            assert all(isinstance(t, tg.Tensor) for t in J)
    expected = _np_jacobian(ref, arrays)
    got = _unpack_jacobian(J, tuple_in, tuple_out)
    for i, row in enumerate(expected):
        for j, e in enumerate(row):
            g = got[i][j]
            assert g.shape == e.shape, (i, j)
            assert g.dtype == F64 and not g.requires_grad
            np.testing.assert_allclose(g.numpy(), e, rtol=1e-6, atol=1e-8, err_msg=f"J[{i}][{j}]")


@pytest.mark.parametrize("name", list(JAC_CASES))
def test_jvp_and_vjp_agree_with_the_jacobian(name):
    f, ref, shapes, tuple_in, tuple_out = JAC_CASES[name]
    f = functools.partial(f, tg)
    arrays = _case_inputs(name, shapes)
    J = _np_jacobian(ref, arrays)
    rng = np.random.default_rng(5)
    v = [rng.standard_normal(s) for s in shapes]
    value, jv = F.jvp(f, _as_struct(arrays, tuple_in), _as_struct(v, tuple_in))
    outs = ref(*arrays)
    outs = outs if isinstance(outs, tuple) else (outs,)
    jvs = jv if tuple_out else (jv,)
    values = value if tuple_out else (value,)
    assert isinstance(jv, tuple) == tuple_out and isinstance(value, tuple) == tuple_out
    for i, o in enumerate(outs):
        expected = sum(np.tensordot(J[i][j], v[j], axes=v[j].ndim) for j in range(len(v)))
        assert jvs[i].shape == np.shape(o)
        np.testing.assert_allclose(values[i].numpy(), o, rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(jvs[i].numpy(), expected, rtol=1e-6, atol=1e-8)
    # vjp: u^T J, one u per output
    u = [rng.standard_normal(np.shape(o)) for o in outs]
    value, vj = F.vjp(f, _as_struct(arrays, tuple_in), _as_struct(u, tuple_out))
    assert isinstance(vj, tuple) == tuple_in
    vjs = vj if tuple_in else (vj,)
    for j, a in enumerate(arrays):
        expected = sum(np.tensordot(u[i], J[i][j], axes=u[i].ndim) for i in range(len(outs)))
        assert vjs[j].shape == a.shape
        np.testing.assert_allclose(vjs[j].numpy(), expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", list(JAC_CASES))
def test_forward_and_reverse_mode_agree(name):
    # jvp (forward mode) == jacobian (reverse mode, row by row) · v, to rounding
    f, _, shapes, tuple_in, tuple_out = JAC_CASES[name]
    f = functools.partial(f, tg)
    arrays = _case_inputs(name, shapes)
    v = [np.random.default_rng(9).standard_normal(s) for s in shapes]
    J = _unpack_jacobian(F.jacobian(f, _as_struct(arrays, tuple_in)), tuple_in, tuple_out)
    _, jv = F.jvp(f, _as_struct(arrays, tuple_in), _as_struct(v, tuple_in))
    jvs = jv if tuple_out else (jv,)
    for i, row in enumerate(J):
        expected = sum(np.tensordot(row[j].numpy(), v[j], axes=v[j].ndim)
                       for j in range(len(v)))
        np.testing.assert_allclose(jvs[i].numpy(), expected, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("name", list(JAC_CASES))
def test_jacobian_jvp_vjp_match_torch(name, torch):
    from torch.autograd import functional as TF

    f, _, shapes, tuple_in, tuple_out = JAC_CASES[name]
    f, tf = functools.partial(f, tg), functools.partial(f, torch)
    arrays = _case_inputs(name, shapes)
    rng = np.random.default_rng(6)
    v = [rng.standard_normal(s) for s in shapes]

    inputs, t_inputs = _as_struct(arrays, tuple_in), _as_struct(arrays, tuple_in, torch)
    assert_same_structure(F.jacobian(f, inputs), TF.jacobian(tf, t_inputs), rtol=1e-12,
                          err="jacobian")
    assert_same_structure(F.jvp(f, inputs, _as_struct(v, tuple_in)),
                          TF.jvp(tf, t_inputs, _as_struct(v, tuple_in, torch)), rtol=1e-12,
                          err="jvp")
    outs = f(*(inputs if tuple_in else (inputs,)))
    outs = outs if isinstance(outs, tuple) else (outs,)
    u = [rng.standard_normal(o.shape) for o in outs]
    assert_same_structure(F.vjp(f, inputs, _as_struct(u, tuple_out)),
                          TF.vjp(tf, t_inputs, _as_struct(u, tuple_out, torch)), rtol=1e-12,
                          err="vjp")


# --- hessian and hvp of scalar functions ------------------------------------------------

# name: (f(module, *inputs), the same in NumPy, input shapes, tuple input?)
SCALAR_CASES = {
    "exp_weighted": (lambda m, x: (x.exp() * x).sum(), lambda x: (np.exp(x) * x).sum(), [(3,)],
                     False),
    "matrix_input": (lambda m, X: (X @ X).sin().sum(), lambda X: np.sin(X @ X).sum(), [(2, 2)],
                     False),
    "two_inputs": (lambda m, x, y: (x.sum() * y.tanh()).sum() + (x ** 2).sum(),
                   lambda x, y: (x.sum() * np.tanh(y)).sum() + (x ** 2).sum(), [(2,), (3,)],
                   True),
    "scalar_input": (lambda m, s: s.exp() * s.sin(), lambda s: np.exp(s) * np.sin(s), [()],
                     False),
    "unused_input": (lambda m, x, y: (x ** 3).sum(), lambda x, y: (x ** 3).sum(), [(2,), (2,)],
                     True),
    "logsumexp_norm": (lambda m, x: x.logsumexp(0) + m.norm(x),
                       lambda x: np.log(np.exp(x).sum()) + np.sqrt((x * x).sum()), [(4,)], False),
    "softmax_matrix_exp": (lambda m, X: (m.matrix_exp(X) * X.softmax(1)).sum(),
                           lambda X: (_expm(X) * np.exp(X) / np.exp(X).sum(1, keepdims=True)).sum(),
                           [(2, 2)], False),
    "single_tuple_input": (lambda m, x: (x ** 4).sum(), lambda x: (x ** 4).sum(), [(3,)], True),
}


def _expm(a):
    out, term = np.eye(a.shape[0]), np.eye(a.shape[0])
    for k in range(1, 40):  # |a| < 2 here: the plain series converges to rounding
        term = term @ a / k
        out = out + term
    return out


def _np_hessian(ref, arrays, eps=1e-4):
    """H[i][j] = d²f / dx_i dx_j by central differences of the NumPy gradient (itself by
    central differences)."""
    def grad(*xs):
        return tuple(_np_jacobian(lambda *a: np.asarray(ref(*a)), list(xs), eps=1e-5)[0])

    return _np_jacobian(grad, arrays, eps=eps)


@pytest.mark.parametrize("name", list(SCALAR_CASES))
def test_hessian_shapes_and_values(name):
    f, ref, shapes, tuple_in = SCALAR_CASES[name]
    f = functools.partial(f, tg)
    arrays = _case_inputs(name, shapes)
    expected = _np_hessian(ref, arrays)
    # inputs as a tuple (even of one tensor): a tuple of tuples, H[i][j] of shape
    # shape_i + shape_j
    H = F.hessian(f, _as_struct(arrays, True))
    assert isinstance(H, tuple) and len(H) == len(shapes)
    assert all(isinstance(row, tuple) and len(row) == len(shapes) for row in H)
    for i in range(len(shapes)):
        for j in range(len(shapes)):
            g, e = H[i][j], expected[i][j]
            assert isinstance(g, tg.Tensor) and g.shape == shapes[i] + shapes[j]
            assert not g.requires_grad
            np.testing.assert_allclose(g.numpy(), e, rtol=1e-5, atol=1e-6, err_msg=f"H[{i}][{j}]")
    if not tuple_in:
        # a bare tensor input: a bare tensor Hessian (as torch.autograd.functional.hessian)
        H1 = F.hessian(f, _as_struct(arrays, False))
        assert isinstance(H1, tg.Tensor), f"hessian of a Tensor input returned {type(H1).__name__}"
        np.testing.assert_array_equal(H1.numpy(), H[0][0].numpy())


@pytest.mark.parametrize("name", list(SCALAR_CASES))
def test_hvp_is_hessian_times_v(name):
    f, ref, shapes, tuple_in = SCALAR_CASES[name]
    f = functools.partial(f, tg)
    arrays = _case_inputs(name, shapes)
    rng = np.random.default_rng(7)
    v = [rng.standard_normal(s) for s in shapes]
    value, hv = F.hvp(f, _as_struct(arrays, tuple_in), _as_struct(v, tuple_in))
    assert _is_0d_tensor(value)
    assert value.item() == pytest.approx(float(ref(*arrays)), rel=1e-13)
    assert isinstance(hv, tuple) == tuple_in
    hvs = hv if tuple_in else (hv,)
    H = _np_hessian(ref, arrays)
    for i in range(len(shapes)):
        expected = sum(np.tensordot(H[i][j], v[j], axes=v[j].ndim) for j in range(len(shapes)))
        assert hvs[i].shape == shapes[i]
        np.testing.assert_allclose(hvs[i].numpy(), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", list(SCALAR_CASES))
def test_hessian_and_hvp_match_torch(name, torch):
    from torch.autograd import functional as TF

    f, _, shapes, tuple_in = SCALAR_CASES[name]
    f, tf = functools.partial(f, tg), functools.partial(f, torch)
    arrays = _case_inputs(name, shapes)
    rng = np.random.default_rng(8)
    v = [rng.standard_normal(s) for s in shapes]

    inputs, t_inputs = _as_struct(arrays, tuple_in), _as_struct(arrays, tuple_in, torch)
    assert_same_structure(F.hvp(f, inputs, _as_struct(v, tuple_in)),
                          TF.hvp(tf, t_inputs, _as_struct(v, tuple_in, torch)), rtol=1e-12,
                          err="hvp")
    assert_same_structure(F.vjp(f, inputs), TF.vjp(tf, t_inputs), rtol=1e-12, err="vjp")
    assert_same_structure(F.hessian(f, inputs), TF.hessian(tf, t_inputs), rtol=1e-12,
                          err="hessian")


# --- create_graph, defaults, dtypes -------------------------------------------------------


def _cube_sum(z):
    return (z ** 3).sum()


def test_results_are_detached_without_create_graph():
    x = tg.tensor([1.0, 2.0], dtype=F64, requires_grad=True)
    v = tg.tensor([0.5, -1.0], dtype=F64)
    results = [F.vjp(_cube_sum, x), F.jvp(lambda z: z ** 3, x, v), F.hvp(_cube_sum, x, v),
               (F.jacobian(lambda z: z ** 3, x),), (F.hessian(_cube_sum, x),)]
    for res in results:
        for t in _leaves(res):
            assert not t.requires_grad and t.grad_fn is None
    assert x.grad is None


def test_vjp_create_graph_is_differentiable():
    x = tg.tensor([1.0, 2.0], dtype=F64, requires_grad=True)
    _, g = F.vjp(_cube_sum, x, create_graph=True)
    assert g.requires_grad
    np.testing.assert_allclose(g.detach().numpy(), [3.0, 12.0])
    (gg,) = tg.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), [6.0, 12.0])  # d/dx Σ 3x² = 6x


def test_jvp_create_graph_is_differentiable_in_x_and_v():
    # jvp(x ↦ x³, x, v) = 3x²v; d/dx Σ 3x²v = 6xv, d/dv Σ 3x²v = 3x²
    x = tg.tensor([1.0, 2.0], dtype=F64, requires_grad=True)
    v = tg.tensor([0.5, -1.0], dtype=F64, requires_grad=True)
    out, jv = F.jvp(lambda z: z ** 3, x, v, create_graph=True)
    assert out.requires_grad and jv.requires_grad
    np.testing.assert_allclose(jv.detach().numpy(), [1.5, -12.0])
    gx, gv = tg.autograd.grad(jv.sum(), (x, v))
    np.testing.assert_allclose(gx.numpy(), [3.0, -12.0])
    np.testing.assert_allclose(gv.numpy(), [3.0, 12.0])


def test_hvp_create_graph_is_differentiable_in_x_and_v():
    # H v = 6 x v; d/dx Σ = 6v, d/dv Σ = 6x
    x = tg.tensor([1.0, 2.0], dtype=F64, requires_grad=True)
    v = tg.tensor([0.5, -1.0], dtype=F64, requires_grad=True)
    _, hv = F.hvp(_cube_sum, x, v, create_graph=True)
    assert hv.requires_grad
    np.testing.assert_allclose(hv.detach().numpy(), [3.0, -12.0])
    gx, gv = tg.autograd.grad(hv.sum(), (x, v))
    np.testing.assert_allclose(gx.numpy(), [3.0, -6.0])
    np.testing.assert_allclose(gv.numpy(), [6.0, 12.0])


def test_jacobian_and_hessian_create_graph_are_differentiable():
    x = tg.tensor([1.0, 2.0], dtype=F64, requires_grad=True)
    J = F.jacobian(lambda z: z ** 3, x, create_graph=True)
    assert isinstance(J, tg.Tensor) and J.requires_grad
    np.testing.assert_allclose(J.detach().numpy(), np.diag([3.0, 12.0]))
    (g,) = tg.autograd.grad(J.sum(), x)
    np.testing.assert_allclose(g.numpy(), [6.0, 12.0])
    H = F.hessian(_cube_sum, x, create_graph=True)
    assert isinstance(H, tg.Tensor), f"hessian of a Tensor input returned {type(H).__name__}"
    assert H.requires_grad
    np.testing.assert_allclose(H.detach().numpy(), np.diag([6.0, 12.0]))
    (g,) = tg.autograd.grad(H.sum(), x)
    np.testing.assert_allclose(g.numpy(), [6.0, 6.0])


_CREATE_GRAPH_CALLS = {
    "vjp": lambda Fm, f3, fs, x, v: Fm.vjp(fs, x, create_graph=True)[1],
    "jvp": lambda Fm, f3, fs, x, v: Fm.jvp(f3, x, v, create_graph=True)[1],
    "hvp": lambda Fm, f3, fs, x, v: Fm.hvp(fs, x, v, create_graph=True)[1],
    "jacobian": lambda Fm, f3, fs, x, v: Fm.jacobian(f3, x, create_graph=True),
    "hessian": lambda Fm, f3, fs, x, v: Fm.hessian(fs, x, create_graph=True),
}


@pytest.mark.parametrize("name", list(_CREATE_GRAPH_CALLS))
def test_create_graph_results_match_torch(name, torch):
    from torch.autograd import functional as TF

    grads = []
    for m, Fm in ((tg, F), (torch, TF)):
        x = m.tensor(np.array([1.0, 2.0]), requires_grad=True)
        v = m.tensor(np.array([0.5, -1.0]), requires_grad=True)
        r = _CREATE_GRAPH_CALLS[name](Fm, lambda z: z.sin() * z ** 3,
                                      lambda z: (z.sin() * z ** 3).sum(), x, v)
        assert isinstance(r, (tg.Tensor, torch.Tensor)), (m.__name__, type(r))
        assert r.requires_grad
        gs = m.autograd.grad(r.sum(), (x, v), allow_unused=True)
        grads.append([None if g is None else g.detach().numpy() for g in gs])
    for k, (a, b) in enumerate(zip(*grads)):
        if b is None:
            assert a is None or np.all(a == 0), k
        else:
            assert a is not None, f"no gradient for input {k}"
            np.testing.assert_allclose(a, b, rtol=1e-12, err_msg=f"input {k}")


def test_jvp_default_v_for_a_single_element_input():
    x = tg.tensor([2.0], dtype=F64)
    value, jv = F.jvp(lambda z: z.exp() * 3.0, x)
    np.testing.assert_allclose(jv.numpy(), [3.0 * np.exp(2.0)])
    value, jv = F.jvp(lambda z: z * z, tg.tensor(1.5, dtype=F64))
    assert jv.shape == () and jv.item() == 3.0


def test_vjp_of_unused_input_is_zero_and_hvp_too():
    x = tg.tensor([1.0, 2.0], dtype=F64)
    y = tg.tensor([3.0, 4.0, 5.0], dtype=F64)
    _, (gx, gy) = F.vjp(lambda a, b: (a ** 2).sum(), (x, y))
    np.testing.assert_array_equal(gx.numpy(), [2.0, 4.0])
    assert gy.shape == (3,) and np.all(gy.numpy() == 0.0)
    _, (hx, hy) = F.hvp(lambda a, b: (a ** 2).sum(), (x, y), (x, y))
    np.testing.assert_array_equal(hx.numpy(), [2.0, 4.0])
    assert hy.shape == (3,) and np.all(hy.numpy() == 0.0)
    _, jv = F.jvp(lambda a: a * 0.0 + 1.0, x, x)
    np.testing.assert_array_equal(jv.numpy(), [0.0, 0.0])
    _, jv = F.jvp(lambda a: tg.ones(2, dtype=F64), x, x)  # no dependence at all
    assert jv.shape == (2,) and np.all(jv.numpy() == 0.0)


@pytest.mark.parametrize("dtype", [tg.float32, tg.float64], ids=["float32", "float64"])
def test_functional_keeps_the_dtype(dtype):
    x = tg.tensor([0.5, -1.0, 2.0], dtype=dtype)
    v = tg.tensor([1.0, 2.0, 3.0], dtype=dtype)
    f = lambda z: (z.sin() * z).sum()  # noqa: E731
    out, g = F.vjp(f, x)
    assert out.dtype == dtype and g.dtype == dtype
    out, jv = F.jvp(lambda z: z.sin() * z, x, v)
    assert out.dtype == dtype and jv.dtype == dtype
    assert F.jacobian(lambda z: z.sin() * z, x).dtype == dtype
    assert F.hessian(f, (x,))[0][0].dtype == dtype
    assert F.hvp(f, x, v)[1].dtype == dtype
    xs = np.array([0.5, -1.0, 2.0])
    expected = np.sin(xs) + xs * np.cos(xs)
    np.testing.assert_allclose(g.numpy(), expected.astype(g.numpy().dtype), rtol=1e-6)


def test_functional_leaves_inputs_alone():
    x = tg.tensor([1.0, 2.0], dtype=F64, requires_grad=True)
    y = tg.tensor([3.0, 4.0], dtype=F64)
    before = (x.detach().numpy().copy(), y.numpy().copy())
    F.vjp(lambda a, b: (a * b).sum(), (x, y))
    F.jvp(lambda a, b: a * b, (x, y), (y, x))
    F.hessian(lambda a, b: (a * a * b).sum(), (x, y))
    F.hvp(lambda a, b: (a * a * b).sum(), (x, y), (x, y))
    F.jacobian(lambda a, b: a * b, (x, y))
    assert x.grad is None and y.grad is None
    assert x.requires_grad and not y.requires_grad and x.is_leaf
    np.testing.assert_array_equal(x.detach().numpy(), before[0])
    np.testing.assert_array_equal(y.numpy(), before[1])


def test_functional_strict_and_strategy_arguments_are_accepted():
    x = tg.tensor([1.0, 2.0], dtype=F64)
    J = F.jacobian(lambda z: z * z, x, create_graph=False, strict=False, vectorize=False,
                   strategy="reverse-mode")
    np.testing.assert_array_equal(J.numpy(), np.diag([2.0, 4.0]))
    H = F.hessian(lambda z: (z ** 3).sum(), (x,), create_graph=False, strict=False,
                  vectorize=False, outer_jacobian_strategy="reverse-mode")
    np.testing.assert_array_equal(H[0][0].numpy(), np.diag([6.0, 12.0]))
    _, g = F.vjp(lambda z: (z * z).sum(), x, None, False, False)
    np.testing.assert_array_equal(g.numpy(), [2.0, 4.0])


# --- helpers ----------------------------------------------------------------------------


def _leaves(obj):
    if isinstance(obj, (tuple, list)):
        for o in obj:
            yield from _leaves(o)
    else:
        yield obj


def _structure(obj):
    """('tuple', [...]) / ('tensor', shape, values) for a nested result of either library."""
    if isinstance(obj, tuple):
        return ("tuple", [_structure(o) for o in obj])
    if isinstance(obj, list):
        return ("list", [_structure(o) for o in obj])
    if isinstance(obj, tg.Tensor):
        return ("tensor", tuple(obj.shape), obj.detach().numpy())
    if type(obj).__module__.startswith("torch"):
        return ("tensor", tuple(obj.shape), obj.detach().numpy())
    return (type(obj).__name__, obj)


def _compare(a, b, rtol, path):
    assert a[0] == b[0], f"{path}: {a[0]} vs torch's {b[0]}"
    if a[0] in ("tuple", "list"):
        assert len(a[1]) == len(b[1]), f"{path}: length {len(a[1])} vs torch's {len(b[1])}"
        for k, (x, y) in enumerate(zip(a[1], b[1])):
            _compare(x, y, rtol, f"{path}[{k}]")
    elif a[0] == "tensor":
        assert a[1] == b[1], f"{path}: shape {a[1]} vs torch's {b[1]}"
        assert a[2].dtype == b[2].dtype, f"{path}: dtype {a[2].dtype} vs torch's {b[2].dtype}"
        np.testing.assert_allclose(a[2], b[2], rtol=rtol, atol=rtol, err_msg=path)
    else:
        assert a == b, path


def assert_same_structure(got, expected_torch, rtol, err="result"):
    _compare(_structure(got), _structure(expected_torch), rtol, err)
