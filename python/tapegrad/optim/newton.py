"""Newton's method without forming the Hessian: conjugate gradients on Hessian-vector
products from double backward."""

import math

from tapegrad import autograd
from tapegrad._core import Tensor, zeros, zeros_like
from tapegrad._grad_mode import enable_grad, no_grad
from tapegrad._tensor import recording_backward_graphs
from tapegrad.optim.line_search import (
    add_flat,
    dot,
    flat_tensor,
    require_closure,
    single_group,
    split_like,
)
from tapegrad.optim.optimizer import Optimizer

_GRAPH_MESSAGE = ("Newton: the closure must return the loss with its graph (the tensor its "
                  "parameters produced, not a detached copy or a number)")


class Newton(Optimizer):
    """Newton's method: solves (H + damping·I)·p = −g by conjugate gradients and sets
    x ← x + lr·p, with g = ∇F(x) and H = ∇²F(x).

    H is never formed: CG only needs products H·v, which double backward gives
    (∇(gᵀv) with g computed by ``autograd.grad(..., create_graph=True)``). CG runs at
    most ``cg_iters`` iterations (default: the number of scalar parameters, enough for
    an exact solve in exact arithmetic) and stops once ‖residual‖ ≤ ``cg_tol``·‖g‖.
    If H + damping·I shows non-positive curvature along a CG direction, CG stops there
    (truncated Newton); if that happens on the first direction the step falls back to
    p = −g. On a quadratic with positive definite Hessian one step with lr = 1 lands on
    the minimizer; near a minimizer of a smooth strictly convex F convergence is
    quadratic. ``damping`` > 0 (Levenberg–Marquardt style) shortens and stabilizes
    steps where H is nearly singular.

    The closure is PyTorch's ordinary one (``opt.zero_grad(); loss = f(); loss.backward();
    return loss``): while it runs, ``backward()`` records its own graph, so that the
    gradients it leaves in ``.grad`` can be differentiated again. A closure that only
    returns the loss works too (``step`` then calls ``autograd.grad(loss, params,
    create_graph=True)`` itself). ``step`` returns the loss (detached), and
    leaves each ``.grad`` holding the (detached) gradient at the starting point.
    ``state[first parameter]`` records ``"step"``, ``"cg_iters"`` (CG iterations of the
    last step) and ``"cg_residual"`` (its final ‖residual‖/‖g‖). All parameters are
    solved for jointly, so only a single parameter group is allowed.

    >>> w = tg.tensor([1.0, 1.0], dtype=tg.float64, requires_grad=True)
    >>> a = tg.tensor([[3.0, 1.0], [1.0, 2.0]], dtype=tg.float64)
    >>> b = tg.tensor([1.0, 0.0], dtype=tg.float64)
    >>> opt = tg.optim.Newton([w])
    >>> loss = opt.step(lambda: 0.5 * tg.dot(w, a @ w) - tg.dot(b, w))
    >>> [round(v, 6) for v in w.tolist()]   # A⁻¹b
    [0.4, -0.2]
    """

    def __init__(self, params, lr=1.0, cg_iters=None, damping=0.0, *, cg_tol=1e-10):
        defaults = dict(lr=lr, cg_iters=cg_iters, damping=damping, cg_tol=cg_tol)
        super().__init__(params, defaults)
        single_group(self, "Newton")
        self._params = self.param_groups[0]["params"]

    def add_param_group(self, param_group):
        if self.param_groups:
            raise ValueError("Newton doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)

    def _validate_group(self, g):
        if not (isinstance(g["lr"], (int, float)) and g["lr"] >= 0):
            raise ValueError(f"Invalid learning rate: {g['lr']} (lr must be a number >= 0)")
        it = g["cg_iters"]
        if it is not None and (isinstance(it, bool) or not isinstance(it, int) or it < 1):
            raise ValueError(f"Invalid cg_iters value: {it} (must be None or an integer >= 1)")
        if not (isinstance(g["damping"], (int, float)) and g["damping"] >= 0):
            raise ValueError(f"Invalid damping value: {g['damping']} (must be >= 0)")
        if not (isinstance(g["cg_tol"], (int, float)) and g["cg_tol"] >= 0):
            raise ValueError(f"Invalid cg_tol value: {g['cg_tol']} (must be >= 0)")

    def step(self, closure=None):
        """One Newton step from the closure's loss; returns that loss (detached)."""
        require_closure(closure, "Newton")
        group = self.param_groups[0]
        params = self._params
        for p in params:
            p.grad = None  # so that a closure calling backward(create_graph=True) shows
        with enable_grad(), recording_backward_graphs():
            loss = closure()
            grads = _differentiable_grads(loss, params)
        with no_grad():
            g = flat_tensor([gr.detach() for gr in grads])
            # Only gradients that depend on the parameters have a Hessian part.
            live = [i for i, gr in enumerate(grads) if gr.requires_grad]
            damping = float(group["damping"])

            def hvp(v):  # (H + damping·I)·v
                if not live:
                    return v * damping
                pieces = split_like(v, params)
                hv = autograd.grad([grads[i] for i in live], params,
                                   grad_outputs=[pieces[i] for i in live],
                                   retain_graph=True, allow_unused=True)
                hv = [h if h is not None else zeros_like(p) for h, p in zip(hv, params)]
                return flat_tensor(hv) + v * damping if damping else flat_tensor(hv)

            cg_iters = group["cg_iters"] or g.numel()
            p_step, iters, residual = _conjugate_gradient(hvp, -g, cg_iters, group["cg_tol"])
            add_flat(params, float(group["lr"]), p_step)
            for p, piece in zip(params, split_like(g, params)):
                p.grad = piece
        state = self.state[params[0]]
        state["step"] = state.get("step", 0) + 1
        state["cg_iters"] = iters
        state["cg_residual"] = residual
        return loss.detach()


def _differentiable_grads(loss, params):
    """∇loss with its graph: from a closure's backward(create_graph=True) if it did one,
    else computed here."""
    if not isinstance(loss, Tensor):
        raise TypeError(f"Newton: the closure must return the loss tensor, got "
                        f"{type(loss).__name__}")
    if all(p.grad is not None and p.grad.requires_grad for p in params):
        return [p.grad for p in params]
    if not loss.requires_grad:
        raise RuntimeError(_GRAPH_MESSAGE)
    try:
        grads = autograd.grad(loss, params, create_graph=True, allow_unused=True)
    except RuntimeError as e:
        raise RuntimeError(_GRAPH_MESSAGE) from e
    return [gr if gr is not None else zeros(p.shape, dtype=p.dtype)
            for gr, p in zip(grads, params)]


def _conjugate_gradient(matvec, b, max_iter, tol):
    """Solves A·x = b for symmetric A given as ``matvec``, from x = 0. Returns
    ``(x, iterations, ‖b − A·x‖ / ‖b‖)``; stops early on non-positive curvature."""
    x = b * 0.0
    r = b.clone()  # residual b − A·x
    rs = dot(r, r)
    b_norm = math.sqrt(rs)
    if b_norm == 0:
        return x, 0, 0.0  # ∇F = 0: already stationary
    direction = r.clone()
    for i in range(max_iter):
        a_dir = matvec(direction)
        curvature = dot(direction, a_dir)
        if not curvature > 0:
            # A is not positive definite along `direction`: the quadratic model has no
            # minimizer there. Keep what CG has so far, or the gradient step if nothing.
            if i == 0:
                return b.clone(), 0, 1.0
            return x, i, math.sqrt(rs) / b_norm
        alpha = rs / curvature
        x.add_(direction, alpha=alpha)
        r.add_(a_dir, alpha=-alpha)
        rs_new = dot(r, r)
        if math.sqrt(rs_new) <= tol * b_norm:
            return x, i + 1, math.sqrt(rs_new) / b_norm
        direction.mul_(rs_new / rs).add_(r)
        rs = rs_new
    return x, max_iter, math.sqrt(rs) / b_norm
