"""Sigmoid, tanh and ReLU: their derivatives from autograd against the notes' formulas,
saturation and zero-centredness measured."""

import math

import numpy as np

import tapegrad as tg
from tapegrad.lab._common import at_most, close, new_figure

TITLE = "Activations: derivatives, saturation, zero-centredness"
CLAIM = ("σ′ = σ(1 − σ) ≤ ¼, tanh′ = 1 − tanh², ReLU′ = 1 for z > 0 and 0 otherwise. Sigmoid "
         "and tanh saturate (their derivative vanishes for large |z|), ReLU is dead for "
         "z < 0; tanh is zero-centred, sigmoid and ReLU are not: for z ~ N(0, s²), "
         "E[ReLU(z)] = √(s²/2π) and E[ReLU(z)²] = s²/2.")
FORMULA = ("σ(z) = 1/(1 + e⁻ᶻ),  σ′(z) = σ(z)(1 − σ(z))\n"
           "tanh(z) = (eᶻ − e⁻ᶻ)/(eᶻ + e⁻ᶻ),  tanh′ = 1 − tanh²\n"
           "ReLU(z) = max(0, z),  ReLU′ = 1 (z > 0), 0 (else)\n"
           "z ~ N(0, s²), h = ReLU(z):  E[h] = √(s²/2π),  E[h²] = ½s²")

SAMPLES = 200_000
SAT = 0.01  # "saturated": derivative below 1% of its peak


def _derivative(fn, z):
    t = tg.tensor(z, requires_grad=True)
    y = fn(t)
    y.sum().backward()
    return y.detach().numpy(), t.grad.numpy()


def _phi(x):
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def run(ctx):
    z = np.linspace(-6, 6, 1201)  # step 0.01, with z = 0 exactly
    curves = {name: _derivative(fn, z) for name, fn in
              (("sigmoid", tg.sigmoid), ("tanh", tg.tanh), ("ReLU", tg.relu))}
    s = 2.0
    samples = ctx.rng.normal(0, s, SAMPLES)
    sat = {}
    for name, fn, peak in (("sigmoid", tg.sigmoid, 0.25), ("tanh", tg.tanh, 1.0),
                           ("ReLU", tg.relu, 1.0)):
        _, d = _derivative(fn, samples)
        sat[name] = float((d < SAT * peak).mean())
    unit = ctx.rng.standard_normal(SAMPLES)
    outputs = {name: fn(tg.tensor(unit)).numpy() for name, fn in
               (("sigmoid", tg.sigmoid), ("tanh", tg.tanh), ("ReLU", tg.relu))}
    return dict(z=z, curves=curves, saturation=sat, s=s, outputs=outputs)


def _saturation_expected(s):
    """P(derivative < 1% of the peak) for z ~ N(0, s²), from the notes' derivatives."""
    # σ′ = σ(1 − σ) < 0.0025  ⇔  |z| > 2·atanh(√(1 − 4·0.0025)); tanh′ = 1 − tanh² < 0.01
    z_sig = 2 * math.atanh(math.sqrt(1 - 4 * 0.25 * SAT))
    z_tanh = math.atanh(math.sqrt(1 - SAT))
    return {"sigmoid": 2 * (1 - _phi(z_sig / s)), "tanh": 2 * (1 - _phi(z_tanh / s)),
            "ReLU": 0.5}


def checks(data):
    z, c = data["z"], data["curves"]
    sig, dsig = c["sigmoid"]
    th, dth = c["tanh"]
    _, drelu = c["ReLU"]
    step = (z > 0).astype(float)
    expected_sat = _saturation_expected(data["s"])
    se = lambda p: math.sqrt(p * (1 - p) / SAMPLES)  # noqa: E731  binomial standard error
    # float64 values of size ≤ 1: a backward rule written another way (e.g. e⁻ᶻ/(1 + e⁻ᶻ)²)
    # may differ by a few units of rounding, ~1e-16 each
    out = [
        at_most("autograd σ′ equals σ(1 − σ) (max abs difference, float64)",
                float(np.abs(dsig - sig * (1 - sig)).max()), 1e-14),
        at_most("autograd tanh′ equals 1 − tanh² (max abs difference)",
                float(np.abs(dth - (1 - th ** 2)).max()), 1e-14),
        at_most("autograd ReLU′ equals the step, 0 at z = 0 (max abs difference)",
                float(np.abs(drelu - step).max()), 0.0),
        close("the largest σ′ is ¼ (at z = 0)", float(dsig.max()), 0.25, 1e-15),
    ]
    for name in ("sigmoid", "tanh", "ReLU"):
        p = expected_sat[name]
        out.append(close(f"{name}: fraction of z ~ N(0, {data['s']:g}²) with derivative < 1% "
                         "of its peak (4 standard errors)", data["saturation"][name], p,
                         4 * se(p)))
    o = data["outputs"]
    n = SAMPLES
    relu = o["ReLU"]
    # 4 standard errors of a mean of n draws: a false alarm about once in 16 000 runs
    out += [
        close("tanh is zero-centred: E[tanh(z)], z ~ N(0, 1)", float(o["tanh"].mean()), 0.0,
              4 * o["tanh"].std() / math.sqrt(n)),
        close("sigmoid is not: E[σ(z)] = ½", float(o["sigmoid"].mean()), 0.5,
              4 * o["sigmoid"].std() / math.sqrt(n)),
        close("ReLU is not: E[ReLU(z)] = √(1/2π)", float(relu.mean()), 1 / math.sqrt(2 * math.pi),
              4 * relu.std() / math.sqrt(n)),
        close("E[ReLU(z)²] = ½ (the notes' Kaiming derivation)", float((relu ** 2).mean()), 0.5,
              4 * (relu ** 2).std() / math.sqrt(n)),
    ]
    return out


def figure(data):
    fig, axes = new_figure(4, width=3.3)
    z = data["z"]
    formulas = {"sigmoid": lambda y: y * (1 - y), "tanh": lambda y: 1 - y ** 2,
                "ReLU": lambda y: (z > 0).astype(float)}
    for ax, (name, (y, dy)) in zip(axes, data["curves"].items()):
        ax.plot(z, y, "C0", label=name)
        ax.plot(z, dy, "C1", lw=2.5, alpha=0.6, label="derivative (autograd)")
        ax.plot(z, formulas[name](y), "k--", lw=0.8, label="notes' formula")
        ax.axhline(0, color="0.6", lw=0.5)
        ax.set_ylim(-1.1, 1.6)
        ax.set_xlabel("z")
        ax.set_title(f"{name}: saturated {100 * data['saturation'][name]:.1f}% "
                     f"at z ~ N(0, {data['s']:g}²)", fontsize=8)
        ax.legend(fontsize=6.5)
    ax = axes[3]
    for k, (name, out) in enumerate(data["outputs"].items()):
        ax.hist(out, bins=80, range=(-1.5, 3), histtype="step", color=f"C{k}", density=True,
                label=f"{name}: mean {out.mean():+.3f}")
    ax.axvline(0, color="0.5", lw=0.6)
    ax.set_ylim(0, 3)
    ax.set_title("outputs for z ~ N(0, 1)", fontsize=8)
    ax.legend(fontsize=6.5)
    return fig
