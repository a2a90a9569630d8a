"""Dropout, plain against inverted: the expectation (1 − p)·a, the scale each needs at
inference, and training curves on a small data set."""

import math

import numpy as np

import tapegrad as tg
from tapegrad.lab._common import at_most, close, new_figure

F = tg.nn.functional

TITLE = "Dropout: plain against inverted"
CLAIM = ("Plain dropout keeps each activation with probability 1 − p, so E[a_DO] = (1 − p)·a: "
         "at inference its activations must be scaled by (1 − p). Inverted dropout divides by "
         "(1 − p) during training, so E[a_invDO] = a and inference needs no scaling.")
FORMULA = ("aᵢ^DO = yᵢ·aᵢ,  yᵢ ~ Bern(1 − p):  yᵢ = 0 with probability p, 1 otherwise\n"
           "E[aᵢ^DO] = (1 − p)·aᵢ   ⇒ inference: a ↦ (1 − p)·a\n"
           "inverted: aᵢ^invDO = yᵢ·aᵢ/(1 − p),  E[aᵢ^invDO] = aᵢ   ⇒ inference: a ↦ a")

P = 0.5


class PlainDropout(tg.nn.Module):
    """The notes' plain dropout: a·y in training (y ~ Bern(1 − p)), a·scale at inference."""

    def __init__(self, p, scale=1.0):
        super().__init__()
        self.p, self.scale = p, scale

    def forward(self, x):
        if self.training:  # inverted dropout's mask, without its 1/(1 − p)
            return F.dropout(x, self.p, True) * (1 - self.p)
        return x * self.scale


def _expectations(ctx):
    units, draws = 400, 2000
    a = ctx.rng.uniform(0.5, 1.5, units)
    batch = tg.tensor(np.tile(a, (draws, 1)), dtype=tg.float32)
    inverted = F.dropout(batch, P, True).numpy().astype(np.float64)
    plain = inverted * (1 - P)
    return dict(a=a, plain=plain.mean(0), inverted=inverted.mean(0),
                plain_ratio=float((plain / a).mean()), inverted_ratio=float((inverted / a).mean()),
                dropped=float((inverted == 0).mean()), count=units * draws)


def _model(drop):
    return tg.nn.Sequential(tg.nn.Linear(64, 256), tg.nn.ReLU(), drop(), tg.nn.Linear(256, 256),
                            tg.nn.ReLU(), drop(), tg.nn.Linear(256, 10))


def _set_scale(model, scale):
    for m in model.modules():
        if isinstance(m, PlainDropout):
            m.scale = scale


def run(ctx):
    expect = _expectations(ctx)
    x, y = tg.datasets.load_digits()
    x = (x - x.mean(0)) / (x.std(0) + 1e-8)
    order = ctx.rng.permutation(len(x))
    train, test = order[:200], order[200:1200]  # a small training set: overfitting is easy
    xtr, ytr = tg.tensor(x[train], dtype=tg.float32), tg.tensor(y[train])
    xte, yte = tg.tensor(x[test], dtype=tg.float32), tg.tensor(y[test])
    steps, every = ctx.pick(300, 1500), 10
    start = _model(tg.nn.Identity).state_dict()  # the same initial weights for all three
    kinds = {"no dropout": tg.nn.Identity, "plain, ×(1 − p) at inference": lambda: PlainDropout(P),
             "inverted": lambda: tg.nn.Dropout(P)}
    curves, models = {}, {}
    for name, drop in kinds.items():
        model = _model(drop)
        model.load_state_dict(start)
        opt = tg.optim.Adam(model.parameters(), lr=1e-3)
        _set_scale(model, 1 - P)
        curve = []
        for t in range(steps + 1):
            if t % every == 0:
                model.eval()
                with tg.no_grad():
                    curve.append((t, F.cross_entropy(model(xtr), ytr).item(),
                                  F.cross_entropy(model(xte), yte).item()))
                model.train()
            if t < steps:
                opt.zero_grad()
                F.cross_entropy(model(xtr), ytr).backward()
                opt.step()
        curves[name], models[name] = np.array(curve), model
    plain = models["plain, ×(1 − p) at inference"].eval()
    with tg.no_grad():
        _set_scale(plain, 1.0)
        unscaled = F.cross_entropy(plain(xte), yte).item()
        _set_scale(plain, 1 - P)
        scaled = F.cross_entropy(plain(xte), yte).item()
    return dict(expect=expect, curves=curves, unscaled=unscaled, scaled=scaled,
                ratios={name: _inference_ratio(models[name], xte) for name in
                        ("plain, ×(1 − p) at inference", "inverted")},
                unscaled_ratio=_inference_ratio(plain, xte, scale=1.0))


def _inference_ratio(model, x, scale=None, draws=200):
    """The first dropout layer's mean output at inference over its mean in training (over
    ``draws`` masks): 1 when inference matches training in expectation."""
    front, drop = tg.nn.Sequential(model[0], model[1]), model[2]
    with tg.no_grad():
        h = front(x)
        if scale is not None:
            drop.scale = scale
        drop.eval()
        at_inference = drop(h).mean().item()
        if scale is not None:
            drop.scale = 1 - P
        drop.train()
        in_training = np.mean([drop(h).mean().item() for _ in range(draws)])
        drop.eval()
    return float(at_inference / in_training)


def checks(data):
    e = data["expect"]
    n = e["count"]
    # a ratio aᵢ^DO/aᵢ is a Bernoulli(1 − p) scaled by 1 or 1/(1 − p): 4 standard errors
    sd = math.sqrt(P * (1 - P) / n)
    r = data["ratios"]
    return [
        close("fraction of activations dropped", e["dropped"], P, 4 * sd),
        close("plain dropout: E[a_DO]/a", e["plain_ratio"], 1 - P, 4 * sd),
        close("inverted dropout: E[a_invDO]/a", e["inverted_ratio"], 1.0, 4 * sd / (1 - P)),
        # means over 200 masks × 1000 samples × 256 units: the ratio is known to < 0.5%
        close("plain dropout, trained, inference without scaling: mean activation at "
              "inference / in training", data["unscaled_ratio"], 1 / (1 - P), 0.02),
        close("plain dropout with the (1 − p) scale at inference: the same ratio",
              r["plain, ×(1 − p) at inference"], 1.0, 0.02),
        close("inverted dropout, no scaling at inference: the same ratio", r["inverted"], 1.0,
              0.02),
        at_most("plain dropout's test loss: with the (1 − p) scale / without",
                data["scaled"] / data["unscaled"], 0.8),
    ]


def figure(data):
    fig, (a1, a2, a3) = new_figure(3)
    e = data["expect"]
    a = e["a"]
    a1.plot(a, e["plain"], ".", ms=3, color="C0", label="plain: mean of a·y")
    a1.plot(a, e["inverted"], ".", ms=3, color="C1", label="inverted: mean of a·y/(1 − p)")
    grid = np.array([0.5, 1.5])
    a1.plot(grid, (1 - P) * grid, "k--", lw=0.8, label="(1 − p)·a")
    a1.plot(grid, grid, "k:", lw=0.8, label="a")
    a1.set_xlabel("activation a")
    a1.set_title(f"E over 2000 masks, p = {P}", fontsize=9)
    a1.legend(fontsize=7)
    for k, (name, c) in enumerate(data["curves"].items()):
        a2.plot(c[:, 0], c[:, 1], ":", color=f"C{k}", lw=1)
        a2.plot(c[:, 0], c[:, 2], "-", color=f"C{k}", lw=1.2, label=name)
    a2.set_yscale("log")
    a2.set_xlabel("step (200 training samples, full batch)")
    a2.set_title("test loss (solid) and training loss (dotted)", fontsize=9)
    a2.legend(fontsize=7)
    names = ["plain,\nunscaled", "plain,\n×(1 − p)", "inverted", "no\ndropout"]
    values = [data["unscaled"], data["scaled"], data["curves"]["inverted"][-1, 2],
              data["curves"]["no dropout"][-1, 2]]
    a3.bar(names, values, color=["C3", "C1", "C2", "C0"])
    a3.set_title("test loss at inference", fontsize=9)
    return fig
