"""Shared pieces of the first-order optimizers: lazy state and kernel dispatch."""

from tapegrad import _core
from tapegrad._core import zeros_like
from tapegrad._tensor import tensor
from tapegrad.optim.optimizer import Optimizer


def params_with_grads(group):
    return [p for p in group["params"] if p.grad is not None]


def state_of(optimizer, p, names, step=False, fill=0.0):
    """The state of ``p``, created on first use: a step counter (a float32 0-d tensor,
    as PyTorch's) and zero-filled buffers named in ``names``."""
    state = optimizer.state[p]
    if not state:
        if step:
            state["step"] = tensor(0.0)
        for name in names:
            buf = zeros_like(p)
            if fill:
                buf.fill_(fill)
            state[name] = buf
    return state


def advance(state):
    """Increments the step counter and returns the new count."""
    state["step"].add_(1)
    return state["step"].item()


def check_grads(params):
    for p in params:
        if p.grad.dtype != p.dtype or p.grad.shape != p.shape:
            raise ValueError(f"optimizer: gradient of dtype {p.grad.dtype!r} and shape "
                             f"{p.grad.shape} for a parameter of dtype {p.dtype!r} and shape "
                             f"{p.shape}")


def check(name, value, ok, message=None):
    if not ok:
        raise ValueError(message or f"Invalid {name} value: {value}")


class FusedOptimizer(Optimizer):
    """Base of the first-order optimizers whose step is one fused C++ call per group.

    PyTorch's implementation switches are accepted so that its scripts run
    unchanged: ``foreach`` and ``fused`` both mean the fused C++ step here
    (``fused=False`` selects the single-tensor reference implementation);
    graph capture and differentiating through the step are not supported."""

    def __init__(self, params, defaults, fused=True, capturable=False, differentiable=False):
        name = type(self).__name__
        if capturable:
            raise ValueError(f"{name}: capturable=True (CUDA graph capture) is not supported")
        if differentiable:
            raise ValueError(f"{name}: differentiable=True is not supported")
        self._fused = fused is not False
        super().__init__(params, defaults)


core = _core
