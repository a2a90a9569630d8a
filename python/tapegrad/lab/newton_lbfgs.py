"""Newton (CG on Hessian-vector products), L-BFGS and GD on L2-regularized logistic
regression: the error per iteration, and Newton's quadratic convergence."""

import math

import numpy as np

import tapegrad as tg
from tapegrad.lab._common import at_most, between, holds, new_figure

TITLE = "Newton, L-BFGS and GD on logistic regression"
CLAIM = ("The second-order step w* = wₖ − Hₖ⁻¹gₖ (solved by conjugate gradients on "
         "Hessian-vector products, H never formed) converges quadratically near the "
         "minimum: eₖ₊₁ ≈ C·eₖ²; quasi-Newton L-BFGS (H⁻¹ from a low-rank history of "
         "steps and gradient changes) is superlinear; GD is linear.")
FORMULA = ("F(w) = 1/n Σ log(1 + exp(−yᵢxᵢᵀw)) + λ/2‖w‖²,  yᵢ ∈ {−1, 1}\n"
           "F(w) ≈ F(wₖ) + (w − wₖ)ᵀgₖ + ½(w − wₖ)ᵀHₖ(w − wₖ)  ⇒  gₖ + Hₖ(w* − wₖ) = 0\n"
           "Newton: wₖ₊₁ = wₖ − Hₖ⁻¹gₖ,  Hₖv = ∇(gₖᵀv) by double backward\n"
           "quadratic convergence: eₖ₊₁ ≤ C·eₖ²,  order q = log(eₖ₊₁/eₖ) / log(eₖ/eₖ₋₁) → 2")

LAMBDA = 1e-2
# Errors below this are rounding (w* itself is known to ~1e-15) and are not used for rates.
_FLOOR = 1e-11


def _loss(w, x, y):
    return tg.softplus(-y * (x @ w)).mean() + 0.5 * LAMBDA * tg.dot(w, w)


def _closure_for(opt, w, x, y):
    def closure():
        opt.zero_grad()
        loss = _loss(w, x, y)
        loss.backward()
        return loss

    return closure


def _iterate(kind, x, y, d, iterations):
    w = tg.zeros(d, dtype=tg.float64, requires_grad=True)
    if kind == "Newton":
        opt = tg.optim.Newton([w])
        closure = lambda: _loss(w, x, y)  # noqa: E731  Newton differentiates it twice
    elif kind == "L-BFGS":
        # one iteration per step, to record every iterate; max_eval=25 because the line
        # search gets at most max_eval evaluations, and the default max_iter·5//4 = 1 would
        # leave it none beyond its first trial
        opt = tg.optim.LBFGS([w], lr=1, max_iter=1, max_eval=25, history_size=10,
                             line_search_fn="strong_wolfe", tolerance_grad=0,
                             tolerance_change=0)
        closure = _closure_for(opt, w, x, y)
    else:
        opt = tg.optim.GD([w], lr=4.0, line_search="armijo")
        closure = _closure_for(opt, w, x, y)
    points = [w.detach().numpy().copy()]
    residuals = []
    for _ in range(iterations):
        opt.step(closure)
        points.append(w.detach().numpy().copy())
        if kind == "Newton":
            residuals.append(opt.state[w]["cg_residual"])
    return np.array(points), residuals


def run(ctx):
    n, d = ctx.pick(300, 2000), ctx.pick(10, 40)
    x = ctx.rng.standard_normal((n, d))
    w_true = ctx.rng.standard_normal(d)
    y = np.where(ctx.rng.random(n) < 1 / (1 + np.exp(-x @ w_true)), 1.0, -1.0)
    xt, yt = tg.tensor(x), tg.tensor(y)
    reference, _ = _iterate("Newton", xt, yt, d, 25)
    w_star = reference[-1]
    iters = {"Newton": 12, "L-BFGS": 40, "GD": ctx.pick(150, 300)}
    errors, residuals = {}, None
    for kind, count in iters.items():
        points, res = _iterate(kind, xt, yt, d, count)
        errors[kind] = np.linalg.norm(points - w_star, axis=1)
        if kind == "Newton":
            residuals = res
    return dict(errors=errors, cg_residuals=residuals, w_norm=float(np.linalg.norm(w_star)))


def _orders(e):
    """q = log(eₖ₊₁/eₖ)/log(eₖ/eₖ₋₁) for consecutive errors above the rounding floor."""
    e = e[e > _FLOOR]
    return [math.log(e[k + 1] / e[k]) / math.log(e[k] / e[k - 1]) for k in range(1, len(e) - 1)]


def _first(e, target):
    hit = np.nonzero(e <= target)[0]
    return int(hit[0]) if len(hit) else math.inf


def checks(data):
    e = data["errors"]
    q = _orders(e["Newton"])
    # 1e-6, not lower: L-BFGS and GD decide their steps by comparing values of F, which
    # stop changing (F − F* ≈ ½eᵀHe below F's rounding) once e is near √ε ≈ 1e-8
    newton, lbfgs, gd = (_first(e[k], 1e-6) for k in ("Newton", "L-BFGS", "GD"))
    out = [
        # the last order estimate above the floor is the one deepest in the quadratic regime;
        # its spread around 2 comes from C varying along the path
        between("Newton's order of convergence at the last iterates above 1e-11 "
                "(log(eₖ₊₁/eₖ)/log(eₖ/eₖ₋₁))", q[-1] if q else float("nan"), 1.7, 2.5),
        at_most("CG solves Hₖp = −gₖ: largest final residual ‖Hp + g‖/‖g‖ over the steps",
                float(max(data["cg_residuals"][:5])), 1e-8),
        holds(f"iterations to ‖w − w*‖ ≤ 1e-6: Newton ({newton}) < L-BFGS ({lbfgs}) < GD "
              f"({gd})", newton < lbfgs < gd, "Newton < L-BFGS < GD"),
    ]
    return out


def figure(data):
    fig, (a1, a2) = new_figure(2, width=5.0)
    for kind, e in data["errors"].items():
        a1.semilogy(np.maximum(e, 1e-17), marker="o" if kind == "Newton" else ".", ms=3,
                    label=kind)
    a1.axhline(_FLOOR, color="0.6", ls=":", lw=0.8)
    a1.set_xlim(-1, 60)
    a1.set_xlabel("iteration k")
    a1.set_title("error ‖wₖ − w*‖ (line searches compare F: they stall near √ε)",
                 fontsize=9)
    a1.legend(fontsize=8)
    e = data["errors"]["Newton"]
    e = e[e > _FLOOR]
    a2.loglog(e[:-1], e[1:], "o-", color="C0", label="Newton: (eₖ, eₖ₊₁)")
    lb = data["errors"]["L-BFGS"]
    lb = lb[lb > _FLOOR]
    a2.loglog(lb[:-1], lb[1:], ".-", color="C1", lw=0.8, label="L-BFGS")
    ref = np.logspace(np.log10(e.min()), np.log10(e.max()), 10)
    c = e[-1] / e[-2] ** 2
    a2.loglog(ref, c * ref ** 2, "k--", lw=0.8, label=f"eₖ₊₁ = {c:.2g}·eₖ² (slope 2)")
    a2.loglog(ref, ref, color="0.6", lw=0.8, label="eₖ₊₁ = eₖ")
    a2.set_xlabel("eₖ")
    a2.set_ylabel("eₖ₊₁")
    a2.set_ylim(_FLOOR / 10, e.max() * 2)
    a2.legend(fontsize=7)
    a2.set_title("one error against the next", fontsize=9)
    return fig
