"""Every op in one table, OP_DB, checked against NumPy, finite differences and PyTorch.

Each entry gives the op for tapegrad tensors, the same op written for NumPy
arrays (the reference), the same for torch tensors where the tapegrad spelling
doesn't already work on them, the input shapes and the input domain (positive
for log, away from zero for relu's kink and for divisors...).

For each entry the parametrized tests below check:

* forward values against NumPy in float64 (tight) and float32 (rtol 1e-5);
* the backward of a random-weighted sum against central differences of the
  NumPy reference (independent of tapegrad's own gradcheck);
* ``tg.autograd.gradcheck`` and ``gradgradcheck`` in float64;
* float32 values and gradients close to float64 ones;
* values and gradients equal to PyTorch's, when torch is installed.
"""

from __future__ import annotations

import dataclasses
import zlib
from typing import Callable

import numpy as np
import pytest
import tapegrad as tg


@dataclasses.dataclass(frozen=True)
class OpInfo:
    name: str
    fn: Callable  # on tapegrad tensors
    ref: Callable  # the same on NumPy arrays
    shapes: tuple  # one shape per input
    domain: object = "real"  # a domain name, or a tuple of one per input
    torch_fn: Callable | None = None  # (torch_module, *tensors); None: fn works on torch
    nondiff: tuple = ()  # inputs that never require grad (e.g. where's condition)
    differentiable: bool = True  # False: comparisons (0/1 results, no grad)

    def domains(self):
        if isinstance(self.domain, str):
            return (self.domain,) * len(self.shapes)
        return self.domain

    def __repr__(self):
        return self.name


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def _relu(a):
    return np.maximum(a, 0)


def _cmp(op):
    return lambda a, b: op(a, b).astype(np.result_type(a, b))


def _sum(dim=None, keepdim=False):
    return lambda a: np.sum(a, axis=dim, keepdims=keepdim)


def _mean(dim=None, keepdim=False):
    return lambda a: np.mean(a, axis=dim, keepdims=keepdim)


Op = OpInfo
OP_DB = [
    # --- add ---------------------------------------------------------------
    Op("add", lambda a, b: a + b, lambda a, b: a + b, [(2, 3), (2, 3)]),
    Op("add_scalar_right", lambda a: a + 1.5, lambda a: a + 1.5, [(2, 3)]),
    Op("add_scalar_left", lambda a: 1.5 + a, lambda a: 1.5 + a, [(2, 3)]),
    Op("add_int_scalar", lambda a: a + 2, lambda a: a + 2, [(4,)]),
    Op("add_bcast_col_row", lambda a, b: a + b, lambda a, b: a + b, [(3, 1), (1, 4)]),
    Op("add_bcast_rank", lambda a, b: a + b, lambda a, b: a + b, [(2, 1, 4), (3, 1)]),
    Op("add_same_tensor", lambda a: a + a, lambda a: a + a, [(3,)]),
    # --- sub ---------------------------------------------------------------
    Op("sub", lambda a, b: a - b, lambda a, b: a - b, [(2, 3), (2, 3)]),
    Op("sub_scalar_right", lambda a: a - 0.75, lambda a: a - 0.75, [(2, 3)]),
    Op("sub_scalar_left", lambda a: 2.0 - a, lambda a: 2.0 - a, [(2, 3)]),
    Op("sub_bcast", lambda a, b: a - b, lambda a, b: a - b, [(2, 3, 4), (3, 1)]),
    Op("sub_bcast_left_small", lambda a, b: a - b, lambda a, b: a - b, [(4,), (3, 4)]),
    # --- mul ---------------------------------------------------------------
    Op("mul", lambda a, b: a * b, lambda a, b: a * b, [(2, 3), (2, 3)]),
    Op("mul_scalar_left", lambda a: 2.5 * a, lambda a: 2.5 * a, [(2, 3)]),
    Op("mul_scalar_right", lambda a: a * -3.0, lambda a: a * -3.0, [(2, 3)]),
    Op("mul_int_scalar", lambda a: 3 * a, lambda a: 3 * a, [(2, 3)]),
    Op("mul_bcast_3d_1d", lambda a, b: a * b, lambda a, b: a * b, [(2, 3, 4), (4,)]),
    Op("mul_0d_tensor", lambda a, b: a * b, lambda a, b: a * b, [(), (2, 3)]),
    Op("mul_tensor_0d", lambda a, b: a * b, lambda a, b: a * b, [(2, 3), ()]),
    Op("mul_0d_0d", lambda a, b: a * b, lambda a, b: a * b, [(), ()]),
    Op("mul_same_tensor", lambda a: a * a, lambda a: a * a, [(2, 3)]),
    # --- div ---------------------------------------------------------------
    Op("div", lambda a, b: a / b, lambda a, b: a / b, [(2, 3), (2, 3)], ("real", "nonzero")),
    Op("div_scalar_right", lambda a: a / 4.0, lambda a: a / 4.0, [(2, 3)]),
    Op("div_scalar_left", lambda a: 3.0 / a, lambda a: 3.0 / a, [(2, 3)], "nonzero"),
    Op("div_bcast", lambda a, b: a / b, lambda a, b: a / b, [(3, 1), (1, 4)], "nonzero"),
    Op("div_bcast_3d", lambda a, b: a / b, lambda a, b: a / b, [(2, 3, 4), (4,)],
      ("real", "nonzero")),
    # --- pow ---------------------------------------------------------------
    Op("pow_int_exponent", lambda a: a ** 3, lambda a: a ** 3, [(2, 3)]),
    Op("pow_square", lambda a: a ** 2, lambda a: a ** 2, [(2, 3)]),
    Op("pow_float_exponent", lambda a: a ** 2.5, lambda a: a ** 2.5, [(2, 3)], "positive"),
    Op("pow_negative_exponent", lambda a: a ** -1.5, lambda a: a ** -1.5, [(2, 3)], "positive"),
    Op("pow_half", lambda a: a ** 0.5, lambda a: a ** 0.5, [(5,)], "positive"),
    Op("rpow_scalar_base", lambda a: 2.0 ** a, lambda a: 2.0 ** a, [(2, 3)]),
    Op("rpow_scalar_base_e", lambda a: 0.5 ** a, lambda a: 0.5 ** a, [(4,)]),
    Op("pow_tensor_tensor", lambda a, b: a ** b, lambda a, b: a ** b, [(2, 3), (2, 3)],
      ("positive", "real")),
    Op("pow_tensor_tensor_bcast", lambda a, b: a ** b, lambda a, b: a ** b, [(2, 3), (3,)],
      ("positive", "real")),
    # --- unary -------------------------------------------------------------
    Op("neg", lambda a: -a, lambda a: -a, [(2, 3)]),
    Op("exp", lambda a: a.exp(), np.exp, [(2, 3)]),
    Op("exp_fn", lambda a: tg.exp(a), np.exp, [(2, 3)], torch_fn=lambda T, a: T.exp(a)),
    Op("log", lambda a: a.log(), np.log, [(2, 3)], "positive"),
    Op("log_fn", lambda a: tg.log(a), np.log, [(2, 3)], "positive",
      torch_fn=lambda T, a: T.log(a)),
    Op("tanh", lambda a: a.tanh(), np.tanh, [(2, 3)]),
    Op("tanh_fn", lambda a: tg.tanh(a), np.tanh, [(2, 3)], torch_fn=lambda T, a: T.tanh(a)),
    Op("sigmoid", lambda a: a.sigmoid(), _sigmoid, [(2, 3)]),
    Op("sigmoid_fn", lambda a: tg.sigmoid(a), _sigmoid, [(2, 3)],
      torch_fn=lambda T, a: T.sigmoid(a)),
    Op("sigmoid_wide", lambda a: (a * 8.0).sigmoid(), lambda a: _sigmoid(a * 8.0), [(6,)]),
    Op("relu", lambda a: a.relu(), _relu, [(2, 3)], "nonzero"),
    Op("relu_fn", lambda a: tg.relu(a), _relu, [(2, 3)], "nonzero",
      torch_fn=lambda T, a: T.relu(a)),
    Op("unary_0d", lambda a: a.exp().tanh(), lambda a: np.tanh(np.exp(a)), [()]),
    # --- sum ---------------------------------------------------------------
    Op("sum_all", lambda a: a.sum(), _sum(), [(2, 3, 4)]),
    Op("sum_all_fn", lambda a: tg.sum(a), _sum(), [(2, 3)], torch_fn=lambda T, a: T.sum(a)),
    Op("sum_0d", lambda a: a.sum(), _sum(), [()]),
    Op("sum_dim_positional", lambda a: a.sum(1), _sum(1), [(2, 3, 4)]),
    Op("sum_dim", lambda a: a.sum(dim=0), _sum(0), [(2, 3, 4)]),
    Op("sum_dim_negative", lambda a: a.sum(dim=-1), _sum(-1), [(2, 3, 4)]),
    Op("sum_dim_tuple", lambda a: a.sum(dim=(0, 2)), _sum((0, 2)), [(2, 3, 4)]),
    Op("sum_dim_tuple_all", lambda a: a.sum(dim=(1, 0)), _sum((1, 0)), [(2, 3)]),
    Op("sum_keepdim", lambda a: a.sum(dim=1, keepdim=True), _sum(1, True), [(2, 3, 4)]),
    Op("sum_tuple_keepdim", lambda a: a.sum(dim=(0, 2), keepdim=True), _sum((0, 2), True),
      [(2, 3, 4)]),
    Op("sum_fn_dim_keepdim", lambda a: tg.sum(a, dim=-2, keepdim=True), _sum(-2, True),
      [(2, 3, 4)], torch_fn=lambda T, a: T.sum(a, dim=-2, keepdim=True)),
    Op("sum_1d", lambda a: a.sum(dim=0), _sum(0), [(5,)]),
    # --- mean --------------------------------------------------------------
    Op("mean_all", lambda a: a.mean(), _mean(), [(2, 3, 4)]),
    Op("mean_all_fn", lambda a: tg.mean(a), _mean(), [(2, 3)], torch_fn=lambda T, a: T.mean(a)),
    Op("mean_dim", lambda a: a.mean(dim=1), _mean(1), [(2, 3, 4)]),
    Op("mean_dim_negative", lambda a: a.mean(dim=-1), _mean(-1), [(2, 3, 4)]),
    Op("mean_dim_tuple", lambda a: a.mean(dim=(0, 2)), _mean((0, 2)), [(2, 3, 4)]),
    Op("mean_keepdim", lambda a: a.mean(dim=0, keepdim=True), _mean(0, True), [(2, 3, 4)]),
    Op("mean_tuple_keepdim", lambda a: a.mean(dim=(1, 2), keepdim=True), _mean((1, 2), True),
      [(2, 3, 4)]),
    Op("mean_fn_dim", lambda a: tg.mean(a, dim=1), _mean(1), [(3, 4)],
      torch_fn=lambda T, a: T.mean(a, dim=1)),
    # --- reshape -----------------------------------------------------------
    Op("reshape", lambda a: a.reshape(6, 4), lambda a: a.reshape(6, 4), [(2, 3, 4)]),
    Op("reshape_tuple", lambda a: a.reshape((4, 6)), lambda a: a.reshape((4, 6)), [(2, 3, 4)]),
    Op("reshape_flatten", lambda a: a.reshape(-1), lambda a: a.reshape(-1), [(2, 3, 4)]),
    Op("reshape_infer_middle", lambda a: a.reshape(4, -1, 2), lambda a: a.reshape(4, -1, 2),
      [(2, 3, 4)]),
    Op("reshape_add_dims", lambda a: a.reshape(1, 6, 1), lambda a: a.reshape(1, 6, 1), [(2, 3)]),
    Op("reshape_to_0d", lambda a: a.reshape(()), lambda a: a.reshape(()), [(1, 1)]),
    Op("reshape_fn", lambda a: tg.reshape(a, (3, -1)), lambda a: a.reshape(3, -1), [(2, 3, 2)],
      torch_fn=lambda T, a: T.reshape(a, (3, -1))),
    Op("reshape_of_transpose", lambda a: a.T.reshape(-1), lambda a: a.T.reshape(-1), [(2, 3)]),
    # --- transpose ---------------------------------------------------------
    Op("transpose", lambda a: a.transpose(0, 1), lambda a: np.swapaxes(a, 0, 1), [(2, 3)]),
    Op("transpose_3d", lambda a: a.transpose(0, 2), lambda a: np.swapaxes(a, 0, 2), [(2, 3, 4)]),
    Op("transpose_negative", lambda a: a.transpose(-1, -2), lambda a: np.swapaxes(a, -1, -2),
      [(2, 3, 4)]),
    Op("transpose_same_dim", lambda a: a.transpose(1, 1), lambda a: a, [(2, 3)]),
    Op("transpose_fn", lambda a: tg.transpose(a, 1, 0), lambda a: a.T, [(3, 2)],
      torch_fn=lambda T, a: T.transpose(a, 1, 0)),
    Op("T", lambda a: a.T, lambda a: a.T, [(2, 3)]),
    Op("transpose_then_mul", lambda a, b: a.transpose(0, 1) * b,
      lambda a, b: a.T * b, [(2, 3), (3, 2)]),
    # --- matmul ------------------------------------------------------------
    Op("matmul_2d", lambda a, b: a @ b, lambda a, b: a @ b, [(3, 4), (4, 2)]),
    Op("matmul_1d_2d", lambda a, b: a @ b, lambda a, b: a @ b, [(4,), (4, 2)]),
    Op("matmul_2d_1d", lambda a, b: a @ b, lambda a, b: a @ b, [(3, 4), (4,)]),
    Op("matmul_1d_1d", lambda a, b: a @ b, lambda a, b: a @ b, [(4,), (4,)]),
    Op("matmul_fn", lambda a, b: tg.matmul(a, b), lambda a, b: a @ b, [(2, 3), (3, 5)],
      torch_fn=lambda T, a, b: T.matmul(a, b)),
    Op("matmul_transposed_operand", lambda a: a.T @ a, lambda a: a.T @ a, [(4, 3)]),
    Op("matmul_outer_dims_1", lambda a, b: a @ b, lambda a, b: a @ b, [(1, 3), (3, 1)]),
    Op("matmul_bigger", lambda a, b: a @ b, lambda a, b: a @ b, [(7, 9), (9, 6)]),
    # batched (PyTorch's matmul semantics for more than 2 dims)
    Op("matmul_3d_2d", lambda a, b: a @ b, lambda a, b: a @ b, [(2, 3, 4), (4, 2)]),
    Op("matmul_3d_3d", lambda a, b: a @ b, lambda a, b: a @ b, [(2, 3, 4), (2, 4, 2)]),
    Op("matmul_batch_broadcast", lambda a, b: a @ b, lambda a, b: a @ b,
      [(2, 1, 2, 3), (3, 3, 2)]),
    Op("matmul_1d_3d", lambda a, b: a @ b, lambda a, b: a @ b, [(4,), (2, 4, 3)]),
    Op("matmul_3d_1d", lambda a, b: a @ b, lambda a, b: a @ b, [(2, 3, 4), (4,)]),
    # --- where -------------------------------------------------------------
    Op("where", lambda c, a, b: tg.where(c > 0, a, b), lambda c, a, b: np.where(c > 0, a, b),
      [(2, 3), (2, 3), (2, 3)], nondiff=(0,),
      torch_fn=lambda T, c, a, b: T.where(c > 0, a, b)),
    Op("where_bcast", lambda c, a, b: tg.where(c > 0, a, b),
      lambda c, a, b: np.where(c > 0, a, b), [(3, 1), (3, 4), (4,)], nondiff=(0,),
      torch_fn=lambda T, c, a, b: T.where(c > 0, a, b)),
    Op("where_scalar_other", lambda c, a: tg.where(c < 0, a, 0.0),
      lambda c, a: np.where(c < 0, a, 0.0).astype(a.dtype), [(2, 3), (2, 3)], nondiff=(0,),
      torch_fn=lambda T, c, a: T.where(c < 0, a, 0.0)),
    Op("where_same_input", lambda a: tg.where(a > 0, a, a * a),
      lambda a: np.where(a > 0, a, a * a), [(2, 3)], "nonzero",
      torch_fn=lambda T, a: T.where(a > 0, a, a * a)),
    # --- composites --------------------------------------------------------
    Op("linear_sigmoid_mean", lambda x, w, b: tg.sigmoid(x @ w + b).mean(),
      lambda x, w, b: _sigmoid(x @ w + b).mean(), [(3, 4), (4, 2), (2,)],
      torch_fn=lambda T, x, w, b: T.sigmoid(x @ w + b).mean()),
    Op("softplus_like", lambda a: (a.exp() + 1.0).log(), lambda a: np.log(np.exp(a) + 1.0),
      [(2, 3)]),
    Op("mse", lambda a, b: ((a - b) ** 2).mean(dim=1), lambda a, b: ((a - b) ** 2).mean(axis=1),
      [(3, 4), (3, 4)]),
    Op("tanh_chain", lambda a, b: (a * b).tanh().sum(dim=0) * b.sum(),
      lambda a, b: np.tanh(a * b).sum(axis=0) * b.sum(), [(2, 3), (2, 3)]),
    # --- comparisons (0/1 of the promoted dtype, not differentiable) -------
    Op("lt", lambda a, b: a < b, _cmp(np.less), [(2, 3), (2, 3)], "int", differentiable=False),
    Op("le", lambda a, b: a <= b, _cmp(np.less_equal), [(2, 3), (2, 3)], "int",
      differentiable=False),
    Op("gt", lambda a, b: a > b, _cmp(np.greater), [(2, 3), (2, 3)], "int", differentiable=False),
    Op("ge", lambda a, b: a >= b, _cmp(np.greater_equal), [(2, 3), (2, 3)], "int",
      differentiable=False),
    Op("eq", lambda a, b: a == b, _cmp(np.equal), [(2, 3), (2, 3)], "int", differentiable=False),
    Op("ne", lambda a, b: a != b, _cmp(np.not_equal), [(2, 3), (2, 3)], "int",
      differentiable=False),
    Op("lt_bcast", lambda a, b: a < b, _cmp(np.less), [(3, 1), (4,)], "int",
      differentiable=False),
    Op("gt_scalar", lambda a: a > 0.5, lambda a: (a > 0.5).astype(a.dtype), [(2, 3)], "int",
      differentiable=False),
    Op("le_scalar_left", lambda a: 0.0 <= a, lambda a: (0.0 <= a).astype(a.dtype), [(2, 3)],
      "int", differentiable=False),
]

DIFF_OPS = [op for op in OP_DB if op.differentiable]


# --- helpers -----------------------------------------------------------------


def _rng(op, salt=0):
    return np.random.default_rng(zlib.crc32(op.name.encode()) + salt)


def make_arrays(op, dtype=np.float64):
    """The op's inputs as NumPy arrays, drawn from its domain."""
    rng = _rng(op)
    arrays = []
    for shape, domain in zip(op.shapes, op.domains()):
        if domain == "real":
            a = rng.uniform(-2.0, 2.0, shape)
        elif domain == "positive":
            a = rng.uniform(0.5, 2.0, shape)
        elif domain == "nonzero":
            a = rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
        elif domain == "int":
            a = rng.integers(-2, 3, shape).astype(np.float64)
        else:
            raise AssertionError(domain)
        arrays.append(np.asarray(a, dtype=np.float64).astype(dtype))
    return arrays


def make_tensors(op, arrays, requires_grad):
    return [tg.tensor(a, requires_grad=requires_grad and i not in op.nondiff)
            for i, a in enumerate(arrays)]


def weights_for(op, shape, dtype):
    return _rng(op, salt=1).standard_normal(shape).astype(dtype)


def tg_value_and_grads(op, arrays):
    """fn's value and the gradients of sum(w * fn(...)) for tapegrad."""
    ts = make_tensors(op, arrays, requires_grad=True)
    out = op.fn(*ts)
    assert out.requires_grad
    w = weights_for(op, out.shape, arrays[0].dtype)
    (out * tg.tensor(w)).sum().backward()
    grads = []
    for i, t in enumerate(ts):
        if i in op.nondiff:
            assert t.grad is None
            grads.append(None)
        else:
            assert t.grad is not None, f"input {i} got no gradient"
            assert t.grad.shape == t.shape
            assert t.grad.dtype == t.dtype
            grads.append(t.grad.numpy())
    return out.detach().numpy(), grads


def _np_dtype(t):
    return {tg.float32: np.float32, tg.float64: np.float64, tg.int64: np.int64}[t.dtype]


# --- the table itself ---------------------------------------------------------


def test_op_db_covers_the_required_ops():
    names = {op.name for op in OP_DB}
    for required in ["add", "sub", "mul", "div", "pow_int_exponent", "rpow_scalar_base",
                     "pow_tensor_tensor", "neg", "exp", "log", "tanh", "sigmoid", "relu",
                     "sum_all", "sum_dim", "sum_dim_tuple", "sum_keepdim", "mean_all",
                     "mean_dim", "mean_dim_tuple", "mean_keepdim", "reshape",
                     "reshape_flatten", "transpose", "matmul_2d", "matmul_1d_2d",
                     "matmul_2d_1d", "matmul_1d_1d", "add_bcast_col_row", "mul_bcast_3d_1d",
                     "mul_0d_tensor", "mul_scalar_left", "where"]:
        assert required in names
    assert len(names) == len(OP_DB), "duplicate names in OP_DB"


# --- (a) forward against NumPy -------------------------------------------------


@pytest.mark.parametrize("op", OP_DB, ids=str)
def test_forward_float64_matches_numpy(op):
    arrays = make_arrays(op, np.float64)
    out = op.fn(*make_tensors(op, arrays, requires_grad=False))
    expected = np.asarray(op.ref(*arrays))
    assert isinstance(out, tg.Tensor)
    assert out.shape == expected.shape
    assert out.dtype == tg.float64
    assert not out.requires_grad
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("op", OP_DB, ids=str)
def test_forward_float32_matches_numpy(op):
    arrays = make_arrays(op, np.float32)
    out = op.fn(*make_tensors(op, arrays, requires_grad=False))
    expected = np.asarray(op.ref(*arrays))
    assert expected.dtype == np.float32  # the reference itself stays in float32
    assert out.shape == expected.shape
    assert out.dtype == tg.float32
    got = out.numpy()
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("op", OP_DB, ids=str)
def test_forward_with_requires_grad_records_graph(op):
    arrays = make_arrays(op, np.float64)
    out = op.fn(*make_tensors(op, arrays, requires_grad=True))
    np.testing.assert_allclose(out.detach().numpy(), np.asarray(op.ref(*arrays)),
                               rtol=1e-12, atol=1e-14)
    if op.differentiable:
        assert out.requires_grad
        assert out.grad_fn is not None
        assert not out.is_leaf
        assert isinstance(out.grad_fn.name(), str) and out.grad_fn.name()
    else:
        assert not out.requires_grad
        assert out.grad_fn is None


# --- (b) gradients: independent finite differences, then tapegrad's gradcheck ---


@pytest.mark.parametrize("op", DIFF_OPS, ids=str)
def test_backward_matches_numpy_finite_differences(op):
    arrays = make_arrays(op, np.float64)
    _, grads = tg_value_and_grads(op, arrays)
    w = weights_for(op, np.shape(op.ref(*arrays)), np.float64)
    eps = 1e-6
    for i, a in enumerate(arrays):
        if i in op.nondiff:
            continue
        numerical = np.zeros(a.size)
        for j in range(a.size):
            plus = [x.copy() for x in arrays]
            minus = [x.copy() for x in arrays]
            plus[i].reshape(-1)[j] += eps
            minus[i].reshape(-1)[j] -= eps
            numerical[j] = (np.sum(w * op.ref(*plus)) - np.sum(w * op.ref(*minus))) / (2 * eps)
        np.testing.assert_allclose(grads[i].reshape(-1), numerical, rtol=1e-5, atol=1e-6,
                                   err_msg=f"gradient of input {i}")


@pytest.mark.parametrize("op", DIFF_OPS, ids=str)
def test_gradcheck(op):
    ts = make_tensors(op, make_arrays(op, np.float64), requires_grad=True)
    assert tg.autograd.gradcheck(op.fn, ts) is True


@pytest.mark.parametrize("op", DIFF_OPS, ids=str)
def test_gradgradcheck(op):
    ts = make_tensors(op, make_arrays(op, np.float64), requires_grad=True)
    assert tg.autograd.gradgradcheck(op.fn, ts) is True


# --- (d) float32 close to float64 ----------------------------------------------


@pytest.mark.parametrize("op", DIFF_OPS, ids=str)
def test_float32_close_to_float64(op):
    a32 = make_arrays(op, np.float32)
    a64 = [a.astype(np.float64) for a in a32]  # the very same values
    v32, g32 = tg_value_and_grads(op, a32)
    v64, g64 = tg_value_and_grads(op, a64)
    assert v32.dtype == np.float32 and v64.dtype == np.float64
    np.testing.assert_allclose(v32, v64, rtol=1e-5, atol=1e-5)
    for i, (x, y) in enumerate(zip(g32, g64)):
        if x is None:
            continue
        assert x.dtype == np.float32 and y.dtype == np.float64
        np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-5, err_msg=f"gradient {i}")


# --- (e) PyTorch ------------------------------------------------------------------


def _torch_value_and_grads(torch, op, arrays, requires_grad=True):
    ts = [torch.from_numpy(a.copy()) for a in arrays]
    if requires_grad:
        for i, t in enumerate(ts):
            if i not in op.nondiff:
                t.requires_grad_(True)
    out = op.torch_fn(torch, *ts) if op.torch_fn else op.fn(*ts)
    if not requires_grad:
        return out.numpy(), None
    w = weights_for(op, tuple(out.shape), arrays[0].dtype)
    (out * torch.from_numpy(w)).sum().backward()
    return out.detach().numpy(), [None if t.grad is None else t.grad.numpy() for t in ts]


_TOL = {np.float64: {"rtol": 1e-10, "atol": 1e-12}, np.float32: {"rtol": 1e-5, "atol": 1e-5}}


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("op", DIFF_OPS, ids=str)
def test_matches_torch(op, dtype, torch):
    arrays = make_arrays(op, dtype)
    value, grads = tg_value_and_grads(op, arrays)
    t_value, t_grads = _torch_value_and_grads(torch, op, arrays)
    assert value.shape == t_value.shape
    assert value.dtype == t_value.dtype
    np.testing.assert_allclose(value, t_value, **_TOL[dtype])
    for i, (g, tgrad) in enumerate(zip(grads, t_grads)):
        if i in op.nondiff:
            continue
        assert g.dtype == tgrad.dtype
        np.testing.assert_allclose(g, tgrad, **_TOL[dtype], err_msg=f"gradient of input {i}")


@pytest.mark.parametrize("op", [op for op in OP_DB if not op.differentiable], ids=str)
def test_comparisons_match_torch(op, torch):
    arrays = make_arrays(op, np.float64)
    out = op.fn(*make_tensors(op, arrays, requires_grad=False))
    t_out, _ = _torch_value_and_grads(torch, op, arrays, requires_grad=False)
    assert out.shape == tuple(t_out.shape)
    np.testing.assert_array_equal(out.numpy(), t_out.astype(np.float64))


# --- a few op properties that the table can't express ---------------------------


def test_comparisons_of_inputs_requiring_grad_have_no_grad():
    x = tg.tensor([1.0, -2.0, 3.0], requires_grad=True)
    for c in (x < 0, x <= 0, x > 0, x >= 0, x == 1.0, x != 1.0, x < x * 2):
        assert not c.requires_grad
        assert c.grad_fn is None
        assert c.dtype == tg.float32
    assert (x > 0).tolist() == [1.0, 0.0, 1.0]


def test_comparison_dtype_promotion():
    a = tg.tensor(np.array([1.0, 2.0], dtype=np.float32))
    b = tg.tensor(np.array([2.0, 2.0], dtype=np.float64))
    c = a < b
    assert c.dtype == tg.float64
    assert c.tolist() == [1.0, 0.0]
    i = tg.tensor([1, 5])
    assert (i > 2).dtype == tg.int64
    assert (i > 2).tolist() == [0, 1]


def test_relu_gradient_at_zero_is_zero():
    x = tg.tensor([-1.0, 0.0, 2.0], dtype=tg.float64, requires_grad=True)
    x.relu().sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 1.0]


def test_pow_exponent_gradient_at_zero_base():
    # PyTorch: d(a**b)/db = a**b * log(a), taken as 0 where a == 0 and b >= 0.
    a = tg.tensor([0.0, 0.0, 2.0], dtype=tg.float64, requires_grad=True)
    b = tg.tensor([0.0, 2.0, 3.0], dtype=tg.float64, requires_grad=True)
    (a ** b).sum().backward()
    gb = b.grad.numpy()
    assert np.all(np.isfinite(gb))
    np.testing.assert_allclose(gb, [0.0, 0.0, 8.0 * np.log(2.0)], rtol=1e-12)
    # d(a**b)/da = b * a**(b-1), taken as 0 where b == 0 (PyTorch), so no 0 * inf = nan
    np.testing.assert_allclose(a.grad.numpy(), [0.0, 0.0, 12.0], rtol=1e-12)


def test_pow_scalar_exponent_gradient_at_zero():
    x = tg.tensor([0.0, 1.0], dtype=tg.float64, requires_grad=True)
    (x ** 2).sum().backward()
    assert x.grad.tolist() == [0.0, 2.0]
    y = tg.tensor([0.0, 1.0], dtype=tg.float64, requires_grad=True)
    (y ** 0).sum().backward()
    assert y.grad.tolist() == [0.0, 0.0]


def test_pow_zero_base_matches_torch(torch):
    a_np = np.array([0.0, 0.0, 0.0, 2.0])
    b_np = np.array([0.0, 1.0, 2.5, -1.0])
    a = tg.tensor(a_np, requires_grad=True)
    b = tg.tensor(b_np, requires_grad=True)
    (a ** b).sum().backward()
    ta = torch.from_numpy(a_np.copy()).requires_grad_()
    tb = torch.from_numpy(b_np.copy()).requires_grad_()
    (ta ** tb).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), ta.grad.numpy())
    np.testing.assert_array_equal(b.grad.numpy(), tb.grad.numpy())


def test_python_scalars_keep_the_tensor_dtype():
    for dt in (tg.float32, tg.float64):
        x = tg.ones(3, dtype=dt)
        for y in (x + 1, 1 + x, x * 2.5, 2.5 * x, x / 3, 3 / x, x - 1.0, 1.0 - x, x ** 2,
                  2.0 ** x, -x):
            assert y.dtype == dt


def test_int64_arithmetic_stays_int64():
    a = tg.tensor([1, 2, 3])
    b = tg.tensor([4, 5, 6])
    assert (a + b).dtype == tg.int64 and (a + b).tolist() == [5, 7, 9]
    assert (a * b).tolist() == [4, 10, 18]
    assert (a - b).tolist() == [-3, -3, -3]
    assert (a * 2).dtype == tg.int64
    c = a * 0.5  # a Python float turns an int tensor's result into the default float
    assert c.dtype == tg.float32 and c.tolist() == [0.5, 1.0, 1.5]
    d = a + tg.tensor([0.5, 0.5, 0.5])
    assert d.dtype == tg.float32 and d.tolist() == [1.5, 2.5, 3.5]


def test_matmul_noncontiguous_and_larger_than_blocking():
    rng = np.random.default_rng(7)
    a = rng.standard_normal((70, 50))
    b = rng.standard_normal((70, 40))
    out = tg.tensor(a).T @ tg.tensor(b)
    np.testing.assert_allclose(out.numpy(), a.T @ b, rtol=1e-11, atol=1e-11)
    out32 = tg.tensor(a.astype(np.float32)).T @ tg.tensor(b.astype(np.float32))
    np.testing.assert_allclose(out32.numpy(), (a.T @ b), rtol=1e-4, atol=1e-4)


def test_matmul_gradients_with_threads():
    rng = np.random.default_rng(8)
    a_np, b_np = rng.standard_normal((64, 48)), rng.standard_normal((48, 32))
    old = tg.get_num_threads()
    try:
        results = []
        for n in (1, 2):
            tg.set_num_threads(n)
            a = tg.tensor(a_np, requires_grad=True)
            b = tg.tensor(b_np, requires_grad=True)
            (a @ b).sum().backward()
            results.append((a.grad.numpy(), b.grad.numpy()))
    finally:
        tg.set_num_threads(old)
    ones = np.ones((64, 32))
    for ga, gb in results:
        np.testing.assert_allclose(ga, ones @ b_np.T, rtol=1e-11, atol=1e-11)
        np.testing.assert_allclose(gb, a_np.T @ ones, rtol=1e-11, atol=1e-11)


def test_reductions_of_0d_and_size1_dims():
    x = tg.tensor(np.array(3.5))
    assert x.mean().item() == 3.5
    y = tg.tensor(np.arange(3.0).reshape(3, 1))
    assert y.sum(dim=1).shape == (3,)
    assert y.sum(dim=1).tolist() == [0.0, 1.0, 2.0]


@pytest.mark.parametrize("threads", [1, 2])
def test_large_tensors_match_numpy(threads):
    # big enough for any parallel or blocked kernels (and for releasing the GIL)
    rng = np.random.default_rng(11)
    A = rng.standard_normal((257, 1031))
    B = rng.standard_normal(1031)
    C = rng.standard_normal((257, 1))
    old = tg.get_num_threads()
    tg.set_num_threads(threads)
    try:
        a, b, c = (tg.tensor(v, requires_grad=True) for v in (A, B, C))
        y = (a * b + c).tanh() * a.exp().sigmoid()
        total = y.sum(dim=0).sum() + y.mean(dim=1, keepdim=True).sum() + y.sum(dim=(0, 1))
        total.backward()
    finally:
        tg.set_num_threads(old)
    t = np.tanh(A * B + C)
    sg = 1 / (1 + np.exp(-np.exp(A)))
    yn = t * sg
    np.testing.assert_allclose(y.detach().numpy(), yn, rtol=1e-12, atol=1e-14)
    W = 2 + 1 / A.shape[1]
    np.testing.assert_allclose(total.item(), W * yn.sum(), rtol=1e-12)
    du = (1 - t * t) * sg * W
    ga = du * B + t * sg * (1 - sg) * np.exp(A) * W
    np.testing.assert_allclose(a.grad.numpy(), ga, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), (du * A).sum(axis=0), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(c.grad.numpy(), du.sum(axis=1, keepdims=True), rtol=1e-10,
                               atol=1e-10)


def test_float32_sum_of_many_is_accurate():
    # PyTorch sums float32 with cascaded partial sums: no drift from naive accumulation.
    n = 10_000_000
    got = tg.full((n,), 0.1).sum().item()
    assert abs(got - n * float(np.float32(0.1))) / n < 1e-5
    got_mean = tg.full((4, n // 4), 0.1).mean(dim=1).numpy()
    np.testing.assert_allclose(got_mean, float(np.float32(0.1)), rtol=1e-5)


def test_extreme_values_stay_finite():
    x = tg.tensor([-1000.0, -100.0, 0.0, 100.0, 1000.0], dtype=tg.float64, requires_grad=True)
    s = x.sigmoid()
    np.testing.assert_allclose(s.detach().numpy(), [0.0, 1 / (1 + np.exp(100.0)), 0.5,
                                                    1 / (1 + np.exp(-100.0)), 1.0], rtol=1e-12)
    t = x.tanh()
    np.testing.assert_array_equal(t.detach().numpy(), [-1.0, -1.0, 0.0, 1.0, 1.0])
    (s.sum() + t.sum()).backward()
    g = x.grad.numpy()
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g[2], 0.25 + 1.0)
    assert g[0] == 0.0 and g[-1] == 0.0
    y = tg.tensor([0.0, 1.0], dtype=tg.float64, requires_grad=True)
    y.log().sum().backward()
    assert y.grad.tolist() == [np.inf, 1.0]


_EXTREME_FNS = {
    "sigmoid": lambda t: t.sigmoid(),
    "tanh": lambda t: t.tanh(),
    "exp": lambda t: t.exp(),
    "relu": lambda t: t.relu(),
    "cube": lambda t: t ** 3,
    "rpow": lambda t: 2.0 ** t,
    "softplus": lambda t: (t.exp() + 1.0).log(),
    "rational": lambda t: t / (t * t + 1.0),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("fn", list(_EXTREME_FNS))
def test_extreme_values_match_torch(fn, dtype, torch):
    vals = np.array([-1000.0, -100.0, -30.0, -1e-8, 0.0, 1e-8, 30.0, 100.0, 1000.0])
    f = _EXTREME_FNS[fn]
    a = tg.tensor(vals.astype(dtype), requires_grad=True)
    ya = f(a)
    ya.sum().backward()
    b = torch.from_numpy(vals.astype(dtype)).requires_grad_()
    yb = f(b)
    yb.sum().backward()
    np.testing.assert_allclose(ya.detach().numpy(), yb.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-6)


@pytest.mark.parametrize("dtype, lo, hi", [(np.float64, -800.0, -690.0),
                                           (np.float32, -110.0, -80.0)],
                         ids=["float64", "float32"])
def test_exp_underflow_range_matches_numpy(dtype, lo, hi):
    # exp into the subnormal range (as PyTorch, subnormal results to ~1e-3 of the smallest
    # normal number) and below it: exactly 0, never a made-up tiny number.
    x = np.linspace(lo, hi, 45).astype(dtype)
    got = tg.tensor(x).exp().numpy()
    np.testing.assert_allclose(got, np.exp(x), rtol=1e-5, atol=np.finfo(dtype).tiny * 1e-3)
    assert np.all(got[x < np.log(np.finfo(dtype).smallest_subnormal) - 1] == 0.0)


def test_empty_tensors():
    x = tg.zeros(0, 3, requires_grad=True)
    y = (x * tg.ones(3)).exp()
    assert y.shape == (0, 3)
    s = y.sum()
    assert s.item() == 0.0
    s.backward()
    assert x.grad.shape == (0, 3)
    assert tg.zeros(0).sum().item() == 0.0
    assert np.isnan(tg.zeros(0).mean().item())
    assert tg.zeros(2, 0).sum(dim=1).tolist() == [0.0, 0.0]
    m = tg.zeros(2, 0, requires_grad=True) @ tg.zeros(0, 3, requires_grad=True)
    assert m.shape == (2, 3) and m.detach().tolist() == [[0.0] * 3] * 2


_PROMOTION_CASES = [
    ("f32*f64", lambda m: m.ones(2) * m.ones(2, dtype=m.float64)),
    ("f64*f32", lambda m: m.ones(2, dtype=m.float64) * m.ones(2)),
    ("i64+f32", lambda m: m.tensor([1, 2]) + m.ones(2)),
    ("i64+f64", lambda m: m.tensor([1, 2]) + m.ones(2, dtype=m.float64)),
    ("i64/i64", lambda m: m.tensor([1, 2]) / m.tensor([2, 2])),
    ("i64*float", lambda m: m.tensor([1, 2]) * 1.5),
    ("f64*int", lambda m: m.ones(2, dtype=m.float64) * 3),
    ("f32+0d_f64", lambda m: m.ones(2) + m.tensor(1.0, dtype=m.float64)),
    ("0d_f64*f32", lambda m: m.tensor(2.0, dtype=m.float64) * m.ones(2)),
    ("i64+0d_f64", lambda m: m.tensor([1, 2]) + m.tensor(1.0, dtype=m.float64)),
    ("f32+0d_i64", lambda m: m.ones(2) + m.tensor(3)),
    ("0d_f32+0d_f64", lambda m: m.tensor(1.0) + m.tensor(1.0, dtype=m.float64)),
    ("exp_i64", lambda m: m.tensor([0, 1]).exp()),
    ("sum_i64", lambda m: m.tensor([1, 2]).sum()),
    ("where_f32_f64", lambda m: m.where(m.ones(2) > 0, m.ones(2), m.ones(2, dtype=m.float64))),
]


@pytest.mark.parametrize("case", _PROMOTION_CASES, ids=[c[0] for c in _PROMOTION_CASES])
def test_dtype_promotion_matches_torch(case, torch):
    _, f = case
    a, b = f(tg), f(torch)
    names = {torch.float32: "float32", torch.float64: "float64", torch.int64: "int64"}
    assert a.dtype.name == names[b.dtype]
    np.testing.assert_allclose(np.asarray(a.tolist(), dtype=np.float64),
                               np.asarray(b.tolist(), dtype=np.float64), rtol=1e-6)
