"""Forward-mode automatic differentiation with dual tensors, as ``torch.autograd.forward_ad``.

Inside ``dual_level()``, ``make_dual(x, t)`` gives a tensor that carries the tangent
``t``; every op pushes tangents to its result with its jvp rule, and
``unpack_dual(y)`` reads ``J·t`` back. Levels nest: inside an outer level, the
tangents of an inner level carry the outer level's tangents, so nested ``jvp``
gives second directional derivatives.

>>> from tapegrad.autograd import forward_ad as fwAD
>>> x = tg.tensor([1.0, 2.0])
>>> with fwAD.dual_level():
...     y = fwAD.make_dual(x, tg.ones(2)) ** 2
...     fwAD.unpack_dual(y).tangent.tolist()
[2.0, 4.0]
"""

import collections
import threading

from tapegrad import _core

UnpackedDualTensor = collections.namedtuple("UnpackedDualTensor", ["primal", "tangent"])

_state = threading.local()


def _stack():
    if not hasattr(_state, "levels"):
        _state.levels = []
    return _state.levels


def enter_dual_level():
    """Enters a new (nested) dual level and returns its id."""
    level = _core._enter_dual_level()
    _stack().append(level)
    return level


def exit_dual_level(*, level=None):
    """Exits the innermost dual level (``level``, when given, must be it); the tangents
    of that level are dropped."""
    stack = _stack()
    if not stack:
        raise RuntimeError("exit_dual_level: no forward AD level is active")
    if level is not None and level != stack[-1]:
        raise RuntimeError("exit_dual_level: trying to exit a forward AD level that was not "
                           "the last one entered")
    _core._exit_dual_level(stack.pop())


class dual_level:
    """Context manager for one dual level: ``with dual_level() as level: ...``."""

    def __enter__(self):
        self.level = enter_dual_level()
        return self.level

    def __exit__(self, *exc):
        exit_dual_level(level=self.level)
        return False


def _level(level):
    stack = _stack()
    if level is not None:
        return level
    if not stack:
        raise RuntimeError("forward AD: make_dual and unpack_dual need an active dual_level()")
    return stack[-1]


def make_dual(tensor, tangent, *, level=None):
    """A view of ``tensor`` carrying ``tangent`` (same shape) at ``level`` (the innermost by
    default); differentiable with respect to ``tensor`` as any view."""
    return _core._make_dual(tensor, tangent, _level(level))


def unpack_dual(tensor, *, level=None):
    """``(primal, tangent)`` of a dual tensor at ``level``; the tangent is None when the
    tensor carries none (or no level is active)."""
    if level is None and not _stack():
        return UnpackedDualTensor(tensor, None)
    primal, tangent = _core._unpack_dual(tensor, _level(level))
    return UnpackedDualTensor(primal, tangent)


__all__ = ["dual_level", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual",
           "UnpackedDualTensor"]
