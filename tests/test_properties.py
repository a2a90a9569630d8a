"""Property-based tests (Hypothesis) against NumPy, and PyTorch when it is installed.

Hypothesis draws the shapes, dtypes, values, dims and slices; every property holds for
all of them:

* broadcasting binary ops, with size-0 dims and 0-d tensors, equal NumPy's values and
  shapes, and backward sums the gradient back to each operand's shape;
* mixed dtypes (float32, float64, int64, Python numbers) promote as PyTorch does;
* NaN, ±inf, subnormal and huge values go through elementwise ops as through NumPy;
* reductions over (negative) dims, with and without keepdim, equal NumPy's;
* slices with any start, stop and positive step equal NumPy's; a negative step raises
  ValueError, as in PyTorch;
* matmul over 1-D to 4-D shapes with broadcast batch dims (size 0 too) equals NumPy's,
  or raises where NumPy does;
* backward of random compositions equals central finite differences.

The runs are derandomized (the same examples every time, no example database) with a
bounded number of examples, so the whole file takes a few seconds.
"""

import warnings

import numpy as np
import pytest
import tapegrad as tg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

try:
    import torch
except ImportError:
    torch = None

SETTINGS = settings(derandomize=True, database=None, deadline=None, max_examples=60,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

TG_DTYPES = {np.float32: tg.float32, np.float64: tg.float64, np.int64: tg.int64}
NP_DTYPES = {tg.float32: np.float32, tg.float64: np.float64, tg.int64: np.int64}


def floats_of(dtype, **kw):
    """Finite floats of moderate size unless asked otherwise."""
    width = 32 if dtype == np.float32 else 64
    kw.setdefault("allow_nan", False)
    kw.setdefault("allow_infinity", False)
    if not kw.get("allow_infinity") and "min_value" not in kw:
        kw.setdefault("min_value", -1e3)
        kw.setdefault("max_value", 1e3)
    return st.floats(width=width, **kw)


def arrays(dtype, shape, **kw):
    if dtype == np.int64:
        return hnp.arrays(dtype, shape, elements=st.integers(-1000, 1000))
    return hnp.arrays(dtype, shape, elements=floats_of(dtype, **kw))


def same_values(got, expected, rtol):
    """Equal shapes, NaN where NumPy has NaN, infinities equal, finite values close."""
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.shape == expected.shape
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    finite = np.isfinite(expected)
    np.testing.assert_array_equal(got[~finite & ~np.isnan(expected)],
                                  expected[~finite & ~np.isnan(expected)])
    np.testing.assert_allclose(got[finite], expected[finite], rtol=rtol,
                               atol=rtol * np.finfo(got.dtype).tiny if got.dtype.kind == "f"
                               else 0)


# --- broadcasting ------------------------------------------------------------------------

BINARY = {
    "add": (lambda a, b: a + b, np.add),
    "sub": (lambda a, b: a - b, np.subtract),
    "mul": (lambda a, b: a * b, np.multiply),
    "div": (lambda a, b: a / b, np.divide),
    "maximum": (tg.maximum, np.maximum),
    "minimum": (tg.minimum, np.minimum),
}


@SETTINGS
@given(data=st.data(), op=st.sampled_from(sorted(BINARY)),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_broadcasting_binary_ops_match_numpy(data, op, dtype):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4,
                                                         min_side=0, max_side=3))
    a = data.draw(arrays(dtype, shapes.input_shapes[0]))
    b = data.draw(arrays(dtype, shapes.input_shapes[1]))
    f, ref = BINARY[op]
    x = tg.tensor(a, dtype=TG_DTYPES[dtype], requires_grad=True)
    y = tg.tensor(b, dtype=TG_DTYPES[dtype], requires_grad=True)
    out = f(x, y)
    with np.errstate(all="ignore"):
        expected = ref(a, b)
    assert out.shape == shapes.result_shape and out.dtype == TG_DTYPES[dtype]
    # the same IEEE operation in the same precision: bitwise equal
    np.testing.assert_array_equal(out.detach().numpy(), expected.astype(dtype))
    if op in ("add", "sub"):  # d/da of sum(a ± b): the count of uses of each element
        out.sum().backward()
        assert x.grad.shape == a.shape and y.grad.shape == b.shape
        count = np.ones(shapes.result_shape)
        np.testing.assert_array_equal(x.grad.numpy(), _sum_to(count, a.shape))
        sign = 1.0 if op == "add" else -1.0
        np.testing.assert_array_equal(y.grad.numpy(), sign * _sum_to(count, b.shape))


def _sum_to(g, shape):
    """Undo a broadcast to g.shape by summing, the NumPy way."""
    lead = g.ndim - len(shape)
    g = g.sum(axis=tuple(range(lead))) if lead else g
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    return g.sum(axis=axes, keepdims=True) if axes else g


# --- mixed dtypes ------------------------------------------------------------------------

def _category(dt):
    return 0 if dt == np.int64 else 1


def _promoted(a_dtype, a_0d, b_dtype, b_0d):
    """PyTorch's result dtype for tensors of these dtypes (0-d or not): a 0-d operand
    only decides when it is of a higher category (floating over integer)."""
    if a_0d != b_0d:
        dimensioned, scalar = (b_dtype, a_dtype) if a_0d else (a_dtype, b_dtype)
        if _category(scalar) <= _category(dimensioned):
            return dimensioned
    if a_dtype == b_dtype:
        return a_dtype
    return np.float64 if np.float64 in (a_dtype, b_dtype) else np.float32


MIXED = st.sampled_from([np.float32, np.float64, np.int64])


@SETTINGS
@given(data=st.data(), a_dtype=MIXED, b_dtype=MIXED, a_0d=st.booleans(), b_0d=st.booleans(),
       op=st.sampled_from(["add", "sub", "mul", "maximum"]))
def test_mixed_dtypes_promote_as_pytorch(data, a_dtype, b_dtype, a_0d, b_0d, op):
    a = data.draw(arrays(a_dtype, () if a_0d else (3,)))
    b = data.draw(arrays(b_dtype, () if b_0d else (3,)))
    f, ref = BINARY[op]
    out = f(tg.tensor(a), tg.tensor(b))
    want = _promoted(a_dtype, a_0d, b_dtype, b_0d)
    assert out.dtype == TG_DTYPES[want]
    expected = ref(a.astype(want), b.astype(want))
    np.testing.assert_array_equal(out.numpy(), expected)
    if torch is not None:
        t = f(torch.from_numpy(np.array(a)), torch.from_numpy(np.array(b))) if op != "maximum" \
            else torch.maximum(torch.from_numpy(np.array(a)), torch.from_numpy(np.array(b)))
        assert str(t.dtype) == f"torch.{out.dtype.name}"


@SETTINGS
@given(data=st.data(), dtype=MIXED, scalar=st.one_of(st.integers(-50, 50),
                                                      st.floats(-50, 50, allow_nan=False)))
def test_python_numbers_take_the_tensors_dtype(data, dtype, scalar):
    a = data.draw(arrays(dtype, (4,)))
    out = tg.tensor(a) * scalar
    want = dtype if (isinstance(scalar, int) or dtype != np.int64) else np.float32
    assert out.dtype == TG_DTYPES[want]
    np.testing.assert_array_equal(out.numpy(), a.astype(want) * np.asarray(scalar, dtype=want))


# --- special values ----------------------------------------------------------------------

def _sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0, e) / (1.0 + e)


UNARY = {
    "exp": np.exp, "log": np.log, "sqrt": np.sqrt, "tanh": np.tanh, "sin": np.sin,
    "cos": np.cos, "abs": np.abs, "relu": lambda x: np.where(x > 0, x, np.where(x == x, 0, x)),
    "sigmoid": _sigmoid,
    "softplus": lambda x: np.where(x > 20, x, np.logaddexp(0, x)),
    "neg": np.negative,
}


@SETTINGS
@given(data=st.data(), op=st.sampled_from(sorted(UNARY)),
       dtype=st.sampled_from([np.float32, np.float64]),
       n=st.sampled_from([1, 5, 16, 33, 100]))  # the scalar tail and the vector body
def test_special_values_through_elementwise_ops(data, op, dtype, n):
    x = data.draw(hnp.arrays(dtype, n, elements=st.floats(
        width=32 if dtype == np.float32 else 64, allow_nan=True, allow_infinity=True,
        allow_subnormal=True)))
    got = getattr(tg, op)(tg.tensor(x)).numpy()
    with np.errstate(all="ignore"):
        expected = UNARY[op](x.astype(np.float64)).astype(dtype)
    assert got.dtype == dtype
    rtol = 3e-6 if dtype == np.float32 else 1e-14
    if op in ("sin", "cos"):  # huge arguments: |error| of a few ulps of 1
        np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
        ok = ~np.isnan(expected)
        np.testing.assert_allclose(got[ok], expected[ok], rtol=rtol, atol=2 * rtol)
    else:
        same_values(got, expected, rtol)


# --- reductions ----------------------------------------------------------------------------

REDUCTIONS = {
    "sum": (lambda t, d, k: t.sum(dim=d, keepdim=k), np.sum),
    "mean": (lambda t, d, k: t.mean(dim=d, keepdim=k), np.mean),
    "max": (lambda t, d, k: t.max(dim=d, keepdim=k).values, np.max),
    "min": (lambda t, d, k: t.min(dim=d, keepdim=k).values, np.min),
    "logsumexp": (lambda t, d, k: t.logsumexp(dim=d, keepdim=k), lambda a, axis, keepdims: (
        np.max(a, axis=axis, keepdims=keepdims) + np.log(np.sum(np.exp(
            a - np.max(a, axis=axis, keepdims=True)), axis=axis, keepdims=keepdims)))),
    "var": (lambda t, d, k: t.var(dim=d, keepdim=k),
            lambda a, axis, keepdims: np.var(a, axis=axis, keepdims=keepdims, ddof=1)),
}


@SETTINGS
@given(data=st.data(), op=st.sampled_from(sorted(REDUCTIONS)), keepdim=st.booleans(),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_reductions_over_negative_dims_match_numpy(data, op, keepdim, dtype):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4))
    a = data.draw(arrays(dtype, shape, min_value=-10, max_value=10))
    dim = data.draw(st.integers(-len(shape), -1))
    f, ref = REDUCTIONS[op]
    got = f(tg.tensor(a), dim, keepdim).numpy()
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # var of one element: NaN
        expected = np.asarray(ref(a.astype(np.float64), axis=dim, keepdims=keepdim))
    rtol = 2e-5 if dtype == np.float32 else 1e-12
    # sums cancel: their error scales with the terms, not with the result
    atol = rtol * (1.0 + np.abs(a).max()) * a.shape[dim] ** 2
    np.testing.assert_allclose(got, expected.astype(dtype), rtol=rtol, atol=atol)


@SETTINGS
@given(data=st.data(), keepdim=st.booleans())
def test_sum_over_several_negative_dims_matches_numpy(data, keepdim):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=3))
    a = data.draw(arrays(np.float64, shape))
    dims = data.draw(st.lists(st.integers(-len(shape), -1), min_size=1, max_size=len(shape),
                              unique=True))
    got = tg.tensor(a).sum(dim=tuple(dims), keepdim=keepdim).numpy()
    np.testing.assert_allclose(got, np.sum(a, axis=tuple(dims), keepdims=keepdim),
                               rtol=1e-12, atol=1e-9)


# --- slices --------------------------------------------------------------------------------

BOUND = st.one_of(st.none(), st.integers(-8, 8))


@SETTINGS
@given(data=st.data())
def test_slices_match_numpy(data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=6))
    a = data.draw(arrays(np.float64, shape))
    key = tuple(slice(data.draw(BOUND), data.draw(BOUND), data.draw(st.one_of(
        st.none(), st.integers(1, 4)))) for _ in range(data.draw(st.integers(1, len(shape)))))
    x = tg.tensor(a, requires_grad=True)
    out = x[key]
    np.testing.assert_array_equal(out.detach().numpy(), a[key])
    out.sum().backward()
    mask = np.zeros_like(a)
    mask[key] = 1.0
    np.testing.assert_array_equal(x.grad.numpy(), mask)


@SETTINGS
@given(data=st.data())
def test_negative_slice_steps_raise_as_pytorch(data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=6))
    step = data.draw(st.integers(-4, -1))
    key = slice(data.draw(BOUND), data.draw(BOUND), step)
    with pytest.raises(ValueError, match="step"):
        tg.zeros(*shape)[key]
    if torch is not None:
        with pytest.raises(ValueError, match="step"):
            torch.zeros(shape)[key]


# --- matmul ----------------------------------------------------------------------------------

@SETTINGS
@given(data=st.data(), dtype=st.sampled_from([np.float32, np.float64]))
def test_matmul_shapes_match_numpy(data, dtype):
    batch = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2,
                                                        min_side=0, max_side=3))
    m, k, n = (data.draw(st.integers(0, 4)) for _ in range(3))
    a_vec, b_vec = data.draw(st.booleans()), data.draw(st.booleans())
    sa = (k,) if a_vec else batch.input_shapes[0] + (m, k)
    sb = (k,) if b_vec else batch.input_shapes[1] + (k, n)
    if data.draw(st.booleans()):  # sometimes misaligned
        sb = sb[:-2] + (k + 1,) + sb[-1:] if len(sb) > 1 else (k + 1,)
    a = data.draw(arrays(dtype, sa, min_value=-10, max_value=10))
    b = data.draw(arrays(dtype, sb, min_value=-10, max_value=10))
    try:
        expected = np.matmul(a.astype(np.float64), b.astype(np.float64))
    except ValueError:  # a RuntimeError in PyTorch and tapegrad
        with pytest.raises(RuntimeError, match="matmul|mm"):
            tg.tensor(a) @ tg.tensor(b)
        return
    got = (tg.tensor(a) @ tg.tensor(b)).numpy()
    assert got.shape == expected.shape and got.dtype == dtype
    tol = 1e-5 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(got, expected, rtol=tol, atol=tol * 100 * max(k, 1))


# --- backward against finite differences ------------------------------------------------------

STEPS = {
    "tanh": lambda t: t.tanh(), "sigmoid": lambda t: t.sigmoid(), "sin": lambda t: t.sin(),
    "exp": lambda t: (t * 0.3).exp(), "square": lambda t: t * t,
    "softplus": lambda t: tg.softplus(t),
    "log1p": lambda t: (t * t + 1.0).log(), "sqrt": lambda t: (t * t + 0.5).sqrt(),
    "scale": lambda t: t * 1.7 - 0.2, "div": lambda t: t / (t * t + 2.0),
    "softmax": lambda t: t.softmax(-1), "mean-keep": lambda t: t - t.mean(-1, keepdim=True),
    "matmul": lambda t: t @ t.transpose(-1, -2) if t.ndim >= 2 else t * t.sum(),
}


@settings(SETTINGS, max_examples=40)
@given(data=st.data(), steps=st.lists(st.sampled_from(sorted(STEPS)), min_size=1, max_size=4),
       max_first=st.booleans())
def test_backward_matches_finite_differences(data, steps, max_first):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3))
    a = data.draw(arrays(np.float64, shape, min_value=-2, max_value=2))
    weights = data.draw(arrays(np.float64, shape, min_value=-1, max_value=1))
    # max has a kink where two entries tie: only on inputs without near-ties
    max_first = max_first and not _near_tie(a, 1e-3)

    def f(t):
        if max_first:
            t = t.max(-1, keepdim=True).values + t
        for s in steps:
            t = STEPS[s](t)
            if t.shape != tuple(shape):  # matmul of a matrix: back to the input's shape
                t = t.sum(-1, keepdim=True) * tg.ones(*shape, dtype=tg.float64)
        return (t * tg.tensor(weights)).sum()

    x = tg.tensor(a, requires_grad=True)
    f(x).backward()
    h, fd = 1e-6, np.zeros_like(a)
    for i in np.ndindex(a.shape):
        up, down = a.copy(), a.copy()
        up[i] += h
        down[i] -= h
        fd[i] = (f(tg.tensor(up)).item() - f(tg.tensor(down)).item()) / (2 * h)
    # the differences' own error: rounding of f over 2h, and h² times the third derivative
    scale = 1.0 + abs(f(x).item()) + np.abs(fd).max()
    np.testing.assert_allclose(x.grad.numpy(), fd, rtol=1e-5, atol=1e-7 * scale)


def _near_tie(a, gap):
    s = np.sort(a.reshape(-1, a.shape[-1]), axis=-1)
    return bool((np.diff(s, axis=-1) < gap).any())
