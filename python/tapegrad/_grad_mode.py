"""Grad mode context managers (thread-local, as PyTorch's)."""

import functools

from tapegrad import _core


class _GradMode:
    _enabled = True

    def __enter__(self):
        self._previous = _core.is_grad_enabled()
        _core._set_grad_enabled(self._enabled)
        return self

    def __exit__(self, *exc):
        _core._set_grad_enabled(self._previous)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """Context manager (and decorator) that records no graph.

    >>> x = tg.ones(2, requires_grad=True)
    >>> with tg.no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False
    """

    _enabled = False


class enable_grad(_GradMode):
    """Context manager (and decorator) that turns graph recording back on."""

    _enabled = True


class set_grad_enabled(_GradMode):
    """Sets grad mode on or off; usable as a function or a context manager."""

    def __init__(self, mode):
        self._enabled = bool(mode)
        self._previous = _core.is_grad_enabled()
        _core._set_grad_enabled(self._enabled)

    def __enter__(self):
        return self

    def __call__(self, fn):
        raise TypeError("set_grad_enabled cannot be used as a decorator")


def zero_grads(tensors, set_to_none=True):
    """Clears the ``.grad`` of each tensor: to None (PyTorch's default) or, with
    ``set_to_none=False``, to zeros in place. Shared by Module and Optimizer."""
    for t in tensors:
        if t.grad is None:
            continue
        if set_to_none:
            t.grad = None
        else:
            t.grad.zero_()
