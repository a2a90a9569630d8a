"""Constraints by reparametrization: an interval, positivity and orthogonality, each on a
problem whose unconstrained optimum breaks the constraint."""

import numpy as np

import tapegrad as tg
from tapegrad.lab._common import Check, at_least, at_most, new_figure
from tapegrad.nn.utils import parametrizations

TITLE = "Constraints by reparametrization"
CLAIM = ("min over x ∈ Ω of f(x) becomes the unconstrained min over y of f(g(y)) when g maps "
         "ℝⁿ onto Ω: a + (b − a)σ(y) for an interval, softplus, exp or y² for positivity, "
         "W = expm(V − Vᵀ) for orthogonal matrices. Any optimizer then keeps the constraint "
         "at every step, even when the unconstrained optimum lies outside Ω.")
FORMULA = ("f(x) → min over x ∈ Ω   ⇔   f(g(y)) → min over y ∈ ℝⁿ,  x = g(y)\n"
           "[a, b] ∋ g(y) = a + (b − a)·σ(y)\n"
           "g(y) = log(1 + exp(y)) > 0,   g(y) = exp(y) > 0,   g(y) = y² ≥ 0\n"
           "W = expm(V − Vᵀ):  WᵀW = I  (here W = B·expm(V − Vᵀ), B the orthogonal start)\n"
           "problems: (x − 3)² on [0, 1];  (x + 1)² for x > 0;  ‖W − M‖²_F over orthogonal W, "
           "solved by the polar factor UVᵀ of M = UΣVᵀ")


class _Holder(tg.nn.Module):
    def __init__(self, value):
        super().__init__()
        self.weight = tg.nn.Parameter(tg.tensor(value))


def _optimize(module, objective, steps, opt, cosine=False):
    opt = opt(module.parameters())
    sched = tg.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps) if cosine else None
    values, losses = [module.weight.detach().numpy().copy()], []
    for _ in range(steps):
        opt.zero_grad()
        loss = objective(module.weight)
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
        values.append(module.weight.detach().numpy().copy())
        losses.append(loss.item())
    return np.array(values), np.array(losses)


def _orthogonal(ctx, steps, n=6):
    lin = parametrizations.orthogonal(tg.nn.Linear(n, n, bias=False))
    w0 = lin.weight.detach().numpy().astype(np.float64)
    m = 2.0 * ctx.rng.standard_normal((n, n))
    u, _, vt = np.linalg.svd(m)
    # expm(V − Vᵀ) has determinant +1, so W keeps the sign of det B: flip a row of M if
    # its polar factor lies in the other component of the orthogonal group
    if np.linalg.det(u @ vt) * np.linalg.det(w0) < 0:
        m[0] = -m[0]
        u, _, vt = np.linalg.svd(m)
    target = tg.tensor(m.astype(np.float32))
    # Adam with a cosine schedule: large steps across the group, small ones to settle
    values, losses = _optimize(lin, lambda w: ((w - target) ** 2).sum(), steps,
                               lambda p: tg.optim.Adam(p, lr=0.1), cosine=True)
    eye = np.eye(n)
    defect = np.array([np.abs(w.T.astype(np.float64) @ w - eye).max() for w in values])
    polar = u @ vt
    return dict(defect=defect, losses=losses, best=float(((polar - m) ** 2).sum()),
                error=float(np.abs(values[-1] - polar).max()),
                unconstrained_defect=float(np.abs(m.T @ m - eye).max()))


def run(ctx):
    steps = ctx.pick(400, 1500)
    sgd = lambda p: tg.optim.SGD(p, lr=0.1, momentum=0.9)  # noqa: E731
    interval = parametrizations.interval(_Holder([0.5]), "weight", 0.0, 1.0)
    iv, _ = _optimize(interval, lambda x: ((x - 3) ** 2).sum(), steps, sgd)
    positive = {}
    for kind in ("softplus", "exp", "square"):
        module = parametrizations.positive(_Holder([2.0]), "weight", kind)
        values, _ = _optimize(module, lambda x: ((x + 1) ** 2).sum(), steps, sgd)
        positive[kind] = values[:, 0]
    # 1000 steps reach the polar factor to ~1e-6 on 40 of 40 seeds (400 left one at 0.15)
    return dict(interval=iv[:, 0], positive=positive,
                orthogonal=_orthogonal(ctx, ctx.pick(1000, 3000)))


def checks(data):
    iv = data["interval"]
    o = data["orthogonal"]
    out = [
        Check("interval: min over all steps of the distance to the ends of [0, 1]",
              float(np.minimum(iv, 1 - iv).min()), "> 0 (inside at every step)",
              bool(np.minimum(iv, 1 - iv).min() > 0)),
        # σ(y) → 1 as y grows: the iterate creeps to the end b = 1 (the constrained optimum)
        at_least("interval: the last iterate is near the constrained optimum x = 1",
                 float(iv[-1]), 0.95),
    ]
    for kind, values in data["positive"].items():
        low = float(values.min())
        # softplus and exp are > 0 for every finite y; y² may be exactly 0
        ok = low >= 0 if kind == "square" else low > 0
        out.append(Check(f"positive ({kind}): min of x over all steps", low,
                         "≥ 0" if kind == "square" else "> 0", ok))
        out.append(at_most(f"positive ({kind}): the last iterate is near the constrained "
                           "optimum x = 0", float(values[-1]), 0.05))
    out += [
        # float32 matrix_exp and product: ~10 roundings of 6e-8 on entries of size ≤ 1
        at_most("orthogonal: max over steps of max |WᵀW − I|", float(o["defect"].max()), 1e-5),
        at_least("…while the unconstrained optimum M is far from orthogonal: max |MᵀM − I|",
                 o["unconstrained_defect"], 1.0),
        at_most("orthogonal: W reaches the polar factor UVᵀ of M (max abs difference)",
                o["error"], 1e-3),
    ]
    return out


def figure(data):
    fig, (a1, a2, a3, a4) = new_figure(4, width=3.3)
    iv = data["interval"]
    a1.axhspan(0, 1, color="C2", alpha=0.1, label="Ω = [0, 1]")
    a1.plot(iv, "C0", label="x = σ(y)")
    a1.axhline(3, color="k", ls=":", lw=0.8, label="unconstrained optimum 3")
    a1.set_ylim(-0.2, 3.3)
    a1.set_xlabel("SGD step (momentum 0.9)")
    a1.set_title("(x − 3)² on [0, 1]", fontsize=9)
    a1.legend(fontsize=7)
    for k, (kind, values) in enumerate(data["positive"].items()):
        a2.semilogy(np.maximum(values, 1e-12), f"C{k}", label=kind)
    a2.set_xlabel("SGD step (momentum 0.9)")
    a2.set_title("(x + 1)² for x > 0 (optimum −1 outside)", fontsize=9)
    a2.legend(fontsize=7)
    o = data["orthogonal"]
    a3.semilogy(np.maximum(o["defect"], 1e-9), "C0", lw=0.8, label="W = B·expm(V − Vᵀ)")
    a3.axhline(1e-5, color="C3", ls="--", lw=0.8, label="1e-5")
    a3.axhline(o["unconstrained_defect"], color="k", ls=":", lw=0.8,
               label="M (unconstrained optimum)")
    a3.set_ylim(1e-9, 100)
    a3.set_xlabel("Adam step")
    a3.set_title("max |WᵀW − I|", fontsize=9)
    a3.legend(fontsize=7)
    a4.semilogy(o["losses"] - o["best"] + 1e-9, "C0")
    a4.set_xlabel("Adam step")
    a4.set_title("‖W − M‖² − ‖UVᵀ − M‖²", fontsize=9)
    return fig
