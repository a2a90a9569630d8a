"""Elementwise throughput: exp, tanh, sigmoid and softmax on 1M float32 elements.

Past the per-op overhead (``bench_overhead.py``) a model's activations are
large elementwise passes, bound by the math (exp, tanh) or by memory. Each op
runs on a (1000, 1000) float32 tensor (10⁶ elements; softmax over dim -1):

* forward: tapegrad vs NumPy vs PyTorch, on an input without
  ``requires_grad``. NumPy's sigmoid and softmax are written with in-place
  steps (one output allocation), the fastest plain NumPy;
* forward + backward: ``y = op(x); y.backward(gy)`` with ``x.grad`` reset to
  ``None`` first (as ``zero_grad`` does) and a fixed random ``gy``, tapegrad
  vs PyTorch; NumPy runs its forward and a hand-written backward
  (exp: gy·y; tanh: gy·(1−y²); sigmoid: gy·y·(1−y); softmax:
  y·(gy − Σ gy·y)).

All six contenders of one op are timed side by side, so the forward and the
forward + backward of a library come from the same interleaved run, at 1
thread and at 2 threads (``tg.set_num_threads``, ``torch.set_num_threads``;
NumPy's elementwise ops are single-threaded anyway). At 2 threads the thread
pools are quiesced before each timed chunk (see ``_common.quiesce``).

Targets: the forward not slower than NumPy's (tg/numpy ≤ 1), and the backward
within 2× the forward: (fwd+bwd − fwd)/fwd ≤ 2 for tapegrad.
"""

from __future__ import annotations

import sys

import numpy as np

try:
    from . import _common as C
except ImportError:
    import _common as C

NAME = "elementwise"
SHAPE = (1000, 1000)
OPS = ("exp", "tanh", "sigmoid", "softmax")
THREADS = (1, 2)
TARGET_FWD = 1.0  # tg/numpy time, forward
TARGET_BWD = 2.0  # (fwd+bwd - fwd) / fwd, tapegrad


# --- NumPy: forward (one allocation) and hand-written backward ---------------


def _np_sigmoid(x):
    y = np.negative(x)
    np.exp(y, out=y)
    y += 1
    np.reciprocal(y, out=y)
    return y


def _np_softmax(x):
    y = x - x.max(axis=-1, keepdims=True)
    np.exp(y, out=y)
    y /= y.sum(axis=-1, keepdims=True)
    return y


def _np_exp_bwd(y, gy):
    return gy * y


def _np_tanh_bwd(y, gy):
    t = y * y
    np.subtract(1, t, out=t)
    t *= gy
    return t


def _np_sigmoid_bwd(y, gy):
    t = 1 - y
    t *= y
    t *= gy
    return t


def _np_softmax_bwd(y, gy):
    t = gy - (gy * y).sum(axis=-1, keepdims=True)
    t *= y
    return t


NP_OPS = {"exp": (np.exp, _np_exp_bwd), "tanh": (np.tanh, _np_tanh_bwd),
          "sigmoid": (_np_sigmoid, _np_sigmoid_bwd), "softmax": (_np_softmax, _np_softmax_bwd)}


def _lib_op(lib, name):
    """The op of tapegrad or torch (same names): softmax over the last dim."""
    if name == "softmax":
        return lambda x: lib.softmax(x, -1)
    return getattr(lib, name)


def _contenders(tg, torch, name, xn, gyn):
    """The six timed functions of one op, and a check of their results."""
    np_fwd, np_bwd = NP_OPS[name]
    g_np = np.empty_like(xn)

    def np_fb():
        y = np_fwd(xn)
        g_np[...] = np_bwd(y, gyn)  # as a library stores x.grad

    op = _lib_op(tg, name)
    x, xg, gy = tg.from_numpy(xn), tg.tensor(xn, requires_grad=True), tg.from_numpy(gyn)

    def tg_fb():
        xg.grad = None
        op(xg).backward(gy)

    fns = {"tg fwd": lambda: op(x), "torch fwd": None, "numpy fwd": lambda: np_fwd(xn),
           "tg fwd+bwd": tg_fb, "torch fwd+bwd": None, "numpy fwd+bwd": np_fb}
    if torch is not None:
        top = _lib_op(torch, name)
        xt = torch.from_numpy(xn)
        xtg = xt.clone().requires_grad_(True)
        gyt = torch.from_numpy(gyn)

        def torch_fb():
            xtg.grad = None
            top(xtg).backward(gyt)

        fns["torch fwd"] = lambda: top(xt)
        fns["torch fwd+bwd"] = torch_fb

    # results: forward and gradient against NumPy (and torch)
    tg_fb()
    np_fb()
    check = {"fwd_vs_numpy": float(np.max(np.abs(op(x).numpy() - np_fwd(xn)))),
             "grad_vs_numpy": float(np.max(np.abs(xg.grad.numpy() - g_np)))}
    if torch is not None:
        fns["torch fwd+bwd"]()
        check["grad_vs_torch"] = float(np.max(np.abs(xg.grad.numpy() - xtg.grad.numpy())))
    return fns, check


def run(quick: bool = False, repeats: int | None = None, threads=THREADS) -> dict:
    """Times every op at every thread count; returns ``{"rows", "scaling", "notes", ...}``."""
    tg = C.import_tapegrad()
    torch = C.import_torch()
    opts = C.compare_opts(quick, repeats, full=(9, 0.02, 0.05))
    rng = np.random.default_rng(0)
    xn = rng.standard_normal(SHAPE).astype(np.float32)
    gyn = rng.standard_normal(SHAPE).astype(np.float32)
    rows, checks, seen_threads = [], {}, {}
    for th in threads:
        with C.Threads(th, tg, torch):
            seen_threads[th] = {"tapegrad": tg.get_num_threads(),
                                "torch": torch.get_num_threads() if torch else None}
            settle = th > 1
            for name in OPS:
                print(f"[elementwise] threads={th} {name}", file=sys.stderr, flush=True)
                fns, checks[name] = _contenders(tg, torch, name, xn, gyn)
                t, others, attempts = C.compare_quiet(
                    fns, threads=th, **C.quiet_opts(quick), settle=settle,
                    rounds=(2 if quick else opts["repeats"]) if settle else None, **opts)
                rows += _rows(name, th, t, others, attempts)
    notes = [
        f"shape {SHAPE} float32 ({np.prod(SHAPE):,} elements); softmax over dim -1",
        "bwd/fwd rows: (fwd+bwd − fwd) / fwd, each library's own forward (no graph) as fwd",
        "threads seen: " + "; ".join(f"t={k}: tapegrad {v['tapegrad']}, torch {v['torch']}"
                                     for k, v in seen_threads.items()),
        "largest |difference|: " + "; ".join(
            f"{k} " + ", ".join(f"{n} {v:.1e}" for n, v in c.items()) for k, c in checks.items()),
    ]
    if torch is None:
        notes.append("torch not installed: torch columns are empty")
    return {"rows": rows, "scaling": _scaling(rows), "notes": notes, "checks": checks,
            "config": {**opts, "quick": quick, "threads": list(threads), "shape": SHAPE}}


def _rows(name, th, t, others, attempts):
    ms = {k: v.median * 1e3 for k, v in t.items()}
    noisy = C.unreliable(t, others, th)
    common = {"bench": NAME, "others": others, "threads": th, "attempts": attempts}
    out = []
    for kind in ("fwd", "fwd+bwd"):
        tg_t, th_t, np_t = (ms.get(f"{lib} {kind}") for lib in ("tg", "torch", "numpy"))
        row = {**common, "case": f"{name} {kind} t={th}", "unit": "ms",
               "tapegrad": tg_t, "torch": th_t, "numpy": np_t,
               "tg/torch": C.ratio(tg_t, th_t), "tg/numpy": C.ratio(tg_t, np_t),
               "spread": t[f"tg {kind}"].spread,
               "timings": {k: v for k, v in t.items() if k.endswith(f" {kind}")}}
        if kind == "fwd":
            row["target"] = f"tg/numpy ≤ {TARGET_FWD:g}"
            row["status"] = C.status(row["tg/numpy"], "<=", TARGET_FWD, noisy)
        out.append(row)

    def share(lib):
        f, fb = ms.get(f"{lib} fwd"), ms.get(f"{lib} fwd+bwd")
        return None if f is None or fb is None else (fb - f) / f

    row = {**common, "case": f"{name} bwd/fwd t={th}", "unit": "×fwd",
           "tapegrad": share("tg"), "torch": share("torch"), "numpy": share("numpy"),
           "spread": t["tg fwd+bwd"].spread,
           "target": f"tg bwd ≤ {TARGET_BWD:g}× fwd"}
    row["status"] = C.status(row["tapegrad"], "<=", TARGET_BWD, noisy)
    out.append(row)
    return out


def _scaling(rows):
    """Time at 1 thread over time at the highest thread count (speed-up), per library."""
    by = {(r["case"].rsplit(" t=", 1)[0], r["threads"]): r for r in rows if r["unit"] == "ms"}
    tmax = max(r["threads"] for r in rows)
    if tmax == 1:
        return []
    out = []
    for (case, th), r1 in by.items():
        if th == 1 and (case, tmax) in by:
            r2 = by[(case, tmax)]
            out.append({"case": case, **{k: C.ratio(r1[k], r2[k])
                                         for k in ("tapegrad", "torch", "numpy")}})
    return out


def report(result: dict) -> None:
    C.print_table(result["rows"], title="Elementwise ops on 1M float32 (median ms per call; "
                                        "ratios are tapegrad time / other time, lower is "
                                        "better; bwd/fwd rows: backward time in forwards)")
    if result["scaling"]:
        C.print_table(result["scaling"],
                      columns=[("case", "case"), ("tapegrad", "tapegrad"), ("torch", "torch"),
                               ("numpy", "numpy")],
                      title="Thread scaling (time at 1 thread / time at 2 threads)")
    C.print_notes(result)


def main(argv=None) -> dict:
    p = C.make_parser(__doc__.splitlines()[0])
    p.add_argument("--threads", default=",".join(map(str, THREADS)),
                   help="comma-separated thread counts (default 1,2)")
    args = p.parse_args(argv)
    return C.main_for(NAME, run, report, args,
                      threads=[int(t) for t in args.threads.split(",")])


if __name__ == "__main__":
    main(sys.argv[1:])
