"""Weight decay on the notes' high-dimensional linear regression (d = 200, 20 training
samples), and the decoupled update (1 − ηλ)w − η∇L against SGD on L + (λ/2)‖w‖²."""

import numpy as np

import tapegrad as tg
from tapegrad.lab._common import at_most, new_figure

TITLE = "Weight decay: d = 200, n = 20"
CLAIM = ("With y = 0.05 + Σ 0.01xᵢ + ε, d = 200 and only 20 training samples, least squares "
         "fits the training set and fails on new data; weight decay λ = 3 brings the test "
         "loss far down. The decoupled update w ← (1 − ηλ)w − η∇L is SGD on "
         "L + (λ/2)‖w‖².")
FORMULA = ("y = 0.05 + Σᵢ₌₁ᵈ 0.01·xᵢ + ε,  ε ~ N(0, 0.01²),  d = 200,  n_train = 20\n"
           "L(w, b) + (λ/2)‖w‖²\n"
           "w ← (1 − ηλ)w − η/|B| Σ_{i∈B} xᵢ(wᵀxᵢ + b − yᵢ)\n"
           "(1 − η)w − α∇L = w − α∇[L + η/(2α)‖w‖²]   (the notes' AdamW line)")

D, N_TRAIN, N_TEST = 200, 20, 100
LR, BATCH = 0.003, 5
LAMBDAS = (0.0, 0.3, 1.0, 3.0, 10.0)


def _data(rng):
    x = rng.standard_normal((N_TRAIN + N_TEST, D))
    y = 0.05 + 0.01 * x.sum(1) + 0.01 * rng.standard_normal(N_TRAIN + N_TEST)
    return (tg.tensor(x[:N_TRAIN]), tg.tensor(y[:N_TRAIN]), tg.tensor(x[N_TRAIN:]),
            tg.tensor(y[N_TRAIN:]))


def _loss(x, y, w, b):
    return (0.5 * (x @ w + b - y) ** 2).mean()


def _train(kind, lam, data, w0, batches, record=False):
    """``kind``: "decay" (SGD's weight_decay on w), "penalty" (SGD on L + λ/2‖w‖²) or
    "manual" (w ← (1 − ηλ)w − η∇L by hand). Returns the final (w, b), the per-epoch
    losses and, with ``record``, w after every step."""
    xtr, ytr, xte, yte = data
    w = tg.tensor(w0, requires_grad=True)  # w₀ ~ N(0, 1) (the example's initialization)
    b = tg.zeros(1, dtype=tg.float64, requires_grad=True)
    if kind == "decay":
        opt = tg.optim.SGD([{"params": [w], "weight_decay": lam}, {"params": [b]}], lr=LR)
    elif kind == "penalty":
        opt = tg.optim.SGD([w, b], lr=LR)
    curve, path = [], []
    for epoch in batches:
        for idx in epoch:
            w.grad = b.grad = None
            loss = _loss(xtr[idx], ytr[idx], w, b)
            if kind == "penalty":
                loss = loss + lam / 2 * tg.dot(w, w)
            loss.backward()
            if kind == "manual":
                with tg.no_grad():
                    w.mul_(1 - LR * lam).sub_(w.grad * LR)
                    b.sub_(b.grad * LR)
            else:
                opt.step()
            if record:
                path.append(w.detach().numpy().copy())
        with tg.no_grad():
            curve.append((_loss(xtr, ytr, w, b).item(), _loss(xte, yte, w, b).item()))
    return w.detach().numpy(), np.array(curve), np.array(path)


def run(ctx):
    epochs = ctx.pick(100, 300)
    data = _data(ctx.rng)
    w0 = ctx.rng.standard_normal(D)
    batches = [[p[i:i + BATCH] for i in range(0, N_TRAIN, BATCH)]
               for p in (ctx.rng.permutation(N_TRAIN) for _ in range(epochs))]
    sweep = {lam: _train("decay", lam, data, w0, batches) for lam in LAMBDAS}
    paths = {kind: _train(kind, 3.0, data, w0, batches, record=True)[2]
             for kind in ("decay", "penalty", "manual")}
    return dict(curves={lam: r[1] for lam, r in sweep.items()},
                norms={lam: float(np.linalg.norm(r[0])) for lam, r in sweep.items()},
                paths=paths)


def checks(data):
    test = {lam: c[-1, 1] for lam, c in data["curves"].items()}
    p = data["paths"]
    scale = np.abs(p["decay"]).max()
    return [
        # λ = 0 keeps the N(0, 1) start in the 180 directions the data never sees (test loss
        # ~100); λ = 3 shrinks them (~0.1): three orders of magnitude
        at_most("test loss at λ = 3 over test loss at λ = 0", test[3.0] / test[0.0], 0.1),
        at_most("‖w‖ at λ = 3 over ‖w‖ at λ = 0", data["norms"][3.0] / data["norms"][0.0], 0.2),
        # float64: the three forms differ only in rounding order, a few 1e-16 per step
        at_most("SGD(weight_decay = λ) equals SGD on L + (λ/2)‖w‖² (max |Δw| / max |w| over "
                "every step)", float(np.abs(p["decay"] - p["penalty"]).max() / scale), 1e-12),
        at_most("the decoupled (1 − ηλ)w − η∇L by hand equals both (max |Δw| / max |w|)",
                float(np.abs(p["decay"] - p["manual"]).max() / scale), 1e-12),
    ]


def figure(data):
    fig, (a1, a2, a3) = new_figure(3)
    for k, lam in enumerate((0.0, 3.0)):
        c = data["curves"][lam]
        a1.semilogy(c[:, 0], ":", color=f"C{k}", label=f"λ = {lam:g}, train")
        a1.semilogy(c[:, 1], "-", color=f"C{k}", label=f"λ = {lam:g}, test")
    a1.set_xlabel("epoch")
    a1.set_title("loss ½(wᵀx + b − y)²", fontsize=9)
    a1.legend(fontsize=7)
    lams = list(data["curves"])
    x = np.arange(len(lams))
    a2.semilogy(x, [data["curves"][lam][-1, 1] for lam in lams], "o-", label="test loss")
    a2.semilogy(x, [data["curves"][lam][-1, 0] for lam in lams], "s:", label="training loss")
    a2.semilogy(x, [data["norms"][lam] for lam in lams], "^--", label="‖w‖")
    a2.set_xticks(x, [f"{lam:g}" for lam in lams])
    a2.set_xlabel("λ")
    a2.set_title("after training", fontsize=9)
    a2.legend(fontsize=7)
    p = data["paths"]
    steps = np.arange(1, len(p["decay"]) + 1)
    for key, style in (("penalty", "-"), ("manual", "--")):
        diff = np.abs(p["decay"] - p[key]).max(1)
        a3.semilogy(steps, np.maximum(diff, 1e-18), style, lw=0.8,
                    label=f"weight_decay vs {key}")
    a3.set_ylim(1e-18, 1e-10)
    a3.set_xlabel("step")
    a3.set_title("max |Δw| between the update forms, λ = 3", fontsize=9)
    a3.legend(fontsize=7)
    return fig
