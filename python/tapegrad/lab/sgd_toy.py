"""The notes' one-parameter example: GD, SGD and mini-batch SGD on
F(w) = 1/n Σ ½(yᵢ − w·xᵢ)² with samples on the lines y = x, 0.9x and 1.1x."""

import numpy as np

import tapegrad as tg
from tapegrad.lab._common import at_least, at_most, new_figure

TITLE = "SGD on the notes' toy problem: wandering between the per-sample minimizers"
CLAIM = ("On F(w) = 1/n Σ ½(yᵢ − w·xᵢ)² with y = x, 0.9x, 1.1x, GD converges to the "
         "minimizer while SGD keeps wandering in the region between the per-sample "
         "minimizers 0.9 and 1.1; mini-batches shrink the wandering.")
FORMULA = ("F(w) = 1/n Σᵢ ½(yᵢ − w·xᵢ)²,  y₁ = x, y₂ = 0.9x, y₃ = 1.1x\n"
           "GD: w ← w − α·∇F(w)     SGD: w ← w − α·∇fᵢ(w), i ~ Unif{1..n}\n"
           "mini-batch: w ← w − α·1/|I| Σ_{i∈I} ∇fᵢ(w)\n"
           "w* = Σxᵢyᵢ / Σxᵢ²; with α·xᵢ² ≤ 1 an SGD step is a convex combination of w and "
           "the sample's minimizer yᵢ/xᵢ")

SLOPES = (1.0, 0.9, 1.1)
LR = 0.4  # α·max xᵢ² = 0.4·1.5² = 0.9 ≤ 1: every step moves w towards a sample's minimizer


def _trajectory(x, y, batches, w0):
    w = tg.tensor([w0], dtype=tg.float64, requires_grad=True)
    opt = tg.optim.SGD([w], lr=LR)
    path = [w0]
    for idx in batches:
        opt.zero_grad()
        loss = (0.5 * (y[idx] - w * x[idx]) ** 2).mean()
        loss.backward()
        opt.step()
        path.append(w.item())
    return np.array(path)


def run(ctx):
    per_line = 10
    steps = ctx.pick(400, 3000)
    xs = ctx.rng.uniform(0.2, 1.5, per_line * len(SLOPES))
    ks = np.repeat(SLOPES, per_line)
    ys = ks * xs
    x, y = tg.tensor(xs), tg.tensor(ys)
    n = len(xs)
    w0 = 0.2
    full = [np.arange(n)] * steps
    single = [ctx.rng.integers(0, n, 1) for _ in range(steps)]
    mini = [ctx.rng.choice(n, 5, replace=False) for _ in range(steps)]
    paths = {"GD": _trajectory(x, y, full, w0), "SGD": _trajectory(x, y, single, w0),
             "mini-batch (5)": _trajectory(x, y, mini, w0)}
    return dict(x=xs, y=ys, k=ks, paths=paths, w_star=float(xs @ ys / (xs @ xs)),
                low=min(SLOPES), high=max(SLOPES))


def _inside_after_entry(path, low, high):
    inside = (path >= low) & (path <= high)
    first = int(np.argmax(inside))
    return float(inside[first:].mean()) if inside.any() else 0.0


def checks(data):
    p, w_star = data["paths"], data["w_star"]
    half = len(p["GD"]) // 2
    sgd, mini = p["SGD"][half:], p["mini-batch (5)"][half:]
    return [
        at_most("GD converges to w* = Σxy/Σx²: |w_K − w*|", abs(p["GD"][-1] - w_star), 1e-9),
        at_least("once inside, SGD never leaves [0.9, 1.1] (fraction of iterates inside)",
                 _inside_after_entry(p["SGD"], data["low"], data["high"]), 1.0,
                 "= 1 (each step is a convex combination)"),
        at_least("once inside, mini-batch SGD never leaves [0.9, 1.1] (fraction inside)",
                 _inside_after_entry(p["mini-batch (5)"], data["low"], data["high"]), 1.0,
                 "= 1"),
        # GD's spread is 0 to rounding; SGD's is set by the gradient noise, a few hundredths
        at_least("SGD does not settle: std of w over the second half", float(sgd.std()), 0.01),
        at_most("SGD wanders around w*: |mean of w over the second half − w*|",
                abs(float(sgd.mean()) - w_star), 0.02,
                "≤ 0.02 (≈ 3 standard errors of the correlated mean)"),
        # averaging 5 gradients divides their variance by ~5: the spread by ~√5 ≈ 2.2
        at_most("mini-batches shrink the wandering: std(mini-batch) / std(SGD)",
                float(mini.std() / sgd.std()), 0.75),
    ]


def figure(data):
    fig, (a1, a2, a3) = new_figure(3)
    xs, ys, ks = data["x"], data["y"], data["k"]
    grid = np.linspace(0, 1.6, 2)
    for k, c in zip(sorted(set(ks)), ("C0", "C1", "C2")):
        m = ks == k
        a1.scatter(xs[m], ys[m], s=12, color=c, label=f"y = {k:g}x")
        a1.plot(grid, k * grid, color=c, lw=0.8)
    a1.plot(grid, data["w_star"] * grid, "k--", lw=1, label=f"w* = {data['w_star']:.4f}")
    a1.set_xlabel("x")
    a1.set_ylabel("y")
    a1.legend(fontsize=7)
    a1.set_title("data", fontsize=9)
    w = np.linspace(0.6, 1.4, 300)
    per_sample = 0.5 * (ys[:, None] - w[None, :] * xs[:, None]) ** 2
    for row in per_sample[::3]:
        a2.plot(w, row, color="0.8", lw=0.6)
    a2.plot(w, per_sample.mean(0), "k", lw=1.5, label="F(w)")
    a2.axvspan(data["low"], data["high"], color="C3", alpha=0.12, label="per-sample minimizers")
    a2.set_ylim(0, per_sample.mean(0).max())
    a2.set_xlabel("w")
    a2.legend(fontsize=7)
    a2.set_title("F and some fᵢ", fontsize=9)
    for name, path in data["paths"].items():
        a3.plot(path, lw=0.8 if name != "GD" else 1.5, label=name)
    a3.axhspan(data["low"], data["high"], color="C3", alpha=0.12)
    a3.axhline(data["w_star"], color="k", ls="--", lw=0.8)
    a3.set_ylim(0.2, 1.2)
    a3.set_xlabel("step")
    a3.set_ylabel("w")
    a3.legend(fontsize=7, loc="lower right")
    a3.set_title(f"trajectories (α = {LR})", fontsize=9)
    return fig
