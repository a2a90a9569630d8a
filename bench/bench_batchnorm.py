"""Batch normalization: ``tg.nn.BatchNorm1d`` forward + backward in training mode.

Batch norm in training is a few passes over the activations (statistics,
normalize, then two for the backward), so it is memory bound and its cost is
how many passes a library makes. tapegrad has a fused C++ forward and
backward; this times them against ``torch.nn.BatchNorm1d`` and a NumPy
implementation (vectorized forward + hand-written backward, in-place where it
can), float32, at (N, C) = (256, 1024) and (4096, 256), on 1 thread:

* ``fwd+bwd``: ``y = bn(x); y.backward(gy)`` with ``x`` requiring grad and the
  gradients of x, weight and bias reset to ``None`` first (as ``zero_grad``
  does); the running statistics are updated each call, as in training;
* ``fwd``: the training-mode forward alone (input without ``requires_grad``;
  the affine parameters still record the graph).

Target: forward + backward ≤ 0.5× PyTorch's time.
"""

from __future__ import annotations

import sys

import numpy as np

try:
    from . import _common as C
except ImportError:
    import _common as C

NAME = "batchnorm"
SIZES = ((256, 1024), (4096, 256))
TARGET = 0.5  # tg/torch time, forward + backward
EPS, MOMENTUM = 1e-5, 0.1


class NumpyBatchNorm:
    """BatchNorm1d in training mode with NumPy: forward, running statistics, backward."""

    def __init__(self, c: int):
        self.weight = np.ones(c, np.float32)
        self.bias = np.zeros(c, np.float32)
        self.running_mean = np.zeros(c, np.float32)
        self.running_var = np.ones(c, np.float32)
        self.grads = {}

    def forward(self, x):
        n = x.shape[0]
        mean = x.mean(axis=0)
        xhat = x - mean
        var = np.square(xhat).mean(axis=0)
        invstd = 1.0 / np.sqrt(var + np.float32(EPS))
        xhat *= invstd
        y = xhat * self.weight
        y += self.bias
        self.running_mean *= 1 - MOMENTUM
        self.running_mean += MOMENTUM * mean
        self.running_var *= 1 - MOMENTUM
        self.running_var += (MOMENTUM * n / (n - 1)) * var
        self._saved = (xhat, invstd)
        return y

    def backward(self, gy):
        xhat, invstd = self._saved
        n = gy.shape[0]
        dbeta = gy.sum(axis=0)
        t = gy * xhat
        dgamma = t.sum(axis=0)
        np.multiply(xhat, dgamma, out=t)
        dx = gy * np.float32(n)
        dx -= dbeta
        dx -= t
        dx *= self.weight * invstd / np.float32(n)
        self.grads = {"x": dx, "weight": dgamma, "bias": dbeta}
        self._saved = None

    def fwd_bwd(self, x, gy):
        self.forward(x)
        self.backward(gy)


def _contenders(tg, torch, n, c, rng):
    """The timed functions of one size (fwd and fwd+bwd per library) and a check."""
    xn = rng.standard_normal((n, c)).astype(np.float32) * 2 + 0.5
    gyn = rng.standard_normal((n, c)).astype(np.float32)
    nbn = NumpyBatchNorm(c)
    bn = tg.nn.BatchNorm1d(c)
    x, xg, gy = tg.from_numpy(xn), tg.tensor(xn, requires_grad=True), tg.from_numpy(gyn)
    tg_params = (xg, bn.weight, bn.bias)

    def tg_fb():
        for p in tg_params:
            p.grad = None
        bn(xg).backward(gy)

    fns = {"tg fwd": lambda: bn(x), "torch fwd": None, "numpy fwd": lambda: nbn.forward(xn),
           "tg fwd+bwd": tg_fb, "torch fwd+bwd": None,
           "numpy fwd+bwd": lambda: nbn.fwd_bwd(xn, gyn)}
    tbn = None
    if torch is not None:
        tbn = torch.nn.BatchNorm1d(c)
        xt = torch.from_numpy(xn)
        xtg = xt.clone().requires_grad_(True)
        gyt = torch.from_numpy(gyn)
        th_params = (xtg, tbn.weight, tbn.bias)

        def th_fb():
            for p in th_params:
                p.grad = None
            tbn(xtg).backward(gyt)

        fns["torch fwd"] = lambda: tbn(xt)
        fns["torch fwd+bwd"] = th_fb

    # one call each, then the outputs and gradients side by side
    tg_fb()
    nbn.fwd_bwd(xn, gyn)
    got = {"y": bn(x).detach().numpy(), "x": xg.grad.numpy(), "weight": bn.weight.grad.numpy(),
           "bias": bn.bias.grad.numpy()}
    want = {"y": nbn.forward(xn), **nbn.grads}
    check = {"vs_numpy": max(float(np.max(np.abs(got[k] - want[k]))) for k in got)}
    if tbn is not None:
        th_fb()
        want = {"y": tbn(xt).detach().numpy(), "x": xtg.grad.numpy(),
                "weight": tbn.weight.grad.numpy(), "bias": tbn.bias.grad.numpy()}
        check["vs_torch"] = max(float(np.max(np.abs(got[k] - want[k]))) for k in got)
    return fns, check


def run(quick: bool = False, repeats: int | None = None, sizes=SIZES) -> dict:
    """Times every size on 1 thread; returns ``{"rows", "notes", "checks", "config"}``."""
    tg = C.import_tapegrad()
    torch = C.import_torch()
    opts = C.compare_opts(quick, repeats, full=(11, 0.02, 0.05))
    rng = np.random.default_rng(0)
    rows, checks = [], {}
    with C.Threads(1, tg, torch):
        for n, c in sizes:
            print(f"[batchnorm] N={n} C={c}", file=sys.stderr, flush=True)
            fns, checks[f"N={n} C={c}"] = _contenders(tg, torch, n, c, rng)
            t, others, attempts = C.compare_quiet(fns, threads=1, **C.quiet_opts(quick), **opts)
            noisy = C.unreliable(t, others, 1)
            us = {k: v.median * 1e6 for k, v in t.items()}
            for kind in ("fwd+bwd", "fwd"):
                tg_t, th_t, np_t = (us.get(f"{lib} {kind}") for lib in ("tg", "torch", "numpy"))
                row = {"bench": NAME, "case": f"{kind} N={n} C={c}", "unit": "µs",
                       "tapegrad": tg_t, "torch": th_t, "numpy": np_t,
                       "tg/torch": C.ratio(tg_t, th_t), "tg/numpy": C.ratio(tg_t, np_t),
                       "spread": t[f"tg {kind}"].spread, "others": others,
                       "attempts": attempts,
                       "timings": {k: v for k, v in t.items() if k.endswith(f" {kind}")}}
                if kind == "fwd+bwd":
                    row["target"] = f"tg/torch ≤ {TARGET:g}"
                    row["status"] = C.status(row["tg/torch"], "<=", TARGET, noisy)
                rows.append(row)
    notes = [
        "float32, training mode, affine, running statistics tracked (momentum 0.1); 1 thread "
        "in every library",
        "largest |difference| of y and the gradients of x, weight, bias: " + "; ".join(
            f"{k}: " + ", ".join(f"{n} {v:.1e}" for n, v in c.items())
            for k, c in checks.items()),
    ]
    if torch is None:
        notes.append("torch not installed: tg/torch ratios and targets are n/a")
    return {"rows": rows, "notes": notes, "checks": checks,
            "config": {**opts, "quick": quick, "sizes": [list(s) for s in sizes], "threads": 1}}


def report(result: dict) -> None:
    C.print_table(result["rows"], title="BatchNorm1d, training mode (median µs per call; ratios "
                                        "are tapegrad time / other time, lower is better)")
    C.print_notes(result)


def main(argv=None) -> dict:
    args = C.make_parser(__doc__.splitlines()[0]).parse_args(argv)
    return C.main_for(NAME, run, report, args)


if __name__ == "__main__":
    main(sys.argv[1:])
