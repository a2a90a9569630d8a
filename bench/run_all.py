"""Runs every ``bench_*.py`` in this folder and prints one combined table.

Each benchmark's ``main`` prints its own detailed table; at the end the rows
of all of them are printed together with their targets, so one run shows at
a glance where tapegrad stands against PyTorch and NumPy on this machine.

    python bench/run_all.py [--quick] [--json PATH] [--only overhead,matmul]

The benches (every ``bench_*.py`` here, in name order): ``batchnorm``,
``elementwise``, ``matmul``, ``mlp``, ``optim``, ``overhead``. Each one sets
the thread counts it measures at and restores them afterwards.
"""

from __future__ import annotations

import collections
import glob
import importlib
import os
import sys
import time

try:
    from . import _common as C
except ImportError:
    import _common as C

HERE = os.path.dirname(os.path.abspath(__file__))


def bench_modules(only=None):
    """The bench modules of this folder, in name order (``only``: names to keep)."""
    names = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(HERE, "bench_*.py")))
    if only:
        names = [n for n in names if n[len("bench_"):] in only or n in only]
    mods = []
    for name in names:
        try:
            mods.append(importlib.import_module(f"{__package__}.{name}" if __package__ else name))
        except ImportError:
            mods.append(importlib.import_module(name))
    return mods


def main(argv=None) -> dict:
    p = C.make_parser(__doc__.splitlines()[0])
    p.add_argument("--only", help="comma-separated bench names (e.g. overhead,matmul)")
    args = p.parse_args(argv)
    only = set(args.only.split(",")) if args.only else None
    sub_argv = (["--quick"] if args.quick else []) + (
        ["--repeats", str(args.repeats)] if args.repeats else [])

    tg = C.import_tapegrad()
    torch = C.import_torch(tg.get_num_threads())
    machine = C.machine_info(tg, torch)
    results, took = {}, {}
    for mod in bench_modules(only):
        name = getattr(mod, "NAME", mod.__name__)
        print(f"\n=== {mod.__name__} {' '.join(sub_argv)}".rstrip() + " ===", flush=True)
        t0 = time.perf_counter()
        results[name] = mod.main(list(sub_argv))
        took[name] = time.perf_counter() - t0

    rows = [r for res in results.values() for r in res["rows"]]
    print("\n=== all benchmarks ===")
    print(C.format_machine(machine))
    C.print_table(rows, title="Combined (time rows — µs/op, µs, ms: ratio = tapegrad time / "
                              "other time, lower is better; GFLOP/s rows: ratio = tapegrad "
                              "rate / other, higher is better; ×fwd rows: backward time in "
                              "forwards)")
    summary = collections.Counter(r.get("status") for r in rows if r.get("target"))
    print("\ntargets: " + (", ".join(f"{v} {k}" for k, v in sorted(summary.items())) or "none")
          + ("   (? = disturbed or noisy: run again)" if any("?" in k for k in summary) else ""))
    for r in rows:
        if r.get("status") == "MISS":
            print(f"  MISS  {r['bench']}: {r['case']}  ({r['target']})")
    print("time: " + ", ".join(f"{k} {v:.1f} s" for k, v in took.items()))
    payload = {"machine": machine, "quick": args.quick, "seconds": took,
               "targets": dict(summary), "results": results}
    if args.json:
        C.write_json(args.json, payload)
    return payload


if __name__ == "__main__":
    main(sys.argv[1:])
