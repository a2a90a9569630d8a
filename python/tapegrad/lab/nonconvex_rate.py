"""SGD on a smooth nonconvex function with η = 1/√T: min over t of E‖∇f(xₜ)‖² falls
like T^(−1/2)."""

import numpy as np

import tapegrad as tg
from tapegrad.lab._common import at_most, between, log_fit, new_figure

TITLE = "Nonconvex SGD: min E‖∇f‖² = Θ(1/√T) with η = 1/√T"
CLAIM = ("For β-smooth f bounded below, with E‖gₜ‖² ≤ G, SGD gives "
         "min over t < T of E‖∇f(xₜ)‖² ≤ (f(x₀) − f*)/(ηT) + βηG/2; with η = 1/√T that is "
         "Θ(1/√T): on a log-log plot against T, a slope of about −½.")
FORMULA = ("f(y) ≤ f(x) + ⟨∇f(x), y − x⟩ + β/2‖y − x‖²   (β-smooth)\n"
           "E f(xₜ₊₁) ≤ f(xₜ) − η‖∇f(xₜ)‖² + β/2·η²·E‖gₜ‖²\n"
           "min E‖∇f(xₜ)‖² ≤ (f₀ − f*)/(ηT) + β/2·η·G,   η = 1/√T  ⇒  Θ(1/√T)\n"
           "here f(x) = Σⱼ log(1 + xⱼ²) (nonconvex for |xⱼ| > 1, β = 2, f* = 0) in ℝ¹⁰, "
           "gₜ = ∇f(xₜ) + ξₜ, ξₜ ~ N(0, I)")

DIM = 10
BETA = 2.0  # max of d²/dx² log(1 + x²) = 2(1 − x²)/(1 + x²)², at x = 0


def _grad_f(x):
    return 2 * x / (1 + x * x)


def run(ctx):
    seeds = ctx.pick(200, 1000)
    horizons = ctx.pick((100, 400, 1600, 6400), (100, 400, 1600, 6400, 25600))
    signs = ctx.rng.choice([-1.0, 1.0], (seeds, DIM))
    x0 = signs * ctx.rng.uniform(2, 4, (seeds, DIM))  # start in the nonconvex region
    f0 = float(np.log1p(x0 ** 2).sum(1).mean())
    curves, best, g_max = {}, {}, {}
    for horizon in horizons:
        eta = 1 / np.sqrt(horizon)
        x = tg.tensor(x0, requires_grad=True)
        opt = tg.optim.SGD([x], lr=eta)
        curve = np.empty(horizon)
        second_moment = 0.0
        for t in range(horizon):
            curve[t] = (_grad_f(x.detach().numpy()) ** 2).sum(1).mean()  # E‖∇f(xₜ)‖²
            xi = tg.tensor(ctx.rng.standard_normal((seeds, DIM)))
            opt.zero_grad()
            # f(x) + ξᵀx: its gradient is the stochastic gradient ∇f(x) + ξ
            ((1 + x * x).log().sum() + (xi * x).sum()).backward()
            second_moment = max(second_moment, (x.grad * x.grad).sum(1).mean().item())
            opt.step()
        curves[horizon], best[horizon], g_max[horizon] = curve, float(curve.min()), second_moment
    bound = {T: f0 * np.sqrt(T) / T + BETA / 2 * g_max[T] / np.sqrt(T) for T in horizons}
    return dict(curves=curves, best=best, bound=bound, seeds=seeds, f0=f0)


def checks(data):
    horizons = sorted(data["best"])
    slope, _ = log_fit(horizons, [data["best"][T] for T in horizons])
    ratio = max(data["best"][T] / data["bound"][T] for T in horizons)
    return [
        # the min over t of a mean over seeds is biased low by a factor that barely depends
        # on T; ±0.15 covers that and the seed-to-seed spread of the fit (~0.02)
        between("log-log slope of min E‖∇f(xₜ)‖² against T", slope, -0.65, -0.35),
        at_most("min E‖∇f‖² stays under (f₀ − f*)/(ηT) + βηG/2 (max ratio over T)", ratio,
                1.0),
    ]


def figure(data):
    fig, (a1, a2) = new_figure(2, width=5.0)
    horizons = sorted(data["best"])
    for k, T in enumerate(horizons):
        c = data["curves"][T]
        t = np.unique(np.logspace(0, np.log10(T), 200).astype(int)) - 1
        a1.loglog(t + 1, c[t], color=f"C{k}", lw=0.9, label=f"T = {T}, η = {1 / np.sqrt(T):.3g}")
        a1.axhline(data["best"][T], color=f"C{k}", ls=":", lw=0.7)
    a1.set_xlabel("t")
    a1.set_title(f"E‖∇f(xₜ)‖², mean over {data['seeds']} runs (dotted: min)", fontsize=9)
    a1.legend(fontsize=7)
    best = [data["best"][T] for T in horizons]
    slope, intercept = log_fit(horizons, best)
    a2.loglog(horizons, best, "o-", label="measured min over t")
    a2.loglog(horizons, [data["bound"][T] for T in horizons], "s--", color="C3",
              label="bound (f₀ − f*)/(ηT) + βηG/2")
    tt = np.array(horizons, float)
    a2.loglog(tt, np.exp(intercept) * tt ** slope, "k:", lw=0.8, label=f"fit: slope {slope:.3f}")
    a2.set_xlabel("T")
    a2.set_title("min over t < T of E‖∇f(xₜ)‖²", fontsize=9)
    a2.legend(fontsize=7)
    return fig
