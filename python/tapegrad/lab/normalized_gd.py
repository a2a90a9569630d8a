"""Normalized gradient descent: steps of length exactly η, and oscillation around the
minimum at the scale of η."""

import numpy as np

import tapegrad as tg
from tapegrad.lab._common import at_most, between, contour, log_fit, new_figure

TITLE = "Normalized gradient descent: steps of length η"
CLAIM = ("Minimizing the first-order model f(xₜ) + ⟨∇f(xₜ), ηv⟩ over unit v gives "
         "v = −∇f/‖∇f‖: every step has length exactly η, whatever the gradient's size. So "
         "the iterates cannot settle: near the minimum they oscillate across it at the "
         "scale of η.")
FORMULA = ("f(xₜ₊₁) ≈ f(xₜ) + ⟨∇f(xₜ), ηv⟩,  ‖v‖ = 1  ⇒  v = −∇f(xₜ)/‖∇f(xₜ)‖\n"
           "xₜ₊₁ = xₜ − η·∇f(xₜ)/‖∇f(xₜ)‖,   ‖xₜ₊₁ − xₜ‖ = η\n"
           "here f(x) = ½(x − x*)ᵀA(x − x*), A = diag(1, 10)")

A = np.diag([1.0, 10.0])
X_STAR = np.array([1.0, 1.0])
ETAS = (0.5, 0.1, 0.02)


def run(ctx):
    steps = ctx.pick(800, 3000)  # reaching x* from 5 away takes 5/η = 250 steps at η = 0.02
    angle = ctx.rng.uniform(1.1 * np.pi, 1.4 * np.pi)  # from the lower left, off the axes
    x0 = X_STAR + 5.0 * np.array([np.cos(angle), np.sin(angle)])
    a, x_star = tg.tensor(A), tg.tensor(X_STAR)
    paths = {}
    for eta in ETAS:
        x = tg.tensor(x0, requires_grad=True)
        opt = tg.optim.NormalizedGD([x], lr=eta)
        path = [x0]
        for _ in range(steps):
            opt.zero_grad()
            d = x - x_star
            (0.5 * tg.dot(d, a @ d)).backward()
            opt.step()
            path.append(x.detach().numpy().copy())
        paths[eta] = np.array(path)
    return dict(paths=paths, x0=x0)


def _late(path):
    """Distances to x* over the last quarter of the run (long after arriving)."""
    dist = np.linalg.norm(path - X_STAR, axis=1)
    return dist[-len(dist) // 4:]


def checks(data):
    paths = data["paths"]
    step_err = max(float(np.abs(np.linalg.norm(np.diff(p, axis=0), axis=1) / eta - 1).max())
                   for eta, p in paths.items())
    late = {eta: _late(p) for eta, p in paths.items()}
    pair_mean = {eta: float(((d[1:] + d[:-1]) / 2).mean() / eta) for eta, d in late.items()}
    slope, _ = log_fit(list(late), [d.mean() for d in late.values()])
    return [
        # a float64 division and a norm: relative rounding ~1e-15 per step
        at_most("every step has length η: max |‖xₜ₊₁ − xₜ‖/η − 1| over all steps and η",
                step_err, 1e-12),
        at_most("late iterates stay within η of x*: max ‖xₜ − x*‖/η (last quarter, every η)",
                max(float(d.max() / eta) for eta, d in late.items()), 1.0),
        # a 2-cycle across x* (distances r and η − r) has pair mean η/2 exactly
        between("they oscillate across x*: mean of (‖xₜ − x*‖ + ‖xₜ₊₁ − x*‖)/2η, smallest η",
                pair_mean[min(ETAS)], 0.4, 0.6),
        between("the same for the largest η", pair_mean[max(ETAS)], 0.4, 0.6),
        between("the oscillation scales with η: slope of log(mean distance) vs log η", slope,
                0.9, 1.1),
    ]


def figure(data):
    fig, (a1, a2, a3) = new_figure(3)

    def f(gx, gy):
        return 0.5 * ((gx - 1) ** 2 + 10 * (gy - 1) ** 2)

    x0 = data["x0"]
    lim = max(np.abs(x0 - X_STAR)) + 0.5
    contour(a1, f, (1 - lim, 1 + lim), (1 - lim, 1 + lim), levels=16)
    for k, (eta, p) in enumerate(data["paths"].items()):
        a1.plot(p[:, 0], p[:, 1], f"C{k}.-", lw=0.6, ms=2, label=f"η = {eta}")
        dist = np.linalg.norm(p - X_STAR, axis=1)
        a2.semilogy(dist, f"C{k}", lw=0.8, label=f"η = {eta}")
        a2.axhline(eta, color=f"C{k}", ls=":", lw=0.8)
        tail = p[-12:]
        a3.plot((tail[:, 0] - 1) / eta, (tail[:, 1] - 1) / eta, f"C{k}o-", ms=4, lw=0.8,
                label=f"η = {eta}")
    a1.set_aspect("equal")
    a1.legend(fontsize=7)
    a1.set_title("paths (x* = (1, 1))", fontsize=9)
    a2.set_xlabel("step t")
    a2.set_title("‖xₜ − x*‖ (dotted: η)", fontsize=9)
    a2.legend(fontsize=7)
    a3.add_patch(_circle())
    a3.plot(0, 0, "k*", ms=9)
    a3.set_xlim(-1.2, 1.2)
    a3.set_ylim(-1.2, 1.2)
    a3.set_aspect("equal")
    a3.set_title("last 12 iterates, (x − x*)/η; circle: radius η", fontsize=9)
    a3.legend(fontsize=7)
    return fig


def _circle():
    from matplotlib.patches import Circle

    return Circle((0, 0), 1.0, fill=False, ls=":", color="0.5")
