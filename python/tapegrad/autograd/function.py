"""Custom differentiable functions, as ``torch.autograd.Function``.

>>> class Exp(tg.autograd.Function):
...     @staticmethod
...     def forward(ctx, x):
...         y = x.exp()
...         ctx.save_for_backward(y)
...         return y
...     @staticmethod
...     def backward(ctx, g):
...         (y,) = ctx.saved_tensors
...         return g * y
>>> x = tg.tensor([0.0, 1.0], requires_grad=True)
>>> Exp.apply(x).sum().backward(); x.grad.tolist()
[1.0, 2.7182817459106445]
"""

import functools

from tapegrad import _core
from tapegrad._core import Tensor
from tapegrad._grad_mode import no_grad

_ONCE = ("trying to differentiate twice a function that was marked with "
         "@once_differentiable")


class _OutputRef:
    """A saved tensor that is an output of the function, rebuilt by the node (saving the
    output itself would be a reference cycle through the graph)."""

    def __init__(self, index):
        self.index = index


class FunctionCtx:
    """The ``ctx`` of a Function: what forward leaves for backward (and jvp)."""

    def __init__(self):
        self._to_save = ()
        self._saved = ()
        self._saved_outputs = None
        self._non_differentiable = []
        self._dirty = []
        self._materialize_grads = True
        self.needs_input_grad = ()

    def save_for_backward(self, *tensors):
        """Keeps tensors (inputs or outputs) for backward; changing one in place later
        makes ``saved_tensors`` raise."""
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save tensors, but argument of type "
                                f"{type(t).__name__} was given")
        self._to_save = tensors
        self._saved = tuple((t, None if t is None else t._version) for t in tensors)

    save_for_forward = save_for_backward

    @property
    def saved_tensors(self):
        out = []
        for t, version in self._saved:
            if isinstance(t, _OutputRef):
                if self._saved_outputs is None or self._saved_outputs[t.index] is None:
                    raise RuntimeError("Trying to backward through the graph a second time (or "
                                       "directly access saved tensors after they have already "
                                       "been freed).")
                t = self._saved_outputs[t.index]
            elif t is not None and t._version != version:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by "
                    f"an inplace operation: [tapegrad.{t.dtype.name} {tuple(t.shape)}], is at "
                    f"version {t._version}; expected version {version} instead.")
            out.append(t)
        return tuple(out)

    def mark_non_differentiable(self, *tensors):
        """Marks outputs that get no gradient (their requires_grad stays False)."""
        self._non_differentiable.extend(tensors)

    def mark_dirty(self, *tensors):
        """Marks inputs that forward modified in place (and returns)."""
        self._dirty.extend(tensors)

    def set_materialize_grads(self, value):
        """With False, backward gets None (not zeros) for outputs without a gradient."""
        self._materialize_grads = bool(value)


def _is_in(t, group):
    return any(t is u for u in group)


class Function:
    """Base of custom differentiable functions: subclass with static ``forward(ctx, ...)``
    and ``backward(ctx, *grad_outputs)`` (and optionally ``jvp(ctx, *tangents)``), then call
    ``.apply(...)``. Non-tensor arguments are allowed; backward returns one gradient (or
    None) per argument of forward. A backward written with tapegrad ops differentiates
    again (double backward)."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward mode "
                                  "AD.")

    @staticmethod
    def jvp(ctx, *grad_inputs):
        raise NotImplementedError("You must implement the jvp function for custom "
                                  "autograd.Function to use it with forward mode AD.")

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = FunctionCtx()
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        inputs = [args[i] for i in positions]
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        new_style = cls.setup_context is not Function.setup_context
        with no_grad():
            if new_style:
                output = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, output)
            else:
                output = cls.forward(ctx, *args, **kwargs)
        single = not isinstance(output, tuple)
        outputs = list((output,) if single else output)
        slots = [i for i, o in enumerate(outputs) if isinstance(o, Tensor)]
        tensors = [outputs[i] for i in slots]
        if any(_core._forward_levels() and _core._has_tangents(t) for t in inputs):
            if cls.jvp is Function.jvp:
                raise RuntimeError(f"{cls.__name__}: jvp is not implemented for this "
                                   "autograd.Function; forward mode AD needs it")
            _core._function_jvp(inputs, tensors, lambda tangents: _tuple(cls.jvp(ctx,
                                                                                 *tangents)))
        if _core.is_grad_enabled() and any(t.requires_grad for t in inputs):
            tensors = cls._record(ctx, args, positions, inputs, tensors)
            for i, t in zip(slots, tensors):
                outputs[i] = t
        return outputs[0] if single else tuple(outputs)

    @classmethod
    def _record(cls, ctx, args, positions, inputs, tensors):
        name = cls.__name__ + "Backward"
        saved = [_is_in(t, ctx._to_save) for t in tensors]
        shapes = [t.shape for t in inputs]

        def backward(grads, saved_outputs):
            ctx._saved_outputs = saved_outputs
            try:
                result = _tuple(cls.backward(ctx, *grads))
            finally:
                ctx._saved_outputs = None
            if len(result) != len(args):
                raise RuntimeError(f"function {name} returned an incorrect number of gradients "
                                   f"(expected {len(args)}, got {len(result)})")
            out = []
            for k, i in enumerate(positions):
                g = result[i]
                if g is not None and not isinstance(g, Tensor):
                    raise TypeError(f"function {name} returned a gradient of type "
                                    f"{type(g).__name__} at index {i}; expected a Tensor or None")
                if g is not None and g.shape != shapes[k]:
                    raise RuntimeError(f"Function {name} returned an invalid gradient at index "
                                       f"{i} - got {list(g.shape)} but expected shape "
                                       f"compatible with {list(shapes[k])}")
                out.append(g)
            return out

        recorded = _core._function_apply(
            name, inputs, tensors, backward,
            [not _is_in(t, ctx._non_differentiable) for t in tensors],
            [_is_in(t, ctx._dirty) for t in tensors], saved, ctx._materialize_grads)
        # outputs among the saved tensors are rebuilt by the node at backward time
        ctx._saved = tuple((_OutputRef(tensors.index(t)) if _is_in(t, tensors) else t, v)
                           for t, v in ctx._saved)
        ctx._to_save = ()
        return recorded


def _tuple(x):
    return x if isinstance(x, tuple) else (x,)


def once_differentiable(fn):
    """Decorates a backward that is not itself differentiable: it runs without recording,
    and differentiating its result again raises."""

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with no_grad():
            outputs = fn(ctx, *args)
        grads_in = [a for a in args if isinstance(a, Tensor) and a.requires_grad]
        if not _core.is_grad_enabled() or not grads_in:
            return outputs
        wrapped = tuple(_core._delayed_error(o, grads_in, _ONCE)
                        if isinstance(o, Tensor) and o.dtype.is_floating_point else o
                        for o in _tuple(outputs))
        return wrapped if isinstance(outputs, tuple) else wrapped[0]

    return wrapper


__all__ = ["Function", "FunctionCtx", "once_differentiable"]
