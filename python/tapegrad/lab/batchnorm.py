"""Batch normalization: a deep sigmoid MLP with and without it, the running statistics
against the notes' moving average, inference on a batch of one, and gradient norms."""

import numpy as np

import tapegrad as tg
from tapegrad.lab._common import at_least, at_most, holds, new_figure

TITLE = "Batch normalization"
CLAIM = ("BN normalizes each feature by the batch's mean and variance, then scales and "
         "shifts by learned γ, β. A deep sigmoid MLP, whose gradients vanish layer by layer "
         "(σ′ ≤ ¼), trains with BN and barely moves without. Running statistics follow "
         "μ_run ← m·μ_run + (1 − m)·μ_batch, so inference works on a batch of one.")
FORMULA = ("x̂ᵢⱼ = (xᵢⱼ − mⱼ)/√(σⱼ² + ε),  yᵢⱼ = γⱼx̂ᵢⱼ + βⱼ\n"
           "mⱼ = 1/N Σᵢ xᵢⱼ,  σⱼ² = 1/N Σᵢ (xᵢⱼ − mⱼ)²\n"
           "μ_run ← m·μ_run + (1 − m)·μ_batch,  σ²_run ← m·σ²_run + (1 − m)·σ²_batch\n"
           "  (m = 1 − momentum = 0.9; the running variance uses the unbiased N/(N−1)·σ², "
           "as PyTorch)\n"
           "inference: yⱼ = γⱼ(xⱼ − μ_run,ⱼ)/√(σ²_run,ⱼ + ε) + βⱼ: fine with N = 1")

DEPTH, WIDTH = 8, 64


def _mlp(bn):
    layers, width = [], 64
    for _ in range(DEPTH):
        layers.append(tg.nn.Linear(width, WIDTH))
        if bn:
            layers.append(tg.nn.BatchNorm1d(WIDTH))
        layers.append(tg.nn.Sigmoid())
        width = WIDTH
    layers.append(tg.nn.Linear(width, 10))
    return tg.nn.Sequential(*layers)


def _train(bn, x, y, batches):
    model = _mlp(bn)
    linears = [m for m in model.modules() if isinstance(m, tg.nn.Linear)]
    opt = tg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    losses, ratios, norms = [], [], None
    for t, idx in enumerate(batches):
        opt.zero_grad()
        loss = tg.nn.functional.cross_entropy(model(x[idx]), y[idx])
        loss.backward()
        layer_norms = [m.weight.grad.norm().item() for m in linears]
        if t == 0:
            norms = layer_norms
        ratios.append(layer_norms[0] / layer_norms[-1])
        opt.step()
        losses.append(loss.item())
    return model, np.array(losses), np.array(ratios), np.array(norms)


def _running_stats(rng):
    """A standalone layer fed batches whose mean and scale drift; returns what the layer
    holds and what the notes' formulas give."""
    features, n, m = 5, 16, 0.9
    bn = tg.nn.BatchNorm1d(features, momentum=1 - m, dtype=tg.float64)
    with tg.no_grad():
        bn.weight.copy_(tg.tensor(rng.uniform(0.5, 2, features)))
        bn.bias.copy_(tg.tensor(rng.normal(0, 1, features)))
    mu_run, var_run = np.zeros(features), np.ones(features)
    history, out_err = [], 0.0
    gamma, beta = bn.weight.detach().numpy(), bn.bias.detach().numpy()
    for t in range(30):
        batch = rng.normal(np.sin(0.2 * t) * 3, 1 + 0.05 * t, (n, features))
        out = bn(tg.tensor(batch)).detach().numpy()
        mean, var = batch.mean(0), batch.var(0)  # biased, for the normalization
        expected = (batch - mean) / np.sqrt(var + bn.eps) * gamma + beta
        out_err = max(out_err, float(np.abs(out - expected).max()))
        mu_run = m * mu_run + (1 - m) * mean
        var_run = m * var_run + (1 - m) * var * n / (n - 1)
        history.append((bn.running_mean.numpy().copy(), mu_run.copy()))
    bn.eval()
    probe = rng.normal(0, 2, (4, features))
    eval_out = bn(tg.tensor(probe)).detach().numpy()
    eval_expected = (probe - mu_run) / np.sqrt(var_run + bn.eps) * gamma + beta
    return dict(mean_err=float(np.abs(bn.running_mean.numpy() - mu_run).max()),
                var_err=float(np.abs(bn.running_var.numpy() - var_run).max()),
                out_err=out_err, eval_err=float(np.abs(eval_out - eval_expected).max()),
                history=history)


def run(ctx):
    steps = ctx.pick(300, 1500)
    x, y = tg.datasets.load_digits()
    x = (x - x.mean(0)) / (x.std(0) + 1e-8)
    xt, yt = tg.tensor(x, dtype=tg.float32), tg.tensor(y)
    batches = [ctx.rng.integers(0, len(x), 64) for _ in range(steps)]
    runs = {}
    for bn in (False, True):
        runs[bn] = _train(bn, xt, yt, batches)
    model = runs[True][0].eval()
    probe = xt[:100]
    with tg.no_grad():
        together = model(probe).numpy()
        alone = np.concatenate([model(probe[i:i + 1]).numpy() for i in range(len(probe))])
    single_err = float(np.abs(together - alone).max() / np.abs(together).max())
    try:
        model.train()(probe[:1])
        refused = False
    except ValueError:
        refused = True
    return dict(losses={k: v[1] for k, v in runs.items()},
                ratios={k: v[2] for k, v in runs.items()},
                norms={k: v[3] for k, v in runs.items()},
                stats=_running_stats(ctx.rng), single_err=single_err, refused=refused)


def checks(data):
    tail = {k: float(v[-50:].mean()) for k, v in data["losses"].items()}
    ratio = {k: float(np.median(v[:50])) for k, v in data["ratios"].items()}
    s = data["stats"]
    return [
        # without BN the loss stays near log 10 = 2.30 (chance); with BN it falls below 0.2
        at_most("BN trains faster: mean loss over the last 50 steps, with / without BN",
                tail[True] / tail[False], 0.5),
        # without BN each sigmoid layer multiplies the gradient by ≤ ¼·‖W‖: ~1e-7 here
        at_least("gradients reach the first layer with BN: ‖∇W₁‖/‖∇W_last‖ with BN over "
                 "the same without (median, first 50 steps)", ratio[True] / ratio[False], 100),
        # float64 throughout: rounding of a few operations on values of size ~1-10
        at_most("training output = γ(x − m)/√(σ² + ε) + β with the batch's biased σ² (max "
                "abs difference)", s["out_err"], 1e-12),
        at_most("running mean = the notes' moving average with m = 0.9 (max abs difference "
                "after 30 batches)", s["mean_err"], 1e-12),
        at_most("running variance = the moving average of N/(N−1)·σ²_batch", s["var_err"],
                1e-12),
        at_most("eval output = γ(x − μ_run)/√(σ²_run + ε) + β", s["eval_err"], 1e-12),
        # float32 network; a batch of one and of 100 run the same arithmetic per row
        at_most("eval on a batch of one equals the row of a batch of 100 (max relative "
                "difference)", data["single_err"], 1e-5),
        holds("training mode refuses a batch of one (ValueError: no variance to normalize)",
              data["refused"]),
    ]


def figure(data):
    fig, (a1, a2, a4, a3) = new_figure(4, width=3.4)
    for bn, label in ((False, "without BN"), (True, "with BN")):
        loss = data["losses"][bn]
        smooth = np.convolve(loss, np.ones(10) / 10, mode="valid")
        a1.plot(loss, color="C1" if bn else "C0", alpha=0.25, lw=0.6)
        a1.plot(np.arange(9, len(loss)), smooth, color="C1" if bn else "C0", label=label)
        layers = np.arange(1, len(data["norms"][bn]) + 1)
        a2.semilogy(layers, data["norms"][bn], "o-", color="C1" if bn else "C0", label=label)
        a4.semilogy(data["ratios"][bn], color="C1" if bn else "C0", lw=0.8, label=label)
    a1.set_xlabel("step")
    a1.set_title(f"training loss, {DEPTH} sigmoid layers", fontsize=9)
    a1.legend(fontsize=7)
    a2.set_xlabel("layer")
    a2.set_title("‖∇W‖ per layer at the first step", fontsize=9)
    a2.legend(fontsize=7)
    a4.set_xlabel("step")
    a4.set_title("‖∇W₁‖/‖∇W_last‖ along training", fontsize=9)
    a4.legend(fontsize=7)
    hist = data["stats"]["history"]
    layer = np.array([h[0] for h in hist])
    formula = np.array([h[1] for h in hist])
    for j in range(3):
        a3.plot(layer[:, j], "o", ms=4, mfc="none", color=f"C{j}")
        a3.plot(formula[:, j], "-", lw=1, color=f"C{j}")
    a3.plot([], [], "ko", mfc="none", label="running_mean of BatchNorm1d")
    a3.plot([], [], "k-", label="m·μ_run + (1 − m)·μ_batch")
    a3.set_xlabel("batch")
    a3.set_title("running mean, 3 features (batch means drift)", fontsize=9)
    a3.legend(fontsize=7)
    return fig
