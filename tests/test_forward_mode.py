"""Forward mode: tg.autograd.functional.jvp pushes tangents through each op's jvp rule.

Every op of OP_DB is checked in test_ops.py (J·v against directional differences of
its NumPy reference, and against PyTorch). Here: whole models, the mechanics of
forward mode (one evaluation, no tape, grad modes, errors inside the function), dtypes,
detach, and large/threaded kernels.
"""

import warnings

import numpy as np
import pytest
import tapegrad as tg

jvp = tg.autograd.functional.jvp
F64 = tg.float64


def _directional(f_np, arrays, tangents, eps=1e-6):
    plus = f_np(*[a + eps * t for a, t in zip(arrays, tangents)])
    minus = f_np(*[a - eps * t for a, t in zip(arrays, tangents)])
    return (np.asarray(plus) - np.asarray(minus)) / (2 * eps)


def _np_log_softmax(z, axis):
    m = z.max(axis=axis, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=axis, keepdims=True))


def _mlp_tg(x, W1, b1, W2, labels):
    h = (x @ W1 + b1).tanh()
    logits = tg.cat([h @ W2, h.sum(dim=1, keepdim=True)], dim=1)
    logp = logits.log_softmax(dim=1)
    nll = -logp[tg.tensor(np.arange(len(labels))), tg.tensor(labels)].mean()
    return nll + 0.01 * tg.norm(W1) ** 2 + 0.1 * logits.logsumexp(1).var()


def _mlp_np(x, W1, b1, W2, labels):
    h = np.tanh(x @ W1 + b1)
    logits = np.concatenate([h @ W2, h.sum(axis=1, keepdims=True)], axis=1)
    logp = _np_log_softmax(logits, 1)
    nll = -logp[np.arange(len(labels)), labels].mean()
    m = logits.max(axis=1, keepdims=True)
    lse = (m + np.log(np.exp(logits - m).sum(axis=1, keepdims=True)))[:, 0]
    return nll + 0.01 * np.sum(W1 * W1) + 0.1 * lse.var(ddof=1)


def _mlp_data(rng):
    x = rng.standard_normal((5, 4))
    W1 = rng.standard_normal((4, 6)) * 0.5
    b1 = rng.standard_normal(6) * 0.1
    W2 = rng.standard_normal((6, 3)) * 0.5
    labels = np.array([0, 3, 1, 2, 0])
    return [x, W1, b1, W2], labels


def test_jvp_of_a_small_network_matches_directional_differences(rng):
    arrays, labels = _mlp_data(rng)
    tangents = [rng.standard_normal(a.shape) for a in arrays]
    value, jv = jvp(lambda *ts: _mlp_tg(*ts, labels), tuple(tg.tensor(a) for a in arrays),
                    tuple(tg.tensor(t) for t in tangents))
    assert value.shape == () and jv.shape == ()
    assert value.item() == pytest.approx(_mlp_np(*arrays, labels), rel=1e-12)
    expected = _directional(lambda *a: _mlp_np(*a, labels), arrays, tangents)
    assert jv.item() == pytest.approx(float(expected), rel=1e-6, abs=1e-9)


def test_jvp_agrees_with_reverse_mode_gradient(rng):
    # J·v == ∇f · v for a scalar f: forward and reverse mode agree to rounding
    arrays, labels = _mlp_data(rng)
    tangents = [rng.standard_normal(a.shape) for a in arrays]
    ts = [tg.tensor(a, requires_grad=True) for a in arrays]
    grads = tg.autograd.grad(_mlp_tg(*ts, labels), ts)
    dot = sum(float(np.sum(g.numpy() * t)) for g, t in zip(grads, tangents))
    _, jv = jvp(lambda *xs: _mlp_tg(*xs, labels), tuple(tg.tensor(a) for a in arrays),
                tuple(tg.tensor(t) for t in tangents))
    assert jv.item() == pytest.approx(dot, rel=1e-12, abs=1e-14)


def test_jvp_of_a_small_network_matches_torch(rng, torch):
    arrays, labels = _mlp_data(rng)
    tangents = [rng.standard_normal(a.shape) for a in arrays]

    def torch_mlp(x, W1, b1, W2):
        h = (x @ W1 + b1).tanh()
        logits = torch.cat([h @ W2, h.sum(dim=1, keepdim=True)], dim=1)
        logp = logits.log_softmax(dim=1)
        nll = -logp[torch.arange(len(labels)), torch.tensor(labels)].mean()
        return nll + 0.01 * torch.norm(W1) ** 2 + 0.1 * logits.logsumexp(1).var()

    with warnings.catch_warnings():  # torch.func's first use warns about TorchScript
        warnings.simplefilter("ignore", DeprecationWarning)
        import torch.func

        t_value, t_jv = torch.func.jvp(torch_mlp, tuple(torch.tensor(a) for a in arrays),
                                       tuple(torch.tensor(t) for t in tangents))
    value, jv = jvp(lambda *xs: _mlp_tg(*xs, labels), tuple(tg.tensor(a) for a in arrays),
                    tuple(tg.tensor(t) for t in tangents))
    assert value.item() == pytest.approx(t_value.item(), rel=1e-12)
    assert jv.item() == pytest.approx(t_jv.item(), rel=1e-10)


def test_jvp_evaluates_the_function_once_by_forward_mode():
    calls = []

    def f(z):
        y = z.exp() * z
        calls.append(z.is_leaf)
        return y.sum()

    x = tg.tensor([0.5, 1.0], dtype=F64, requires_grad=True)
    value, jv = jvp(f, x, tg.tensor([1.0, 1.0], dtype=F64))
    assert len(calls) == 1, "the function runs once: tangents travel with the values"
    assert calls[0] is False, "the input is a dual view, cut from the caller's graph"
    xs = np.array([0.5, 1.0])
    assert jv.item() == pytest.approx(np.sum(np.exp(xs) * (1 + xs)), rel=1e-14)
    assert not value.requires_grad and not jv.requires_grad
    assert x.grad is None


def test_jvp_works_inside_no_grad_and_restores_the_mode():
    x = tg.tensor([1.0, 2.0], dtype=F64)
    v = tg.tensor([0.5, -1.0], dtype=F64)
    with tg.no_grad():
        _, jv = jvp(lambda z: z.sin(), x, v)
        assert not tg.is_grad_enabled()
    np.testing.assert_allclose(jv.numpy(), np.cos([1.0, 2.0]) * [0.5, -1.0], rtol=1e-15)
    assert tg.is_grad_enabled()


def test_an_error_inside_the_function_leaves_no_forward_mode_behind():
    x = tg.tensor([1.0, 2.0], dtype=F64)

    def bad(z):
        _ = z * 2.0
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        jvp(bad, x, x)
    # afterwards: plain ops, reverse mode and jvp behave normally
    y = tg.tensor([1.0, 2.0], dtype=F64, requires_grad=True)
    (y * y).sum().backward()
    assert y.grad.tolist() == [2.0, 4.0]
    _, jv = jvp(lambda z: z * z, x, x)
    assert jv.tolist() == [2.0, 8.0]
    assert tg.is_grad_enabled()


def test_jvp_detach_drops_the_tangent():
    # as PyTorch's forward AD: a detached tensor carries no tangent
    x = tg.tensor([1.0, 2.0], dtype=F64)
    v = tg.tensor([0.5, -1.0], dtype=F64)
    value, jv = jvp(lambda z: z.detach() * z, x, v)
    assert value.tolist() == [1.0, 4.0]
    assert jv.tolist() == [0.5, -2.0]
    _, jv = jvp(lambda z: z.detach().exp(), x, v)
    assert jv.tolist() == [0.0, 0.0]


def test_jvp_of_identity_and_of_a_constant():
    x = tg.tensor([1.0, 2.0], dtype=F64)
    v = tg.tensor([0.5, -1.0], dtype=F64)
    value, jv = jvp(lambda z: z, x, v)
    assert value.tolist() == [1.0, 2.0] and jv.tolist() == [0.5, -1.0]
    value, jv = jvp(lambda z: tg.ones(3, dtype=F64), x, v)
    assert value.tolist() == [1.0] * 3 and jv.tolist() == [0.0] * 3


@pytest.mark.parametrize("dtype", [tg.float32, tg.float64], ids=["float32", "float64"])
def test_jvp_keeps_dtypes_and_converts_tangents(dtype):
    x = tg.tensor([1.0, -2.0], dtype=dtype)
    v = tg.tensor([0.5, 0.25], dtype=dtype)
    value, jv = jvp(lambda z: (z * 3.0).double(), x, v)
    assert value.dtype == F64 and jv.dtype == F64
    assert jv.tolist() == [1.5, 0.75]
    value, jv = jvp(lambda z: z.float() * z.float(), x, v)
    assert jv.dtype == tg.float32
    assert jv.tolist() == [1.0, -1.0]
    value, jv = jvp(lambda z: (z.exp(), z.long()), x, v)
    assert jv[0].dtype == dtype
    np.testing.assert_allclose(jv[0].numpy(), np.exp([1.0, -2.0]) * [0.5, 0.25], rtol=1e-6)
    assert jv[1].dtype == tg.int64 and jv[1].tolist() == [0, 0]  # integers carry no tangent


@pytest.mark.parametrize("threads", [1, 2])
def test_jvp_through_large_kernels(threads):
    # big enough for the BLAS matmul and the parallel elementwise kernels
    rng = np.random.default_rng(21)
    A = rng.standard_normal((90, 70))
    B = rng.standard_normal((70, 60))
    dA = rng.standard_normal(A.shape)
    dB = rng.standard_normal(B.shape)
    old = tg.get_num_threads()
    tg.set_num_threads(threads)
    try:
        value, jv = jvp(lambda a, b: (a @ b).tanh().softmax(dim=1),
                        (tg.tensor(A), tg.tensor(B)), (tg.tensor(dA), tg.tensor(dB)))
    finally:
        tg.set_num_threads(old)

    def f_np(a, b):
        t = np.tanh(a @ b)
        e = np.exp(t - t.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    np.testing.assert_allclose(value.numpy(), f_np(A, B), rtol=1e-12, atol=1e-15)
    # the exact J·v of this chain, written out
    S = f_np(A, B)
    T = np.tanh(A @ B)
    dT = (1 - T * T) * (dA @ B + A @ dB)
    expected = S * (dT - np.sum(S * dT, axis=1, keepdims=True))
    np.testing.assert_allclose(jv.numpy(), expected, rtol=1e-10, atol=1e-13)


def test_jvp_float32_close_to_float64(rng):
    arrays, labels = _mlp_data(rng)
    tangents = [rng.standard_normal(a.shape) for a in arrays]
    out = []
    for dt in (np.float32, np.float64):
        _, jv = jvp(lambda *xs: _mlp_tg(*xs, labels),
                    tuple(tg.tensor(a.astype(dt)) for a in arrays),
                    tuple(tg.tensor(t.astype(dt)) for t in tangents))
        assert jv.dtype == (tg.float32 if dt == np.float32 else tg.float64)
        out.append(jv.item())
    assert out[0] == pytest.approx(out[1], rel=1e-4, abs=1e-5)
