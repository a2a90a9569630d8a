"""Finite-difference checks of first and second derivatives (float64)."""

import numpy as np

from tapegrad import _core
from tapegrad._core import Tensor


class GradcheckError(RuntimeError):
    """Raised when analytical and numerical derivatives disagree."""


def _tuple(x):
    return (x,) if isinstance(x, Tensor) else tuple(x)


def _differentiable(outputs):
    return [o for o in outputs if isinstance(o, Tensor) and o.requires_grad]


def _values(outputs):
    return [o._numpy_data().reshape(-1).copy() for o in _tuple(outputs)
            if isinstance(o, Tensor) and o.dtype.is_floating_point]


def _numerical(fn, inputs, wrt, outputs, eps):
    """J[k][i]: (numel of output k, numel of input wrt[i]) by central differences.

    Each input is perturbed in place through its zero-copy NumPy view. fn
    runs with grad mode as the caller has it: gradgradcheck's fn needs a graph."""
    sizes = [o.numel() for o in outputs]
    jac = [[np.zeros((m, inputs[i].numel())) for i in wrt] for m in sizes]
    for col, i in enumerate(wrt):
        flat = inputs[i]._numpy_data().reshape(-1)
        for j in range(flat.size):
            orig = flat[j]
            flat[j] = orig + eps
            plus = _values(fn(*inputs))
            flat[j] = orig - eps
            minus = _values(fn(*inputs))
            flat[j] = orig
            for k in range(len(sizes)):
                jac[k][col][:, j] = (plus[k] - minus[k]) / (2 * eps)
    return jac


def _analytical(inputs, wrt, outputs):
    sizes = [o.numel() for o in outputs]
    jac = [[np.zeros((m, inputs[i].numel())) for i in wrt] for m in sizes]
    for k, out in enumerate(outputs):
        if not out.requires_grad:
            continue
        for row in range(sizes[k]):
            seed = np.zeros(sizes[k])
            seed[row] = 1.0
            g = _core._from_numpy(seed.reshape(out.shape), out.dtype, True)
            grads = _core._grad([out], [inputs[i] for i in wrt], [g], True, False, True)
            for col, gr in enumerate(grads):
                if gr is not None:
                    jac[k][col][row, :] = gr._numpy_data().reshape(-1)
    return jac


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Checks the gradients of ``fn`` at ``inputs`` against central differences.

    Inputs that require grad must be float64. Returns True, or raises (or
    returns False with ``raise_exception=False``) naming the worst entry.

    >>> x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    >>> tg.autograd.gradcheck(lambda t: (t * t).sum(), (x,))
    True
    """
    inputs = _tuple(inputs)
    wrt = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not wrt:
        raise ValueError("gradcheck: no input requires grad")
    for i in wrt:
        if inputs[i].dtype != _core.dtype.float64:
            raise ValueError(f"gradcheck: input {i} is {inputs[i].dtype}; finite differences "
                             "need float64 inputs")
    outputs = [o for o in _tuple(fn(*inputs))
               if isinstance(o, Tensor) and o.dtype.is_floating_point]
    numerical = _numerical(fn, inputs, wrt, outputs, eps)
    analytical = _analytical(inputs, wrt, outputs)
    worst = None
    for k in range(len(outputs)):
        for col, i in enumerate(wrt):
            a, n = analytical[k][col], numerical[k][col]
            excess = np.abs(a - n) - (atol + rtol * np.abs(n))
            if excess.size and np.nanmax(np.where(np.isnan(excess), np.inf, excess)) > 0:
                excess = np.where(np.isnan(excess), np.inf, excess)
                r, c = np.unravel_index(np.argmax(excess), excess.shape)
                if worst is None or excess[r, c] > worst[0]:
                    worst = (excess[r, c], k, i, r, c, a[r, c], n[r, c])
    if worst is None:
        return True
    _, k, i, r, c, a, n = worst
    msg = (f"Jacobian mismatch for output {k} with respect to input {i}: worst entry "
           f"(output element {r}, input element {c}): analytical {a!r} vs numerical {n!r} "
           f"(atol={atol}, rtol={rtol})")
    if raise_exception:
        raise GradcheckError(msg)
    return False


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3,
                  raise_exception=True):
    """Checks second derivatives: gradcheck of the vector-Jacobian product of ``fn``.

    ``grad_outputs`` default to random float64 tensors that are themselves
    differentiated, as PyTorch's gradgradcheck does.
    """
    inputs = _tuple(inputs)
    wrt = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    outputs = [o for o in _tuple(fn(*inputs)) if isinstance(o, Tensor) and o.requires_grad]
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = [_core._from_numpy(rng.standard_normal(o.shape), _core.dtype.float64, True)
                        .requires_grad_() for o in outputs]
    grad_outputs = list(_tuple(grad_outputs))
    n_in = len(inputs)

    def vjp(*args):
        ins, gos = args[:n_in], args[n_in:]
        outs = [o for o in _tuple(fn(*ins)) if isinstance(o, Tensor) and o.requires_grad]
        grads = _core._grad(outs, [ins[i] for i in wrt], list(gos), True, True, True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(vjp, tuple(inputs) + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
