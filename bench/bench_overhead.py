"""Per-op overhead: what one tiny op and its tape entry cost.

On tensors of 1 to 256 elements the arithmetic is nothing; the time is the
Python→C++ call, the dispatch, the output allocation and (with
``requires_grad``) recording the node, later freeing it and walking it in
``backward``. That fixed cost decides how fast small models and scalar-heavy
code run, so it is measured here against PyTorch (same ops, same run) and
against NumPy (the floor for a Python-level array op; it records nothing).

Cases:

* ``a + b`` and ``a * b`` on 1-element and 16×16 float32 tensors, with and
  without ``requires_grad`` (with it, every call records a node that is freed
  when the result is dropped). NumPy does the forward op only.
* A chain of ten small ops on a 16-element vector (mul, add, tanh, mul,
  sigmoid, add, exp, mul, relu, sum): forward with ``no_grad``, forward with
  graph recording, and forward + ``backward()``; NumPy runs the same forward
  and, for the last, a hand-written backward. Reported per op (time / 10).

* Indexing a 16×16 float32 tensor: ``t[i]``, ``t[2:10]``, ``t[idx]`` (an
  int64 index tensor of 8 rows) and ``t[rows, cols]`` (two int64 index
  tensors of 8), with and without ``requires_grad`` on ``t``. NumPy indexes
  the same array (basic indexing gives it a view, advanced a copy).
* Reductions of a 16×16 float32 tensor: ``sum()``, ``sum(dim=1)``,
  ``mean()``, ``max(dim=1)`` (values and indices; NumPy: ``max`` and
  ``argmax``) and ``logsumexp(1)`` (NumPy: the max-shifted formula), with and
  without ``requires_grad``.

Targets: ``a + b`` with graph recording ≤ 0.5× PyTorch's time; the chain's
forward + backward ≤ 0.25× PyTorch's. The indexing and reduction cases have
no target; they are there to show where the per-op cost stands.
"""

from __future__ import annotations

import sys

import numpy as np

try:
    from . import _common as C
except ImportError:
    import _common as C

NAME = "overhead"
CHAIN_OPS = 10
TARGET_ADD_GRAD = 0.5  # tg/torch time, a + b with graph recording
TARGET_CHAIN = 0.25  # tg/torch time, chain forward + backward


def _np_sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def _chain_inputs(rng):
    """x (the leaf) and the constants of the chain, as float32 NumPy arrays."""
    return {k: rng.standard_normal(16).astype(np.float32) for k in ("x", "w1", "b1", "w2",
                                                                     "b2", "w3")}


def _chain(x, w1, b1, w2, b2, w3):
    """The ten ops, for tapegrad and torch tensors (same method names)."""
    return ((((x * w1 + b1).tanh() * w2).sigmoid() + b2).exp() * w3).relu().sum()


def _np_chain_forward(x, w1, b1, w2, b2, w3):
    h3 = np.tanh(x * w1 + b1)
    h5 = _np_sigmoid(h3 * w2)
    h7 = np.exp(h5 + b2)
    h8 = h7 * w3
    return np.maximum(h8, 0).sum()


def _np_chain_fwd_bwd(x, grad, w1, b1, w2, b2, w3):
    """Forward, then the hand-written backward, accumulating into ``grad``."""
    h1 = x * w1
    h2 = h1 + b1
    h3 = np.tanh(h2)
    h4 = h3 * w2
    h5 = _np_sigmoid(h4)
    h6 = h5 + b2
    h7 = np.exp(h6)
    h8 = h7 * w3
    h9 = np.maximum(h8, 0)
    y = h9.sum()
    g = (h8 > 0).astype(x.dtype)  # d sum, then relu
    g = g * w3  # mul
    g = g * h7  # exp
    g = g * (h5 * (1 - h5))  # add (identity), then sigmoid
    g = g * w2  # mul
    g = g * (1 - h3 * h3)  # tanh
    grad += g * w1  # add (identity), then mul
    return y


def check_chain_grads(tg, torch, arrays) -> dict:
    """One forward + backward in each library; the largest gradient differences."""
    consts = {k: v for k, v in arrays.items() if k != "x"}
    xt = tg.tensor(arrays["x"], requires_grad=True)
    _chain(xt, **{k: tg.tensor(v) for k, v in consts.items()}).backward()
    g_tg = xt.grad.numpy()
    g_np = np.zeros_like(arrays["x"])
    _np_chain_fwd_bwd(arrays["x"], g_np, **consts)
    out = {"max_abs_diff_vs_numpy": float(np.max(np.abs(g_tg - g_np)))}
    if torch is not None:
        xp = torch.tensor(arrays["x"], requires_grad=True)
        _chain(xp, **{k: torch.tensor(v) for k, v in consts.items()}).backward()
        out["max_abs_diff_vs_torch"] = float(np.max(np.abs(g_tg - xp.grad.numpy())))
    return out


def _np_logsumexp(a, axis):
    m = a.max(axis=axis, keepdims=True)
    return np.log(np.exp(a - m).sum(axis=axis)) + m.squeeze(axis)


#: name → (tapegrad/torch call, NumPy call); ``ix`` holds each library's index objects
INDEX_OPS = {
    "t[i]": (lambda t, ix: t[3], lambda a, ix: a[3]),
    "t[2:10]": (lambda t, ix: t[2:10], lambda a, ix: a[2:10]),
    "t[idx]": (lambda t, ix: t[ix["idx"]], lambda a, ix: a[ix["idx"]]),
    "t[rows, cols]": (lambda t, ix: t[ix["rows"], ix["cols"]],
                      lambda a, ix: a[ix["rows"], ix["cols"]]),
}
REDUCE_OPS = {
    "sum()": (lambda t: t.sum(), lambda a: a.sum()),
    "sum(dim=1)": (lambda t: t.sum(dim=1), lambda a: a.sum(axis=1)),
    "mean()": (lambda t: t.mean(), lambda a: a.mean()),
    "max(dim=1)": (lambda t: t.max(dim=1), lambda a: (a.max(axis=1), a.argmax(axis=1))),
    "logsumexp(1)": (lambda t: t.logsumexp(1), lambda a: _np_logsumexp(a, 1)),
}


def _index_and_reduce_cases(tg, torch, rng):
    """``(case, fns)`` for the indexing and reduction ops on a 16×16 float32 tensor."""
    an = rng.standard_normal((16, 16)).astype(np.float32)
    ix_np = {"idx": np.array([0, 2, 3, 5, 8, 11, 13, 15], dtype=np.int64),
             "rows": np.array([0, 1, 3, 6, 7, 9, 12, 15], dtype=np.int64),
             "cols": np.array([15, 2, 4, 4, 8, 0, 10, 1], dtype=np.int64)}
    ix_tg = {k: tg.tensor(v) for k, v in ix_np.items()}
    ix_th = {k: torch.tensor(v) for k, v in ix_np.items()} if torch is not None else None
    out = []
    for grad in (False, True):
        t = tg.tensor(an, requires_grad=grad)
        th = torch.tensor(an, requires_grad=grad) if torch is not None else None
        label = "graph" if grad else "no grad"
        for name, (op, np_op) in INDEX_OPS.items():
            fns = {"tapegrad": lambda op=op, t=t: op(t, ix_tg),
                   "torch": (lambda op=op, th=th: op(th, ix_th)) if th is not None else None,
                   "numpy": lambda np_op=np_op: np_op(an, ix_np)}
            out.append((f"{name}  [16×16] f32, {label}", fns))
        for name, (op, np_op) in REDUCE_OPS.items():
            fns = {"tapegrad": lambda op=op, t=t: op(t),
                   "torch": (lambda op=op, th=th: op(th)) if th is not None else None,
                   "numpy": lambda np_op=np_op: np_op(an)}
            out.append((f"{name}  [16×16] f32, {label}", fns))
    return out


def check_index_and_reduce(tg, torch, rng) -> dict:
    """Largest difference of each case's result (first output) from NumPy's and torch's."""
    worst = {"max_abs_diff_vs_numpy": 0.0}
    if torch is not None:
        worst["max_abs_diff_vs_torch"] = 0.0

    def first(r):
        r = r[0] if isinstance(r, tuple) else r
        return np.asarray(r.detach().numpy() if hasattr(r, "detach") else r, dtype=np.float64)

    for _, fns in _index_and_reduce_cases(tg, torch, rng):
        got = first(fns["tapegrad"]())
        worst["max_abs_diff_vs_numpy"] = max(worst["max_abs_diff_vs_numpy"],
                                             float(np.max(np.abs(got - first(fns["numpy"]())))))
        if torch is not None:
            worst["max_abs_diff_vs_torch"] = max(
                worst["max_abs_diff_vs_torch"],
                float(np.max(np.abs(got - first(fns["torch"]())))))
    return worst


def _timed(fns, opts, quick=False):
    """:func:`_common.compare_quiet` on one thread (no re-measuring with ``quick``)."""
    retry = C.quiet_opts(True) if quick else {}  # full runs keep compare_quiet's defaults
    t, others, _ = C.compare_quiet(fns, threads=1, **retry, **opts)
    return t, others


def _row(case, timed, per=1, target=None):
    """A table row from the timings of one case (µs per op)."""
    t, others = timed
    us = {k: v.median * 1e6 / per for k, v in t.items()}
    row = {
        "bench": NAME, "case": case, "unit": "µs/op",
        "tapegrad": us.get("tapegrad"), "torch": us.get("torch"), "numpy": us.get("numpy"),
        "tg/torch": C.ratio(us.get("tapegrad"), us.get("torch")),
        "tg/numpy": C.ratio(us.get("tapegrad"), us.get("numpy")),
        "spread": t["tapegrad"].spread, "others": others, "timings": t, "ops_per_call": per,
    }
    if target is not None:
        row["target"] = f"tg/torch ≤ {target}"
        row["status"] = C.status(row["tg/torch"], "<=", target, C.unreliable(t, others, 1))
    return row


def run(quick: bool = False, repeats: int | None = None) -> dict:
    """Runs every case at 1 thread; returns ``{"rows": [...], "notes": [...], "config": {...}}``.

    One thread in every library: a tiny op has nothing to split, and torch
    opens a parallel region for some small reductions, whose wake-up costs
    milliseconds when a neighbour holds the other core (see README.md).
    """
    tg = C.import_tapegrad()
    torch = C.import_torch()
    with C.Threads(1, tg, torch):
        return _run(tg, torch, quick, repeats)


def _run(tg, torch, quick, repeats) -> dict:
    opts = C.compare_opts(quick, repeats, full=(11, 0.02, 0.05))
    rng = np.random.default_rng(0)
    rows = []

    floor = C.measure(lambda: None, **opts)

    ops = {"+": lambda a, b: a + b, "*": lambda a, b: a * b}
    for shape in ((1,), (16, 16)):
        for sym, op in ops.items():
            for grad in (False, True):
                an = rng.standard_normal(shape).astype(np.float32)
                bn = rng.standard_normal(shape).astype(np.float32)
                a, b = tg.tensor(an, requires_grad=grad), tg.tensor(bn, requires_grad=grad)
                fns = {"tapegrad": lambda a=a, b=b, op=op: op(a, b), "torch": None,
                       "numpy": lambda a=an, b=bn, op=op: op(a, b)}
                if torch is not None:
                    at = torch.tensor(an, requires_grad=grad)
                    bt = torch.tensor(bn, requires_grad=grad)
                    fns["torch"] = lambda a=at, b=bt, op=op: op(a, b)
                t = _timed(fns, opts, quick)
                dims = "×".join(map(str, shape))
                case = f"a {sym} b  [{dims}] f32, {'graph' if grad else 'no grad'}"
                target = TARGET_ADD_GRAD if (sym == "+" and grad) else None
                rows.append(_row(case, t, target=target))

    for case, fns in _index_and_reduce_cases(tg, torch, rng):
        rows.append(_row(case, _timed(fns, opts, quick)))

    arrays = _chain_inputs(rng)
    consts = {k: v for k, v in arrays.items() if k != "x"}
    tg_c = {k: tg.tensor(v) for k, v in consts.items()}
    x_tg = tg.tensor(arrays["x"], requires_grad=True)
    th_c = x_th = None
    if torch is not None:
        th_c = {k: torch.tensor(v) for k, v in consts.items()}
        x_th = torch.tensor(arrays["x"], requires_grad=True)

    def tg_nograd():
        with tg.no_grad():
            return _chain(x_tg, **tg_c)

    def th_nograd():
        with torch.no_grad():
            return _chain(x_th, **th_c)

    def tg_bwd():
        _chain(x_tg, **tg_c).backward()

    def th_bwd():
        _chain(x_th, **th_c).backward()

    x_np, g_np = arrays["x"], np.zeros_like(arrays["x"])
    cases = [
        ("chain×10 [16] f32, fwd no_grad", tg_nograd, th_nograd,
         lambda: _np_chain_forward(x_np, **consts), None),
        ("chain×10 [16] f32, fwd graph", lambda: _chain(x_tg, **tg_c),
         lambda: _chain(x_th, **th_c), lambda: _np_chain_forward(x_np, **consts), None),
        ("chain×10 [16] f32, fwd+bwd", tg_bwd, th_bwd,
         lambda: _np_chain_fwd_bwd(x_np, g_np, **consts), TARGET_CHAIN),
    ]
    for case, f_tg, f_th, f_np, target in cases:
        fns = {"tapegrad": f_tg, "torch": f_th if torch is not None else None, "numpy": f_np}
        rows.append(_row(case, _timed(fns, opts, quick), per=CHAIN_OPS, target=target))

    check = check_chain_grads(tg, torch, arrays)
    check_ir = check_index_and_reduce(tg, torch, np.random.default_rng(1))
    notes = [
        (f"threads: tapegrad {tg.get_num_threads()}, torch "
         f"{torch.get_num_threads() if torch else '-'}, OpenBLAS 1 (set for this bench, then "
         f"restored)"),
        (f"Python call floor (an empty lambda, inside every number): "
         f"{floor.median * 1e9:.0f} ns"),
        "chain rows are per op (call time / 10); numpy fwd+bwd is a hand-written backward",
        "chain gradient check: " + ", ".join(f"{k} {v:.2e}" for k, v in check.items()),
        "indexing/reduction results check: " + ", ".join(f"{k} {v:.2e}"
                                                        for k, v in check_ir.items()),
        "indexing: idx, rows, cols are int64 index tensors of 8 entries (NumPy: int64 arrays); "
        "t[i] and t[2:10] are views in NumPy and torch",
    ]
    if torch is None:
        notes.append("torch not installed: tg/torch ratios and targets are n/a")
    return {"rows": rows, "notes": notes, "grad_check": check, "result_check": check_ir,
            "config": {**opts, "quick": quick, "python_floor_s": floor.median,
                       "tapegrad_threads": tg.get_num_threads(),
                       "torch_threads": torch.get_num_threads() if torch else None}}


def report(result: dict) -> None:
    """Prints the rows and notes of :func:`run`."""
    C.print_table(result["rows"], title="Per-op overhead (median µs per op; ratios are "
                                        "tapegrad time / other time, lower is better)")
    C.print_notes(result)


def main(argv=None) -> dict:
    args = C.make_parser(__doc__.splitlines()[0]).parse_args(argv)
    return C.main_for(NAME, run, report, args, torch_threads=True)


if __name__ == "__main__":
    main(sys.argv[1:])
