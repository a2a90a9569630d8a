"""Optimizer steps: one ``step()`` of each fused optimizer on 10M float32 parameters.

An optimizer step reads and writes every parameter, its gradient and its
state once: pure memory traffic, so its speed is GB/s and the question is
whether a library makes one pass or several. tapegrad's SGD (momentum 0.9),
Adagrad, RMSprop, Adadelta, Adam and AdamW are fused C++ kernels; each is timed
for one ``step()`` (gradients pre-filled, state already created) on 10M
float32 parameters held as one tensor and as 100 tensors of 100k, on 1 thread,
against:

* torch's fastest: ``fused=True`` where torch has a fused CPU kernel (SGD,
  Adagrad, Adam, AdamW), otherwise ``foreach=True`` (RMSprop, Adadelta); for
  RMSprop and Adadelta also torch's default (``foreach=None``: the
  single-tensor for-loop on CPU);
* NumPy: the same update rule with in-place ufuncs and one scratch buffer.

Default hyperparameters except SGD (lr 1e-3, momentum 0.9) and AdamW
(weight_decay 1e-2, its default). GB/s counts each float32 read or write of
the fused update once: SGD-momentum, Adagrad, RMSprop 5 accesses per
parameter (p rw, g r, one state rw) = 20 bytes; Adadelta, Adam, AdamW 7
accesses (p rw, g r, two states rw) = 28 bytes. Libraries making several
passes move more than that, so their GB/s is "effective".

Targets: every tapegrad step not slower than torch's fastest for the same
optimizer (tg/torch ≤ 1: fused where torch has it); for RMSprop and Adadelta,
which have no fused torch kernel, at least 3× faster than torch's default
(tg/torch-default ≤ 1/3).
"""

from __future__ import annotations

import gc
import sys

import numpy as np

try:
    from . import _common as C
except ImportError:
    import _common as C

NAME = "optim"
LAYOUTS = ((1, 10_000_000), (100, 100_000))
QUICK_LAYOUTS = ((1, 1_000_000), (10, 100_000))
TARGET_FASTEST = 1.0  # tg/torch time, torch's fastest implementation
TARGET_DEFAULT = 1 / 3  # tg/torch-default time, RMSprop and Adadelta
#: name → (hyperparameters, bytes moved per parameter, torch has a fused CPU kernel)
OPTIMIZERS = {
    "SGD": ({"lr": 1e-3, "momentum": 0.9}, 20, True),
    "Adagrad": ({"lr": 1e-2}, 20, True),
    "RMSprop": ({"lr": 1e-2}, 20, False),
    "Adadelta": ({"lr": 1.0}, 28, False),
    "Adam": ({"lr": 1e-3}, 28, True),
    "AdamW": ({"lr": 1e-3, "weight_decay": 1e-2}, 28, True),
}


# --- NumPy: PyTorch's update rules, in place ---------------------------------


class NumpyOptimizer:
    """One optimizer over a list of float32 arrays, in-place ufuncs and shared scratch."""

    def __init__(self, name, params, grads, hp):
        self.name, self.params, self.grads, self.hp = name, params, grads, hp
        n = max(p.size for p in params)
        self.s1, self.s2 = np.empty(n, np.float32), np.empty(n, np.float32)
        self.state = [[np.zeros_like(p) for _ in range(2)] for p in params]
        self.t = 0

    def step(self):
        self.t += 1
        fn = getattr(self, f"_{self.name.lower()}")
        for p, g, st in zip(self.params, self.grads, self.state):
            fn(p, g, st, self.s1[:p.size].reshape(p.shape), self.s2[:p.size].reshape(p.shape))

    def _sgd(self, p, g, st, s, _):
        b = st[0]
        if self.t == 1:
            b[...] = g
        else:
            b *= self.hp["momentum"]
            b += g
        np.multiply(b, self.hp["lr"], out=s)
        p -= s

    def _adagrad(self, p, g, st, s, _):
        acc = st[0]
        np.multiply(g, g, out=s)
        acc += s
        self._divide(p, g, acc, s, 1e-10)

    def _rmsprop(self, p, g, st, s, _):
        sq, alpha = st[0], 0.99
        sq *= alpha
        np.multiply(g, g, out=s)
        s *= 1 - alpha
        sq += s
        self._divide(p, g, sq, s, 1e-8)

    def _divide(self, p, g, sq, s, eps):
        """``p -= lr * g / (sqrt(sq) + eps)``, through the scratch ``s``."""
        np.sqrt(sq, out=s)
        s += eps
        np.divide(g, s, out=s)
        s *= self.hp["lr"]
        p -= s

    def _adadelta(self, p, g, st, s, d):
        sq, acc, rho, eps = st[0], st[1], 0.9, 1e-6
        sq *= rho
        np.multiply(g, g, out=s)
        s *= 1 - rho
        sq += s
        np.add(sq, eps, out=s)
        np.sqrt(s, out=s)
        np.add(acc, eps, out=d)
        np.sqrt(d, out=d)
        d /= s
        d *= g  # delta
        acc *= rho
        np.multiply(d, d, out=s)
        s *= 1 - rho
        acc += s
        d *= self.hp["lr"]
        p -= d

    def _adam(self, p, g, st, s, _):
        C.numpy_adam((p,), (g,), (st[0],), (st[1],), (s,), self.t, self.hp["lr"],
                     weight_decay=self.hp.get("weight_decay", 0.0))

    _adamw = _adam


# --- contenders ---------------------------------------------------------------


def _tg_step(tg, name, hp, p_np, g_np):
    params = []
    for p, g in zip(p_np, g_np):
        t = tg.tensor(p, requires_grad=True)
        t.grad = tg.tensor(g)
        params.append(t)
    return getattr(tg.optim, name)(params, **hp).step


def _torch_step(torch, name, hp, p_np, g_np, impl):
    """``opt.step`` of torch with ``impl`` "fused", "foreach" or "default"."""
    params = []
    for p, g in zip(p_np, g_np):
        t = torch.from_numpy(p.copy()).requires_grad_(True)
        t.grad = torch.from_numpy(g.copy())
        params.append(t)
    kw = {"fused": {"fused": True}, "foreach": {"foreach": True}, "default": {}}[impl]
    return getattr(torch.optim, name)(params, **hp, **kw).step


def _torch_fastest(torch, name, hp, p_np, g_np, has_fused):
    """torch's fused step where it exists (checked by one call), else foreach."""
    if has_fused:
        try:
            step = _torch_step(torch, name, hp, p_np, g_np, "fused")
            step()
            return step, "fused"
        except (TypeError, RuntimeError, ValueError) as e:
            print(f"[optim] torch {name}(fused=True) failed ({e}); using foreach",
                  file=sys.stderr)
    return _torch_step(torch, name, hp, p_np, g_np, "foreach"), "foreach"


def _check(tg, torch, rng):
    """Three steps of every optimizer on 1000 parameters: largest |difference| of results."""
    p0 = [rng.standard_normal(1000).astype(np.float32)]
    g0 = [rng.standard_normal(1000).astype(np.float32)]
    worst = {"vs_numpy": 0.0, "vs_torch": 0.0 if torch is not None else None}
    for name, (hp, _, has_fused) in OPTIMIZERS.items():
        res = {}
        tgp = [tg.tensor(p0[0], requires_grad=True)]
        tgp[0].grad = tg.tensor(g0[0])
        opt = getattr(tg.optim, name)(tgp, **hp)
        nopt = NumpyOptimizer(name, [p0[0].copy()], g0, hp)
        for _ in range(3):
            opt.step()
            nopt.step()
        res["tg"] = tgp[0].detach().numpy()
        worst["vs_numpy"] = max(worst["vs_numpy"], float(np.max(np.abs(res["tg"]
                                                                       - nopt.params[0]))))
        if torch is not None:
            thp = [torch.from_numpy(p0[0].copy()).requires_grad_(True)]
            thp[0].grad = torch.from_numpy(g0[0].copy())
            kw = {"fused": True} if has_fused else {"foreach": True}
            topt = getattr(torch.optim, name)(thp, **hp, **kw)
            for _ in range(3):
                topt.step()
            worst["vs_torch"] = max(worst["vs_torch"], float(np.max(np.abs(
                res["tg"] - thp[0].detach().numpy()))))
    return worst


def run(quick: bool = False, repeats: int | None = None, layouts=None, names=None) -> dict:
    """Times one step of every optimizer × layout on 1 thread; returns ``{"rows", ...}``."""
    tg = C.import_tapegrad()
    torch = C.import_torch()
    layouts = layouts or (QUICK_LAYOUTS if quick else LAYOUTS)
    names = names or list(OPTIMIZERS)
    opts = C.compare_opts(quick, repeats, full=(7, 0.02, 0.1), short=(3, 0.01, 0.02))
    rng = np.random.default_rng(0)
    rows, impls = [], {}
    with C.Threads(1, tg, torch):
        check = _check(tg, torch, np.random.default_rng(1))
        for k, size in layouts:
            p_all = rng.standard_normal(k * size, dtype=np.float32)
            g_all = rng.standard_normal(k * size, dtype=np.float32)
            p_np, g_np = list(p_all.reshape(k, size)), list(g_all.reshape(k, size))
            layout = f"{k}×{_count(size)}"
            for name in names:
                hp, nbytes, has_fused = OPTIMIZERS[name]
                print(f"[optim] {name} {layout}", file=sys.stderr, flush=True)
                fns = {"tapegrad": _tg_step(tg, name, hp, p_np, g_np), "torch": None,
                       "torch default": None,
                       "numpy": NumpyOptimizer(name, [p.copy() for p in p_np], g_np, hp).step}
                if torch is not None:
                    fns["torch"], impls[name] = _torch_fastest(torch, name, hp, p_np, g_np,
                                                               has_fused)
                    if not has_fused:
                        fns["torch default"] = _torch_step(torch, name, hp, p_np, g_np,
                                                           "default")
                t, others, attempts = C.compare_quiet(fns, threads=1,
                                                      **C.quiet_opts(quick), **opts)
                del fns
                gc.collect()
                rows += _rows(name, layout, k * size, nbytes, impls.get(name), t, others,
                              attempts)
            del p_all, g_all, p_np, g_np
            gc.collect()
    notes = [
        "1 thread in every library; state created by warm-up steps before timing; grads "
        "pre-filled (standard normal)",
        "torch's fastest used: " + (", ".join(f"{k} {v}" for k, v in impls.items())
                                    if impls else "-"),
        "GB/s counts 20 bytes/param (SGD-momentum, Adagrad, RMSprop) or 28 (Adadelta, Adam, "
        "AdamW): one read/write of p, g and each state",
        "3 steps on 1000 params, largest |difference|: " + ", ".join(
            f"{k} {v:.1e}" for k, v in check.items() if v is not None),
    ]
    notes += _vs_fused_adam(rows)
    if torch is None:
        notes.append("torch not installed: tg/torch ratios and targets are n/a")
    return {"rows": rows, "notes": notes, "check": check, "torch_impls": impls,
            "config": {**opts, "quick": quick, "layouts": [list(x) for x in layouts],
                       "threads": 1}}


def _count(n: int) -> str:
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n // 1000}k"


def _rows(name, layout, n, nbytes, impl, t, others, attempts):
    ms = {k: v.median * 1e3 for k, v in t.items()}
    gbs = {k: nbytes * n / (v / 1e3) / 1e9 for k, v in ms.items()}
    noisy = C.unreliable(t, others, 1)
    common = {"bench": NAME, "unit": "ms", "optimizer": name, "layout": layout,
              "tapegrad": ms.get("tapegrad"), "numpy": ms.get("numpy"),
              "tg/numpy": C.ratio(ms.get("tapegrad"), ms.get("numpy")),
              "tg GB/s": gbs.get("tapegrad"), "numpy GB/s": gbs.get("numpy"),
              "bytes_per_param": nbytes, "spread": t["tapegrad"].spread, "others": others,
              "attempts": attempts, "timings": t}
    row = {**common, "case": f"{name} {layout}", "torch": ms.get("torch"),
           "torch impl": impl, "torch GB/s": gbs.get("torch"),
           "tg/torch": C.ratio(ms.get("tapegrad"), ms.get("torch")),
           "target": f"tg/torch ≤ {TARGET_FASTEST:g}"}
    row["status"] = C.status(row["tg/torch"], "<=", TARGET_FASTEST, noisy)
    out = [row]
    if "torch default" in t:
        row = {**common, "case": f"{name} {layout} vs torch default",
               "torch": ms["torch default"], "torch impl": "default",
               "torch GB/s": gbs["torch default"],
               "tg/torch": C.ratio(ms.get("tapegrad"), ms["torch default"]),
               "target": "tg/torch ≤ 1/3"}
        row["status"] = C.status(row["tg/torch"], "<=", TARGET_DEFAULT, noisy)
        out.append(row)
    return out


def _vs_fused_adam(rows) -> list[str]:
    """Each tapegrad step over torch's fused Adam step on the same layout."""
    notes = []
    for layout in dict.fromkeys(r["layout"] for r in rows):
        adam = next((r for r in rows if r["layout"] == layout and r["optimizer"] == "Adam"
                     and r.get("torch impl") == "fused"), None)
        if adam is None:
            continue
        ratios = [f"{r['optimizer']} {r['tapegrad'] / adam['torch']:.2f}" for r in rows
                  if r["layout"] == layout and "default" not in r["case"]]
        notes.append(f"{layout}: tapegrad step / torch fused Adam step: " + ", ".join(ratios))
    return notes


COLUMNS = [
    ("case", "case"), ("tapegrad", "tg ms"), ("torch", "torch ms"), ("numpy", "numpy ms"),
    ("tg/torch", "tg/torch"), ("tg/numpy", "tg/numpy"), ("tg GB/s", "tg GB/s"),
    ("torch GB/s", "torch GB/s"), ("numpy GB/s", "numpy GB/s"), ("torch impl", "torch impl"),
    ("spread", "±tg"), ("others", "others"), ("target", "target"), ("status", "status"),
]


def report(result: dict) -> None:
    C.print_table(result["rows"], columns=COLUMNS,
                  title="Optimizer step on float32 parameters (median ms per step; ratios are "
                        "tapegrad time / other time, lower is better)")
    C.print_notes(result)


def main(argv=None) -> dict:
    p = C.make_parser(__doc__.splitlines()[0])
    p.add_argument("--only", help="comma-separated optimizer names (default: all)")
    args = p.parse_args(argv)
    return C.main_for(NAME, run, report, args,
                      names=args.only.split(",") if args.only else None)


if __name__ == "__main__":
    main(sys.argv[1:])
