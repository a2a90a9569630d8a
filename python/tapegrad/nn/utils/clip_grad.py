"""Gradient clipping."""

import math

from tapegrad._core import Tensor, norm, stack
from tapegrad._grad_mode import no_grad
from tapegrad._tensor import tensor


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Scales the gradients in place so that their total ``norm_type``-norm is at most
    ``max_norm``, as PyTorch's; returns the total norm before clipping.

    >>> w = tg.ones(4, requires_grad=True); (w * 10).sum().backward()
    >>> tg.nn.utils.clip_grad_norm_([w], 1.0).item()
    20.0
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    grads = [p.grad for p in parameters if p.grad is not None]
    norm_type = float(norm_type)
    if not grads:
        return tensor(0.0)
    with no_grad():
        if math.isinf(norm_type):
            per = [g.abs().max() for g in grads]
            total = per[0] if len(per) == 1 else stack([p.to(per[0].dtype) for p in per]).max()
        else:
            per = [norm(g, norm_type) for g in grads]
            total = norm(stack([p.to(per[0].dtype) for p in per]), norm_type)
        value = total.item()
        if error_if_nonfinite and not math.isfinite(value):
            raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                               "`parameters` is non-finite, so it cannot be clipped. To disable "
                               "this error and scale the gradients by the non-finite norm "
                               "anyway, set `error_if_nonfinite=False`")
        coef = min(float(max_norm) / (value + 1e-6), 1.0)
        for g in grads:
            g.mul_(coef)
    return total
