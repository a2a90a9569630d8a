"""L-BFGS with PyTorch's algorithm, numbers, state and stopping rules."""

from tapegrad._core import Tensor
from tapegrad._grad_mode import no_grad
from tapegrad.optim.line_search import (
    add_flat,
    as_float,
    clone_params,
    dot,
    evaluate,
    flat_grad,
    max_abs,
    require_closure,
    set_params,
    single_group,
    strong_wolfe,
)
from tapegrad.optim.optimizer import Optimizer

_GROUPS_MESSAGE = "LBFGS doesn't support per-parameter options (parameter groups)"


class LBFGS(Optimizer):
    """Limited-memory BFGS, as PyTorch's ``torch.optim.LBFGS`` (itself after minFunc).

    One ``step(closure)`` runs up to ``max_iter`` iterations (and ``max_eval`` closure
    calls, default ``max_iter * 5 // 4``). Each iteration takes the direction
    d = −H·g, with H the inverse-Hessian approximation built by the two-loop recursion
    from the last ``history_size`` pairs (s = step, y = change of gradient) and scaled by
    sᵀy / yᵀy, then moves by t·d: t = ``lr`` (the very first iteration uses
    min(1, 1/‖g‖₁)·lr), or the step a strong-Wolfe line search finds from there when
    ``line_search_fn="strong_wolfe"``. A step stops early when max|g| ≤
    ``tolerance_grad``, or when the step, the directional derivative or the change of
    the loss falls below ``tolerance_change``.

    The closure clears the gradients, computes the loss, calls ``backward()`` and
    returns the loss; ``step`` returns the loss of the first call. All parameters form
    one flat vector, so there can be only one parameter group. The whole history lives
    in ``state[first parameter]`` (``func_evals, n_iter, d, t, old_dirs, old_stps, ro,
    H_diag, prev_flat_grad, prev_loss``), so ``state_dict()``/``load_state_dict()``
    resume a run exactly. Scalars are Python floats: with float64 parameters every
    number is PyTorch's; with float32 ones the scalar bookkeeping is done in double.

    >>> xy = tg.tensor([-1.5, 2.0], dtype=tg.float64, requires_grad=True)
    >>> opt = tg.optim.LBFGS([xy], line_search_fn="strong_wolfe")
    >>> def closure():
    ...     opt.zero_grad()
    ...     x, y = xy[0], xy[1]
    ...     loss = (1 - x) ** 2 + 100 * (y - x * x) ** 2   # Rosenbrock
    ...     loss.backward()
    ...     return loss
    >>> for _ in range(5):
    ...     _ = opt.step(closure)
    >>> [round(v, 4) for v in xy.tolist()]
    [1.0, 1.0]
    """

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                 tolerance_change=1e-9, history_size=100, line_search_fn=None):
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                        tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                        history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        single_group(self, "LBFGS")
        self._params = self.param_groups[0]["params"]

    def add_param_group(self, param_group):
        if self.param_groups:
            raise ValueError(_GROUPS_MESSAGE)
        super().add_param_group(param_group)

    def _validate_group(self, g):
        lr = g["lr"]
        if isinstance(lr, Tensor):
            if lr.numel() != 1:
                raise ValueError("Tensor lr must be 1-element")
            lr = lr.item()
        if not lr >= 0:
            raise ValueError(f"Invalid learning rate: {lr} (lr must be >= 0)")
        for name in ("max_iter", "max_eval", "history_size"):
            value = g[name]
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"Invalid {name} value: {value} (must be an integer >= 1)")
        for name in ("tolerance_grad", "tolerance_change"):
            if not g[name] >= 0:
                raise ValueError(f"Invalid {name} value: {g[name]} (must be >= 0)")
        if g["line_search_fn"] not in (None, "strong_wolfe"):
            raise ValueError(f"Invalid line_search_fn: {g['line_search_fn']!r} (only "
                             "'strong_wolfe' or None are supported)")

    def step(self, closure=None):
        """Runs up to ``max_iter`` L-BFGS iterations; returns the closure's first loss."""
        require_closure(closure, "LBFGS")
        with no_grad():
            return self._step(closure)

    def _step(self, closure):
        group = self.param_groups[0]
        lr = group["lr"].item() if isinstance(group["lr"], Tensor) else group["lr"]
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        history_size = group["history_size"]
        params = self._params

        # The state is global, but kept under the first parameter so that state_dict and
        # load_state_dict handle it like any other optimizer's.
        state = self.state[params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = evaluate(closure)
        loss = as_float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        g = flat_grad(params)
        if max_abs(g) <= tolerance_grad:
            return orig_loss  # already optimal

        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        H_diag = state.get("H_diag")
        prev_flat_grad, prev_loss = state.get("prev_flat_grad"), state.get("prev_loss")

        opt_cond = False
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1

            # --- direction --------------------------------------------------------------
            if state["n_iter"] == 1:
                d = -g  # steepest descent; the history starts empty
                old_dirs, old_stps, ro = [], [], []
                H_diag = 1.0
            else:
                y = g - prev_flat_grad  # change of gradient over the last step
                s = d * t  # the last step
                ys = dot(y, s)
                # Keep the pair only if the curvature sᵀy is positive, which keeps H
                # positive definite (so d stays a descent direction).
                if ys > 1e-10:
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / dot(y, y)  # scale of the initial Hessian approximation
                d = _two_loop(g, old_dirs, old_stps, ro, H_diag)

            prev_flat_grad = g.clone()
            prev_loss = loss

            # --- step length ------------------------------------------------------------
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / g.abs().sum().item()) * lr  # no curvature known yet
            else:
                t = lr
            gtd = dot(g, d)
            if gtd > -tolerance_change:
                break  # not (enough of) a descent direction

            ls_func_evals = 0
            if group["line_search_fn"] == "strong_wolfe":
                x0 = clone_params(params)

                def evaluate_at(step, x0=x0, d=d):
                    add_flat(params, step, d)
                    f_t = as_float(evaluate(closure))
                    g_t = flat_grad(params)
                    set_params(params, x0)
                    return f_t, g_t, dot(g_t, d)

                loss, g, t, ls_func_evals = strong_wolfe(
                    evaluate_at, t, loss, g, gtd, max_abs(d), tolerance_change=tolerance_change,
                    max_ls=25)  # as PyTorch: the line search has its own budget
                add_flat(params, t, d)
                opt_cond = max_abs(g) <= tolerance_grad
            else:
                add_flat(params, t, d)
                # The last iteration skips the evaluation: the next step makes it anyway.
                if n_iter != max_iter:
                    loss = as_float(evaluate(closure))
                    g = flat_grad(params)
                    opt_cond = max_abs(g) <= tolerance_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            # --- stopping tests ---------------------------------------------------------
            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if max_abs(d) * abs(t) <= tolerance_change:
                break  # the step no longer moves the parameters
            if abs(loss - prev_loss) < tolerance_change:
                break  # the loss no longer changes

        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=H_diag,
                     prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
        return orig_loss

    # --- state dicts --------------------------------------------------------------------

    def state_dict(self):
        """As ``Optimizer.state_dict``, with the history lists copied, so the returned
        dict is a snapshot that later steps don't change."""
        sd = super().state_dict()
        for s in sd["state"].values():
            for k, v in s.items():
                if isinstance(v, list):
                    s[k] = list(v)
        return sd

    @staticmethod
    def _cast_state(param, key, value):
        # The history is lists of tensors (and floats): copy and cast element by element.
        if isinstance(value, (list, tuple)):
            return [Optimizer._cast_state(param, key, v) for v in value]
        return Optimizer._cast_state(param, key, value)


def _two_loop(g, old_dirs, old_stps, ro, H_diag):
    """−H·g for the L-BFGS inverse Hessian H of the stored pairs (s = old_stps,
    y = old_dirs, ρ = 1/yᵀs), by the two-loop recursion: newest pair to oldest, scale
    by H_diag, then oldest to newest."""
    q = -g
    al = [0.0] * len(old_dirs)
    for i in reversed(range(len(old_dirs))):
        al[i] = dot(old_stps[i], q) * ro[i]
        q.add_(old_dirs[i], alpha=-al[i])
    r = q * H_diag
    for i in range(len(old_dirs)):
        be_i = dot(old_dirs[i], r) * ro[i]
        r.add_(old_stps[i], alpha=al[i] - be_i)
    return r
