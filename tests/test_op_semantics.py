"""Properties of the newer ops that the OP_DB table can't express: max/min's
(values, indices) namedtuple, var's correction, norm's p, dtype conversions, identity
views, 0-d tensors, cat/stack promotion, matrix_exp identities and its Fréchet
derivative, large batched matmul."""

import numpy as np
import pytest
import tapegrad as tg

F64 = tg.float64


# --- max / min ---------------------------------------------------------------------


@pytest.mark.parametrize("which", ["max", "min"])
@pytest.mark.parametrize("dim", [0, 1, 2, -1, -3])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_min_dim_namedtuple(which, dim, keepdim, rng):
    a = rng.standard_normal((3, 4, 5))
    x = tg.tensor(a, requires_grad=True)
    res = getattr(x, which)(dim=dim, keepdim=keepdim)
    assert isinstance(res, tuple) and len(res) == 2 and res._fields == ("values", "indices")
    values, indices = res  # unpacks like torch.return_types.max
    assert values is res.values and indices is res[1]
    ref = getattr(np, which)(a, axis=dim, keepdims=keepdim)
    arg = getattr(np, "arg" + which)(a, axis=dim)
    arg = np.expand_dims(arg, dim) if keepdim else arg
    assert values.shape == ref.shape and indices.shape == ref.shape
    assert indices.dtype == tg.int64 and not indices.requires_grad
    np.testing.assert_array_equal(values.detach().numpy(), ref)
    np.testing.assert_array_equal(indices.numpy(), arg)
    fn_res = getattr(tg, which)(x, dim, keepdim)
    np.testing.assert_array_equal(fn_res.indices.numpy(), arg)
    values.sum().backward()
    expected = np.zeros_like(a)
    np.put_along_axis(expected, arg if keepdim else np.expand_dims(arg, dim), 1.0, axis=dim)
    np.testing.assert_array_equal(x.grad.numpy(), expected)


@pytest.mark.parametrize("which", ["max", "min"])
def test_max_min_full_reduction_is_0d_and_binary_form_is_elementwise(which):
    a = np.array([[1.0, 7.0, -2.0], [4.0, 0.5, 3.0]])
    x = tg.tensor(a)
    r = getattr(x, which)()
    assert isinstance(r, tg.Tensor) and r.shape == ()
    assert r.item() == getattr(np, which)(a)
    assert getattr(tg, which)(x).item() == getattr(np, which)(a)
    b = tg.tensor(np.array([2.0, 2.0, 2.0]))
    elementwise = getattr(tg, which)(x, b)
    np.testing.assert_array_equal(elementwise.numpy(),
                                  getattr(np, which + "imum")(a, [2.0, 2.0, 2.0]))
    np.testing.assert_array_equal(getattr(tg, which + "imum")(x, b).numpy(), elementwise.numpy())


def test_max_min_match_torch(torch, rng):
    a = rng.standard_normal((3, 4))
    for which in ("max", "min"):
        for dim in (0, 1, -1):
            r = getattr(tg.tensor(a), which)(dim=dim, keepdim=True)
            t = getattr(torch.tensor(a), which)(dim=dim, keepdim=True)
            np.testing.assert_array_equal(r.values.numpy(), t.values.numpy())
            np.testing.assert_array_equal(r.indices.numpy(), t.indices.numpy())
        assert getattr(tg.tensor(a), which)().item() == getattr(torch.tensor(a), which)().item()


def test_max_min_of_int64_tensors():
    x = tg.tensor([[3, 9, 1], [7, 2, 8]])
    assert x.max().item() == 9 and x.max().dtype == tg.int64
    r = x.min(dim=1)
    assert r.values.tolist() == [1, 2] and r.indices.tolist() == [2, 1]
    assert r.values.dtype == tg.int64


# --- var -----------------------------------------------------------------------------


def test_var_corrections(rng):
    a = rng.standard_normal((4, 6))
    x = tg.tensor(a)
    np.testing.assert_allclose(x.var().item(), np.var(a, ddof=1), rtol=1e-14)
    np.testing.assert_allclose(x.var(unbiased=False).item(), np.var(a), rtol=1e-14)
    np.testing.assert_allclose(x.var(1).numpy(), np.var(a, axis=1, ddof=1), rtol=1e-14)
    # correction overrides unbiased, as in PyTorch
    np.testing.assert_allclose(x.var(dim=1, unbiased=True, correction=0).numpy(),
                               np.var(a, axis=1), rtol=1e-14)
    np.testing.assert_allclose(x.var(dim=0, correction=3).numpy(), np.var(a, axis=0, ddof=3),
                               rtol=1e-14)
    np.testing.assert_allclose(tg.var(x, 1, False, True).numpy(),
                               np.var(a, axis=1, keepdims=True), rtol=1e-14)


def test_var_of_constant_is_zero_with_finite_gradient():
    x = tg.full((5,), 3.25, dtype=F64, requires_grad=True)
    v = x.var()
    assert v.item() == 0.0
    v.backward()
    assert x.grad.tolist() == [0.0] * 5


def test_var_degenerate_matches_torch(torch):
    # one element with the unbiased estimator: 0/0 = nan (PyTorch warns, gives nan)
    assert np.isnan(tg.ones(1, dtype=F64).var().item())
    assert tg.ones(1, dtype=F64).var(unbiased=False).item() == 0.0
    with pytest.warns(UserWarning):
        t = torch.ones(1, dtype=torch.float64).var()
    assert np.isnan(t.item())


# --- norm ------------------------------------------------------------------------------


def test_norm_p_values(rng):
    a = rng.standard_normal((3, 4))
    x = tg.tensor(a)
    assert tg.norm(x).item() == pytest.approx(np.sqrt((a * a).sum()), rel=1e-14)
    assert tg.norm(x, "fro").item() == pytest.approx(np.sqrt((a * a).sum()), rel=1e-14)
    assert x.norm(1).item() == pytest.approx(np.abs(a).sum(), rel=1e-14)
    assert x.norm(float("inf")).item() == np.abs(a).max()
    assert x.norm(-float("inf")).item() == np.abs(a).min()
    assert tg.norm(x, p=3).item() == pytest.approx((np.abs(a) ** 3).sum() ** (1 / 3), rel=1e-13)
    np.testing.assert_allclose(tg.norm(x, dim=1).numpy(), np.linalg.norm(a, axis=1), rtol=1e-14)
    np.testing.assert_allclose(tg.norm(x, p=1, dim=0, keepdim=True).numpy(),
                               np.abs(a).sum(axis=0, keepdims=True), rtol=1e-14)


def test_norm_p0_counts_nonzeros_and_adds_no_gradient():
    # PyTorch: the 0-"norm" counts the nonzero entries; it is piecewise constant
    x = tg.tensor([0.0, 2.0, -3.0, 0.0], dtype=F64, requires_grad=True)
    n = tg.norm(x, p=0)
    assert n.item() == 2.0
    (n + (x * x).sum()).backward()
    assert x.grad.tolist() == [0.0, 4.0, -6.0, 0.0]


# --- conversions -------------------------------------------------------------------------


@pytest.mark.parametrize("src", [np.float32, np.float64], ids=["float32", "float64"])
def test_conversions_values_and_gradients(src):
    a = np.array([1.75, -2.5, 3.0], dtype=src)
    x = tg.tensor(a, requires_grad=True)
    for y, dt, np_dt in [(x.float(), tg.float32, np.float32), (x.double(), F64, np.float64),
                         (x.to(tg.float32), tg.float32, np.float32),
                         (x.to(F64), F64, np.float64)]:
        assert y.dtype == dt and y.requires_grad
        np.testing.assert_array_equal(y.detach().numpy(), a.astype(np_dt))
        (y * 2.0).sum().backward()
        assert x.grad.dtype == x.dtype  # the gradient comes back in the input's dtype
        np.testing.assert_array_equal(x.grad.numpy(), np.full(3, 2.0, dtype=src))
        x.grad = None
    i = x.long()
    assert i.dtype == tg.int64 and i.tolist() == [1, -2, 3]  # toward zero
    assert not i.requires_grad and i.grad_fn is None
    assert x.to(tg.int64).tolist() == [1, -2, 3]


def test_float64_to_float32_rounds_to_nearest():
    a = np.array([0.1, 1 / 3, 1e-40, 3.4e38, 1e39, -1e39])
    with np.errstate(over="ignore"):
        expected = a.astype(np.float32)
    np.testing.assert_array_equal(tg.tensor(a).float().numpy(), expected)


def test_conversions_match_torch(torch):
    a = np.array([1.7, -1.7, 2.5, -0.5])
    for conv in ("float", "double", "long"):
        got = getattr(tg.tensor(a), conv)()
        exp = getattr(torch.tensor(a), conv)()
        np.testing.assert_array_equal(got.numpy(), exp.numpy())
    x = tg.tensor(a.astype(np.float32))
    t = torch.tensor(a.astype(np.float32))
    assert (x.float() is x) == (t.float() is t)
    assert (x.to(tg.float32) is x) == (t.to(torch.float32) is t)


# --- identity-shaped views --------------------------------------------------------------

_IDENTITY_VIEWS = {
    "slice_all": lambda x: x[:],
    "ellipsis": lambda x: x[...],
    "expand_same_shape": lambda x: x.expand(2, 3),
    "expand_minus_ones": lambda x: x.expand(-1, -1),
    "view_same_shape": lambda x: x.view(2, 3),
    "reshape_same_shape": lambda x: x.reshape(2, 3),
    "permute_identity": lambda x: x.permute(0, 1),
    "squeeze_nothing": lambda x: x.squeeze(),
    "flatten_single_dim": lambda x: x.flatten(1, 1),
    "cat_one": lambda x: tg.cat([x]),
}


@pytest.mark.parametrize("name", list(_IDENTITY_VIEWS))
def test_identity_shaped_ops_return_a_new_non_leaf(name):
    # As in PyTorch: x[:], x.expand(x.shape) and the like are new tensors recorded on
    # the tape (grad_fn set, not leaves), so flags set on them don't touch x.
    x = tg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    y = _IDENTITY_VIEWS[name](x)
    assert y is not x
    assert y.requires_grad and not y.is_leaf and y.grad_fn is not None
    assert y.detach().tolist() == x.detach().tolist()
    (y * 3.0).sum().backward()
    assert x.grad.tolist() == [[3.0] * 3] * 2


def test_identity_view_requires_grad_flag_is_not_shared():
    # PyTorch raises "you can only change requires_grad flags of leaf variables" for
    # t[:].requires_grad = False; it must never switch off the flag of x itself
    x = tg.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError):
        x[:].requires_grad = False
    assert x.requires_grad


# --- 0-d tensors and dims -------------------------------------------------------------

_ZERO_D = {
    "max_dim0": lambda m, s: m.max(s, dim=0).values,
    "min_dim_minus1": lambda m, s: m.min(s, dim=-1).values,
    "softmax0": lambda m, s: m.softmax(s, 0),
    "log_softmax0": lambda m, s: m.log_softmax(s, 0),
    "logsumexp0": lambda m, s: m.logsumexp(s, 0),
    "squeeze0": lambda m, s: m.squeeze(s, 0),
    "unsqueeze_minus1": lambda m, s: m.unsqueeze(s, -1),
    "flatten": lambda m, s: m.flatten(s),
    "norm_dim0": lambda m, s: m.norm(s, dim=0),
    "expand": lambda m, s: s.expand(2),
    "stack": lambda m, s: m.stack([s, s * 2.0]),
    "view": lambda m, s: s.view(1, 1),
}


@pytest.mark.parametrize("name", list(_ZERO_D))
def test_ops_on_0d_tensors_match_torch(name, torch):
    a = tg.tensor(1.5, dtype=F64, requires_grad=True)
    t = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    y, z = _ZERO_D[name](tg, a), _ZERO_D[name](torch, t)
    assert y.shape == tuple(z.shape)
    np.testing.assert_allclose(y.detach().numpy(), z.detach().numpy(), rtol=1e-15)
    y.sum().backward()
    z.sum().backward()
    assert a.grad.item() == pytest.approx(t.grad.item(), rel=1e-15, abs=1e-300)


def test_0d_max_indices():
    r = tg.tensor(4.0).max(dim=0)
    assert r.values.shape == () and r.indices.shape == () and r.indices.item() == 0


# --- cat / stack / expand ---------------------------------------------------------------


def test_cat_stack_promote_dtypes_as_torch(torch):
    pairs = [(tg.float32, tg.float64), (tg.float64, tg.float32), (tg.int64, tg.float32),
             (tg.int64, tg.int64)]
    names = {torch.float32: "float32", torch.float64: "float64", torch.int64: "int64"}
    tdt = {tg.float32: torch.float32, tg.float64: torch.float64, tg.int64: torch.int64}
    for d1, d2 in pairs:
        a, b = tg.ones(2, dtype=d1), tg.ones(2, dtype=d2)
        ta, tb = torch.ones(2, dtype=tdt[d1]), torch.ones(2, dtype=tdt[d2])
        assert tg.cat([a, b]).dtype.name == names[torch.cat([ta, tb]).dtype]
        assert tg.stack([a, b]).dtype.name == names[torch.stack([ta, tb]).dtype]


def test_cat_mixed_dtypes_gradients_keep_each_dtype():
    a = tg.ones(2, dtype=tg.float32, requires_grad=True)
    b = tg.ones(3, dtype=F64, requires_grad=True)
    c = tg.cat([a, b])
    assert c.dtype == F64
    (c * tg.tensor(np.arange(5.0))).sum().backward()
    assert a.grad.dtype == tg.float32 and a.grad.tolist() == [0.0, 1.0]
    assert b.grad.dtype == F64 and b.grad.tolist() == [2.0, 3.0, 4.0]


def test_cat_with_empty_pieces():
    a = tg.ones(2, 3, requires_grad=True)
    e = tg.zeros(0, 3, requires_grad=True)
    c = tg.cat([e, a, e])
    assert c.shape == (2, 3)
    c.sum().backward()
    assert e.grad.shape == (0, 3) and a.grad.tolist() == [[1.0] * 3] * 2


def test_expand_gradient_sums_over_expanded_dims_and_size_0():
    x = tg.tensor([[1.0], [2.0]], dtype=F64, requires_grad=True)
    y = x.expand(3, 2, 4)
    np.testing.assert_array_equal(y.detach().numpy(), np.broadcast_to([[1.0], [2.0]], (3, 2, 4)))
    (y * tg.tensor(np.arange(24.0).reshape(3, 2, 4))).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(),
                                  np.arange(24.0).reshape(3, 2, 4).sum(axis=(0, 2))[:, None])
    assert tg.ones(1, 3).expand(0, 3).shape == (0, 3)


def test_squeeze_unsqueeze_flatten_shapes():
    x = tg.ones(1, 2, 1, 3)
    assert x.squeeze().shape == (2, 3)
    assert x.squeeze(0).shape == (2, 1, 3)
    assert x.squeeze(1).shape == (1, 2, 1, 3)  # not size 1: unchanged, as PyTorch
    assert x.squeeze(-2).shape == (1, 2, 3)
    assert x.unsqueeze(4).shape == (1, 2, 1, 3, 1)
    assert x.unsqueeze(-5).shape == (1, 1, 2, 1, 3)
    assert x.flatten().shape == (6,)
    assert x.flatten(1).shape == (1, 6)
    assert x.flatten(0, 2).shape == (2, 3)
    assert x.flatten(-2, -1).shape == (1, 2, 3)
    assert tg.ones(()).flatten().shape == (1,)
    assert x.permute(3, 1, 0, 2).shape == (3, 2, 1, 1)
    assert tg.permute(x, (3, 1, 0, 2)).shape == (3, 2, 1, 1)
    assert x.view(3, -1).shape == (3, 2)


# --- softmax -----------------------------------------------------------------------------


def test_softmax_rows_sum_to_one_and_log_softmax_is_its_log(rng):
    a = rng.standard_normal((7, 300)) * 10
    s = tg.softmax(tg.tensor(a), dim=1).numpy()
    np.testing.assert_allclose(s.sum(axis=1), 1.0, rtol=1e-14)
    ls = tg.log_softmax(tg.tensor(a), dim=1).numpy()
    np.testing.assert_allclose(np.exp(ls), s, rtol=1e-12, atol=1e-300)
    s0 = tg.tensor(a).softmax(0).numpy()
    np.testing.assert_allclose(s0.sum(axis=0), 1.0, rtol=1e-14)


# --- matrix_exp ----------------------------------------------------------------------------


def _expm_np(a):
    x = np.asarray(a, dtype=np.float64)
    norm = np.max(np.sum(np.abs(x), axis=0)) if x.size else 0.0
    s = max(0, int(np.ceil(np.log2(norm / 0.25)))) if norm > 0 else 0
    x = x / 2.0 ** s
    out, term = np.eye(len(x)), np.eye(len(x))
    for k in range(1, 30):
        term = term @ x / k
        out = out + term
    for _ in range(s):
        out = out @ out
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_matrix_exp_identities(dtype):
    tol = 1e-6 if dtype == np.float32 else 1e-14

    def expm(a):
        out = tg.matrix_exp(tg.tensor(np.asarray(a, dtype=dtype)))
        assert out.dtype == (tg.float32 if dtype == np.float32 else F64)
        return out.numpy().astype(np.float64)

    np.testing.assert_array_equal(expm(np.zeros((3, 3))), np.eye(3))
    np.testing.assert_allclose(expm(np.diag([1.0, -2.0, 0.5])),
                               np.diag(np.exp([1.0, -2.0, 0.5])), rtol=tol)
    np.testing.assert_allclose(expm([[0.0, 1.0], [0.0, 0.0]]), [[1.0, 1.0], [0.0, 1.0]],
                               rtol=tol, atol=tol)
    t = 0.7
    np.testing.assert_allclose(expm([[0.0, -t], [t, 0.0]]),
                               [[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]], rtol=tol,
                               atol=tol)
    A = np.random.default_rng(9).standard_normal((4, 4))
    np.testing.assert_allclose(expm(A) @ expm(-A), np.eye(4), atol=tol * 50)
    assert tg.matrix_exp(tg.zeros(0, 0)).shape == (0, 0)


@pytest.mark.parametrize("scale", [0.1, 1.0, 4.0, 12.0])
def test_matrix_exp_matches_reference_at_all_scales(scale):
    A = np.random.default_rng(10).standard_normal((6, 6)) * scale / np.sqrt(6)
    got = tg.matrix_exp(tg.tensor(A)).numpy()
    expected = _expm_np(A)
    np.testing.assert_allclose(got, expected, rtol=1e-11, atol=1e-12 * np.abs(expected).max())


def _frechet(A, E):
    """The Fréchet derivative L(A, E) of exp at A in direction E, from the block identity
    exp([[A, E], [0, A]]) = [[exp(A), L(A, E)], [0, exp(A)]]."""
    n = len(A)
    block = np.block([[A, E], [np.zeros((n, n)), A]])
    return _expm_np(block)[:n, n:]


@pytest.mark.parametrize("scale", [0.5, 3.0])
def test_matrix_exp_gradient_and_jvp_are_the_frechet_derivative(scale):
    rng = np.random.default_rng(11)
    A = rng.standard_normal((5, 5)) * scale / np.sqrt(5)
    W = rng.standard_normal((5, 5))
    E = rng.standard_normal((5, 5))
    x = tg.tensor(A, requires_grad=True)
    (tg.matrix_exp(x) * tg.tensor(W)).sum().backward()
    # <W, L(A, E)> = <L(Aᵀ, W), E>: the gradient is the adjoint derivative L(Aᵀ, W)
    expected_grad = _frechet(A.T, W)
    np.testing.assert_allclose(x.grad.numpy(), expected_grad, rtol=1e-9,
                               atol=1e-11 * np.abs(expected_grad).max())
    _, jv = tg.autograd.functional.jvp(tg.matrix_exp, tg.tensor(A), tg.tensor(E))
    expected_jv = _frechet(A, E)
    np.testing.assert_allclose(jv.numpy(), expected_jv, rtol=1e-9,
                               atol=1e-11 * np.abs(expected_jv).max())


def test_matrix_exp_float32_gradient_close_to_float64():
    rng = np.random.default_rng(12)
    A = rng.standard_normal((4, 4)) * 0.5
    grads = []
    for dt in (np.float32, np.float64):
        x = tg.tensor(A.astype(dt), requires_grad=True)
        tg.matrix_exp(x).sum().backward()
        assert x.grad.dtype == x.dtype
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5, atol=1e-5)


def test_matrix_exp_matches_torch_at_several_scales(torch):
    for scale in (0.01, 1.0, 6.0):
        A = np.random.default_rng(13).standard_normal((5, 5)) * scale
        for dt in (np.float32, np.float64):
            x = tg.tensor(A.astype(dt), requires_grad=True)
            t = torch.tensor(A.astype(dt), requires_grad=True)
            y, z = tg.matrix_exp(x), torch.matrix_exp(t)
            tol = 1e-5 if dt == np.float32 else 1e-11
            big = np.abs(z.detach().numpy()).max()
            np.testing.assert_allclose(y.detach().numpy(), z.detach().numpy(), rtol=tol,
                                       atol=tol * big)
            y.sum().backward()
            z.sum().backward()
            gbig = np.abs(t.grad.numpy()).max()
            np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=tol, atol=tol * gbig)


# --- matmul, outer, dot at sizes beyond the small kernels ---------------------------------


def test_batched_matmul_large_matches_numpy():
    rng = np.random.default_rng(14)
    A = rng.standard_normal((3, 70, 50))
    B = rng.standard_normal((50, 40))
    C = rng.standard_normal((1, 40, 30))
    a, b, c = (tg.tensor(v, requires_grad=True) for v in (A, B, C))
    out = a @ b @ c
    np.testing.assert_allclose(out.detach().numpy(), A @ B @ C, rtol=1e-11, atol=1e-11)
    out.sum().backward()
    G = np.ones((3, 70, 30))
    np.testing.assert_allclose(a.grad.numpy(), G @ (B @ C[0]).T, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(b.grad.numpy(), (np.swapaxes(A, 1, 2) @ G @ C[0].T).sum(0),
                               rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(c.grad.numpy(), (np.swapaxes(A @ B, 1, 2) @ G).sum(0,
                               keepdims=True), rtol=1e-10, atol=1e-10)


def test_outer_and_dot_values_and_dtypes():
    u = tg.tensor([1.0, 2.0, 3.0], dtype=F64)
    v = tg.tensor([4.0, 5.0], dtype=F64)
    assert tg.outer(u, v).tolist() == [[4.0, 5.0], [8.0, 10.0], [12.0, 15.0]]
    assert tg.dot(u, u).shape == () and tg.dot(u, u).item() == 14.0
    i = tg.tensor([1, 2, 3])
    assert tg.dot(i, i).dtype == tg.int64 and tg.dot(i, i).item() == 14
    assert tg.outer(i, i).dtype == tg.int64


# --- integer powers ---------------------------------------------------------------------


def _int_pow(a, b):
    """ATen's integer pow from Python's exact integers: two's complement wrap-around, and
    for a negative exponent 1 for 1, ±1 for -1 and 0 otherwise."""
    if b < 0:
        return 1 if a == 1 else ((-1) ** (-b) if a == -1 else 0)
    return (pow(a, b, 2**64) + 2**63) % 2**64 - 2**63


INT_POWS = [(5, 23), (3, 39), (3, 40), (3, 41), (-3, 41), (2, 62), (2, 63), (2, 64), (-2, 63),
            (7, 2**62), (2**62, 2), (-1, 2**62 + 1), (10, 18), (10, 19), (0, 0), (0, 5),
            (-7, 0), (1, -5), (-1, -3), (-1, -4), (0, -1), (2, -1), (-2, -2), (2**40, -1)]


def test_int64_power_is_exact():
    a = tg.tensor([a for a, _ in INT_POWS])
    b = tg.tensor([b for _, b in INT_POWS])
    got = (a ** b).tolist()
    assert (a ** b).dtype == tg.int64
    assert got == [_int_pow(x, y) for x, y in INT_POWS]
    assert (tg.tensor(5) ** tg.tensor(23)).item() == 11920928955078125
    assert (tg.tensor(0) ** tg.tensor(-1)).item() == 0
    # a Python int base, a non-negative Python int exponent, broadcasting
    assert (3 ** tg.tensor([0, 1, 39, -1])).tolist() == [1, 3, 3**39, 0]
    assert (tg.tensor([[2], [3]]) ** tg.tensor([40, 41])).tolist() == [
        [_int_pow(2, 40), _int_pow(2, 41)], [_int_pow(3, 40), _int_pow(3, 41)]]
    assert (tg.tensor([5, -5]) ** 23).tolist() == [5**23, -(5**23)]


@pytest.mark.parametrize("code", ["t ** -1", "t.pow(-2)", "t ** np.int64(-3)",
                                  "tg.tensor(4) ** -1"])
def test_int64_tensor_to_a_negative_python_int_raises(code):
    with pytest.raises(RuntimeError, match="negative integer powers"):
        eval(code, {"t": tg.tensor([2, 3]), "tg": tg, "np": np})


def test_int64_power_special_exponents_keep_dtypes():
    t = tg.tensor([1, -1, 2, 0])
    assert (t ** tg.tensor(-1)).tolist() == [1, -1, 0, 0]  # a tensor exponent: no error
    assert (t ** True).tolist() == [1, -1, 2, 0]
    r = t ** -1.0  # a float exponent: a float result
    assert r.dtype == tg.float32 and r.tolist() == [1.0, -1.0, 0.5, float("inf")]


def test_int64_power_matches_torch(torch):
    a = [a for a, _ in INT_POWS]
    b = [b for _, b in INT_POWS]
    expected = (torch.tensor(a) ** torch.tensor(b)).tolist()
    assert (tg.tensor(a) ** tg.tensor(b)).tolist() == expected
    for code in ["t ** -1", "t.pow(-2)"]:
        with pytest.raises(RuntimeError):
            eval(code, {"t": torch.tensor([2, 3])})
    assert (torch.tensor([1, -1, 2, 0]) ** -1.0).tolist() == [1.0, -1.0, 0.5, float("inf")]


def test_int64_item_is_exact():
    # item() went through a double, which holds integers exactly only up to 2**53
    for v in (2**53 + 1, 2**62 + 1, -(2**63), 2**63 - 1):
        assert tg.tensor(v).item() == v
        assert int(tg.tensor([v])) == v


# --- empty products -------------------------------------------------------------------

EMPTY_PRODUCTS = [((0, 0, 0), (0, 0)), ((2, 3, 0), (0, 4)), ((2, 3, 0), (2, 0, 4)),
                  ((0, 3, 5), (5, 4)), ((2, 0, 3), (3,)), ((3, 0), (0,)), ((0,), (0,)),
                  ((1, 0, 2, 0), (3, 1, 0, 4)), ((2, 0), (0, 4)), ((0, 3), (3, 0)),
                  ((4,), (2, 4, 0)), ((2, 1, 3, 0), (5, 0, 2)), ((0, 2, 3), (3, 2))]


@pytest.mark.parametrize("sa,sb", EMPTY_PRODUCTS, ids=lambda s: "x".join(map(str, s)))
def test_empty_products_have_the_right_shape(sa, sb, rng):
    # K = 0 gives zeros; a 0 batch or 0 rows give an empty result (tg.zeros(0, 0, 0) @
    # tg.zeros(0, 0) raised a reshape error)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    expected = np.matmul(a, b)
    x = tg.tensor(a, requires_grad=True)
    y = tg.tensor(b, requires_grad=True)
    out = x @ y
    assert out.shape == expected.shape
    np.testing.assert_array_equal(out.detach().numpy(), expected)  # zeros or empty
    out.sum().backward()
    # every entry of either gradient multiplies an empty sum (K = 0) or reaches no output
    assert x.grad.shape == sa and y.grad.shape == sb
    assert not x.grad.numpy().any() and not y.grad.numpy().any()


def test_linear_with_no_input_features():
    out = tg.nn.functional.linear(tg.zeros(2, 3, 0), tg.zeros(4, 0), tg.ones(4))
    assert out.shape == (2, 3, 4) and out.tolist() == [[[1.0] * 4] * 3] * 2


def test_empty_products_match_torch(torch):
    for sa, sb in EMPTY_PRODUCTS:
        expected = torch.zeros(sa) @ torch.zeros(sb)
        assert (tg.zeros(*sa) @ tg.zeros(*sb)).shape == tuple(expected.shape), (sa, sb)
