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
        rows.append((n, _summary(runs[False]), _summary(runs[True])))
    print("tanh forward + backward, float32, 1 thread: ms per call and page faults per call, "
          f"median over {rounds} processes [lowest, highest]")
    head = ("n", "no cache: ms", "faults", "cache: ms", "faults")
    print(f"{head[0]:>9}  {head[1]:>24}  {head[2]:>17}  {head[3]:>24}  {head[4]:>9}  ratio")
    for n, a, b in rows:
        print(f"{n:>9.0e}  {a[0]}  {a[1]}  {b[0]}  {b[1]:>9}  {b[2] / a[2]:5.2f}")
    return 0


def _summary(runs):
    ms = sorted(r["ms"] for r in runs)
    faults = sorted(r["faults"] for r in runs)
    med = statistics.median(ms)
    return (f"{med:8.3f} [{ms[0]:6.3f}, {ms[-1]:6.3f}]",
            f"{statistics.median(faults):5.0f} [{faults[0]:.0f}, {faults[-1]:.0f}]", med)


if __name__ == "__main__":
    sys.exit(main())
