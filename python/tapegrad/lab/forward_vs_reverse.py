"""The Jacobian of f: ℝⁿ → ℝᵐ column by column (n jvps, forward mode) or row by row
(m vjps, reverse mode), timed as n and m vary."""

import time

import numpy as np

import tapegrad as tg
from tapegrad.lab._common import at_most, between, log_fit, new_figure

TITLE = "Forward against reverse mode: who wins is n against m"
CLAIM = ("Forward propagation pushes one input direction through the graph (a jvp gives one "
         "column of the Jacobian), backpropagation pulls one output direction back (a vjp "
         "gives one row). The Jacobian of f: ℝⁿ → ℝᵐ costs n jvps or m vjps: forward mode "
         "wins when n < m, reverse mode when n > m, and the crossover sits near n = m.")
FORMULA = ("forward: ∂a/∂w₁ = ∂a/∂x₁·∂x₁/∂w₁ + …  (seed ∂w₁/∂w₁ = 1): J·eᵢ, one column per pass\n"
           "backward: ∂f/∂x₁ = ∂f/∂a·∂a/∂x₁ + ∂f/∂b·∂b/∂x₁  (seed ∂f/∂f = 1): eⱼᵀ·J, one row "
           "per pass\n"
           "cost(J) ≈ n·cost(jvp) = m·cost(vjp) at the crossover;  a scalar loss (m = 1) needs "
           "one backward pass\n"
           "here f(x) = W₃·tanh(W₂·tanh(W₁x)), hidden width 64, float64")

HIDDEN = 64
FIXED = 16


def _make_f(rng, n, m):
    w1 = tg.tensor(rng.standard_normal((HIDDEN, n)) / np.sqrt(n))
    w2 = tg.tensor(rng.standard_normal((HIDDEN, HIDDEN)) / np.sqrt(HIDDEN))
    w3 = tg.tensor(rng.standard_normal((m, HIDDEN)) / np.sqrt(HIDDEN))
    return lambda x: w3 @ tg.tanh(w2 @ tg.tanh(w1 @ x))


def jacobian_forward(f, x):
    """n jvps: column i is J·eᵢ."""
    n = x.shape[0]
    eye = np.eye(n)
    cols = [tg.autograd.functional.jvp(f, x, tg.tensor(eye[i]))[1].numpy() for i in range(n)]
    return np.stack(cols, axis=1)


def jacobian_reverse(f, x, m):
    """m vjps: row j is eⱼᵀ·J."""
    eye = np.eye(m)
    rows = [tg.autograd.functional.vjp(f, x, tg.tensor(eye[j]))[1].numpy() for j in range(m)]
    return np.stack(rows, axis=0)


def _time(fn):
    began = time.perf_counter()
    fn()
    return time.perf_counter() - began


def _sweep(rng, sizes, vary, repeats):
    """Seconds per Jacobian for both modes, the fastest of ``repeats`` (other processes
    only ever add time), varying n (``vary="n"``, m = 16) or m."""
    fwd, rev = [], []
    for size in sizes:
        n, m = (size, FIXED) if vary == "n" else (FIXED, size)
        f = _make_f(rng, n, m)
        x = tg.tensor(rng.standard_normal(n))
        jacobian_forward(f, x)  # warm up
        # alternate the two so that a busy moment on a shared machine hits both
        pair_f, pair_r = [], []
        for _ in range(repeats):
            pair_f.append(_time(lambda f=f, x=x: jacobian_forward(f, x)))
            pair_r.append(_time(lambda f=f, x=x, m=m: jacobian_reverse(f, x, m)))
        fwd.append(min(pair_f))
        rev.append(min(pair_r))
    return np.array(fwd), np.array(rev)


def run(ctx):
    sizes = ctx.pick((2, 4, 8, 16, 32, 64, 128), (1, 2, 4, 8, 16, 32, 64, 128, 256))
    repeats = ctx.pick(9, 25)
    f = _make_f(ctx.rng, 12, 7)
    x = tg.tensor(ctx.rng.standard_normal(12))
    j_fwd, j_rev = jacobian_forward(f, x), jacobian_reverse(f, x, 7)
    j_ref = tg.autograd.functional.jacobian(f, x).numpy()
    by_n = _sweep(ctx.rng, sizes, "n", repeats)
    by_m = _sweep(ctx.rng, sizes, "m", repeats)
    return dict(sizes=np.array(sizes), by_n=by_n, by_m=by_m, repeats=repeats,
                agree=float(max(np.abs(j_fwd - j_rev).max(), np.abs(j_fwd - j_ref).max())))


def _crossover(sizes, growing, flat):
    """Where the line fitted to the growing mode's times (against size) meets the flat
    mode's median time."""
    slope, intercept = np.polyfit(sizes, growing, 1)
    return float((np.median(flat) - intercept) / slope)


def checks(data):
    sizes = data["sizes"]
    big = sizes >= 8  # where a pass costs more than the fixed overhead of a Jacobian
    fwd_n, rev_n = data["by_n"]
    fwd_m, rev_m = data["by_m"]
    n_star = _crossover(sizes, fwd_n, rev_n)
    m_star = _crossover(sizes, rev_m, fwd_m)
    # timings on a shared machine: the fastest of alternating repeats, and tolerances of
    # ±0.3 on slopes and a factor 4 on the crossover (the per-pass costs of a jvp and a
    # vjp differ by a constant factor, which moves the crossover off n = m by that factor)
    return [
        at_most("forward and reverse Jacobians agree with each other and with "
                "autograd.functional.jacobian (max abs difference)", data["agree"], 1e-12),
        between(f"forward mode, m = {FIXED}: log-log slope of time against n (n ≥ 8)",
                log_fit(sizes[big], fwd_n[big])[0], 0.7, 1.3),
        between(f"reverse mode, m = {FIXED}: slope of time against n (n ≥ 8)",
                log_fit(sizes[big], rev_n[big])[0], -0.3, 0.3),
        between(f"reverse mode, n = {FIXED}: log-log slope of time against m (m ≥ 8)",
                log_fit(sizes[big], rev_m[big])[0], 0.7, 1.3),
        between(f"forward mode, n = {FIXED}: slope of time against m (m ≥ 8)",
                log_fit(sizes[big], fwd_m[big])[0], -0.3, 0.3),
        between(f"crossover in n at m = {FIXED}, over m", n_star / FIXED, 0.25, 4.0),
        between(f"crossover in m at n = {FIXED}, over n", m_star / FIXED, 0.25, 4.0),
    ]


def figure(data):
    fig, (a1, a2) = new_figure(2, width=5.0)
    sizes = data["sizes"]
    for ax, (fwd, rev), label in ((a1, data["by_n"], "n"), (a2, data["by_m"], "m")):
        ax.loglog(sizes, 1e3 * fwd, "o-", label=f"forward: {label if label == 'n' else FIXED} "
                  "jvps")
        ax.loglog(sizes, 1e3 * rev, "s-", label=f"reverse: {label if label == 'm' else FIXED} "
                  "vjps")
        ax.axvline(FIXED, color="0.6", ls=":", lw=0.8)
        other = "m" if label == "n" else "n"
        ax.set_xlabel(label)
        ax.set_ylabel("ms per Jacobian")
        ax.set_title(f"{other} = {FIXED}, fastest of {data['repeats']} (dotted: {label} = "
                     f"{other})", fontsize=9)
        ax.legend(fontsize=8)
    return fig
