"""Full-batch gradient descent with a line search (``GD``), normalized gradient descent
(``NormalizedGD``), and the pieces the closure optimizers share: flat copies of the
parameters and their gradients, and the strong-Wolfe line search (PyTorch's, which
``LBFGS`` uses too).

Every line search here works on the one-dimensional function ψ(α) = F(w + α·d) along a
descent direction d, with ψ′(α) = ∇F(w + α·d)ᵀd. One evaluation of ψ moves the
parameters to w + α·d, calls the closure (which recomputes the loss and its gradients)
and moves them back, so a search never leaves the parameters anywhere but w.
"""

import math

from tapegrad._core import Tensor, cat, zeros
from tapegrad._core import dot as _dot
from tapegrad._core import dtype as _dtype
from tapegrad._grad_mode import enable_grad, no_grad
from tapegrad.optim.optimizer import Optimizer

_FLOAT64 = _dtype.float64

# ---------------------------------------------------------------------------------------
# Shared helpers for the optimizers that treat all parameters as one flat vector.
# ---------------------------------------------------------------------------------------


def require_closure(closure, name):
    """The closure optimizers evaluate F several times per step, so they cannot work from
    gradients computed once outside ``step``."""
    if closure is None:
        raise TypeError(f"{name}.step() requires a closure: a function that clears the "
                        "gradients, recomputes the loss, calls backward() and returns the loss")


def single_group(optimizer, name):
    """Closure optimizers search one step for all parameters together, so per-group
    options would be meaningless; refuse them as PyTorch's LBFGS does."""
    if len(optimizer.param_groups) != 1:
        raise ValueError(f"{name} doesn't support per-parameter options (parameter groups)")


def evaluate(closure):
    """Calls the closure with gradients enabled (``step`` itself runs under no_grad) and
    returns what it returned."""
    with enable_grad():
        return closure()


def as_float(loss):
    return loss.item() if isinstance(loss, Tensor) else float(loss)


def flat_grad(params):
    """All gradients as one new 1-D tensor (zeros for a parameter without a gradient)."""
    parts = [p.grad.reshape(-1) if p.grad is not None else zeros(p.numel(), dtype=p.dtype)
             for p in params]
    return cat(parts)


def flat_tensor(tensors):
    return cat([t.reshape(-1) for t in tensors])


def split_like(flat, params):
    """The inverse of ``flat_tensor``: pieces of ``flat`` shaped as ``params``."""
    pieces, offset = [], 0
    for p in params:
        n = p.numel()
        pieces.append(flat[offset:offset + n].reshape(p.shape))
        offset += n
    return pieces


def add_flat(params, step, direction):
    """w ← w + step·direction, with ``direction`` a flat vector over all ``params``."""
    for p, piece in zip(params, split_like(direction, params)):
        p.add_(piece, alpha=step)


def clone_params(params):
    return [p.detach().clone() for p in params]


def set_params(params, values):
    for p, v in zip(params, values):
        p.copy_(v)


def dot(a, b):
    return _dot(a, b).item()


def max_abs(t):
    return t.abs().max().item() if t.numel() else 0.0


# ---------------------------------------------------------------------------------------
# Strong-Wolfe line search: bracketing, then zoom with cubic interpolation
# (Nocedal & Wright, algorithms 3.5 and 3.6, in the form of minFunc and PyTorch).
# ---------------------------------------------------------------------------------------


def cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """Minimizer of the cubic through (x1, f1) and (x2, f2) with slopes g1 and g2,
    clamped to ``bounds`` (default: the interval between the points); the midpoint of
    the bounds when the cubic has no minimizer."""
    lo, hi = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    if x1 == x2:  # a collapsed bracket: nothing to interpolate
        return min(max(x1, lo), hi)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    disc = d1 * d1 - g1 * g2
    if disc < 0:
        return (lo + hi) / 2.0
    d2 = math.sqrt(disc)
    # Written from the point that lies farther right, which keeps the formula stable.
    if x1 <= x2:
        x_min = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        x_min = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(x_min, lo), hi)


def strong_wolfe(evaluate_at, t, f, g, gtd, d_norm, c1=1e-4, c2=0.9, tolerance_change=1e-9,
                 max_ls=25):
    """Finds a step t along d with ψ(t) ≤ ψ(0) + c1·t·ψ′(0) and |ψ′(t)| ≤ c2·|ψ′(0)|.

    ``evaluate_at(t)`` returns ``(ψ(t), gradient at w + t·d, ψ′(t))``; ``f, g, gtd`` are
    the same at t = 0 and ``d_norm = max|d|`` scales the bracket-width test. Returns
    ``(ψ(t), gradient, t, evaluations)`` for the best point found, which satisfies the
    conditions unless ``max_ls`` evaluations or the bracket width ran out first.
    """
    # A point is (t, ψ(t), gradient, ψ′(t)).
    start = (0, f, g, gtd)
    new = (t, *evaluate_at(t))
    evals = 1
    prev = start
    bracket, done, ls_iter = None, False, 0
    # Phase 1: grow the step until an interval is known to hold an acceptable point.
    while ls_iter < max_ls:
        t, f_new, _, gtd_new = new
        if f_new > f + c1 * t * gtd or (ls_iter > 1 and f_new >= prev[1]):
            bracket = [prev, new]  # sufficient decrease failed: the answer lies before t
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, done = [new], True  # both conditions hold at t
            break
        if gtd_new >= 0:
            bracket = [prev, new]  # the slope turned: a minimizer lies in between
            break
        # Still going down steeply: extrapolate, at least 1% further, at most 10× t.
        t_next = cubic_interpolate(prev[0], prev[1], prev[3], t, f_new, gtd_new,
                                   bounds=(t + 0.01 * (t - prev[0]), t * 10))
        prev = new
        new = (t_next, *evaluate_at(t_next))
        evals += 1
        ls_iter += 1
    if bracket is None:  # out of evaluations while still extrapolating
        bracket = [start, new]

    # Phase 2 (zoom): shrink the bracket, keeping at `low` the lowest point that satisfies
    # sufficient decrease, until a point satisfies the curvature condition too.
    low, high = (0, 1) if bracket[0][1] <= bracket[-1][1] else (1, 0)
    insufficient_progress = False
    while not done and ls_iter < max_ls:
        (t_a, f_a, _, gtd_a), (t_b, f_b, _, gtd_b) = bracket
        if abs(t_b - t_a) * d_norm < tolerance_change:
            break  # the bracket is too small to move the parameters any more
        t = cubic_interpolate(t_a, f_a, gtd_a, t_b, f_b, gtd_b)
        # Interpolation can crawl along one end of the bracket; when it lands within 10%
        # of an end twice in a row (or outside), step 10% in from that end instead.
        top, bottom = max(t_a, t_b), min(t_a, t_b)
        eps = 0.1 * (top - bottom)
        if min(top - t, t - bottom) < eps:
            if insufficient_progress or t >= top or t <= bottom:
                t = top - eps if abs(t - top) < abs(t - bottom) else bottom + eps
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False

        new = (t, *evaluate_at(t))
        evals += 1
        ls_iter += 1
        _, f_new, _, gtd_new = new
        if f_new > f + c1 * t * gtd or f_new >= bracket[low][1]:
            bracket[high] = new  # not low enough: it becomes the high end
            low, high = (0, 1) if bracket[0][1] <= bracket[1][1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high][0] - bracket[low][0]) >= 0:
                bracket[high] = bracket[low]  # keep a minimizer between the ends
            bracket[low] = new
    t, f_new, g_new, _ = bracket[low]
    return f_new, g_new, t, evals


# ---------------------------------------------------------------------------------------
# Armijo backtracking and an exact line search, on ψ alone.
# ---------------------------------------------------------------------------------------

_MAX_HALVINGS = 60  # 2⁻⁶⁰·α₀: below that the step would not change a float64 parameter
# |ψ′(α)| ≤ _EXACT_RTOL·|ψ′(0)| counts as a stationary point: well above the rounding noise
# of a gradient computed in float64 (~1e-12 of |ψ′(0)| on a quadratic with κ = 100).
_EXACT_RTOL = 1e-10
_EXACT_RTOL_FLOAT32 = 1e-5
_EXACT_WIDTH = 1e-10  # or an interval [lo, hi] narrower than this·hi
_EXACT_MAX_EVALS = 100


def armijo(evaluate_at, f, gtd, t, c1):
    """Halves t from its initial value until ψ(t) ≤ ψ(0) + c1·t·ψ′(0). Returns
    ``(t, evaluations)``; t = 0 when no step of at least 2⁻⁶⁰ of the first works (the
    gradient is then zero to rounding, or wrong)."""
    for evals in range(1, _MAX_HALVINGS + 1):
        f_t, _ = evaluate_at(t)
        if f_t <= f + c1 * t * gtd:  # also false for a NaN loss, which then backtracks
            return t, evals
        t *= 0.5
    return 0.0, _MAX_HALVINGS


def exact(evaluate_at, f, gtd, t, rtol=_EXACT_RTOL):
    """Minimizes ψ over t ≥ 0 to a stationary point: ``evaluate_at(t)`` returns
    ``(ψ(t), ψ′(t))``; it stops at |ψ′(t)| ≤ rtol·|ψ′(0)|. Returns ``(t, evaluations)``.

    First t doubles until the interval [lo, hi] holds a minimizer: ψ′(lo) < 0, and
    ψ′(hi) ≥ 0 or ψ(hi) > ψ(lo). Then the interval shrinks around the root of ψ′ by
    regula falsi on ψ′ (the secant of ψ′ between the ends, exact in one step on a
    quadratic; Illinois-modified), or by minimizing the quadratic through ψ(lo),
    ψ′(lo), ψ(hi) while ψ′(hi) < 0. Returns lo when the budget or the interval's width
    (1e-10 relative) runs out.
    """
    lo, f_lo, g_lo = 0.0, f, gtd
    stop = rtol * abs(gtd)
    hi, evals = t, 0
    while True:  # bracketing
        if evals >= _EXACT_MAX_EVALS:
            return lo, evals
        f_hi, g_hi = evaluate_at(hi)
        evals += 1
        if not (math.isfinite(f_hi) and math.isfinite(g_hi)):
            hi = lo + 0.5 * (hi - lo)  # overflowed: come back towards lo
            continue
        if abs(g_hi) <= stop and f_hi <= f_lo:
            return hi, evals
        if g_hi >= 0 or f_hi > f_lo:
            break
        lo, f_lo, g_lo = hi, f_hi, g_hi  # still going down: look twice as far
        hi *= 2
    # Secant steps use scaled slopes (the Illinois rule): when the same end moves twice
    # in a row, the slope kept for the other end is halved, so that regula falsi cannot
    # crawl towards the root from one side.
    s_lo, s_hi, moved = g_lo, g_hi, None
    while evals < _EXACT_MAX_EVALS and hi - lo > _EXACT_WIDTH * hi:
        width = hi - lo
        if not math.isfinite(f_hi):
            s = lo + 0.5 * width  # ψ overflowed at hi: nothing to interpolate
        elif g_hi >= 0:
            s = lo + width * s_lo / (s_lo - s_hi)
        else:  # at least 10% in: with ψ values equal to rounding the model would crawl
            s = lo - g_lo * width * width / (2 * (f_hi - f_lo - g_lo * width))
            s = max(s, lo + 0.1 * width)
        if not lo < s < hi:
            break  # interpolation lands on an end only by rounding: converged there
        f_s, g_s = evaluate_at(s)
        evals += 1
        if abs(g_s) <= stop and f_s <= f_lo:
            return s, evals
        if f_s <= f_lo and g_s < 0:
            lo, f_lo, g_lo, s_lo = s, f_s, g_s, g_s
            if moved == "lo":
                s_hi *= 0.5
            moved = "lo"
        else:  # past the minimizer, or higher than lo (NaN too): the new high end
            hi, f_hi, g_hi, s_hi = s, f_s, g_s, g_s
            if moved == "hi":
                s_lo *= 0.5
            moved = "hi"
    return lo, evals


# ---------------------------------------------------------------------------------------
# The optimizers.
# ---------------------------------------------------------------------------------------

_LINE_SEARCHES = ("armijo", "wolfe", "exact")
_WOLFE_WIDTH = 1e-12


class GD(Optimizer):
    """Full-batch gradient descent with a line search: each step minimizes, roughly or
    exactly, ψ(α) = F(w − α·g) along the negative gradient g = ∇F(w), then sets
    w ← w − α·g.

    * ``"armijo"``: α = α₀, α₀/2, α₀/4, … until ψ(α) ≤ ψ(0) + c1·α·ψ′(0) (sufficient
      decrease), with ψ′(0) = −gᵀg.
    * ``"wolfe"``: also |ψ′(α)| ≤ c2·|ψ′(0)| (strong Wolfe), found by bracketing and
      zoom with cubic interpolation (the search ``LBFGS`` uses).
    * ``"exact"``: α minimizing ψ over α ≥ 0, to |ψ′(α)| ≤ 1e-10·|ψ′(0)|; on a
      quadratic ½wᵀAw − bᵀw that is α = gᵀg / gᵀAg.

    α₀ (the first trial step, and the initial guess of the other searches) is ``lr``,
    or 1 when ``lr`` is None. ``step(closure)`` needs a closure that clears the
    gradients, computes the loss, calls ``backward()`` and returns the loss; it returns
    the loss at the starting point. The chosen α is ``state["step_size"]`` of the first
    parameter (with ``"step"`` and ``"func_evals"``). After a step each ``.grad`` holds
    the gradient at the last point the search evaluated. All parameters move together
    along one direction, so only a single parameter group is allowed.

    >>> w = tg.tensor([3.0, 1.0], dtype=tg.float64, requires_grad=True)
    >>> a = tg.tensor([1.0, 10.0], dtype=tg.float64)
    >>> opt = tg.optim.GD([w], line_search="exact")
    >>> def closure():
    ...     opt.zero_grad()
    ...     loss = 0.5 * (a * w * w).sum()
    ...     loss.backward()
    ...     return loss
    >>> loss = opt.step(closure)
    >>> round(opt.state[w]["step_size"], 6)  # gᵀg / gᵀAg = 109 / 1009
    0.108028
    """

    def __init__(self, params, lr=None, line_search="armijo", c1=1e-4, c2=0.9):
        defaults = dict(lr=lr, line_search=line_search, c1=c1, c2=c2)
        super().__init__(params, defaults)
        single_group(self, "GD")
        self._params = self.param_groups[0]["params"]

    def add_param_group(self, param_group):
        if self.param_groups:
            raise ValueError("GD doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)

    def _validate_group(self, g):
        lr = g["lr"]
        if lr is not None and not lr > 0:
            raise ValueError(f"Invalid learning rate: {lr} (lr must be > 0, or None for 1)")
        if g["line_search"] not in _LINE_SEARCHES:
            raise ValueError(f"Invalid line_search: {g['line_search']!r} (expected one of "
                             f"{', '.join(map(repr, _LINE_SEARCHES))})")
        if not 0.0 < g["c1"] < 1.0:
            raise ValueError(f"Invalid c1 value: {g['c1']} (need 0 < c1 < 1)")
        if not g["c1"] < g["c2"] < 1.0:
            raise ValueError(f"Invalid c2 value: {g['c2']} (need c1 < c2 < 1)")

    def step(self, closure=None):
        """Evaluates F and ∇F at w, searches along −∇F and moves there; returns F(w)."""
        require_closure(closure, "GD")
        group = self.param_groups[0]
        params = self._params
        state = self.state[params[0]]
        state.setdefault("step", 0)
        state.setdefault("func_evals", 0)
        with no_grad():
            loss = evaluate(closure)
            f = as_float(loss)
            d = -flat_grad(params)
            gtd = -dot(d, d)  # ψ′(0) = −gᵀg
            state["step"] += 1
            state["func_evals"] += 1
            if gtd == 0:  # stationary point: there is nowhere to go
                state["step_size"] = 0.0
                return loss
            x0 = clone_params(params)

            def evaluate_at(t):  # ψ(t), ∇F(w + t·d) and ψ′(t); leaves w in place
                add_flat(params, t, d)
                f_t = as_float(evaluate(closure))
                g_t = flat_grad(params)
                set_params(params, x0)
                return f_t, g_t, dot(g_t, d)

            t0 = 1.0 if group["lr"] is None else float(group["lr"])
            kind = group["line_search"]
            if kind == "armijo":
                t, evals = armijo(lambda t: evaluate_at(t)[::2], f, gtd, t0, group["c1"])
            elif kind == "exact":
                # the slope test must sit above the rounding noise of the dtype
                rtol = _EXACT_RTOL if params[0].dtype == _FLOAT64 else _EXACT_RTOL_FLOAT32
                t, evals = exact(lambda t: evaluate_at(t)[::2], f, gtd, t0, rtol)
            else:
                # PyTorch's bracket-width test is absolute (|Δt|·max|d| < 1e-9), which near
                # a minimizer, where d = −g is tiny, stops the search at once; GD stops
                # it when the bracket is narrower than 1e-12 of the initial step instead.
                _, _, t, evals = strong_wolfe(evaluate_at, t0, f, None, gtd, 1.0,
                                              c1=group["c1"], c2=group["c2"],
                                              tolerance_change=_WOLFE_WIDTH * t0)
            add_flat(params, t, d)
        state["step_size"] = float(t)
        state["func_evals"] += evals
        return loss


class NormalizedGD(Optimizer):
    """Normalized gradient descent: x ← x − lr·g/‖g‖, a step of length exactly ``lr``
    along the negative gradient, ‖g‖ taken over all parameters of a group together.
    A zero gradient leaves the parameters unchanged; parameters without a gradient
    are skipped.

    >>> w = tg.tensor([3.0, 4.0], requires_grad=True)
    >>> opt = tg.optim.NormalizedGD([w], lr=0.5)
    >>> (w * w).sum().backward(); opt.step(); [round(v, 6) for v in w.tolist()]
    [2.7, 3.6]
    """

    def __init__(self, params, lr):
        super().__init__(params, dict(lr=lr))

    def _validate_group(self, g):
        lr = g["lr"]
        if not (isinstance(lr, (int, float)) and lr >= 0):
            raise ValueError(f"Invalid learning rate: {lr} (lr must be a number >= 0)")

    def _step_group(self, g):
        params = [p for p in g["params"] if p.grad is not None]
        # hypot of the per-tensor norms: no overflow from squaring large gradients
        norm = math.hypot(*(p.grad.norm().item() for p in params))
        if norm == 0:
            return
        for p in params:
            p.add_(p.grad, alpha=-g["lr"] / norm)
