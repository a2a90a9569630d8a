"""The functional autodiff API, with ``torch.autograd.functional``'s signatures and
return shapes: ``vjp``, ``jvp`` (true forward mode), ``hvp``, ``jacobian``, ``hessian``.

>>> f = lambda x, y: x ** 2 * y + (x + y) ** 2
>>> x, y = tg.tensor(1.0, dtype=tg.float64), tg.tensor(2.0, dtype=tg.float64)
>>> tg.autograd.functional.hessian(f, (x, y))[0][1].item()   # d²f/dxdy = 2x + 2
4.0
"""

from tapegrad import _core
from tapegrad._core import Tensor, ones_like, zeros_like
from tapegrad._grad_mode import enable_grad
from tapegrad.autograd import forward_ad


def _as_tuple(x, arg, fn):
    if isinstance(x, Tensor):
        return False, (x,)
    if not isinstance(x, (tuple, list)) or not all(isinstance(t, Tensor) for t in x):
        raise TypeError(f"{fn}: the {arg} must be a Tensor or a tuple of Tensors, got "
                        f"{type(x).__name__}")
    return True, tuple(x)


def _prepare(inputs, create_graph):
    # Fresh leaves that require grad; with create_graph the result stays
    # connected to the caller's graph through an identity op.
    out = []
    for t in inputs:
        if create_graph and t.requires_grad:
            out.append(t.clone())
        else:
            out.append(t.detach().requires_grad_(t.dtype.is_floating_point))
    return tuple(out)


def _jvp_input(t, create_graph):
    # an input that carries an outer jvp's tangent (nested forward mode) is used as
    # it is, so that the tangent travels on; others start a fresh graph
    if create_graph or _core._has_tangents(t):
        return t
    return t.detach().requires_grad_(t.dtype.is_floating_point)


def _finish(ts, create_graph):
    # results are cut from the graph unless create_graph, or unless they carry an
    # outer forward-mode level's tangent (a nested jvp), which detach would drop
    if create_graph:
        return tuple(ts)
    return tuple(t.detach() if isinstance(t, Tensor) and not _core._has_tangents(t) else t
                 for t in ts)


def _grads(outputs, inputs, grad_outputs, create_graph, retain_graph=None):
    outs = [o for o in outputs]
    needed = [i for i, o in enumerate(outs) if o.requires_grad]
    if not needed:
        return tuple(None for _ in inputs)
    return tuple(_core._grad([outs[i] for i in needed], list(inputs),
                             [grad_outputs[i] for i in needed],
                             create_graph if retain_graph is None else retain_graph,
                             create_graph, True))


def _check_v(v, like, fn):
    for a, b in zip(v, like):
        if a.shape != b.shape:
            raise RuntimeError(f"{fn}: v has a tensor of shape {a.shape} where {b.shape} was "
                               "expected")


def _default_v(like, fn):
    if len(like) == 1 and like[0].numel() == 1:
        return (ones_like(like[0]),)
    raise RuntimeError(f"{fn}: v can only be None if the input to the user-provided function "
                       "is a single Tensor with a single element (or the output is, for vjp)")


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """Returns ``(func(*inputs), vᵀ·J)``; ``v`` has the output's shape.

    >>> x = tg.ones(3, dtype=tg.float64)
    >>> tg.autograd.functional.vjp(lambda x: x * 2, x, tg.ones(3, dtype=tg.float64))[1]
    tensor([2., 2., 2.], dtype=tapegrad.float64)
    """
    in_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
    with enable_grad():
        inputs = _prepare(inputs, create_graph)
        out = func(*inputs)
        out_tuple, outs = _as_tuple(out, "outputs of the function", "vjp")
        if v is None:
            v = _default_v(outs, "vjp")
        else:
            v = _as_tuple(v, "v", "vjp")[1]
        _check_v(v, outs, "vjp")
        grads = _grads(outs, inputs, v, create_graph)
    grads = tuple(zeros_like(i) if g is None else g for g, i in zip(grads, inputs))
    out = _finish(outs, create_graph)
    grads = _finish(grads, create_graph)
    return (out if out_tuple else out[0]), (grads if in_tuple else grads[0])


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """Returns ``(func(*inputs), J·v)`` by forward mode: tangents are pushed through
    the ops once, alongside the values (no double-vjp trick).

    >>> x = tg.tensor([1.0, 2.0], dtype=tg.float64)
    >>> tg.autograd.functional.jvp(lambda x: x ** 2, x, tg.ones(2, dtype=tg.float64))[1]
    tensor([2., 4.], dtype=tapegrad.float64)
    """
    in_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
    v = _default_v(inputs, "jvp") if v is None else _as_tuple(v, "v", "jvp")[1]
    if len(v) != len(inputs):
        raise RuntimeError(f"jvp: v has {len(v)} tensors but there are {len(inputs)} inputs")
    _check_v(v, inputs, "jvp")
    with forward_ad.dual_level() as level:
        # inputs require grad inside func, as torch.autograd.functional.jvp's, so
        # that func may differentiate (forward over reverse); without
        # create_graph they are fresh leaves, cut from the caller's graph
        duals = tuple(forward_ad.make_dual(_jvp_input(i, create_graph), t, level=level)
                      for i, t in zip(inputs, v))
        out = func(*duals)
        out_tuple, outs = _as_tuple(out, "outputs of the function", "jvp")
        unpacked = [forward_ad.unpack_dual(o, level=level) for o in outs]
    tangents = tuple(zeros_like(o) if t is None else t for o, (_, t) in zip(outs, unpacked))
    values = _finish(outs, create_graph)
    tangents = _finish(tangents, create_graph)
    return (values if out_tuple else values[0]), (tangents if out_tuple else tangents[0])


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """Returns ``(func(*inputs), H·v)`` for a scalar ``func``, by differentiating the
    gradient once more (the Hessian is never formed).

    >>> A = tg.tensor([[2.0, 1.0], [1.0, 3.0]], dtype=tg.float64)
    >>> f = lambda x: 0.5 * x @ A @ x
    >>> tg.autograd.functional.hvp(f, tg.ones(2, dtype=tg.float64), tg.ones(2, dtype=tg.float64))[1]
    tensor([3., 4.], dtype=tapegrad.float64)
    """
    in_tuple, inputs = _as_tuple(inputs, "inputs", "hvp")
    with enable_grad():
        inputs = _prepare(inputs, create_graph)
        out = func(*inputs)
        if not isinstance(out, Tensor) or out.numel() != 1:
            raise RuntimeError("hvp: the function given to hvp should return a single Tensor "
                               "with a single element")
        v = _default_v(inputs, "hvp") if v is None else _as_tuple(v, "v", "hvp")[1]
        _check_v(v, inputs, "hvp")
        grads = _grads((out,), inputs, (ones_like(out),), True)
        used = [(g, i, t) for g, i, t in zip(grads, inputs, v) if g is not None]
        hv = [None] * len(inputs)
        if used:
            second = _grads([g for g, _, _ in used], inputs, [t for _, _, t in used],
                            create_graph)
            hv = list(second)
    hv = tuple(zeros_like(i) if h is None else h for h, i in zip(hv, inputs))
    out = out if create_graph else out.detach()
    hv = _finish(hv, create_graph)
    return out, (hv if in_tuple else hv[0])


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """The Jacobian, shaped ``output.shape + input.shape`` (tuples of them for tuple
    inputs or outputs, as PyTorch).

    >>> tg.autograd.functional.jacobian(lambda x: x * 3, tg.ones(2, dtype=tg.float64))
    tensor([[3., 0.],
            [0., 3.]], dtype=tapegrad.float64)
    """
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError(f"jacobian: strategy must be 'reverse-mode' or 'forward-mode', got "
                         f"{strategy!r}")
    in_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
    with enable_grad():
        inputs = _prepare(inputs, create_graph)
        out = func(*inputs)
        out_tuple, outs = _as_tuple(out, "outputs of the function", "jacobian")
        rows = []
        for o in outs:
            per_input = [[] for _ in inputs]
            flat = o.reshape(-1)
            for j in range(flat.shape[0]):
                grads = _grads((flat[j],), inputs, (ones_like(flat[j]),), create_graph, True)
                for k, (g, i) in enumerate(zip(grads, inputs)):
                    per_input[k].append(zeros_like(i) if g is None else g)
            jac = []
            for k, i in enumerate(inputs):
                shape = tuple(o.shape) + tuple(i.shape)
                if per_input[k]:
                    jac.append(_stack(per_input[k]).reshape(shape))
                else:
                    jac.append(zeros_like_shape(shape, i.dtype))
            rows.append(_finish(jac, create_graph))
    if not out_tuple and not in_tuple:
        return rows[0][0]
    if not out_tuple:
        return rows[0]
    if not in_tuple:
        return tuple(r[0] for r in rows)
    return tuple(rows)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar ``func``, shaped ``input.shape + input.shape`` (a tuple
    of tuples for tuple inputs, as PyTorch).

    >>> A = tg.tensor([[2.0, 1.0], [1.0, 3.0]], dtype=tg.float64)
    >>> tg.autograd.functional.hessian(lambda x: 0.5 * x @ A @ x, tg.ones(2, dtype=tg.float64))
    tensor([[2., 1.],
            [1., 3.]], dtype=tapegrad.float64)
    """
    in_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")

    def gradient(*xs):
        out = func(*xs)
        if not isinstance(out, Tensor) or out.numel() != 1:
            raise RuntimeError("hessian: the function given to hessian should return a single "
                               "Tensor with a single element")
        grads = _grads((out,), xs, (ones_like(out),), True)
        return tuple(zeros_like(x) if g is None else g for g, x in zip(grads, xs))

    result = jacobian(gradient, inputs, create_graph=create_graph)
    # jacobian saw a tuple of inputs and a tuple of gradients: a tuple of tuples
    return result if in_tuple else result[0][0]


def _stack(ts):
    return _core.stack(list(ts), 0)


def zeros_like_shape(shape, dtype):
    return _core.zeros(list(shape), dtype=dtype)


__all__ = ["vjp", "jvp", "hvp", "jacobian", "hessian"]
