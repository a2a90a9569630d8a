"""One training step of a 784-256-256-10 ReLU MLP: zero_grad, forward, loss, backward, Adam.

This is the whole loop of a small model, so it adds up everything the other
benches time apart: three products and their transposed products in the
backward (OpenBLAS), the elementwise ReLU, the fused cross-entropy, the walk
of the tape and the fused Adam step, plus the Python between them. One step::

    opt.zero_grad(); loss = F.cross_entropy(model(x), y); loss.backward(); opt.step()

with ``model = Sequential(Linear(784, 256), ReLU(), Linear(256, 256), ReLU(),
Linear(256, 10))`` and ``Adam(lr=1e-3)``, float32, batch 64 and 256, on 1
thread (tapegrad, torch and both OpenBLAS libraries). PyTorch runs the same
model with ``Adam(fused=True)``; NumPy runs a hand-written MLP (forward,
softmax cross-entropy, backward) and an in-place Adam. All three start from
the same weights; the losses of their first steps are compared.

Two more rows per batch split the step, each half timed on its own:
``fwd+bwd`` (zero_grad, forward, loss, backward) and ``Adam step``
(``opt.step()`` alone, on the last gradients). They have no target; they
show where a step's time goes.

Targets: tapegrad ≤ 0.9× PyTorch's time per step at batch 64, ≤ 1.0× at 256.
"""

from __future__ import annotations

import math
import sys

import numpy as np

try:
    from . import _common as C
except ImportError:
    import _common as C

NAME = "mlp"
LAYERS = (784, 256, 256, 10)
BATCHES = (64, 256)
TARGETS = {64: 0.9, 256: 1.0}  # tg/torch time per step
LR, BETAS, EPS = 1e-3, (0.9, 0.999), 1e-8


def init_weights(rng) -> list[np.ndarray]:
    """[W1, b1, W2, b2, W3, b3] (W: out × in), U(±1/√fan_in) as PyTorch's Linear."""
    out = []
    for fan_in, fan_out in zip(LAYERS[:-1], LAYERS[1:]):
        bound = 1 / math.sqrt(fan_in)
        out.append(rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32))
        out.append(rng.uniform(-bound, bound, fan_out).astype(np.float32))
    return out


class NumpyMLP:
    """The same MLP by hand: forward, softmax cross-entropy, backward, in-place Adam."""

    def __init__(self, weights):
        self.params = [w.copy() for w in weights]
        self.m = [np.zeros_like(w) for w in weights]
        self.v = [np.zeros_like(w) for w in weights]
        self.scratch = [np.empty_like(w) for w in weights]
        self.t = 0

    def step(self, x, y):
        loss = self.fwd_bwd(x, y)
        self.adam()
        return loss

    def fwd_bwd(self, x, y):
        """Forward, loss and backward; the gradients go to ``self.grads``."""
        w1, b1, w2, b2, w3, b3 = self.params
        n = x.shape[0]
        h1 = x @ w1.T
        h1 += b1
        np.maximum(h1, 0, out=h1)
        h2 = h1 @ w2.T
        h2 += b2
        np.maximum(h2, 0, out=h2)
        z = h2 @ w3.T
        z += b3
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        s = z.sum(axis=1, keepdims=True)
        rows = np.arange(n)
        loss = float(np.mean(np.log(s[:, 0]) - np.log(z[rows, y])))
        z /= s  # softmax
        z[rows, y] -= 1
        z /= n  # d loss / d logits
        dh2 = z @ w3
        dh2 *= h2 > 0
        dh1 = dh2 @ w2
        dh1 *= h1 > 0
        self.grads = [dh1.T @ x, dh1.sum(axis=0), dh2.T @ h1, dh2.sum(axis=0), z.T @ h2,
                      z.sum(axis=0)]
        return loss

    def adam(self):
        self.t += 1
        C.numpy_adam(self.params, self.grads, self.m, self.v, self.scratch, self.t, LR, BETAS,
                     EPS)


def _lib_mlp(lib, weights, fused: bool):
    """The model and Adam of tapegrad or torch (same API), with the given weights."""
    nn = lib.nn
    model = nn.Sequential(nn.Linear(LAYERS[0], LAYERS[1]), nn.ReLU(),
                          nn.Linear(LAYERS[1], LAYERS[2]), nn.ReLU(),
                          nn.Linear(LAYERS[2], LAYERS[3]))
    params = list(model.parameters())
    with lib.no_grad():
        for p, w in zip(params, weights):
            p.copy_(lib.from_numpy(w))
    opt = lib.optim.Adam(params, lr=LR, betas=BETAS, eps=EPS, **({"fused": True} if fused
                                                                  else {}))
    f = nn.functional

    def fwd_bwd(x, y):
        opt.zero_grad()
        loss = f.cross_entropy(model(x), y)
        loss.backward()
        return loss

    def step(x, y):
        loss = fwd_bwd(x, y)
        opt.step()
        return loss

    return step, params, fwd_bwd, opt.step


def _contenders(tg, torch, batch, rng):
    weights = init_weights(rng)
    xn = rng.standard_normal((batch, LAYERS[0])).astype(np.float32)
    yn = rng.integers(0, LAYERS[-1], batch).astype(np.int64)
    tg_step, tg_params, tg_fb, tg_opt = _lib_mlp(tg, weights, fused=False)
    x, y = tg.from_numpy(xn), tg.from_numpy(yn)
    nmlp = NumpyMLP(weights)
    fns = {"tapegrad": lambda: tg_step(x, y), "torch": None, "numpy": lambda: nmlp.step(xn, yn)}
    # the two halves of a step, timed apart (the optimizer step reuses the last gradients)
    phases = {"fwd+bwd": {"tapegrad": lambda: tg_fb(x, y), "torch": None,
                          "numpy": lambda: nmlp.fwd_bwd(xn, yn)},
              "Adam step": {"tapegrad": tg_opt, "torch": None, "numpy": nmlp.adam}}
    th_step = None
    if torch is not None:
        th_step, th_params, th_fb, th_opt = _lib_mlp(torch, weights, fused=True)
        xt, yt = torch.from_numpy(xn), torch.from_numpy(yn)
        fns["torch"] = lambda: th_step(xt, yt)
        phases["fwd+bwd"]["torch"] = lambda: th_fb(xt, yt)
        phases["Adam step"]["torch"] = th_opt
    # the first steps from the same weights: losses and parameters side by side
    losses = {"tapegrad": [], "torch": [], "numpy": []}
    for _ in range(3):
        losses["tapegrad"].append(tg_step(x, y).item())
        losses["numpy"].append(nmlp.step(xn, yn))
        if th_step is not None:
            losses["torch"].append(th_step(xt, yt).item())
    check = {"loss_vs_numpy": max(abs(a - b) for a, b in zip(losses["tapegrad"],
                                                              losses["numpy"])),
             "params_vs_numpy": max(float(np.max(np.abs(p.detach().numpy() - q)))
                                    for p, q in zip(tg_params, nmlp.params))}
    if th_step is not None:
        check["loss_vs_torch"] = max(abs(a - b) for a, b in zip(losses["tapegrad"],
                                                                 losses["torch"]))
        check["params_vs_torch"] = max(float(np.max(np.abs(p.detach().numpy()
                                                            - q.detach().numpy())))
                                       for p, q in zip(tg_params, th_params))
    return fns, phases, check, losses


def run(quick: bool = False, repeats: int | None = None, batches=BATCHES) -> dict:
    """Times a step at every batch size on 1 thread; returns ``{"rows", "notes", ...}``."""
    tg = C.import_tapegrad()
    torch = C.import_torch()
    opts = C.compare_opts(quick, repeats, full=(11, 0.05, 0.2), short=(3, 0.01, 0.02))
    rng = np.random.default_rng(0)
    rows, checks, first_losses = [], {}, {}
    with C.Threads(1, tg, torch):
        blas = C.openblas_info()
        for batch in batches:
            print(f"[mlp] batch={batch}", file=sys.stderr, flush=True)
            fns, phases, checks[batch], first_losses[batch] = _contenders(tg, torch, batch,
                                                                          rng)
            for case, case_fns in [("train step", fns)] + list(phases.items()):
                t, others, attempts = C.compare_quiet(case_fns, threads=1,
                                                      **C.quiet_opts(quick), **opts)
                ms = {k: v.median * 1e3 for k, v in t.items()}
                row = {"bench": NAME, "case": f"{case} batch={batch}", "unit": "ms",
                       "tapegrad": ms.get("tapegrad"), "torch": ms.get("torch"),
                       "numpy": ms.get("numpy"),
                       "tg/torch": C.ratio(ms.get("tapegrad"), ms.get("torch")),
                       "tg/numpy": C.ratio(ms.get("tapegrad"), ms.get("numpy")),
                       "spread": t["tapegrad"].spread, "others": others,
                       "attempts": attempts, "timings": t}
                if case == "train step" and batch in TARGETS:
                    row["target"] = f"tg/torch ≤ {TARGETS[batch]:g}"
                    row["status"] = C.status(row["tg/torch"], "<=", TARGETS[batch],
                                             C.unreliable(t, others, 1))
                rows.append(row)
    notes = [
        f"layers {'-'.join(map(str, LAYERS))}, ReLU, cross-entropy (mean), Adam lr={LR}; "
        "torch: Adam(fused=True); float32",
        "threads: tapegrad 1, torch 1, OpenBLAS " + ", ".join(
            f"{b['library']}={b['num_threads']}" for b in blas),
        "first 3 steps from the same weights, largest |difference|: " + "; ".join(
            f"batch {k}: " + ", ".join(f"{n} {v:.1e}" for n, v in c.items())
            for k, c in checks.items()),
    ]
    if torch is None:
        notes.append("torch not installed: tg/torch ratios and targets are n/a")
    return {"rows": rows, "notes": notes, "checks": checks, "first_losses": first_losses,
            "config": {**opts, "quick": quick, "batches": list(batches), "threads": 1}}


def report(result: dict) -> None:
    C.print_table(result["rows"], title="MLP 784-256-256-10 training step (median ms per step; "
                                        "ratios are tapegrad time / other time, lower is "
                                        "better)")
    C.print_notes(result)


def main(argv=None) -> dict:
    args = C.make_parser(__doc__.splitlines()[0]).parse_args(argv)
    return C.main_for(NAME, run, report, args)


if __name__ == "__main__":
    main(sys.argv[1:])
