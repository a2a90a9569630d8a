"""The notes' optimizers on an MLP for the UCI digits: loss curves at one step size, and
each update rule replayed from the notes' formula."""

import numpy as np

import tapegrad as tg
from tapegrad.lab._common import at_most, new_figure

TITLE = "Momentum and adaptive methods on the digits MLP"
CLAIM = ("SGD with momentum, Nesterov, Adagrad, RMSprop, Adadelta, Adam and AdamW follow the "
         "notes' update rules; at the same step size α, momentum and the per-coordinate "
         "scaling of the adaptive methods train the digits MLP far faster than plain SGD.")
FORMULA = ("momentum: uₜ = γuₜ₋₁ − αgₜ,  xₜ₊₁ = xₜ + uₜ\n"
           "Nesterov: uₜ = γuₜ₋₁ − αgₜ,  xₜ₊₁ = xₜ + γuₜ − αgₜ  (the gradient taken at the "
           "look-ahead point, in the variables that PyTorch steps)\n"
           "Adagrad: Gₜ = Gₜ₋₁ + gₜ²,  xₜ₊₁ = xₜ − α·gₜ/√(Gₜ + ε)\n"
           "RMSprop: Gₜ = δGₜ₋₁ + (1 − δ)gₜ²,  xₜ₊₁ = xₜ − α·gₜ/√(Gₜ + ε)\n"
           "Adadelta: xₜ₊₁ = xₜ − α·√(Rₜ₋₁ + ε)/√(Gₜ + ε)·gₜ,  Rₜ = βRₜ₋₁ + (1 − β)uₜ²\n"
           "Adam: mₜ = β₁mₜ₋₁ + (1 − β₁)gₜ,  Gₜ = β₂Gₜ₋₁ + (1 − β₂)gₜ²,  "
           "xₜ₊₁ = xₜ − α·m̂ₜ/(√Ĝₜ + ε)\n"
           "  (with Kingma and Ba's bias correction m̂ = m/(1 − β₁ᵗ), Ĝ = G/(1 − β₂ᵗ), "
           "which the notes leave out)\n"
           "AdamW: w ← (1 − αλ)w − α·(Adam's step)")

ALPHA = 0.01


def _optimizers():
    o = tg.optim
    return {
        "SGD": lambda p: o.SGD(p, lr=ALPHA),
        "momentum": lambda p: o.SGD(p, lr=ALPHA, momentum=0.9),
        "Nesterov": lambda p: o.SGD(p, lr=ALPHA, momentum=0.9, nesterov=True),
        "Adagrad": lambda p: o.Adagrad(p, lr=ALPHA),
        "RMSprop": lambda p: o.RMSprop(p, lr=ALPHA),
        "Adadelta": lambda p: o.Adadelta(p, lr=1.0),  # its step has its own units
        "Adam": lambda p: o.Adam(p, lr=ALPHA),
        "AdamW": lambda p: o.AdamW(p, lr=ALPHA, weight_decay=0.01),
    }


# --- the update rules of the notes, replayed in NumPy from the recorded gradients ----------


def _replay(name, x, grads):
    x = x.astype(np.float64).copy()
    state = {}
    for t, g in enumerate(grads, 1):
        g = g.astype(np.float64)
        if name == "momentum":
            u = 0.9 * state.get("u", 0.0) - ALPHA * g
            state["u"] = u
            x = x + u
        elif name == "Nesterov":
            u = 0.9 * state.get("u", 0.0) - ALPHA * g
            state["u"] = u
            x = x + 0.9 * u - ALPHA * g
        elif name == "Adagrad":
            state["G"] = state.get("G", 0.0) + g * g
            x = x - ALPHA * g / (np.sqrt(state["G"]) + 1e-10)
        elif name == "RMSprop":
            state["G"] = 0.99 * state.get("G", 0.0) + 0.01 * g * g
            x = x - ALPHA * g / (np.sqrt(state["G"]) + 1e-8)
        elif name == "Adadelta":
            state["G"] = 0.9 * state.get("G", 0.0) + 0.1 * g * g
            u = np.sqrt(state.get("R", 0.0) + 1e-6) / np.sqrt(state["G"] + 1e-6) * g
            state["R"] = 0.9 * state.get("R", 0.0) + 0.1 * u * u
            x = x - 1.0 * u
        elif name in ("Adam", "AdamW"):
            if name == "AdamW":
                x = x * (1 - ALPHA * 0.01)
            state["m"] = 0.9 * state.get("m", 0.0) + 0.1 * g
            state["G"] = 0.999 * state.get("G", 0.0) + 0.001 * g * g
            m_hat = state["m"] / (1 - 0.9 ** t)
            g_hat = state["G"] / (1 - 0.999 ** t)
            x = x - ALPHA * m_hat / (np.sqrt(g_hat) + 1e-8)
    return x


def _rule_errors(rng, steps=6):
    """Runs each optimizer on a small float64 problem, records its gradients and compares
    its parameters with the notes' formula applied to the same gradients."""
    a = rng.standard_normal((20, 20))
    a = tg.tensor(a @ a.T / 20 + np.eye(20))
    b = tg.tensor(rng.standard_normal(20))
    x0 = rng.standard_normal(20)
    errors = {}
    for name, make in _optimizers().items():
        if name == "SGD":
            continue
        x = tg.tensor(x0, requires_grad=True)
        opt = make([x])
        grads = []
        for _ in range(steps):
            opt.zero_grad()
            (0.5 * tg.dot(x, a @ x) - tg.dot(b, x) + (x ** 4).sum() / 4).backward()
            grads.append(x.grad.numpy().copy())
            opt.step()
        expected = _replay(name, x0, grads)
        errors[name] = float(np.abs(x.detach().numpy() - expected).max()
                             / np.abs(expected - x0).max())
    return errors


def run(ctx):
    steps = ctx.pick(300, 1500)
    x, y = tg.datasets.load_digits()
    x = (x - x.mean(0)) / (x.std(0) + 1e-8)
    xt, yt = tg.tensor(x, dtype=tg.float32), tg.tensor(y)
    model = tg.nn.Sequential(tg.nn.Linear(64, 64), tg.nn.ReLU(), tg.nn.Linear(64, 10))
    start = {k: v.clone() for k, v in model.state_dict().items()}
    batches = [ctx.rng.integers(0, len(x), 64) for _ in range(steps)]
    every = 10
    curves = {}
    for name, make in _optimizers().items():
        model.load_state_dict(start)  # every optimizer starts from the same weights
        opt = make(model.parameters())
        curve = []
        for t, idx in enumerate(batches):
            if t % every == 0:
                with tg.no_grad():
                    curve.append(tg.nn.functional.cross_entropy(model(xt), yt).item())
            opt.zero_grad()
            tg.nn.functional.cross_entropy(model(xt[idx]), yt[idx]).backward()
            opt.step()
        with tg.no_grad():
            curve.append(tg.nn.functional.cross_entropy(model(xt), yt).item())
        curves[name] = np.array(curve)
    return dict(curves=curves, every=every, steps=steps, rules=_rule_errors(ctx.rng))


def checks(data):
    final = {k: v[-1] for k, v in data["curves"].items()}
    # the float64 replays differ from the library's steps only by rounding order
    out = [at_most(f"{name} follows the notes' update rule over 6 steps (max deviation / "
                   "size of the move)", err, 1e-9) for name, err in data["rules"].items()]
    for name in ("momentum", "Adagrad", "RMSprop", "Adam"):
        # measured ratios are below 0.1 after 300 steps; 0.5 leaves room for other seeds
        out.append(at_most(f"{name} trains faster than plain SGD at α = {ALPHA}: final "
                           "training loss ratio", final[name] / final["SGD"], 0.5))
    return out


def figure(data):
    fig, (a1, a2) = new_figure(2, width=5.0)
    steps = None
    for k, (name, curve) in enumerate(data["curves"].items()):
        steps = np.arange(len(curve)) * data["every"]
        steps[-1] = data["steps"]
        style = "--" if name in ("Nesterov", "AdamW") else "-"
        a1.plot(steps, curve, style, color=f"C{k}", label=name)
        a2.semilogy(steps, np.maximum(curve, 1e-6), style, color=f"C{k}", label=name)
    a1.set_xlabel("step (batch of 64)")
    a1.set_title(f"training loss, α = {ALPHA} (Adadelta: lr = 1)", fontsize=9)
    a1.set_ylim(0, 2.5)
    a1.legend(fontsize=7, ncol=2)
    a2.set_xlabel("step")
    a2.set_title("the same, log scale", fontsize=9)
    return fig
