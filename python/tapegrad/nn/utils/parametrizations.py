"""Ready-made parametrizations: ``orthogonal``, ``positive``, ``interval``.

Each replaces a weight by a function of an unconstrained tensor, so that any
optimizer keeps the constraint exactly (the lecture notes' reparametrized
constraints)."""

import math

import numpy as np

from tapegrad import _core
from tapegrad._core import matrix_exp, softplus, zeros
from tapegrad.nn.modules.module import Module
from tapegrad.nn.utils.parametrize import register_parametrization


class _Orthogonal(Module):
    """W = (B · exp(A − Aᵀ))[:rows, :cols] for an n×n unconstrained A, n = max(rows,
    cols), and a fixed orthogonal B taken from the weight at registration (so that
    registering keeps the weight, as PyTorch's dynamic trivialization does)."""

    def __init__(self, shape, dtype):
        super().__init__()
        rows, cols = shape
        self.rows, self.cols = rows, cols
        self.register_buffer("base", zeros(max(rows, cols), max(rows, cols), dtype=dtype))

    def forward(self, a):
        q = self.base @ matrix_exp(a - a.T)
        return q[:self.rows, :self.cols] if self.rows >= self.cols else \
            q[:self.cols, :self.rows].T

    def right_inverse(self, w):
        # B = an orthogonal completion of the weight's orthonormalized columns;
        # A = 0 reproduces it.
        arr = w.detach().numpy().astype(np.float64)
        tall = arr if arr.shape[0] >= arr.shape[1] else arr.T
        n = tall.shape[0]
        full = np.concatenate([tall, np.eye(n)[:, : n - tall.shape[1]]], axis=1) \
            if tall.shape[1] < n else tall
        q, r = np.linalg.qr(full)
        q = q * np.where(np.diag(r) < 0, -1.0, 1.0)
        self.base.copy_(_core._from_numpy(np.ascontiguousarray(q), None, True))
        return zeros(n, n, dtype=w.dtype)


def orthogonal(module, name="weight"):
    """Keeps ``module.<name>`` (2-D) orthogonal: W = B·matrix_exp(A − Aᵀ), rows or
    columns orthonormal, under any optimizer.

    >>> lin = orthogonal(tg.nn.Linear(4, 4))
    >>> w = lin.weight.detach().numpy(); bool(abs(w @ w.T - np.eye(4)).max() < 1e-5)
    True
    """
    w = getattr(module, name)
    if w.ndim != 2:
        raise ValueError(f"orthogonal: expected a 2-D tensor, got shape {w.shape}")
    return register_parametrization(module, name, _Orthogonal(w.shape, w.dtype))


class _Positive(Module):
    def __init__(self, kind):
        super().__init__()
        if kind not in ("softplus", "exp", "square"):
            raise ValueError(f"positive: kind must be 'softplus', 'exp' or 'square', got "
                             f"{kind!r}")
        self.kind = kind

    def forward(self, v):
        if self.kind == "softplus":
            return softplus(v)
        if self.kind == "exp":
            return v.exp()
        return v * v

    def right_inverse(self, w):
        # entries <= 0 cannot be represented; they start at a small positive value
        w = w.clamp(min=1e-6 if w.dtype == _core.dtype.float32 else 1e-12)
        if self.kind == "softplus":
            return w + (-(-w).exp() + 1).log()  # log(expm1(w)), stable for large w
        if self.kind == "exp":
            return w.log()
        return w.sqrt()


def positive(module, name="weight", kind="softplus"):
    """Keeps ``module.<name>`` positive: softplus(V), exp(V) or V²."""
    return register_parametrization(module, name, _Positive(kind))


class _Interval(Module):
    def __init__(self, low, high):
        super().__init__()
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ValueError(f"interval: expected finite low < high, got {low} and {high}")
        self.low, self.high = float(low), float(high)

    def forward(self, v):
        return self.low + (self.high - self.low) * v.sigmoid()

    def right_inverse(self, w):
        u = ((w - self.low) / (self.high - self.low)).clamp(1e-6, 1 - 1e-6)
        return (u / (1 - u)).log()


def interval(module, name="weight", low=0.0, high=1.0):
    """Keeps ``module.<name>`` in (low, high): low + (high − low)·sigmoid(V)."""
    return register_parametrization(module, name, _Interval(low, high))


__all__ = ["interval", "orthogonal", "positive"]
