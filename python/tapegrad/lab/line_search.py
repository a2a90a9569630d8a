"""Line searches along the negative gradient: φₖ(α) = F(wₖ − α·gₖ) with the Armijo line
and the Wolfe curvature band; exact, Armijo and Wolfe steps of ``tg.optim.GD``."""

import numpy as np

import tapegrad as tg
from tapegrad.lab._common import at_most, contour, new_figure

TITLE = "Line search: Armijo's rule, the Wolfe conditions and the exact step"
CLAIM = ("Along the descent direction, φₖ(α) = F(wₖ − α·gₖ). Armijo's rule accepts α with "
         "φₖ(α) ≤ φₖ(0) + c₁αφₖ′(0) (0 < c₁ < ½); the Wolfe curvature condition adds "
         "|φₖ′(α)| ≤ c₂|φₖ′(0)|. The exact search minimizes φₖ, so φₖ′(α) = −∇F(wₖ₊₁)ᵀgₖ = 0: "
         "consecutive gradients are orthogonal.")
FORMULA = ("φₖ(α) = F(wₖ − α·gₖ),  φₖ′(α) = −∇F(wₖ − α·gₖ)ᵀgₖ,  φₖ′(0) = −‖gₖ‖²\n"
           "Armijo: φₖ(α) ≤ φₖ(0) + c₁·α·φₖ′(0),  0 < c₁ < ½\n"
           "Wolfe (strong): |φₖ′(α)| ≤ c₂·|φₖ′(0)|,  c₁ < c₂ < 1\n"
           "exact: α = argmin φₖ(α)  ⇒  gₖ₊₁ᵀgₖ = 0\n"
           "here F(x, y) = e^(x+3y−0.1) + e^(x−3y−0.1) + e^(−x−0.1), from (−1, 1); "
           "c₁ = 0.1, c₂ = 0.5")

C1, C2 = 0.1, 0.5
# Steps are checked while F − F* ≥ 1e-7 (4e-8 of F). Closer to the minimum φ varies across
# a search's bracket by less than the rounding of F ≈ 2.6, and searches that compare values
# of φ (all three do) then decide on rounding noise.
_FLOOR = 1e-7
W0 = (-1.0, 1.0)
F_STAR = 2 * 2 ** 0.5 * np.exp(-0.1)  # at (−ln 2 / 2, 0)


def _f(w):
    x, y = w[0], w[1]
    return _exp(x + 3 * y - 0.1) + _exp(x - 3 * y - 0.1) + _exp(-x - 0.1)


def _exp(t):
    return t.exp() if isinstance(t, tg.Tensor) else np.exp(t)


def _value_and_grad(w):
    t = tg.tensor(np.asarray(w, dtype=np.float64), requires_grad=True)
    value = _f(t)
    value.backward()
    return value.item(), t.grad.numpy().copy()


def _descend(kind, steps):
    w = tg.tensor(W0, dtype=tg.float64, requires_grad=True)
    opt = tg.optim.GD([w], lr=1.0, line_search=kind, c1=C1, c2=C2)

    def closure():
        opt.zero_grad()
        loss = _f(w)
        loss.backward()
        return loss

    points, alphas = [w.detach().numpy().copy()], []
    for _ in range(steps):
        opt.step(closure)
        alphas.append(opt.state[w]["step_size"])
        points.append(w.detach().numpy().copy())
    return np.array(points), np.array(alphas)


def run(ctx):
    steps = 30  # F − F* reaches rounding (1e-16) within ~20 steps with every search
    runs = {kind: _descend(kind, steps) for kind in ("exact", "armijo", "wolfe")}
    # φ₀ on a grid, for the figure
    f0, g0 = _value_and_grad(W0)
    first = max(alphas[0] for _, alphas in runs.values())
    grid = np.linspace(0, 1.6 * first, 241)
    phi, dphi = [], []
    for a in grid:
        v, g = _value_and_grad(np.asarray(W0) - a * g0)
        phi.append(v)
        dphi.append(-g @ g0)
    return dict(runs=runs, grid=grid, phi=np.array(phi), dphi=np.array(dphi), f0=f0,
                slope0=float(-g0 @ g0))


def _conditions(points, alphas):
    """Per step: the Armijo excess φ(α) − φ(0) − c₁αφ′(0) (≤ 0 when satisfied), the
    curvature ratio |φ′(α)|/|φ′(0)|, the cosine between consecutive gradients and the
    mismatch between the iterate and wₖ − αₖgₖ, all measured at the iterates, for the
    steps taken before F − F* falls below ``_FLOOR``."""
    armijo, curvature, cosine, mismatch = [], [], [], []
    for k, alpha in enumerate(alphas):
        f_k, g_k = _value_and_grad(points[k])
        if f_k - F_STAR < _FLOOR:
            break
        f_next, g_next = _value_and_grad(points[k + 1])
        slope0 = -g_k @ g_k
        armijo.append((f_next - f_k - C1 * alpha * slope0) / abs(f_k))
        curvature.append(abs(-g_next @ g_k) / abs(slope0))
        cosine.append(abs(g_next @ g_k) / (np.linalg.norm(g_next) * np.linalg.norm(g_k)))
        mismatch.append(np.abs(points[k + 1] - (points[k] - alpha * g_k)).max())
    return (np.array(armijo), np.array(curvature), np.array(cosine), np.array(mismatch))


def checks(data):
    out = []
    for kind in ("armijo", "wolfe", "exact"):
        armijo, curvature, cosine, mismatch = _conditions(*data["runs"][kind])
        # the iterates are wₖ − αₖgₖ to rounding of numbers of size ~1
        out.append(at_most(f"{kind}: every iterate is wₖ − αₖgₖ (max deviation over the "
                           f"{len(mismatch)} steps before F − F* < 1e-7)",
                           float(mismatch.max()), 1e-12))
        if kind in ("armijo", "wolfe"):
            out.append(at_most(f"{kind}: every accepted step satisfies Armijo (max of "
                               "(φ(α) − φ(0) − c₁αφ′(0))/|φ(0)|)", float(armijo.max()), 0.0))
        if kind == "wolfe":
            out.append(at_most("wolfe: every accepted step satisfies |φ′(α)| ≤ c₂|φ′(0)| "
                               "(max of |φ′(α)|/|φ′(0)|)", float(curvature.max()), C2))
        if kind == "exact":
            # the search stops at |φ′(α)| ≤ 1e-10·|φ′(0)|: cosines of ~1e-10·‖gₖ‖/‖gₖ₊₁‖
            out.append(at_most("exact: consecutive gradients are orthogonal (max |cos(gₖ, "
                               "gₖ₊₁)|)", float(cosine.max()), 1e-6))
    return out


def figure(data):
    fig, (a1, a2, a3) = new_figure(3)
    grid, phi, dphi = data["grid"], data["phi"], data["dphi"]
    f0, s0 = data["f0"], data["slope0"]
    band = np.abs(dphi) <= C2 * abs(s0)
    a1.fill_between(grid, phi.min() - 1, phi.max() + 1, where=band, color="C2", alpha=0.15,
                    label="Wolfe: |φ′(α)| ≤ c₂|φ′(0)|")
    a1.plot(grid, phi, "k", lw=1.5, label="φ₀(α)")
    a1.plot(grid, f0 + C1 * grid * s0, "C3--", lw=1, label="Armijo: φ(0) + c₁αφ′(0)")
    a1.plot(grid, f0 + grid * s0, color="0.6", ls=":", lw=1, label="tangent φ(0) + αφ′(0)")
    for kind, marker in (("exact", "o"), ("armijo", "s"), ("wolfe", "^")):
        alpha = data["runs"][kind][1][0]
        k = np.argmin(np.abs(grid - alpha))
        a1.plot(alpha, phi[k], marker, ms=7, mfc="none", label=f"{kind}: α = {alpha:.4f}")
    a1.set_ylim(phi.min() - 0.1 * (f0 - phi.min()), f0 + 0.1 * (f0 - phi.min()))
    a1.set_xlabel("α")
    a1.legend(fontsize=6.5)
    a1.set_title("the first step's φ₀(α)", fontsize=9)

    contour(a2, lambda gx, gy: _f((gx, gy)), (-1.3, 0.3), (-0.4, 1.1), levels=22)
    for k, kind in enumerate(("exact", "armijo", "wolfe")):
        pts, alphas = data["runs"][kind]
        a2.plot(pts[:, 0], pts[:, 1], f"C{k}", lw=0.9, marker=".", ms=3, label=kind)
        values = np.array([_f(p) for p in pts]) - F_STAR
        a3.semilogy(np.maximum(values, 1e-16), f"C{k}", label=kind)
    a2.plot(-np.log(2) / 2, 0, "k*", ms=9)
    a2.set_title("GD with each line search", fontsize=9)
    a2.legend(fontsize=7)
    a2.set_aspect("equal")
    a3.set_xlabel("step")
    a3.set_title("F(wₖ) − F*", fontsize=9)
    a3.legend(fontsize=7)
    return fig
