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

import importlib
import pathlib
import re
import zlib

import numpy as np
import pytest
import tapegrad as tg
from opinfo import OpInfo


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def _relu(a):
    return np.maximum(a, 0)


def _cmp(op):
    return lambda a, b: op(a, b)


def _sum(dim=None, keepdim=False):
    return lambda a: np.sum(a, axis=dim, keepdims=keepdim)


def _mean(dim=None, keepdim=False):
    return lambda a: np.mean(a, axis=dim, keepdims=keepdim)


def _logsumexp(dim, keepdim=False):
    def f(a):
        m = np.max(a, axis=dim, keepdims=True)
        out = m + np.log(np.sum(np.exp(a - m), axis=dim, keepdims=True))
        return out if keepdim else np.squeeze(out, axis=dim)
    return f


def _softmax(dim):
    def f(a):
        e = np.exp(a - np.max(a, axis=dim, keepdims=True))
        return e / np.sum(e, axis=dim, keepdims=True)
    return f


def _log_softmax(dim):
    return lambda a: a - _logsumexp(dim, keepdim=True)(a)


def _softplus(beta=1.0, threshold=20.0):
    # PyTorch's definition: linear above the threshold (in beta * x)
    def f(a):
        z = a * beta
        return np.where(z > threshold, a, np.log1p(np.exp(np.minimum(z, threshold))) / beta)
    return f


def _clamp(lo=None, hi=None):
    def f(a):
        if lo is not None:
            a = np.maximum(a, lo)
        if hi is not None:
            a = np.minimum(a, hi)
        return a
    return f


def _max(dim=None, keepdim=False):
    return lambda a: np.max(a, axis=dim, keepdims=keepdim)


def _min(dim=None, keepdim=False):
    return lambda a: np.min(a, axis=dim, keepdims=keepdim)


def _var(dim=None, ddof=1, keepdim=False):
    return lambda a: np.var(a, axis=dim, ddof=ddof, keepdims=keepdim)


def _norm(p=2.0, dim=None, keepdim=False):
    def f(a):
        x = np.abs(a)
        if p == np.inf:
            return np.max(x, axis=dim, keepdims=keepdim)
        if p == -np.inf:
            return np.min(x, axis=dim, keepdims=keepdim)
        return np.sum(x ** p, axis=dim, keepdims=keepdim) ** (1.0 / p)
    return f


def _flatten(start=0, end=-1):
    def f(a):
        s, e = start % a.ndim, end % a.ndim
        return a.reshape(a.shape[:s] + (-1,) + a.shape[e + 1:])
    return f


def _squeeze(dim=None):
    def f(a):
        if dim is None:
            return np.squeeze(a)
        return np.squeeze(a, axis=dim) if a.shape[dim] == 1 else a  # PyTorch: else a no-op
    return f


def _expand(*sizes):
    def f(a):
        lead = len(sizes) - a.ndim
        shape = [a.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes)]
        return np.broadcast_to(a, shape)
    return f


def _put(a, rows, values):
    out = a.copy()
    out[rows] = values
    return out


def _expm(a):
    """exp(A) by scaling and squaring of a Taylor series, in float64 (a reference
    independent of tapegrad's Padé approximant), cast back to a's dtype."""
    x = np.asarray(a, dtype=np.float64)
    norm = np.max(np.sum(np.abs(x), axis=0)) if x.size else 0.0
    s = max(0, int(np.ceil(np.log2(norm / 0.25))) if norm > 0 else 0)
    x = x / 2.0 ** s
    out = np.eye(x.shape[0])
    term = np.eye(x.shape[0])
    for k in range(1, 30):
        term = term @ x / k
        out = out + term
    for _ in range(s):
        out = out @ out
    return out.astype(a.dtype)


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
    # --- more elementwise ----------------------------------------------------
    Op("sqrt", lambda a: a.sqrt(), np.sqrt, [(2, 3)], "positive"),
    Op("sqrt_fn", lambda a: tg.sqrt(a), np.sqrt, [(2, 3)], "positive",
      torch_fn=lambda T, a: T.sqrt(a)),
    Op("sin", lambda a: a.sin(), np.sin, [(2, 3)]),
    Op("sin_fn", lambda a: tg.sin(a), np.sin, [(2, 3)], torch_fn=lambda T, a: T.sin(a)),
    Op("sin_wide", lambda a: (a * 4.0).sin(), lambda a: np.sin(a * 4.0), [(7,)]),
    Op("cos", lambda a: a.cos(), np.cos, [(2, 3)]),
    Op("cos_fn", lambda a: tg.cos(a), np.cos, [(2, 3)], torch_fn=lambda T, a: T.cos(a)),
    Op("abs", lambda a: a.abs(), np.abs, [(2, 3)], "nonzero"),
    Op("abs_fn", lambda a: tg.abs(a), np.abs, [(2, 3)], "nonzero",
      torch_fn=lambda T, a: T.abs(a)),
    Op("abs_builtin", lambda a: abs(a), np.abs, [(4,)], "nonzero"),
    Op("softplus", lambda a: tg.nn.functional.softplus(a), _softplus(), [(2, 3)],
      torch_fn=lambda T, a: T.nn.functional.softplus(a)),
    Op("softplus_fn", lambda a: tg.softplus(a), _softplus(), [(2, 3)],
      torch_fn=lambda T, a: T.nn.functional.softplus(a)),
    Op("softplus_beta", lambda a: tg.softplus(a, beta=2.5), _softplus(2.5), [(2, 3)],
      torch_fn=lambda T, a: T.nn.functional.softplus(a, beta=2.5)),
    Op("softplus_negative_beta", lambda a: tg.softplus(a, beta=-1.5), _softplus(-1.5), [(2, 3)],
      torch_fn=lambda T, a: T.nn.functional.softplus(a, beta=-1.5)),
    # a threshold inside the domain: linear above beta * x = threshold
    Op("softplus_threshold", lambda a: tg.softplus(a, beta=2.0, threshold=1.0),
      _softplus(2.0, 1.0), [(3, 4)],
      torch_fn=lambda T, a: T.nn.functional.softplus(a, beta=2.0, threshold=1.0)),
    Op("clamp", lambda a: a.clamp(-0.5, 0.75), _clamp(-0.5, 0.75), [(3, 4)]),
    Op("clamp_fn", lambda a: tg.clamp(a, min=-1.0, max=1.0), _clamp(-1.0, 1.0), [(3, 4)],
      torch_fn=lambda T, a: T.clamp(a, min=-1.0, max=1.0)),
    Op("clamp_min", lambda a: a.clamp(min=0.25), _clamp(lo=0.25), [(3, 4)]),
    Op("clamp_max", lambda a: a.clamp(max=-0.25), _clamp(hi=-0.25), [(3, 4)]),
    Op("clamp_fn_max", lambda a: tg.clamp(a, max=0.5), _clamp(hi=0.5), [(3, 4)],
      torch_fn=lambda T, a: T.clamp(a, max=0.5)),
    Op("maximum", lambda a, b: tg.maximum(a, b), np.maximum, [(2, 3), (2, 3)],
      torch_fn=lambda T, a, b: T.maximum(a, b)),
    Op("maximum_bcast", lambda a, b: tg.maximum(a, b), np.maximum, [(3, 1), (4,)],
      torch_fn=lambda T, a, b: T.maximum(a, b)),
    Op("minimum", lambda a, b: tg.minimum(a, b), np.minimum, [(2, 3), (2, 3)],
      torch_fn=lambda T, a, b: T.minimum(a, b)),
    Op("minimum_bcast", lambda a, b: tg.minimum(a, b), np.minimum, [(2, 3, 4), (3, 1)],
      torch_fn=lambda T, a, b: T.minimum(a, b)),
    Op("max_binary", lambda a, b: tg.max(a, b), np.maximum, [(2, 3), (2, 3)],
      torch_fn=lambda T, a, b: T.max(a, b)),
    Op("min_binary", lambda a, b: tg.min(a, b), np.minimum, [(2, 3), (3,)],
      torch_fn=lambda T, a, b: T.min(a, b)),
    Op("where_elementwise_mix", lambda a, b: tg.where(a > b, a.sin(), b.sqrt()),
      lambda a, b: np.where(a > b, np.sin(a), np.sqrt(b)), [(2, 3), (2, 3)], "positive",
      torch_fn=lambda T, a, b: T.where(a > b, a.sin(), b.sqrt())),
    # --- max / min reductions ----------------------------------------------
    Op("max_all", lambda a: a.max(), _max(), [(2, 3, 4)]),
    Op("max_all_fn", lambda a: tg.max(a), _max(), [(3, 4)], torch_fn=lambda T, a: T.max(a)),
    Op("max_dim", lambda a: a.max(dim=1).values, _max(1), [(2, 3, 4)]),
    Op("max_dim_positional", lambda a: a.max(0)[0], _max(0), [(3, 4)]),
    Op("max_dim_negative_keepdim", lambda a: a.max(dim=-1, keepdim=True).values,
      _max(-1, True), [(2, 3, 4)]),
    Op("max_dim_fn", lambda a: tg.max(a, dim=0).values, _max(0), [(4, 3)],
      torch_fn=lambda T, a: T.max(a, dim=0).values),
    Op("max_1d_dim", lambda a: a.max(dim=0).values, _max(0), [(5,)]),
    Op("min_all", lambda a: a.min(), _min(), [(2, 3, 4)]),
    Op("min_all_fn", lambda a: tg.min(a), _min(), [(3, 4)], torch_fn=lambda T, a: T.min(a)),
    Op("min_dim", lambda a: a.min(dim=2).values, _min(2), [(2, 3, 4)]),
    Op("min_dim_keepdim", lambda a: a.min(dim=0, keepdim=True).values, _min(0, True),
      [(3, 4)]),
    Op("min_dim_fn", lambda a: tg.min(a, dim=-1).values, _min(-1), [(4, 3)],
      torch_fn=lambda T, a: T.min(a, dim=-1).values),
    # --- var -----------------------------------------------------------------
    Op("var_all", lambda a: a.var(), _var(), [(3, 4)]),
    Op("var_all_fn", lambda a: tg.var(a), _var(), [(3, 4)], torch_fn=lambda T, a: T.var(a)),
    Op("var_dim", lambda a: a.var(dim=1), _var(1), [(2, 3, 4)]),
    Op("var_dim_positional", lambda a: a.var(0), _var(0), [(5, 2)]),
    Op("var_biased", lambda a: a.var(dim=0, unbiased=False), _var(0, 0), [(4, 3)]),
    Op("var_keepdim", lambda a: a.var(dim=-1, keepdim=True), _var(-1, 1, True), [(2, 3, 4)]),
    Op("var_dim_tuple", lambda a: a.var(dim=(0, 2)), _var((0, 2)), [(2, 3, 4)]),
    Op("var_correction", lambda a: a.var(dim=1, correction=2), _var(1, 2), [(3, 5)]),
    Op("var_correction_0_all", lambda a: a.var(correction=0), _var(None, 0), [(3, 4)]),
    Op("var_fn_dim_keepdim", lambda a: tg.var(a, dim=0, keepdim=True), _var(0, 1, True),
      [(4, 3)], torch_fn=lambda T, a: T.var(a, dim=0, keepdim=True)),
    # --- logsumexp -----------------------------------------------------------
    Op("logsumexp", lambda a: a.logsumexp(1), _logsumexp(1), [(2, 3, 4)]),
    Op("logsumexp_fn", lambda a: tg.logsumexp(a, dim=-1), _logsumexp(-1), [(3, 4)],
      torch_fn=lambda T, a: T.logsumexp(a, dim=-1)),
    Op("logsumexp_keepdim", lambda a: a.logsumexp(dim=0, keepdim=True), _logsumexp(0, True),
      [(3, 4)]),
    Op("logsumexp_tuple", lambda a: a.logsumexp(dim=(0, 2)), _logsumexp((0, 2)), [(2, 3, 4)]),
    Op("logsumexp_1d", lambda a: a.logsumexp(0), _logsumexp(0), [(6,)]),
    Op("logsumexp_wide", lambda a: (a * 20.0).logsumexp(1), lambda a: _logsumexp(1)(a * 20.0),
      [(3, 4)]),
    # --- norm ----------------------------------------------------------------
    Op("norm", lambda a: tg.norm(a), _norm(), [(3, 4)], torch_fn=lambda T, a: T.norm(a)),
    Op("norm_method", lambda a: a.norm(), _norm(), [(2, 3, 4)]),
    Op("norm_fro", lambda a: tg.norm(a, p="fro"), _norm(), [(3, 4)],
      torch_fn=lambda T, a: T.norm(a, p="fro")),
    Op("norm_2_dim", lambda a: tg.norm(a, p=2, dim=1), _norm(2.0, 1), [(3, 4)],
      torch_fn=lambda T, a: T.norm(a, p=2, dim=1)),
    Op("norm_2_dim_keepdim", lambda a: a.norm(2, -1, True), _norm(2.0, -1, True), [(2, 3, 4)]),
    Op("norm_1", lambda a: tg.norm(a, p=1), _norm(1.0), [(3, 4)], "nonzero",
      torch_fn=lambda T, a: T.norm(a, p=1)),
    Op("norm_1_dim", lambda a: tg.norm(a, p=1, dim=0), _norm(1.0, 0), [(3, 4)], "nonzero",
      torch_fn=lambda T, a: T.norm(a, p=1, dim=0)),
    Op("norm_inf", lambda a: tg.norm(a, p=float("inf")), _norm(np.inf), [(3, 4)], "nonzero",
      torch_fn=lambda T, a: T.norm(a, p=float("inf"))),
    Op("norm_inf_dim", lambda a: tg.norm(a, p=float("inf"), dim=1), _norm(np.inf, 1),
      [(3, 4)], "nonzero", torch_fn=lambda T, a: T.norm(a, p=float("inf"), dim=1)),
    Op("norm_3", lambda a: tg.norm(a, p=3), _norm(3.0), [(3, 4)], "nonzero",
      torch_fn=lambda T, a: T.norm(a, p=3)),
    Op("norm_1_5_dim_keepdim", lambda a: tg.norm(a, p=1.5, dim=0, keepdim=True),
      _norm(1.5, 0, True), [(3, 4)], "nonzero",
      torch_fn=lambda T, a: T.norm(a, p=1.5, dim=0, keepdim=True)),
    Op("norm_0_5", lambda a: tg.norm(a, p=0.5, dim=1), _norm(0.5, 1), [(3, 4)], "nonzero",
      torch_fn=lambda T, a: T.norm(a, p=0.5, dim=1)),
    Op("norm_negative_p", lambda a: tg.norm(a, p=-1.0), _norm(-1.0), [(2, 3)], "nonzero",
      torch_fn=lambda T, a: T.norm(a, p=-1.0)),
    Op("norm_negative_inf", lambda a: tg.norm(a, p=-float("inf"), dim=0), _norm(-np.inf, 0),
      [(3, 4)], "nonzero", torch_fn=lambda T, a: T.norm(a, p=-float("inf"), dim=0)),
    Op("norm_dim_tuple", lambda a: tg.norm(a, dim=(0, 2)), _norm(2.0, (0, 2)), [(2, 3, 4)],
      torch_fn=lambda T, a: T.norm(a, dim=(0, 2))),
    # --- softmax / log_softmax ----------------------------------------------
    Op("softmax", lambda a: a.softmax(1), _softmax(1), [(3, 4)]),
    Op("softmax_fn", lambda a: tg.softmax(a, dim=0), _softmax(0), [(3, 4)],
      torch_fn=lambda T, a: T.softmax(a, dim=0)),
    Op("softmax_negative_dim_3d", lambda a: a.softmax(dim=-1), _softmax(-1), [(2, 3, 4)]),
    Op("softmax_middle_dim", lambda a: tg.softmax(a, 1), _softmax(1), [(2, 3, 4)],
      torch_fn=lambda T, a: T.softmax(a, 1)),
    Op("softmax_1d", lambda a: a.softmax(0), _softmax(0), [(5,)]),
    Op("log_softmax", lambda a: a.log_softmax(1), _log_softmax(1), [(3, 4)]),
    Op("log_softmax_fn", lambda a: tg.log_softmax(a, dim=0), _log_softmax(0), [(3, 4)],
      torch_fn=lambda T, a: T.log_softmax(a, dim=0)),
    Op("log_softmax_3d", lambda a: a.log_softmax(dim=-2), _log_softmax(-2), [(2, 3, 4)]),
    Op("log_softmax_wide", lambda a: (a * 30.0).log_softmax(0),
      lambda a: _log_softmax(0)(a * 30.0), [(6,)]),
    Op("cross_entropy_like", lambda a: -(a.log_softmax(1)[[0, 1, 2], [1, 3, 0]]).mean(),
      lambda a: -_log_softmax(1)(a)[[0, 1, 2], [1, 3, 0]].mean(), [(3, 4)]),
    # --- view / flatten / permute / squeeze / unsqueeze / expand ------------
    Op("view", lambda a: a.view(4, 6), lambda a: a.reshape(4, 6), [(2, 3, 4)]),
    Op("view_infer", lambda a: a.view(-1, 2), lambda a: a.reshape(-1, 2), [(2, 3, 4)]),
    Op("view_flat", lambda a: a.view(-1), lambda a: a.reshape(-1), [(3, 4)]),
    Op("flatten", lambda a: a.flatten(), _flatten(), [(2, 3, 4)]),
    Op("flatten_start", lambda a: a.flatten(1), _flatten(1), [(2, 3, 4)]),
    Op("flatten_range", lambda a: a.flatten(start_dim=0, end_dim=1), _flatten(0, 1),
      [(2, 3, 4)]),
    Op("flatten_negative", lambda a: a.flatten(-3, -2), _flatten(-3, -2), [(2, 3, 4, 2)]),
    Op("flatten_fn", lambda a: tg.flatten(a, 1, 2), _flatten(1, 2), [(2, 3, 4)],
      torch_fn=lambda T, a: T.flatten(a, 1, 2)),
    Op("permute", lambda a: a.permute(2, 0, 1), lambda a: np.transpose(a, (2, 0, 1)),
      [(2, 3, 4)]),
    Op("permute_negative", lambda a: a.permute(-1, 0, -2), lambda a: np.transpose(a, (2, 0, 1)),
      [(2, 3, 4)]),
    Op("permute_identity", lambda a: a.permute(0, 1), lambda a: a, [(2, 3)]),
    Op("permute_fn", lambda a: tg.permute(a, (1, 2, 0)), lambda a: np.transpose(a, (1, 2, 0)),
      [(2, 3, 4)], torch_fn=lambda T, a: T.permute(a, (1, 2, 0))),
    Op("permute_then_matmul", lambda a, b: a.permute(1, 0) @ b, lambda a, b: a.T @ b,
      [(3, 2), (3, 4)]),
    Op("squeeze", lambda a: a.squeeze(), _squeeze(), [(1, 3, 1, 2)]),
    Op("squeeze_dim", lambda a: a.squeeze(2), _squeeze(2), [(2, 3, 1)]),
    Op("squeeze_dim_negative", lambda a: a.squeeze(dim=-3), _squeeze(-3), [(1, 3, 2)]),
    Op("squeeze_dim_not_size_1", lambda a: a.squeeze(1), _squeeze(1), [(2, 3)]),
    Op("squeeze_fn", lambda a: tg.squeeze(a, 0), _squeeze(0), [(1, 4)],
      torch_fn=lambda T, a: T.squeeze(a, 0)),
    Op("squeeze_fn_all", lambda a: tg.squeeze(a), _squeeze(), [(1, 4, 1)],
      torch_fn=lambda T, a: T.squeeze(a)),
    Op("squeeze_to_0d", lambda a: a.squeeze(), _squeeze(), [(1, 1)]),
    Op("unsqueeze", lambda a: a.unsqueeze(0), lambda a: np.expand_dims(a, 0), [(2, 3)]),
    Op("unsqueeze_middle", lambda a: a.unsqueeze(1), lambda a: np.expand_dims(a, 1), [(2, 3)]),
    Op("unsqueeze_end", lambda a: a.unsqueeze(2), lambda a: np.expand_dims(a, 2), [(2, 3)]),
    Op("unsqueeze_negative", lambda a: a.unsqueeze(-1), lambda a: np.expand_dims(a, -1),
      [(2, 3)]),
    Op("unsqueeze_negative_front", lambda a: a.unsqueeze(-3), lambda a: np.expand_dims(a, 0),
      [(2, 3)]),
    Op("unsqueeze_0d", lambda a: a.unsqueeze(0), lambda a: np.expand_dims(a, 0), [()]),
    Op("unsqueeze_fn", lambda a: tg.unsqueeze(a, 1), lambda a: np.expand_dims(a, 1), [(4,)],
      torch_fn=lambda T, a: T.unsqueeze(a, 1)),
    Op("expand", lambda a: a.expand(2, 3, 4), _expand(2, 3, 4), [(3, 1)]),
    Op("expand_keep", lambda a: a.expand(-1, 4), _expand(-1, 4), [(3, 1)]),
    Op("expand_new_dims", lambda a: a.expand(2, -1, -1), _expand(2, -1, -1), [(3, 4)]),
    Op("expand_0d", lambda a: a.expand(3, 2), _expand(3, 2), [()]),
    Op("expand_same", lambda a: a.expand(2, 3), _expand(2, 3), [(2, 3)]),
    Op("expand_then_mul", lambda a, b: a.expand(3, 4) * b, lambda a, b: a * b,
      [(1, 4), (3, 4)]),
    # --- cat / stack -----------------------------------------------------------
    Op("cat", lambda a, b: tg.cat([a, b]), lambda a, b: np.concatenate([a, b]),
      [(2, 3), (4, 3)], torch_fn=lambda T, a, b: T.cat([a, b])),
    Op("cat_dim1", lambda a, b: tg.cat([a, b], dim=1), lambda a, b: np.concatenate([a, b], 1),
      [(2, 3), (2, 1)], torch_fn=lambda T, a, b: T.cat([a, b], dim=1)),
    Op("cat_negative_dim_three", lambda a, b, c: tg.cat((a, b, c), dim=-1),
      lambda a, b, c: np.concatenate([a, b, c], -1), [(2, 3, 1), (2, 3, 2), (2, 3, 3)],
      torch_fn=lambda T, a, b, c: T.cat((a, b, c), dim=-1)),
    Op("cat_1d", lambda a, b: tg.cat([a, b]), lambda a, b: np.concatenate([a, b]),
      [(3,), (2,)], torch_fn=lambda T, a, b: T.cat([a, b])),
    Op("cat_single", lambda a: tg.cat([a], dim=1), lambda a: a, [(2, 3)],
      torch_fn=lambda T, a: T.cat([a], dim=1)),
    Op("cat_same_tensor", lambda a: tg.cat([a, a * 2.0, a]),
      lambda a: np.concatenate([a, a * 2.0, a]), [(2, 2)],
      torch_fn=lambda T, a: T.cat([a, a * 2.0, a])),
    Op("stack", lambda a, b: tg.stack([a, b]), lambda a, b: np.stack([a, b]),
      [(2, 3), (2, 3)], torch_fn=lambda T, a, b: T.stack([a, b])),
    Op("stack_dim1", lambda a, b, c: tg.stack([a, b, c], dim=1),
      lambda a, b, c: np.stack([a, b, c], 1), [(2, 3), (2, 3), (2, 3)],
      torch_fn=lambda T, a, b, c: T.stack([a, b, c], dim=1)),
    Op("stack_last", lambda a, b: tg.stack((a, b), dim=-1), lambda a, b: np.stack([a, b], -1),
      [(2, 3), (2, 3)], torch_fn=lambda T, a, b: T.stack((a, b), dim=-1)),
    Op("stack_0d", lambda a, b: tg.stack([a, b]), lambda a, b: np.stack([a, b]), [(), ()],
      torch_fn=lambda T, a, b: T.stack([a, b])),
    Op("stack_same_tensor", lambda a: tg.stack([a, a.exp()]), lambda a: np.stack([a, np.exp(a)]),
      [(3,)], torch_fn=lambda T, a: T.stack([a, a.exp()])),
    # --- indexing --------------------------------------------------------------
    Op("index_int", lambda a: a[1], lambda a: a[1], [(3, 4)]),
    Op("index_negative", lambda a: a[-1], lambda a: a[-1], [(3, 4)]),
    Op("index_int_pair", lambda a: a[2, -3], lambda a: a[2, -3], [(3, 4)]),
    Op("index_slice", lambda a: a[1:3], lambda a: a[1:3], [(4, 3)]),
    Op("index_slice_step", lambda a: a[0:5:2], lambda a: a[0:5:2], [(6, 2)]),
    Op("index_slice_open", lambda a: a[:, 1:], lambda a: a[:, 1:], [(3, 4)]),
    Op("index_slice_negative_bounds", lambda a: a[-3:-1, ::3], lambda a: a[-3:-1, ::3],
      [(4, 7)]),
    Op("index_slice_clipped", lambda a: a[2:100], lambda a: a[2:100], [(4, 2)]),
    Op("index_slice_empty", lambda a: a[3:1] * 1.0, lambda a: a[3:1] * 1.0, [(4, 2)]),
    Op("index_ellipsis", lambda a: a[..., 1], lambda a: a[..., 1], [(2, 3, 4)]),
    Op("index_ellipsis_front", lambda a: a[0, ...], lambda a: a[0, ...], [(2, 3, 4)]),
    Op("index_none", lambda a: a[None], lambda a: a[None], [(2, 3)]),
    Op("index_none_middle", lambda a: a[:, None, 1], lambda a: a[:, None, 1], [(2, 3)]),
    Op("index_int_tensor", lambda a: a[tg.tensor([2, 0])], lambda a: a[np.array([2, 0])],
      [(3, 4)], torch_fn=lambda T, a: a[T.tensor([2, 0])]),
    Op("index_int_tensor_2d", lambda a: a[tg.tensor([[0, 1], [2, 0]])],
      lambda a: a[np.array([[0, 1], [2, 0]])], [(3, 2)],
      torch_fn=lambda T, a: a[T.tensor([[0, 1], [2, 0]])]),
    Op("index_numpy_array", lambda a: a[np.array([1, -1])], lambda a: a[np.array([1, -1])],
      [(4, 2)]),
    Op("index_list", lambda a: a[[0, 2, 1]], lambda a: a[[0, 2, 1]], [(3, 4)]),
    Op("index_repeated", lambda a: a[[1, 1, 0, 1]], lambda a: a[[1, 1, 0, 1]], [(3, 2)]),
    Op("index_rows_cols", lambda a: a[[0, 2, 1], [3, 0, 3]], lambda a: a[[0, 2, 1], [3, 0, 3]],
      [(3, 4)]),
    Op("index_rows_cols_broadcast", lambda a: a[np.array([[0], [2]]), np.array([1, 3, 1])],
      lambda a: a[np.array([[0], [2]]), np.array([1, 3, 1])], [(3, 4)]),
    Op("index_rows_cols_repeated", lambda a: a[[1, 1, 1], [2, 2, 0]],
      lambda a: a[[1, 1, 1], [2, 2, 0]], [(2, 3)]),
    Op("index_rows_cols_tensors", lambda a: a[tg.tensor([0, 1]), tg.tensor([2, -1])],
      lambda a: a[np.array([0, 1]), np.array([2, -1])], [(2, 3, 2)],
      torch_fn=lambda T, a: a[T.tensor([0, 1]), T.tensor([2, -1])]),
    Op("index_slice_then_list", lambda a: a[1:, [0, 2]], lambda a: a[1:, [0, 2]], [(3, 4)]),
    Op("index_all_then_array", lambda a: a[:, np.array([3, 0, 3])],
      lambda a: a[:, np.array([3, 0, 3])], [(2, 4)]),
    Op("index_all_then_tensor_3d", lambda a: a[:, tg.tensor([1, 0])],
      lambda a: a[:, np.array([1, 0])], [(2, 3, 2)],
      torch_fn=lambda T, a: a[:, T.tensor([1, 0])]),
    Op("index_list_then_int", lambda a: a[[2, 0], 1], lambda a: a[[2, 0], 1], [(3, 4)]),
    Op("index_chained", lambda a: a[1][::2][-1], lambda a: a[1][::2][-1], [(2, 5)]),
    Op("index_1d_scalar", lambda a: a[3], lambda a: a[3], [(5,)]),
    # --- matmul (more batched shapes), outer, dot, matrix_exp -----------------
    Op("matmul_batch_broadcast_1", lambda a, b: a @ b, lambda a, b: a @ b,
      [(2, 3, 4), (1, 4, 5)]),
    Op("matmul_batch_broadcast_left", lambda a, b: tg.matmul(a, b), lambda a, b: a @ b,
      [(1, 3, 4), (2, 4, 2)], torch_fn=lambda T, a, b: T.matmul(a, b)),
    Op("matmul_3d_2d_fn", lambda a, b: tg.matmul(a, b), lambda a, b: a @ b,
      [(2, 3, 4), (4, 5)], torch_fn=lambda T, a, b: T.matmul(a, b)),
    Op("matmul_1d_3d_fn", lambda a, b: tg.matmul(a, b), lambda a, b: a @ b,
      [(3,), (2, 3, 4)], torch_fn=lambda T, a, b: T.matmul(a, b)),
    Op("matmul_4d_4d", lambda a, b: a @ b, lambda a, b: a @ b, [(2, 1, 2, 3), (1, 2, 3, 2)]),
    Op("outer", lambda a, b: tg.outer(a, b), np.outer, [(3,), (4,)],
      torch_fn=lambda T, a, b: T.outer(a, b)),
    Op("outer_method", lambda a, b: a.outer(b), np.outer, [(2,), (3,)]),
    Op("outer_same", lambda a: tg.outer(a, a), lambda a: np.outer(a, a), [(3,)],
      torch_fn=lambda T, a: T.outer(a, a)),
    Op("dot", lambda a, b: tg.dot(a, b), np.dot, [(5,), (5,)],
      torch_fn=lambda T, a, b: T.dot(a, b)),
    Op("dot_method", lambda a, b: a.dot(b), np.dot, [(3,), (3,)]),
    Op("dot_same", lambda a: tg.dot(a, a), lambda a: np.dot(a, a), [(4,)],
      torch_fn=lambda T, a: T.dot(a, a)),
    Op("matrix_exp", lambda a: tg.matrix_exp(a), _expm, [(3, 3)], "unit",
      torch_fn=lambda T, a: T.matrix_exp(a)),
    Op("matrix_exp_1x1", lambda a: tg.matrix_exp(a), _expm, [(1, 1)],
      torch_fn=lambda T, a: T.matrix_exp(a)),
    Op("matrix_exp_2x2", lambda a: tg.matrix_exp(a), _expm, [(2, 2)],
      torch_fn=lambda T, a: T.matrix_exp(a)),
    Op("matrix_exp_5x5", lambda a: tg.matrix_exp(a), _expm, [(5, 5)],
      torch_fn=lambda T, a: T.matrix_exp(a)),
    Op("matrix_exp_large_norm", lambda a: tg.matrix_exp(a * 3.0), lambda a: _expm(a * 3.0),
      [(4, 4)], "unit", torch_fn=lambda T, a: T.matrix_exp(a * 3.0)),
    Op("matrix_exp_skew", lambda a: tg.matrix_exp(a - a.T), lambda a: _expm(a - a.T), [(3, 3)],
      torch_fn=lambda T, a: T.matrix_exp(a - a.T)),
    # --- dtype conversions (round trips, so the table's dtype rules hold) ------
    Op("double_roundtrip", lambda a: (a.double() * 3.0).to(a.dtype),
      lambda a: (a.astype(np.float64) * 3.0).astype(a.dtype), [(2, 3)]),
    Op("to_same_dtype", lambda a: a.to(a.dtype).exp(), np.exp, [(3,)]),
    Op("to_float64_roundtrip", lambda a, b: a.to(tg.float64).to(a.dtype) * b.double().to(b.dtype),
      lambda a, b: a * b, [(2, 2), (2, 2)],
      torch_fn=lambda T, a, b: a.to(T.float64).to(a.dtype) * b.double().to(b.dtype)),
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
    # --- views (share memory; each has its own backward) -------------------
    Op("select", lambda a: a.select(1, 2), lambda a: a[:, 2], [(3, 4)]),
    Op("select_negative", lambda a: tg.select(a, 0, -1), lambda a: a[-1], [(3, 4)],
      torch_fn=lambda T, a: T.select(a, 0, -1)),
    Op("narrow", lambda a: a.narrow(1, 1, 2), lambda a: a[:, 1:3], [(3, 4)]),
    Op("diagonal", lambda a: a.diagonal(), lambda a: np.diagonal(a).copy(), [(3, 4)]),
    Op("diagonal_offset_dims", lambda a: a.diagonal(-1, 0, 2),
      lambda a: np.diagonal(a, -1, 0, 2).copy(), [(3, 2, 4)]),
    Op("unfold", lambda a: a.unfold(1, 2, 1),
      lambda a: np.lib.stride_tricks.sliding_window_view(a, 2, axis=1).copy(), [(3, 4)]),
    Op("unfold_step", lambda a: a.unfold(0, 2, 2),
      lambda a: np.stack([a[0:2], a[2:4]]).transpose(0, 2, 1).copy(), [(5, 3)]),
    Op("split", lambda a: a.split(2, 1)[1], lambda a: a[:, 2:4], [(3, 5)]),
    Op("split_sizes", lambda a: a.split([1, 3], 0)[1], lambda a: a[1:4], [(4, 2)]),
    Op("chunk", lambda a: a.chunk(2, 1)[0][:, :2] * a.chunk(2, 1)[1],
      lambda a: a[:, :2] * a[:, 3:5], [(2, 5)]),
    Op("unbind", lambda a: a.unbind(1)[1] - a.unbind(1)[0], lambda a: a[:, 1] - a[:, 0], [(3, 2)]),
    Op("movedim", lambda a: a.movedim(0, 2), lambda a: np.moveaxis(a, 0, 2), [(2, 3, 4)]),
    Op("unflatten", lambda a: a.unflatten(1, (2, 3)), lambda a: a.reshape(4, 2, 3), [(4, 6)]),
    Op("as_strided", lambda a: a.as_strided((2, 2), (1, 2)),
      lambda a: a.reshape(-1)[[[0, 2], [1, 3]]], [(2, 3)]),
    Op("as_strided_overlapping", lambda a: a.as_strided((3, 2), (1, 1)),
      lambda a: a.reshape(-1)[[[0, 1], [1, 2], [2, 3]]], [(4,)]),
    Op("t", lambda a: a.t(), lambda a: a.T, [(2, 3)]),
    Op("broadcast_to", lambda a: a.broadcast_to((2, 3, 4)),
      lambda a: np.broadcast_to(a, (2, 3, 4)), [(3, 1)]),
    Op("view_as", lambda a, b: a.view_as(b), lambda a, b: a.reshape(b.shape), [(6,), (2, 3)],
      nondiff=(1,)),
    Op("reshape_as", lambda a, b: a.t().reshape_as(b), lambda a, b: a.T.reshape(b.shape),
      [(2, 3), (6,)], nondiff=(1,)),
    Op("expand_as", lambda a, b: a.expand_as(b), lambda a, b: np.broadcast_to(a, b.shape),
      [(3, 1), (3, 4)], nondiff=(1,)),
    Op("clone", lambda a: a.clone() * 2, lambda a: a * 2, [(2, 3)]),
    Op("contiguous", lambda a: a.t().contiguous(), lambda a: a.T.copy(), [(2, 3)]),
    Op("type_as", lambda a, b: a.type_as(b) * b, lambda a, b: a * b, [(2, 2), (2, 2)]),
    # --- products, reductions and arithmetic of the op table --------------------
    Op("mm", lambda a, b: a.mm(b), lambda a, b: a @ b, [(2, 3), (3, 4)]),
    Op("mm_transposed_views", lambda a, b: tg.mm(a.t(), b.t()), lambda a, b: a.T @ b.T,
      [(3, 2), (4, 3)], torch_fn=lambda T, a, b: T.mm(a.t(), b.t())),
    Op("prod_all", lambda a: a.prod(), lambda a: np.prod(a), [(2, 3)], "nonzero"),
    Op("prod_dim", lambda a: a.prod(1), lambda a: np.prod(a, axis=1), [(3, 4)], "nonzero"),
    Op("prod_dim_keepdim", lambda a: a.prod(0, keepdim=True),
      lambda a: np.prod(a, axis=0, keepdims=True), [(3, 2)], "nonzero"),
    Op("remainder", lambda a, b: a % b, np.mod, [(2, 3), (2, 3)], ("real", "nonzero")),
    Op("remainder_scalar", lambda a: tg.remainder(a, 0.75), lambda a: np.mod(a, 0.75), [(2, 3)],
      torch_fn=lambda T, a: T.remainder(a, 0.75)),
    Op("true_divide", lambda a, b: a.true_divide(b), lambda a, b: a / b, [(2, 3), (2, 3)],
      ("real", "nonzero")),
    Op("gather", lambda a: a.gather(1, tg.tensor([[0, 2], [1, 1], [2, 0]])),
      lambda a: np.take_along_axis(a, np.array([[0, 2], [1, 1], [2, 0]]), 1), [(3, 3)],
      torch_fn=lambda T, a: a.gather(1, T.tensor([[0, 2], [1, 1], [2, 0]]))),
    Op("index_select", lambda a: a.index_select(0, tg.tensor([2, 0, 2])),
      lambda a: a[[2, 0, 2]], [(3, 2)],
      torch_fn=lambda T, a: a.index_select(0, T.tensor([2, 0, 2]))),
    Op("masked_fill", lambda a: a.masked_fill(a > 0.5, 2.0), lambda a: np.where(a > 0.5, 2.0, a),
      [(3, 4)]),
    Op("masked_select", lambda a: a.masked_select(a > 0), lambda a: a[a > 0], [(3, 4)]),
    Op("mask_index", lambda a, b: a[b > 0] * 2, lambda a, b: a[b > 0] * 2, [(3, 4), (3, 4)],
      nondiff=(1,)),
    Op("list_index", lambda a: a[[0, 2]], lambda a: a[[0, 2]], [(3, 4)]),
    Op("non_adjacent_index", lambda a: a[[0, 1], :, [2, 0]], lambda a: a[[0, 1], :, [2, 0]],
      [(2, 3, 4)]),
    Op("index_put", lambda a, b: a.index_put((tg.tensor([0, 2]),), b),
      lambda a, b: _put(a, [0, 2], b), [(3, 2), (2,)],
      torch_fn=lambda T, a, b: a.index_put((T.tensor([0, 2]),), b)),
    Op("index_put_accumulate", lambda a, b: a.index_put((tg.tensor([1, 1]),), b, accumulate=True),
      lambda a, b: a + np.array([0.0, b[0] + b[1], 0.0], dtype=a.dtype), [(3,), (2,)],
      torch_fn=lambda T, a, b: a.index_put((T.tensor([1, 1]),), b, accumulate=True)),
    Op("where_bool_mask", lambda a, b: tg.where(a > b, a * 2, b),
      lambda a, b: np.where(a > b, a * 2, b), [(2, 3), (2, 3)],
      torch_fn=lambda T, a, b: T.where(a > b, a * 2, b)),
    Op("sign", lambda a: a.sign(), np.sign, [(2, 3)], "int", differentiable=False),
    Op("floor_divide", lambda a, b: a // b, np.floor_divide, [(2, 3), (2, 3)], ("real", "nonzero"),
      differentiable=False),
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
    Op("gt_scalar", lambda a: a > 0.5, lambda a: a > 0.5, [(2, 3)], "int",
      differentiable=False),
    Op("le_scalar_left", lambda a: 0.0 <= a, lambda a: 0.0 <= a, [(2, 3)],
      "int", differentiable=False),
]

# More entries live in tests/ops_*.py, one module per area of the op table, each with
# a list OPS (and, optionally, a dict TESTED_ELSEWHERE as below).
_AREAS = [importlib.import_module(p.stem)
          for p in sorted(pathlib.Path(__file__).parent.glob("ops_*.py"))]
OP_DB += [op for area in _AREAS for op in area.OPS]
assert len({op.name for op in OP_DB}) == len(OP_DB), "OP_DB names must be unique"

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
        elif domain == "unit":
            a = rng.uniform(-1.0, 1.0, shape)
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


def test_op_db_covers_the_newer_ops():
    names = {op.name for op in OP_DB}
    for required in ["sqrt", "sqrt_fn", "sin", "sin_fn", "cos", "cos_fn", "abs", "abs_fn",
                     "softplus", "softplus_fn", "softplus_beta", "softplus_threshold", "clamp",
                     "clamp_fn", "clamp_min", "clamp_max", "maximum", "minimum", "max_binary",
                     "where", "max_all", "max_all_fn", "max_dim", "max_dim_negative_keepdim",
                     "min_all", "min_dim", "var_all", "var_dim", "var_biased", "var_keepdim",
                     "var_correction", "logsumexp", "logsumexp_keepdim", "norm", "norm_fro",
                     "norm_2_dim", "norm_1", "norm_inf", "norm_3", "softmax", "softmax_fn",
                     "log_softmax", "log_softmax_fn", "view", "flatten", "flatten_fn",
                     "permute", "permute_fn", "squeeze", "squeeze_dim", "squeeze_fn",
                     "unsqueeze", "unsqueeze_fn", "expand", "expand_keep", "cat", "cat_dim1",
                     "stack", "stack_dim1", "index_int", "index_negative", "index_slice",
                     "index_slice_step", "index_ellipsis", "index_none", "index_int_tensor",
                     "index_numpy_array", "index_list", "index_repeated", "index_rows_cols",
                     "index_rows_cols_broadcast", "index_slice_then_list",
                     "index_all_then_array", "matmul_batch_broadcast_1", "matmul_3d_2d_fn",
                     "matmul_1d_3d_fn", "outer", "dot", "matrix_exp", "double_roundtrip",
                     "to_float64_roundtrip"]:
        assert required in names, required


# --- (a) forward against NumPy -------------------------------------------------


@pytest.mark.parametrize("op", OP_DB, ids=str)
def test_forward_float64_matches_numpy(op):
    arrays = make_arrays(op, np.float64)
    out = op.fn(*make_tensors(op, arrays, requires_grad=False))
    expected = np.asarray(op.ref(*arrays))
    assert isinstance(out, tg.Tensor)
    assert out.shape == expected.shape
    assert out.dtype == (tg.bool if expected.dtype == bool else tg.float64)
    assert not out.requires_grad
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("op", OP_DB, ids=str)
def test_forward_float32_matches_numpy(op):
    arrays = make_arrays(op, np.float32)
    out = op.fn(*make_tensors(op, arrays, requires_grad=False))
    expected = np.asarray(op.ref(*arrays))
    assert expected.dtype in (np.float32, bool)  # the reference itself stays in float32
    assert out.shape == expected.shape
    assert out.dtype == (tg.bool if expected.dtype == bool else tg.float32)
    got = out.numpy()
    assert got.dtype == expected.dtype
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


# --- (c) forward mode: jvp against directional finite differences of NumPy -------


def tangents_for(op, arrays):
    rng = _rng(op, salt=2)
    return [rng.standard_normal(a.shape).astype(a.dtype) for a in arrays]


def _jvp_of(op, arrays, tangents):
    """tapegrad's (value, J·v) for op.fn, differentiating every input but op.nondiff
    (held constant). A single differentiable input goes in as a bare tensor."""
    diff = [i for i in range(len(arrays)) if i not in op.nondiff]
    fixed = make_tensors(op, arrays, requires_grad=False)

    def f(*xs):
        args = list(fixed)
        for i, x in zip(diff, xs):
            args[i] = x
        return op.fn(*args)

    inputs = [tg.tensor(arrays[i]) for i in diff]
    v = [tg.tensor(tangents[i]) for i in diff]
    if len(diff) == 1:
        return tg.autograd.functional.jvp(f, inputs[0], v[0])
    return tg.autograd.functional.jvp(f, tuple(inputs), tuple(v))


@pytest.mark.parametrize("op", DIFF_OPS, ids=str)
def test_jvp_matches_numpy_directional_differences(op):
    arrays = make_arrays(op, np.float64)
    v = tangents_for(op, arrays)
    for i in op.nondiff:
        v[i] = np.zeros_like(v[i])
    value, jv = _jvp_of(op, arrays, v)
    expected_value = np.asarray(op.ref(*arrays))
    assert isinstance(value, tg.Tensor) and isinstance(jv, tg.Tensor)
    assert value.shape == expected_value.shape and jv.shape == expected_value.shape
    assert value.dtype == tg.float64 and jv.dtype == tg.float64
    assert not value.requires_grad and not jv.requires_grad
    np.testing.assert_allclose(value.numpy(), expected_value, rtol=1e-12, atol=1e-14)
    eps = 1e-6
    plus = op.ref(*[a + eps * t for a, t in zip(arrays, v)])
    minus = op.ref(*[a - eps * t for a, t in zip(arrays, v)])
    numerical = (np.asarray(plus) - np.asarray(minus)) / (2 * eps)
    np.testing.assert_allclose(jv.numpy(), numerical, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("op", DIFF_OPS, ids=str)
def test_jvp_is_linear_in_the_tangent(op):
    # J·(2u - 3w) == 2 J·u - 3 J·w, and J·0 == 0: forward mode, not a difference quotient
    arrays = make_arrays(op, np.float64)
    u = tangents_for(op, arrays)
    w = [np.roll(t.reshape(-1), 1).reshape(t.shape) for t in u]
    for i in op.nondiff:
        u[i] = w[i] = np.zeros_like(u[i])
    ju = _jvp_of(op, arrays, u)[1].numpy()
    jw = _jvp_of(op, arrays, w)[1].numpy()
    jc = _jvp_of(op, arrays, [2 * a - 3 * b for a, b in zip(u, w)])[1].numpy()
    np.testing.assert_allclose(jc, 2 * ju - 3 * jw, rtol=1e-10, atol=1e-12)
    j0 = _jvp_of(op, arrays, [np.zeros_like(a) for a in arrays])[1].numpy()
    np.testing.assert_array_equal(j0, np.zeros_like(j0))


@pytest.mark.parametrize("op", [op for op in OP_DB if not op.differentiable], ids=str)
def test_jvp_of_comparisons_is_zero(op):
    # piecewise constant: the tangent of a comparison is 0 (PyTorch gives no tangent)
    arrays = make_arrays(op, np.float64)
    value, jv = _jvp_of(op, arrays, tangents_for(op, arrays))
    np.testing.assert_array_equal(value.numpy(), np.asarray(op.ref(*arrays)))
    assert jv.shape == value.shape
    np.testing.assert_array_equal(jv.numpy(), np.zeros(value.shape))


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


@pytest.mark.parametrize("op", DIFF_OPS, ids=str)
def test_jvp_matches_torch(op, torch):
    arrays = make_arrays(op, np.float64)
    v = tangents_for(op, arrays)
    diff = [i for i in range(len(arrays)) if i not in op.nondiff]
    fixed = [torch.from_numpy(a.copy()) for a in arrays]

    def f(*xs):
        args = list(fixed)
        for i, x in zip(diff, xs):
            args[i] = x
        return op.torch_fn(torch, *args) if op.torch_fn else op.fn(*args)

    _, t_jv = torch.autograd.functional.jvp(
        f, tuple(torch.from_numpy(arrays[i].copy()) for i in diff),
        tuple(torch.from_numpy(v[i].copy()) for i in diff))
    for i in op.nondiff:
        v[i] = np.zeros_like(v[i])
    _, jv = _jvp_of(op, arrays, v)
    assert jv.shape == tuple(t_jv.shape)
    np.testing.assert_allclose(jv.numpy(), t_jv.numpy(), rtol=1e-10, atol=1e-12)


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
        assert c.dtype == tg.bool
    assert (x > 0).tolist() == [True, False, True]


def test_comparison_dtype_promotion():
    a = tg.tensor(np.array([1.0, 2.0], dtype=np.float32))
    b = tg.tensor(np.array([2.0, 2.0], dtype=np.float64))
    c = a < b  # compared in the promoted dtype (float64), as PyTorch
    assert c.dtype == tg.bool
    assert c.tolist() == [True, False]
    f32, f64 = tg.tensor([0.1], dtype=tg.float32), tg.tensor([0.1], dtype=tg.float64)
    assert (f32 == f64).item() is False
    i = tg.tensor([1, 5])
    assert (i > 2).dtype == tg.bool
    assert (i > 2.5).tolist() == [False, True]


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
    # tapegrad keeps subnormal results that PyTorch flushes to 0 (sigmoid(-100) in float32
    # is 3.8e-44; PyTorch's 1/(1 + exp(100)) gives 0): differences below the smallest
    # normal number are allowed
    tiny = np.finfo(dtype).tiny
    np.testing.assert_allclose(ya.detach().numpy(), yb.detach().numpy(), rtol=1e-6, atol=tiny)
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-6, atol=tiny)


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


# --- every public op of the op table is tested ----------------------------------

# Ops whose tests live outside OP_DB (creation, random numbers, integer and bool
# results, in-place forms, dtype conversions), by the test module that covers them.
TESTED_ELSEWHERE = {
    "zeros": "test_tensor", "ones": "test_tensor", "empty": "test_tensor",
    "full": "test_tensor", "zeros_like": "test_tensor", "ones_like": "test_tensor",
    "empty_like": "test_core_semantics", "full_like": "test_core_semantics",
    "arange": "test_tensor", "eye": "test_tensor", "rand": "test_tensor", "randn": "test_tensor",
    "argmax": "test_core_semantics", "argmin": "test_core_semantics",
    "all": "test_core_semantics", "any": "test_core_semantics",
    "count_nonzero": "test_core_semantics", "nonzero": "test_core_semantics",
    "logical_and": "test_core_semantics", "logical_or": "test_core_semantics",
    "logical_xor": "test_core_semantics", "logical_not": "test_core_semantics",
    "bitwise_and": "test_core_semantics", "bitwise_or": "test_core_semantics",
    "bitwise_xor": "test_core_semantics", "bitwise_not": "test_core_semantics",
    "float": "test_core_semantics", "double": "test_core_semantics",
    "long": "test_core_semantics", "int": "test_core_semantics", "bool": "test_core_semantics",
    "copy_": "test_views", "fill_": "test_views", "zero_": "test_views",
    "detach": "test_autograd",
}
for _area in _AREAS:
    TESTED_ELSEWHERE.update(getattr(_area, "TESTED_ELSEWHERE", {}))


def _public_ops():
    """Every public op of the registry by its canonical (schema) name."""
    return {d["schema"].split("(")[0] for d in tg._core._op_table()
            if not d["name"].startswith("_")}


def test_every_public_op_has_an_op_db_entry_or_a_test_elsewhere():
    names = _public_ops()
    covered = {n for n in names if any(op.name == n or op.name.startswith(n + "_")
                                       for op in OP_DB)}
    missing = sorted(names - covered - set(TESTED_ELSEWHERE))
    assert not missing, f"ops with no OP_DB entry and no test named in TESTED_ELSEWHERE: {missing}"
    stale = sorted(set(TESTED_ELSEWHERE) - names)
    assert not stale, f"TESTED_ELSEWHERE names ops the registry does not have: {stale}"
    here = pathlib.Path(__file__).parent
    for name, module in TESTED_ELSEWHERE.items():
        source = (here / f"{module}.py").read_text()
        assert re.search(rf"\b{re.escape(name)}\b", source), f"{module}.py never mentions {name}"


def test_the_stub_types_every_op_of_the_table():
    """The committed _core.pyi (tools/gen_stub.py) has every op with its schema's
    argument names, as a function and as a Tensor method where the op is one."""
    import ast

    stub = pathlib.Path(tg.__file__).with_name("_core.pyi")
    tree = ast.parse(stub.read_text())
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Tensor")
    methods = {n.name for n in cls.body if isinstance(n, ast.FunctionDef)}

    def names(fn):
        a = fn.args
        return [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs] + (
            [a.vararg.arg] if a.vararg else [])

    for entry in tg._core._op_table():
        expected = [p.split("=")[0].split()[-1]
                    for p in re.findall(r"[^,()]+", entry["schema"].split("->")[0].split("(", 1)[1])
                    if p.strip() not in ("", "*")]
        if entry["function"]:
            stubs = [n for n in tree.body if isinstance(n, ast.FunctionDef)
                     and n.name == entry["name"]]
            assert stubs, f"_core.pyi lacks {entry['name']}: run python tools/gen_stub.py"
            assert any(sorted(names(s)) == sorted(expected) for s in stubs), entry["schema"]
        if entry["method"]:
            assert entry["name"] in methods, f"_core.pyi lacks Tensor.{entry['name']}"
        if entry["inplace"]:
            assert entry["name"] + "_" in methods, f"_core.pyi lacks Tensor.{entry['name']}_"
    assert functions
