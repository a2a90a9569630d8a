"""Activation and gradient variance through 30 layers for the notes' initializations."""

import numpy as np

import tapegrad as tg
from tapegrad.lab._common import at_most, between, new_figure

TITLE = "Weight initialization: variance through 30 layers"
CLAIM = ("With y = Wx, Var[yᵢ] = n·Var[w]·Var[x]. Uniform ±1/√n has n·Var[w] = 1/3, so the "
         "variance shrinks by 1/3 per layer; Xavier (Var[w] = 2/(n_in + n_out)) with tanh "
         "decays only slowly; Kaiming (Var[w] = 2/n) makes up for ReLU halving E[h²] and "
         "keeps the variance within [0.5, 2]; LeCun (Var[w] = 1/n) keeps it for linear "
         "layers; orthogonal W keeps ‖Wx‖ = ‖x‖ exactly, forward and backward.")
FORMULA = ("Var[yᵢ] = n·Var[wᵢ]·Var[xᵢ]  (E[w] = E[x] = 0)\n"
           "uniform ±1/√n: Var[w] = (2/√n)²/12 = 1/(3n)  ⇒  n·Var[w] = 1/3 per layer\n"
           "Xavier: Var[w] = 2/(n_in + n_out)   LeCun: Var[w] = 1/n_in   "
           "Kaiming (ReLU): Var[w] = 2/n_in, since E[ReLU(z)²] = ½Var[z]\n"
           "backward: ∇ₓL = Wᵀ∇_zL,  Var[(∇ₓL)ⱼ] = n_out·Var[w]·Var[(∇_zL)ᵢ]\n"
           "orthogonal: WᵀW = I  ⇒  ‖Wx‖ = ‖x‖ and ‖Wᵀ∇_zL‖ = ‖∇_zL‖")

LAYERS = 30
SCHEMES = {  # name: (initializer, activation)
    "uniform ±1/√n, tanh": ("uniform", "tanh"),
    "Xavier, tanh": ("xavier", "tanh"),
    "Kaiming, ReLU": ("kaiming", "relu"),
    "LeCun, linear": ("lecun", "linear"),
    "orthogonal, linear": ("orthogonal", "linear"),
}


def _init(w, kind, n):
    init = tg.nn.init
    if kind == "uniform":
        init.uniform_(w, -1 / np.sqrt(n), 1 / np.sqrt(n))
    elif kind == "xavier":
        init.xavier_uniform_(w)
    elif kind == "kaiming":
        init.kaiming_normal_(w, nonlinearity="relu")
    elif kind == "lecun":
        init.lecun_normal_(w)
    else:
        init.orthogonal_(w)


def _activation(kind, y):
    return y.tanh() if kind == "tanh" else y.relu() if kind == "relu" else y


def _network(kind, act, width, batch):
    """One random network: per layer, the mean of y² (y = W·h, the layer's output) and of
    the gradient ∂L/∂y², with L = Σ r ⊙ h_last for random r; and for orthogonal weights
    the largest |‖y‖/‖h‖ − 1| over samples, forward and backward."""
    x = tg.randn(batch, width).requires_grad_()  # the weights need no gradient here
    weights = []
    for _ in range(LAYERS):
        w = tg.empty(width, width)
        _init(w, kind, width)
        weights.append(w)
    outputs, inputs, h = [], [], x
    for w in weights:
        inputs.append(h)
        y = h @ w.T
        outputs.append(y)
        h = _activation(act, y)
    loss = (h * tg.randn(batch, width)).sum()
    if act == "linear":  # each layer's input is the previous output: one grad call
        # (not outputs + inputs[1:]: autograd.grad refuses a tensor listed twice)
        g_out = tg.autograd.grad(loss, outputs)
        g_in = g_out[:-1]
    else:
        grads = tg.autograd.grad(loss, outputs + inputs[1:])
        g_out, g_in = grads[:LAYERS], grads[LAYERS:]
    forward = [float((y.detach() * y.detach()).mean().item()) for y in outputs]
    backward = [float((g * g).mean().item()) for g in g_out]
    norm_err = 0.0
    if kind == "orthogonal":
        for h_in, y in zip(inputs, outputs):  # ‖Wx‖ = ‖x‖, per sample
            a = np.linalg.norm(y.detach().numpy(), axis=1)
            b = np.linalg.norm(h_in.detach().numpy(), axis=1)
            norm_err = max(norm_err, float(np.abs(a / b - 1).max()))
        for gy, gx in zip(g_out[1:], g_in):  # ‖Wᵀ∇_zL‖ = ‖∇_zL‖ (linear: ∇_h = ∇_y of prev)
            a = np.linalg.norm(gx.numpy(), axis=1)
            b = np.linalg.norm(gy.numpy(), axis=1)
            norm_err = max(norm_err, float(np.abs(a / b - 1).max()))
    return np.array(forward), np.array(backward), norm_err


def run(ctx):
    width, batch = 128, 32
    # Var over weights and inputs (the notes' expectation) is estimated by pooling
    # independent networks: one network's variance drifts by ~√(2/n) per layer, a factor
    # ~2 after 30 ReLU layers at n = 128. Pooling 48 networks keeps Kaiming's extremes
    # within [0.75, 1.3] (12 seeds); the other schemes need fewer, and orthogonal weights
    # preserve norms exactly in every network (one QR per layer is their cost).
    counts = {"kaiming": ctx.pick(48, 192), "orthogonal": ctx.pick(1, 4)}
    nets = {name: counts.get(kind, ctx.pick(8, 32)) for name, (kind, _) in SCHEMES.items()}
    results = {}
    for name, (kind, act) in SCHEMES.items():
        fwd, bwd, err = np.zeros(LAYERS), np.zeros(LAYERS), 0.0
        for _ in range(nets[name]):
            f, b, e = _network(kind, act, width, batch)
            fwd += f / nets[name]
            bwd += b / nets[name]
            err = max(err, e)
        results[name] = dict(forward=fwd, backward=bwd, norm_err=err)
    return dict(results=results, width=width, nets=nets)


def checks(data):
    r = data["results"]
    layers = np.arange(1, LAYERS + 1)
    uni = r["uniform ±1/√n, tanh"]["forward"]
    per_layer = float(np.exp(np.polyfit(layers[5:], np.log(uni[5:]), 1)[0]))
    xav = r["Xavier, tanh"]["forward"]
    kai = r["Kaiming, ReLU"]
    lec = r["LeCun, linear"]["forward"]
    return [
        # past the first layers tanh(y) ≈ y, so the ratio is n·Var[w] = 1/3; the fit over 25
        # layers and pooled networks varies by < 1% between seeds
        between("uniform ±1/√n: variance ratio per layer (fit over layers 6-30)", per_layer,
                0.3, 0.37, "1/3 ± 10%"),
        # E[tanh(y)²] = v − 2v² + O(v³) for y ~ N(0, v): vₗ₊₁ ≈ vₗ − 2vₗ² ⇒ vₗ ≈ 1/(2l), a slow
        # (power-law) decay instead of 3⁻ˡ
        between("Xavier with tanh: Var[y] at layer 30 times 2·30 (vₗ ≈ 1/(2l))",
                float(xav[-1] * 2 * LAYERS), 0.7, 1.5),
        between("Kaiming with ReLU: smallest Var[yₗ]/Var[y₁] over the 30 layers",
                float((kai["forward"] / kai["forward"][0]).min()), 0.5, 2.0),
        between("Kaiming with ReLU: largest Var[yₗ]/Var[y₁] over the 30 layers",
                float((kai["forward"] / kai["forward"][0]).max()), 0.5, 2.0),
        between("Kaiming with ReLU: gradient variance, smallest ratio to the last layer's",
                float((kai["backward"] / kai["backward"][-1]).min()), 0.5, 2.0),
        between("Kaiming with ReLU: gradient variance, largest ratio to the last layer's",
                float((kai["backward"] / kai["backward"][-1]).max()), 0.5, 2.0),
        between("LeCun, linear layers: Var[y] at layer 30 / Var[x] (= 1)", float(lec[-1]), 0.5,
                2.0),
        # float32: each product rounds at ~1e-7 relative
        at_most("orthogonal: max |‖Wx‖/‖x‖ − 1| and |‖Wᵀg‖/‖g‖ − 1| over layers and samples",
                r["orthogonal, linear"]["norm_err"], 1e-5),
    ]


def figure(data):
    fig, (a1, a2) = new_figure(2, width=5.2)
    layers = np.arange(1, LAYERS + 1)
    for k, (name, res) in enumerate(data["results"].items()):
        a1.semilogy(layers, res["forward"] / res["forward"][0], "o-", ms=2.5, color=f"C{k}",
                    label=name)
        a2.semilogy(layers, res["backward"] / res["backward"][-1], "o-", ms=2.5, color=f"C{k}",
                    label=name)
    a1.semilogy(layers, (1 / 3) ** (layers - 1), "k:", lw=0.8, label="3⁻⁽ˡ⁻¹⁾")
    xavier = data["results"]["Xavier, tanh"]["forward"]
    a1.semilogy(layers, 1 / (2 * layers) / xavier[0], "k--", lw=0.8, label="1/(2l)")
    for ax in (a1, a2):
        ax.axhspan(0.5, 2, color="C2", alpha=0.1)
        ax.set_xlabel("layer l")
    a1.set_title(f"forward: Var[yₗ]/Var[y₁], width {data['width']}, pooled over up to "
                 f"{max(data['nets'].values())} networks", fontsize=9)
    a2.set_title("backward: Var[∂L/∂yₗ]/Var[∂L/∂y₃₀]; band: [0.5, 2]", fontsize=9)
    a1.legend(fontsize=6.5)
    return fig
