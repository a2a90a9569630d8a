"""The notes' optimizers on an ill-conditioned quadratic ½xᵀAx − bᵀx (κ = 100):
trajectories on the contour plot, and the steps each needs."""

import math

import numpy as np

import tapegrad as tg
from tapegrad.lab._common import at_most, between, contour, new_figure

TITLE = "Optimizers on a quadratic with condition number 100"
CLAIM = ("On f(x) = ½xᵀAx − bᵀx with κ(A) = 100, GD crawls along the flat direction; "
         "momentum needs far fewer steps; adaptive methods rescale each coordinate; "
         "Newton's step x − (∇²f)⁻¹∇f lands on the minimum at once.")
FORMULA = ("f(x) = ½xᵀAx − bᵀx,  A = diag(1, 100),  x* = A⁻¹b\n"
           "GD: xₖ₊₁ = xₖ − α∇f(xₖ)      momentum: uₜ = γuₜ₋₁ − α∇f(xₜ), xₜ₊₁ = xₜ + uₜ\n"
           "Adagrad: Gₜ = Gₜ₋₁ + gₜ², x ← x − α·gₜ/√(Gₜ + ε)   RMSprop: Gₜ = δGₜ₋₁ + (1−δ)gₜ²\n"
           "Adam: mₜ = β₁mₜ₋₁ + (1−β₁)gₜ, Gₜ = β₂Gₜ₋₁ + (1−β₂)gₜ², x ← x − α·mₜ/√(Gₜ + ε)\n"
           "Newton: xₖ₊₁ = xₖ − (∇²f(xₖ))⁻¹∇f(xₖ)")

A = np.diag([1.0, 100.0])
X_STAR = np.array([1.0, 1.0])
X0 = np.array([-4.0, -1.5])
TARGET = 1e-6
# α = 1.2/L: GD's error along the steep direction flips sign at every step (the zigzag)
# and shrinks by |1 − 1.2| = 0.2; along the flat one by 1 − αμ = 0.988 per step. (Nesterov
# with γ = 0.9 is stable for αL < 2(1 + γ)/(1 + 2γ) ≈ 1.36.)
LR = 0.012


def _f(x, a, b):
    return 0.5 * tg.dot(x, a @ x) - tg.dot(b, x)


def _optimizers(x):
    o = tg.optim
    return {
        "GD": o.SGD([x], lr=LR),
        "momentum γ=0.9": o.SGD([x], lr=LR, momentum=0.9),
        "momentum γ=0.99": o.SGD([x], lr=LR, momentum=0.99),
        "Nesterov γ=0.9": o.SGD([x], lr=LR, momentum=0.9, nesterov=True),
        "Adagrad": o.Adagrad([x], lr=1.0),
        "RMSprop": o.RMSprop([x], lr=0.01),
        "Adadelta": o.Adadelta([x], lr=5.0),
        "Adam": o.Adam([x], lr=0.1),
        "AdamW": o.AdamW([x], lr=0.1, weight_decay=0.01),
    }


def run(ctx):
    steps = ctx.pick(1500, 3000)
    a = tg.tensor(A)
    b = tg.tensor(A @ X_STAR)
    f_star = float(0.5 * X_STAR @ A @ X_STAR - (A @ X_STAR) @ X_STAR)
    paths, gaps = {}, {}
    for name in _optimizers(tg.zeros(2, dtype=tg.float64, requires_grad=True)):
        x = tg.tensor(X0, requires_grad=True)
        opt = _optimizers(x)[name]
        path, gap = [X0.copy()], [_f(x, a, b).item() - f_star]
        for _ in range(steps):
            opt.zero_grad()
            loss = _f(x, a, b)
            loss.backward()
            opt.step()
            path.append(x.detach().numpy().copy())
            gap.append(_f(x, a, b).item() - f_star)
        paths[name], gaps[name] = np.array(path), np.array(gap)
    x = tg.tensor(X0, requires_grad=True)
    newton = tg.optim.Newton([x])
    newton.step(lambda: _f(x, a, b))  # Newton differentiates the loss twice itself
    paths["Newton"] = np.array([X0, x.detach().numpy().copy()])
    gaps["Newton"] = np.array([gaps["GD"][0], _f(x, a, b).item() - f_star])
    return dict(paths=paths, gaps=gaps, steps=steps)


def _steps_to(gap):
    hit = np.nonzero(gap <= TARGET)[0]
    return int(hit[0]) if len(hit) else math.inf


def checks(data):
    gaps, paths = data["gaps"], data["paths"]
    gd, mom = _steps_to(gaps["GD"]), _steps_to(gaps["momentum γ=0.9"])
    # Along the flat direction (eigenvalue μ = 1) the gap ½μ(x₀ − x*)₁² = 12.5 shrinks by
    # (1 − αμ)² per step; the steep direction's share dies within a few dozen steps
    flat_gap = 0.5 * A[0, 0] * (X0[0] - X_STAR[0]) ** 2
    predicted = math.log(TARGET / flat_gap) / math.log((1 - LR * A[0, 0]) ** 2)
    return [
        at_most("momentum (γ = 0.9) needs fewer steps than GD to reach f − f* ≤ 1e-6: "
                "steps(momentum) / steps(GD)", mom / gd, 1 - 1e-9, "< 1"),
        # a step or two either way: the last step crosses 1e-6 anywhere within its factor
        between("GD's steps to 1e-6 divided by log(1e-6/Δ₀)/log((1 − αμ)²), Δ₀ the flat "
                "direction's gap", gd / predicted, 0.98, 1.02),
        at_most("Newton lands on the minimum in one step: ‖x₁ − x*‖",
                float(np.linalg.norm(paths["Newton"][1] - X_STAR)), 1e-10),
        at_most("Newton after one step: f(x₁) − f*", float(abs(gaps["Newton"][1])), 1e-12),
    ]


STEPS_DRAWN = 120
_FAMILIES = (("GD", "momentum γ=0.9", "momentum γ=0.99", "Nesterov γ=0.9", "Newton"),
             ("Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW"))


def figure(data):
    fig, (a1, a2, a3) = new_figure(3, width=4.4, height=3.8)

    def f(gx, gy):
        return 0.5 * ((gx - 1) ** 2 + 100 * (gy - 1) ** 2)

    colors = {name: f"C{k}" for k, name in enumerate(data["paths"])}
    for ax, family in zip((a1, a2), _FAMILIES):
        contour(ax, f, (-4.5, 2.0), (-2.0, 4.0), levels=14)
        for name in family:
            path = data["paths"][name][:STEPS_DRAWN]
            ax.plot(path[:, 0], path[:, 1], color=colors[name], lw=0.9, label=name,
                    marker="o" if name == "Newton" else None, ms=3)
        ax.plot(*X_STAR, "k*", ms=10)
        ax.legend(fontsize=7, loc="upper left")
    a1.set_title(f"first {STEPS_DRAWN} steps from (−4, −1.5): GD, momentum, Newton",
                 fontsize=9)
    a2.set_title("adaptive methods", fontsize=9)
    for name, gap in data["gaps"].items():
        gap = np.abs(np.where(np.isfinite(gap), gap, np.nan))
        below = np.nonzero(gap < 1e-14)[0]
        end = below[0] + 1 if len(below) else len(gap)  # stop at the rounding floor
        a3.semilogy(np.arange(end), np.maximum(gap[:end], 1e-16), color=colors[name], lw=0.9,
                    marker="o" if name == "Newton" else None, ms=3, label=name)
    a3.axhline(TARGET, color="k", ls=":", lw=0.8)
    a3.set_ylim(1e-16, 1e4)
    a3.set_xlabel("step")
    a3.set_title("f(xₖ) − f* (dotted: 1e-6)", fontsize=9)
    a3.legend(fontsize=6, ncol=2)
    return fig
