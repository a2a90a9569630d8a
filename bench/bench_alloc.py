"""Large temporaries: tanh forward + backward with and without tapegrad's block cache.

Every call of ``y = x.tanh(); y.backward(gy)`` on n float32 elements allocates two
buffers of 4n bytes (y and x's gradient) and frees them before the next call. glibc
serves such buffers with a fresh mmap (always above 32 MiB; below that until its
adaptive threshold has grown, and again after it trims the heap) and unmaps them at
free, so the next call faults every page in again. tapegrad keeps freed blocks of
1 MiB and more for reuse; ``TAPEGRAD_NO_BLOCK_CACHE=1`` turns that off.

Each configuration runs in its own process (the variable is read once), the
configurations alternate for ``--rounds`` rounds, and the table gives the median over
rounds of each round's median ms per call, with the page faults per call (minor faults
of the process during the calls, over the calls). Results are identical either way
(checked).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

SIZES = (10**6, 10**7)

_WORKER = r"""
import json, resource, statistics, sys, time
import numpy as np
import tapegrad as tg
n, calls = int(sys.argv[1]), int(sys.argv[2])
tg.set_num_threads(1)
x = tg.tensor(np.random.default_rng(0).standard_normal(n).astype(np.float32), requires_grad=True)
gy = tg.ones(n)
def call():
    x.grad = None
    x.tanh().backward(gy)
call()  # the first call faults in whatever it allocates, cache or not
times, f0 = [], resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(calls):
    t = time.perf_counter()
    call()
    times.append(time.perf_counter() - t)
faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0) / calls
print(json.dumps({"ms": statistics.median(times) * 1e3, "faults": faults,
                  "check": float(x.grad.sum().item())}))
"""


def _run(n: int, cache: bool, calls: int) -> dict:
    env = dict(os.environ)
    env.pop("TAPEGRAD_NO_BLOCK_CACHE", None)
    if not cache:
        env["TAPEGRAD_NO_BLOCK_CACHE"] = "1"
    out = subprocess.run([sys.executable, "-c", _WORKER, str(n), str(calls)], env=env,
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--quick", action="store_true", help="2 rounds, fewer calls")
    args = p.parse_args(argv)
    rounds = 2 if args.quick else args.rounds
    rows = []
    for n in SIZES:
        calls = max(5, (10 if args.quick else 40) * 10**6 // n)
        runs = {True: [], False: []}
        for _ in range(rounds):
            for cache in (False, True):
                runs[cache].append(_run(n, cache, calls))
        checks = {r["check"] for rs in runs.values() for r in rs}
        assert len(checks) == 1, f"results differ: {checks}"
        med = {c: statistics.median(r["ms"] for r in runs[c]) for c in runs}
        faults = {c: statistics.median(r["faults"] for r in runs[c]) for c in runs}
        rows.append((n, med[False], faults[False], med[True], faults[True]))
    print("tanh forward + backward, float32, 1 thread (median ms per call; page faults per call)")
    print(f"{'n':>9}  {'no cache ms':>11}  {'faults':>7}  {'cache ms':>8}  {'faults':>7}  ratio")
    for n, a, fa, b, fb in rows:
        print(f"{n:>9.0e}  {a:11.3f}  {fa:7.0f}  {b:8.3f}  {fb:7.0f}  {b / a:5.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
