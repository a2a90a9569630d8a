"""SGD's convergence bound for convex problems, measured over many seeds: the gap of
the step-size weighted average x̄ₖ against (R² + G²Σαᵢ²)/(2Σαᵢ), for constant steps and
for αᵢ = 1/i."""

import numpy as np

import tapegrad as tg
from tapegrad.lab._common import at_least, at_most, between, new_figure

TITLE = "SGD's convergence bound: constant steps plateau, 1/i steps keep falling"
CLAIM = ("For convex F with ‖x₀ − x*‖ ≤ R and E‖gᵢ‖² ≤ G², the weighted average "
         "x̄ₖ = Σαᵢxᵢ/Σαᵢ satisfies E F(x̄ₖ) − F* ≤ (R² + G²Σαᵢ²)/(2Σαᵢ). A constant step h "
         "gives R²/(2h(k+1)) + G²h/2 → G²h/2: a plateau; αᵢ = 1/i (Σαᵢ = ∞, Σαᵢ² < ∞) "
         "drives the bound, and the gap, to 0.")
FORMULA = ("E F(x̄ₖ) − F* ≤ (R² + G² Σᵢ αᵢ²) / (2 Σᵢ αᵢ),   x̄ₖ = Σᵢ αᵢxᵢ / Σᵢ αᵢ\n"
           "αᵢ = h:   R²/(2h(k+1)) + G²h/2  →  G²h/2\n"
           "αᵢ = 1/i: Σαᵢ = ∞, Σαᵢ² < ∞  →  0\n"
           "here f(x, ξ) = |x − ξ|, ξ = 0 w.p. 2/3 and 1 w.p. 1/3: F convex, x* = 0, "
           "F* = 1/3, |g| = 1 so G² = 1")

X0 = 1.37  # R = |x₀ − x*| = 1.37; off the grid x₀ − j·h so no iterate lands on a kink
STEPS = (0.2, 0.1)


def _gap(x):
    """F(x) − F* for F(x) = E|x − ξ| = ⅔|x| + ⅓|x − 1|, F* = F(0) = ⅓."""
    return (2 / 3) * np.abs(x) + (1 / 3) * np.abs(x - 1) - 1 / 3


def _run_schedule(ctx, seeds, steps, h, checkpoints):
    """Runs ``seeds`` independent SGD runs at once (one coordinate each: F is separable,
    so the coordinates of one vector are independent runs)."""
    x = tg.full((seeds,), X0, dtype=tg.float64).requires_grad_()
    opt = tg.optim.SGD([x], lr=1.0 if h is None else h)
    avg = tg.optim.Averaged(opt, iterate="before")  # x̄ pairs αᵢ with the point of gᵢ
    sched = tg.optim.lr_scheduler.InverseTimeLR(opt, gamma=1.0) if h is None else None
    sum_a = sum_a2 = 0.0
    g2_max = 0.0
    out = {"k": [], "gap": [], "last": [], "sum_a": [], "sum_a2": []}
    for k in range(1, steps + 1):
        xi = tg.tensor((ctx.rng.random(seeds) < 1 / 3).astype(np.float64))
        opt.zero_grad()
        (x - xi).abs().sum().backward()
        g2_max = max(g2_max, (x.grad * x.grad).mean().item())  # E‖gᵢ‖², over the seeds
        alpha = opt.param_groups[0]["lr"]  # 1/(1 + (i−1)) = 1/i with InverseTimeLR
        sum_a += alpha
        sum_a2 += alpha * alpha
        avg.step()
        if sched is not None:
            sched.step()
        if k in checkpoints:
            out["k"].append(k)
            out["gap"].append(float(_gap(avg.average()[0].numpy()).mean()))
            out["last"].append(float(_gap(x.detach().numpy()).mean()))
            out["sum_a"].append(sum_a)
            out["sum_a2"].append(sum_a2)
    out = {key: np.array(v) for key, v in out.items()}
    out["g2"] = g2_max
    return out


def run(ctx):
    seeds = ctx.pick(2000, 20000)
    steps = ctx.pick(4000, 20000)
    checkpoints = set(np.unique(np.logspace(0, np.log10(steps), 40).astype(int)).tolist())
    runs = {h: _run_schedule(ctx, seeds, steps, h, checkpoints) for h in STEPS}
    runs["1/i"] = _run_schedule(ctx, seeds, steps, None, checkpoints)
    g2 = max(r["g2"] for r in runs.values())
    for r in runs.values():
        r["bound"] = (X0 ** 2 + g2 * r["sum_a2"]) / (2 * r["sum_a"])
    return dict(runs=runs, g2=g2, seeds=seeds, steps=steps)


def _at(r, fraction):
    k = r["k"]
    return float(r["gap"][np.argmin(np.abs(k - fraction * k[-1]))])


def checks(data):
    runs, g2 = data["runs"], data["g2"]
    out = [at_most("measured E‖gᵢ‖² (G²; |subgradient| = 1)", g2, 1.0)]
    for name, r in runs.items():
        label = f"h = {name}" if name != "1/i" else "αᵢ = 1/i"
        # the mean over ≥ 2000 seeds has a standard error below 1% of the gap
        out.append(at_most(f"{label}: the gap stays under the bound (max over k of gap/bound)",
                           float(np.max(r["gap"] / r["bound"])), 1.0))
    for h in STEPS:
        r = runs[h]
        plateau = g2 * h / 2
        # the bound's limit G²h/2 is approached from below; "near" = within a factor 2
        out.append(between(f"h = {h}: the gap at k = {r['k'][-1]} divided by G²h/2 = "
                           f"{plateau:g}", r["gap"][-1] / plateau, 0.5, 1.0))
        # a gap decaying like 1/k would give 0.25 here; a plateau gives ≈ 1
        out.append(at_least(f"h = {h}: the gap has levelled off (gap(k) / gap(k/4))",
                            r["gap"][-1] / _at(r, 0.25), 0.85))
    r = runs["1/i"]
    tail = r["gap"][r["k"] >= 10]
    out.append(at_most("αᵢ = 1/i: the gap keeps falling (largest step-to-step change over "
                       "checkpoints k ≥ 10, relative)", float(np.max(np.diff(tail) / tail[:-1])),
                       0.0, "< 0 (strictly decreasing)"))
    # the bound falls like 1/log k: over a decade by log(k/10)/log k ≈ 0.72 at k = 4000
    out.append(at_most("αᵢ = 1/i: gap(k) / gap(k/10)", r["gap"][-1] / _at(r, 0.1), 0.9))
    return out


def figure(data):
    fig, (a1, a2) = new_figure(2, width=5.2)
    colors = {STEPS[0]: "C0", STEPS[1]: "C1", "1/i": "C2"}
    for name, r in data["runs"].items():
        c = colors[name]
        label = f"h = {name}" if name != "1/i" else "αᵢ = 1/i"
        a1.loglog(r["k"], r["gap"], color=c, lw=1.8, label=f"{label}: E F(x̄ₖ) − F*")
        a1.loglog(r["k"], r["bound"], color=c, ls="--", lw=1, label=f"{label}: bound")
        if name != "1/i":
            a1.axhline(data["g2"] * name / 2, color=c, ls=":", lw=0.8)
        a2.loglog(r["k"], r["last"], color=c, lw=1.2, label=label)
    a1.set_xlabel("k")
    a1.set_title(f"averaged iterate, mean over {data['seeds']} seeds (dotted: G²h/2)",
                 fontsize=9)
    a1.legend(fontsize=6.5, ncol=2)
    a2.set_xlabel("k")
    a2.set_title("last iterate: E F(xₖ) − F*", fontsize=9)
    for h in STEPS:
        a2.axhline(data["g2"] * h / 2, color=colors[h], ls=":", lw=0.8)
    a2.legend(fontsize=7)
    return fig
