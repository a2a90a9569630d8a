"""Matrix product throughput: GFLOP/s of ``a @ b`` for square float32/float64 matrices.

Large products are where a tensor library spends its time in real models, and
NumPy's ``@`` (OpenBLAS) is the baseline any user will compare against, so
tapegrad's ``@`` is timed beside NumPy's (and PyTorch's when installed) in the
same process, at sizes 64…2048 and at 1 and 2 threads. A product of n×n
matrices counts 2n³ flops.

Each thread count runs in its own subprocess of this script with
``OPENBLAS_NUM_THREADS`` (and ``OMP_NUM_THREADS``/``MKL_NUM_THREADS``) set
before NumPy loads, plus ``tg.set_num_threads(n)`` and
``torch.set_num_threads(n)``: NumPy's OpenBLAS reads its thread count only at
load time. Each worker reports the thread count every OpenBLAS actually has.

At 2 threads the contenders' thread pools would fight for the 2 cores if
interleaved naively (a pool keeps spinning after a call), so the timed chunks
are separated by :func:`_common.quiesce` (see there).

Target: tapegrad ≥ 0.85× NumPy's GFLOP/s from n = 256 up.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

try:
    from . import _common as C
except ImportError:
    import _common as C

NAME = "matmul"
SIZES = (64, 128, 256, 512, 1024, 2048)
QUICK_SIZES = (64, 256, 1024)
THREADS = (1, 2)
TARGET = 0.85  # tg/numpy GFLOP/s, for n >= TARGET_FROM
TARGET_FROM = 256
_MARK = "@@BENCH_MATMUL_RESULT@@"


def _worker(threads: int, sizes, repeats: int, quick: bool) -> dict:
    """Runs in the subprocess: times every dtype × size at ``threads`` threads."""
    import numpy as np

    tg = C.import_tapegrad()
    tg.set_num_threads(threads)
    torch = C.import_torch(threads)
    settle = threads > 1
    min_time = 0.01 if quick else 0.02
    warmup = 0.01 if quick else 0.05
    # with settle, each round costs ~0.1 s of quiescing per contender
    rounds = 2 if quick else repeats
    rng = np.random.default_rng(0)
    cases = []
    for dtype_name, np_dtype, tg_dtype in (("float32", np.float32, tg.float32),
                                           ("float64", np.float64, tg.float64)):
        for n in sizes:
            print(f"[matmul] threads={threads} {dtype_name} n={n}", file=sys.stderr, flush=True)
            a = rng.standard_normal((n, n)).astype(np_dtype)
            b = rng.standard_normal((n, n)).astype(np_dtype)
            ta, tb = tg.from_numpy(a), tg.from_numpy(b)
            if ta.dtype != tg_dtype:
                raise RuntimeError(f"from_numpy gave {ta.dtype} for {dtype_name}")
            ref = a @ b
            out = (ta @ tb).numpy()
            rel_err = float(np.max(np.abs(out - ref)) / np.max(np.abs(ref)))
            fns = {"tapegrad": lambda ta=ta, tb=tb: ta @ tb, "torch": None,
                   "numpy": lambda a=a, b=b: a @ b}
            if torch is not None:
                pa, pb = torch.from_numpy(a), torch.from_numpy(b)
                fns["torch"] = lambda pa=pa, pb=pb: pa @ pb
            t, others, attempts = C.compare_quiet(
                fns, threads=threads, **C.quiet_opts(quick), repeats=repeats,
                min_time=min_time, warmup=warmup, rounds=rounds, settle=settle)
            cases.append({"dtype": dtype_name, "n": n, "threads": threads,
                          "rel_err_vs_numpy": rel_err, "timings": t, "others": others,
                          "attempts": attempts})
    return {"threads": threads, "cases": cases, "machine": C.machine_info(tg, torch)}


def _run_worker(threads: int, quick: bool, repeats: int | None, sizes) -> dict:
    """Starts this script as a worker with the thread environment set."""
    env = dict(os.environ)
    for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[k] = str(threads)
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", str(threads)]
    if quick:
        cmd.append("--quick")
    if repeats:
        cmd += ["--repeats", str(repeats)]
    if sizes:
        cmd += ["--sizes", ",".join(map(str, sizes))]
    sys.stdout.flush()  # keep our output ordered before the worker's progress lines
    proc = subprocess.run(cmd, check=False, env=env, stdout=subprocess.PIPE, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith(_MARK):
            return json.loads(line[len(_MARK):])
    raise RuntimeError(f"matmul worker (threads={threads}) failed with code "
                       f"{proc.returncode}; stdout:\n{proc.stdout}")


def _rows(workers: list[dict]) -> list[dict]:
    rows = []
    for w in workers:
        for c in w["cases"]:
            t = c["timings"]
            flops = 2.0 * c["n"] ** 3
            gf = {k: flops / v["median"] / 1e9 for k, v in t.items()}
            tg_t = t["tapegrad"]
            row = {
                "bench": NAME, "case": f"{c['dtype'][:1]}{c['dtype'][-2:]} n={c['n']} "
                                       f"t={c['threads']}",
                "unit": "GFLOP/s", "dtype": c["dtype"], "n": c["n"], "threads": c["threads"],
                "tapegrad": gf.get("tapegrad"), "torch": gf.get("torch"),
                "numpy": gf.get("numpy"),
                "tg/torch": C.ratio(gf.get("tapegrad"), gf.get("torch")),
                "tg/numpy": C.ratio(gf.get("tapegrad"), gf.get("numpy")),
                "spread": (tg_t["q3"] - tg_t["q1"]) / tg_t["median"],
                "others": c["others"], "rel_err_vs_numpy": c["rel_err_vs_numpy"], "timings": t,
            }
            if c["n"] >= TARGET_FROM:
                row["target"] = f"tg/numpy ≥ {TARGET}"
                timings = {k: C.Timing(v) for k, v in t.items()}
                row["status"] = C.status(row["tg/numpy"], ">=", TARGET,
                                         C.unreliable(timings, c["others"], c["threads"]))
            rows.append(row)
    return rows


def _scaling(rows: list[dict]) -> list[dict]:
    """GFLOP/s at the highest thread count over that at 1 thread, per library."""
    by = {(r["dtype"], r["n"], r["threads"]): r for r in rows}
    tmax = max(r["threads"] for r in rows)
    out = []
    for (dt, n, th), r1 in sorted(by.items()):
        if th != 1 or (dt, n, tmax) not in by or tmax == 1:
            continue
        r2 = by[(dt, n, tmax)]
        out.append({"case": f"{dt} n={n}",
                    **{k: C.ratio(r2[k], r1[k]) for k in ("tapegrad", "torch", "numpy")}})
    return out


def run(quick: bool = False, repeats: int | None = None, threads=THREADS, sizes=None) -> dict:
    """Runs one worker per thread count; returns ``{"rows", "notes", "workers", ...}``.

    ``sizes`` defaults to :data:`SIZES` (:data:`QUICK_SIZES` with ``quick``).
    """
    workers = [_run_worker(t, quick, repeats, sizes) for t in threads]
    rows = _rows(workers)
    notes = []
    for w in workers:
        blas = ", ".join(f"{b['library']}={b['num_threads']}" for b in w["machine"]["openblas"])
        th = w["machine"]["torch_threads"]
        notes.append(f"threads={w['threads']}: OpenBLAS threads seen {blas}; tapegrad "
                     f"{w['machine']['tapegrad_threads']}; torch {th if th else '-'}; tapegrad "
                     f"core built {w['machine'].get('tapegrad_build') or '?'}")
    worst = max(r["rel_err_vs_numpy"] for r in rows)
    notes.append(f"largest |tg - numpy| / max|numpy| over all products: {worst:.1e}")
    if workers and not workers[0]["machine"]["tapegrad_blas"]:
        notes.append("tapegrad's OpenBLAS is NOT loaded: products use the Eigen fallback")
    return {"rows": rows, "scaling": _scaling(rows), "notes": notes,
            "config": {"quick": quick, "repeats": repeats, "threads": list(threads),
                       "sizes": sorted({r["n"] for r in rows})},
            "workers": [{k: v for k, v in w.items() if k != "cases"} for w in workers]}


def report(result: dict) -> None:
    C.print_table(result["rows"], title="Matrix product a @ b (median GFLOP/s; ratios are "
                                        "tapegrad GFLOP/s / other, higher is better)")
    if result["scaling"]:
        C.print_table(result["scaling"],
                      columns=[("case", "case"), ("tapegrad", "tapegrad"), ("torch", "torch"),
                               ("numpy", "numpy")],
                      title="Thread scaling (GFLOP/s at 2 threads / at 1 thread)")
    C.print_notes(result)


def _parser():
    p = C.make_parser(__doc__.splitlines()[0])
    p.add_argument("--sizes", help="comma-separated sizes (default 64..2048; quick 64,256,1024)")
    p.add_argument("--threads", default=",".join(map(str, THREADS)),
                   help="comma-separated thread counts, one subprocess each (default 1,2)")
    p.add_argument("--worker", type=int, metavar="THREADS", help=argparse.SUPPRESS)
    return p


def main(argv=None) -> dict:
    args = _parser().parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else None
    if args.worker is not None:
        sizes = sizes or (QUICK_SIZES if args.quick else SIZES)
        repeats = args.repeats or (3 if args.quick else 6)
        result = _worker(args.worker, sizes, repeats, args.quick)
        print(_MARK + json.dumps(result, default=float), flush=True)
        return result
    return C.main_for(NAME, run, report, args, torch_threads=True,
                      threads=[int(t) for t in args.threads.split(",")], sizes=sizes)


if __name__ == "__main__":
    main(sys.argv[1:])
