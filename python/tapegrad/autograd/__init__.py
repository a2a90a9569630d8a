"""Reverse-mode autograd: ``grad``, ``backward`` and finite-difference checks."""

from tapegrad import _core
from tapegrad._core import Tensor
from tapegrad.autograd import forward_ad, functional
from tapegrad.autograd.function import Function, FunctionCtx, once_differentiable
from tapegrad.autograd.gradcheck import gradcheck, gradgradcheck


def _as_list(x):
    if x is None:
        return None
    if isinstance(x, Tensor):
        return [x]
    return list(x)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """d(outputs)/d(inputs), as a tuple, without touching any ``.grad``.

    With ``create_graph=True`` the result is itself differentiable.

    >>> x = tg.tensor(2.0, requires_grad=True)
    >>> (g,) = tg.autograd.grad(x ** 3, x, create_graph=True)
    >>> tg.autograd.grad(g, x)[0].item()   # d²(x³)/dx² = 6x
    12.0
    """
    outs, ins = _as_list(outputs), _as_list(inputs)
    gos = _as_list(grad_outputs)
    if gos is not None and len(gos) != len(outs):
        raise RuntimeError(f"grad: grad_outputs has {len(gos)} entries but outputs has "
                           f"{len(outs)}")
    if retain_graph is None:
        retain_graph = create_graph
    return tuple(_core._grad(outs, ins, gos, bool(retain_graph), bool(create_graph),
                             bool(allow_unused)))


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False):
    """Accumulates the gradients of ``tensors`` into the leaves' ``.grad``."""
    if retain_graph is None:
        retain_graph = create_graph
    _core._backward_many(_as_list(tensors), _as_list(grad_tensors), bool(retain_graph),
                         bool(create_graph))


__all__ = ["grad", "backward", "gradcheck", "gradgradcheck", "functional", "forward_ad",
           "Function", "FunctionCtx", "once_differentiable"]
