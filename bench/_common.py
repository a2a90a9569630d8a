"""Shared helpers for the tapegrad microbenchmarks.

The machine these run on is small (2 cores) and shared, so absolute times
drift from run to run. Everything here is built for *side-by-side* numbers:
the contenders of one case are timed in the same process, interleaved repeat
by repeat (:func:`compare`), and the tables report medians and the ratios of
those medians. A ratio from one run is far more trustworthy than a time.

Contents: timing (:func:`measure`, :func:`timeit`, :func:`compare`), a
machine description (:func:`machine_info`), optional PyTorch
(:func:`import_torch`), a table printer (:func:`print_table`), the shared
command line, ``main`` and JSON output (:func:`make_parser`, :func:`main_for`,
:func:`write_json`) and the NumPy Adam update two benches time
(:func:`numpy_adam`).
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import importlib
import json
import math
import os
import platform
import statistics
import sys
import time

import numpy as np

# ---------------------------------------------------------------- imports


def import_tapegrad(retries: int = 30, delay: float = 2.0):
    """Imports tapegrad, retrying for a while if it is mid-rebuild.

    Another engineer may reinstall the package while a benchmark starts; an
    import that fails then usually works a few seconds later.
    """
    last = None
    for _ in range(retries):
        try:
            tg = importlib.import_module("tapegrad")
            _build_stamp(tg)  # the build loaded now, before any rebuild replaces the file
            return tg
        except (ImportError, OSError) as e:  # a half-installed package
            last = e
            for name in [m for m in sys.modules if m == "tapegrad" or m.startswith("tapegrad.")]:
                del sys.modules[name]
            print(f"[bench] tapegrad import failed ({e}); retrying in {delay:.0f} s",
                  file=sys.stderr)
            time.sleep(delay)
    raise ImportError(f"tapegrad could not be imported: {last}")


def import_torch(num_threads: int | None = None):
    """Returns the torch module, or ``None`` when PyTorch is not installed.

    When ``num_threads`` is given, ``torch.set_num_threads`` is called so that
    PyTorch uses as many intra-op threads as tapegrad.
    """
    if os.environ.get("TAPEGRAD_BENCH_NO_TORCH"):
        return None
    try:
        import torch
    except ImportError:
        return None
    if num_threads is not None:
        torch.set_num_threads(int(num_threads))
    return torch


def _openblas_threads(path: str, n: int | None = None) -> int | None:
    """The thread count of the OpenBLAS at ``path``; first sets it to ``n`` if given."""
    try:
        lib = ctypes.CDLL(path)
    except OSError:
        return None
    stems, suffixes = ("scipy_openblas_", "openblas_"), ("64_", "", "_64")
    if n is not None:
        for name in (f"{s}set_num_threads{x}" for s in stems for x in suffixes):
            fn = getattr(lib, name, None)
            if fn is not None:
                fn.restype = None
                fn.argtypes = [ctypes.c_int]
                fn(int(n))
                break
    return _call_first(lib, [f"{s}get_num_threads{x}" for s in stems for x in suffixes],
                       ctypes.c_int)


def set_openblas_threads(n: int) -> dict[str, int | None]:
    """Sets the thread count of every loaded OpenBLAS; returns path → previous count.

    NumPy's OpenBLAS reads ``OPENBLAS_NUM_THREADS`` only when it loads, but
    its ``set_num_threads`` works at any time (tapegrad's is also set by
    ``tg.set_num_threads``).
    """
    previous = {}
    for path in _loaded_openblas_paths():
        previous[path] = _openblas_threads(path)
        _openblas_threads(path, n)
    return previous


class Threads:
    """Context manager: runs its block with ``n`` threads in tapegrad, torch and OpenBLAS.

    Sets ``tg.set_num_threads(n)``, ``torch.set_num_threads(n)`` (when torch is
    given) and every loaded OpenBLAS (NumPy's too, :func:`set_openblas_threads`),
    and restores all of them on exit, so that a bench run from ``run_all.py``
    leaves the next one the thread counts it found.
    """

    def __init__(self, n: int, tg=None, torch=None):
        self.n, self.tg, self.torch = int(n), tg, torch

    def __enter__(self):
        # OpenBLAS first: tg.set_num_threads also sets tapegrad's own OpenBLAS
        self._blas = set_openblas_threads(self.n)
        self._tg = self.tg.get_num_threads() if self.tg is not None else None
        self._torch = self.torch.get_num_threads() if self.torch is not None else None
        if self.tg is not None:
            self.tg.set_num_threads(self.n)
        if self.torch is not None:
            self.torch.set_num_threads(self.n)
        return self

    def __exit__(self, *exc):
        for path, n in self._blas.items():
            if n is not None:
                _openblas_threads(path, n)
        if self._tg is not None:
            self.tg.set_num_threads(self._tg)
        if self._torch is not None:
            self.torch.set_num_threads(self._torch)
        return False


# ----------------------------------------------------------------- timing


class Timing(dict):
    """Per-call time statistics of one contender (a dict, so it goes to JSON as is).

    Keys: ``median``, ``q1``, ``q3``, ``min`` (seconds per call),
    ``number`` (calls per repeat), ``repeats``.
    """

    @property
    def median(self) -> float:
        return self["median"]

    @property
    def spread(self) -> float:
        """Interquartile range relative to the median (0.05 = ±5 %-ish noise)."""
        return (self["q3"] - self["q1"]) / self["median"] if self["median"] > 0 else 0.0


def _batch(fn, number: int) -> float:
    """Seconds taken by ``number`` calls of ``fn`` (gc off, as in ``timeit``)."""
    gc_was_on = gc.isenabled()
    gc.disable()
    try:
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        return time.perf_counter() - t0
    finally:
        if gc_was_on:
            gc.enable()


def _calibrate(fn, min_time: float, warmup: float) -> int:
    """Warms ``fn`` up, then picks a loop count so one batch takes ≥ ``min_time``."""
    t_end = time.perf_counter() + warmup
    fn()
    while time.perf_counter() < t_end:
        fn()
    number = 1
    while True:
        t = _batch(fn, number)
        if t >= min_time:
            return number
        # aim a little past min_time, at most 10x per step
        grow = min_time * 1.3 / t if t > 0 else 10.0
        number = max(number + 1, int(number * min(10.0, grow)))


def _stats(per_call: list[float], number: int) -> Timing:
    xs = sorted(per_call)
    if len(xs) >= 4:
        q1, _, q3 = statistics.quantiles(xs, n=4)
    else:
        q1, q3 = xs[0], xs[-1]
    return Timing(median=statistics.median(xs), q1=q1, q3=q3, min=xs[0], number=number,
                  repeats=len(xs))


def measure(fn, *, repeats: int = 7, min_time: float = 0.02, warmup: float = 0.05) -> Timing:
    """Times ``fn()`` like ``timeit``: warm-up, then ``repeats`` batches.

    The loop count is chosen so that each batch takes at least ``min_time``
    seconds (≈ 20 ms by default), which keeps timer resolution and per-batch
    overhead negligible. Returns a :class:`Timing` (seconds per call).
    """
    number = _calibrate(fn, min_time, warmup)
    return _stats([_batch(fn, number) / number for _ in range(repeats)], number)


def timeit(fn, *, repeats: int = 7, min_time: float = 0.02, warmup: float = 0.05) -> float:
    """Median seconds per call of ``fn()`` (see :func:`measure`)."""
    return measure(fn, repeats=repeats, min_time=min_time, warmup=warmup).median


def quiesce(max_wait: float = 2.0, tick: float = 0.01, idle: float = 0.1) -> float:
    """Sleeps until this process's own background threads stop burning CPU.

    After a call, an OpenBLAS (or OpenMP) thread pool keeps its workers
    spinning for a while (OpenBLAS: ~0.1-0.3 s here) in case more work
    comes. NumPy and tapegrad each have their own OpenBLAS pool, so when their
    calls are interleaved on 2 cores the pool that just finished steals a core
    from the one being timed; measured here, that halved the 2-thread matmul
    rate. This waits (up to ``max_wait`` s) until the process used less than
    ``idle`` of a core over a ``tick``. Returns the seconds waited.
    """
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < max_wait:
        c0 = time.process_time()
        time.sleep(tick)
        if time.process_time() - c0 < idle * tick:
            break
    return time.perf_counter() - t0


def _settle(fn, settle: bool, warm: float = 0.005) -> None:
    """With ``settle``: let other pools go idle, then wake ``fn``'s own pool untimed."""
    if not settle:
        return
    quiesce()
    t_end = time.perf_counter() + warm
    calls = 0
    while calls < 2 or time.perf_counter() < t_end:
        fn()
        calls += 1


def compare(fns: dict, *, repeats: int = 7, min_time: float = 0.02, warmup: float = 0.05,
            rounds: int | None = None, settle: bool = False) -> dict[str, Timing]:
    """Times several contenders side by side.

    Each function gets its own loop count, then the repeats are interleaved
    (tapegrad, torch, numpy, then the next round in a rotated order), so that
    a burst of load from a neighbour on the shared machine hits all of them
    alike instead of spoiling one contender's numbers. ``None`` values are
    skipped (a missing library). Returns name → :class:`Timing`.

    ``rounds`` (default: ``repeats``) splits each contender's repeats into
    that many interleaved chunks. ``settle=True`` runs :func:`quiesce` and an
    untimed warm-up before each chunk: for multi-threaded contenders with
    their own spinning thread pools (see :func:`quiesce`); use fewer rounds
    with it, as each settle costs up to a few tenths of a second.
    """
    names = [k for k, f in fns.items() if f is not None]
    numbers = {}
    for k in names:
        _settle(fns[k], settle)
        numbers[k] = _calibrate(fns[k], min_time, warmup)
    rounds = max(1, min(rounds or repeats, repeats))
    chunks = [repeats // rounds + (1 if i < repeats % rounds else 0) for i in range(rounds)]
    samples: dict[str, list[float]] = {k: [] for k in names}
    for r, chunk in enumerate(chunks):
        order = names[r % len(names):] + names[:r % len(names)] if names else []
        for k in order:
            _settle(fns[k], settle)
            for _ in range(chunk):
                samples[k].append(_batch(fns[k], numbers[k]) / numbers[k])
    return {k: _stats(samples[k], numbers[k]) for k in names}


class OtherLoad:
    """Context manager: how many cores *other* processes used meanwhile.

    On a shared 2-core machine a neighbour's build can halve a 2-thread
    result. This reads the machine's busy time (``/proc/stat``) and this
    process's own CPU time (``/proc/self/stat``) before and after, and sets
    ``cores`` to the average number of cores the rest of the machine kept busy
    (0 = quiet; 1.0 = one of the two cores taken). ``None`` off Linux.
    """

    cores: float | None = None

    @staticmethod
    def _read():
        try:
            with open("/proc/stat") as f:
                v = [int(x) for x in f.readline().split()[1:]]
            with open("/proc/self/stat") as f:
                own = f.read().rsplit(")", 1)[1].split()
            # fields after the name: state=0 ... utime=11 stime=12 (jiffies)
            return sum(v) - v[3] - v[4], int(own[11]) + int(own[12]), time.monotonic()
        except (OSError, IndexError, ValueError):
            return None

    def __enter__(self):
        self._start = self._read()
        return self

    def __exit__(self, *exc):
        end = self._read()
        if self._start and end and end[2] > self._start[2]:
            hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
            busy = (end[0] - self._start[0]) - (end[1] - self._start[1])
            self.cores = max(0.0, busy / hz / (end[2] - self._start[2]))
        return False


def disturbed(others: float | None, threads: int) -> bool:
    """Whether neighbours took cores that a ``threads``-thread case needed.

    A case using ``threads`` of the machine's cores is left alone while the
    other processes keep to the remaining ones (plus 0.3 core of slack).
    """
    if others is None:
        return False
    free = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
            else os.cpu_count() or 1) - threads
    return others > max(0, free) + 0.3


def unreliable(timings: dict, others: float | None, threads: int,
               max_spread: float = 0.25) -> bool:
    """Whether a case's ratio shouldn't be trusted.

    True when neighbours :func:`disturbed` it, or when any contender's repeats
    spread by more than ``max_spread`` (IQR / median): noise that this VM's
    own counters don't show (the host's other guests) still shows there.
    """
    return disturbed(others, threads) or any(t.spread > max_spread for t in timings.values())


def wait_for_quiet(threads: int, patience: float, window: float = 0.25) -> float:
    """Waits (at most ``patience`` s) until neighbours leave ``threads`` cores free.

    Returns the seconds waited.
    """
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < patience:
        with OtherLoad() as load:
            time.sleep(window)
        if not disturbed(load.cores, threads):
            break
    return time.perf_counter() - t0


def compare_quiet(fns: dict, *, threads: int = 1, retries: int = 2, patience: float = 5.0,
                  **kw):
    """:func:`compare`, re-run (up to ``retries`` times) while neighbours disturb it.

    Before each new attempt it waits up to ``patience`` s for the neighbours
    to calm down (:func:`wait_for_quiet`). Returns ``(timings, others,
    attempts)``: the timings of the attempt during which other processes used
    the fewest cores, that load (see :class:`OtherLoad`) and the number of
    attempts made.
    """
    best = None
    for attempt in range(1, retries + 2):
        with OtherLoad() as load:
            t = compare(fns, **kw)
        if best is None or (load.cores or 0) < (best[1] or 0):
            best = (t, load.cores, attempt)
        if not disturbed(load.cores, threads) or attempt == retries + 1:
            break
        waited = wait_for_quiet(threads, patience)
        print(f"[bench] neighbours used {load.cores:.2f} cores; waited {waited:.1f} s, "
              f"measuring again", file=sys.stderr, flush=True)
    return best[0], best[1], attempt


def quiet_opts(quick: bool) -> dict:
    """``retries``/``patience`` for :func:`compare_quiet`: none with ``--quick``.

    A quick run is a smoke test that must finish fast even on a busy machine;
    its disturbed cases just keep their ``?``.
    """
    return {"retries": 0, "patience": 0.0} if quick else {"retries": 2, "patience": 10.0}


def compare_opts(quick: bool, repeats: int | None, full: tuple[int, float, float],
                 short: tuple[int, float, float] = (3, 0.005, 0.01)) -> dict:
    """``repeats``, ``min_time`` and ``warmup`` for :func:`compare` and :func:`measure`.

    ``full`` and ``short`` are ``(repeats, min_time, warmup)`` of a full and of
    a ``--quick`` run; a ``repeats`` given (``--repeats``) replaces the count.
    """
    n, min_time, warmup = short if quick else full
    return {"repeats": repeats or n, "min_time": min_time, "warmup": warmup}


def ratio(a: float | None, b: float | None) -> float | None:
    """``a / b``, or ``None`` when either is missing."""
    if a is None or b is None or b == 0:
        return None
    return a / b


# ---------------------------------------------------------------- machine


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _loaded_openblas_paths() -> list[str]:
    """Paths of the OpenBLAS libraries mapped into this process."""
    paths = []
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                parts = line.split()
                if (len(parts) >= 6 and "openblas" in os.path.basename(parts[5]).lower()
                        and parts[5] not in paths):
                    paths.append(parts[5])
    except OSError:
        pass
    return paths


def _call_first(lib, names: list[str], restype):
    for name in names:
        fn = getattr(lib, name, None)
        if fn is not None:
            fn.restype = restype
            fn.argtypes = []
            return fn()
    return None


def openblas_info() -> list[dict]:
    """Config, core type and current thread count of each loaded OpenBLAS.

    NumPy and tapegrad each load their own OpenBLAS (``scipy_openblas64_``
    inside numpy.libs, and the ``scipy-openblas32`` wheel), so there are
    usually two; asking each for its thread count shows whether a thread
    setting reached it.
    """
    out = []
    for path in _loaded_openblas_paths():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        stems = ["scipy_openblas_", "openblas_"]
        suffixes = ["64_", "", "_64"]

        def names(what, stems=stems, suffixes=suffixes):
            return [f"{s}{what}{x}" for s in stems for x in suffixes]

        config = _call_first(lib, names("get_config"), ctypes.c_char_p)
        core = _call_first(lib, names("get_corename"), ctypes.c_char_p)
        threads = _call_first(lib, names("get_num_threads"), ctypes.c_int)
        out.append({
            "library": os.path.basename(path),
            "config": config.decode(errors="replace").strip() if config else None,
            "core": core.decode(errors="replace") if core else None,
            "num_threads": threads,
        })
    return out


_BUILD_STAMPS: dict[str, str | None] = {}


def _build_stamp(tg) -> str | None:
    """When the compiled core this process loaded was built (it is rebuilt often here).

    The file's modification time, read the first time it is asked for
    (:func:`import_tapegrad` asks right after the import): a rebuild during
    the run replaces the file, not the library already loaded.
    """
    core = getattr(tg, "_core", None) if tg is not None else None
    path = getattr(core, "__file__", None)
    if not path:
        return None
    if path not in _BUILD_STAMPS:
        try:
            _BUILD_STAMPS[path] = time.strftime("%Y-%m-%d %H:%M:%S",
                                                time.localtime(os.path.getmtime(path)))
        except OSError:
            _BUILD_STAMPS[path] = None
    return _BUILD_STAMPS[path]


def _git_state(tg) -> str | None:
    """``<commit>`` of the checkout tapegrad was imported from, plus its uncommitted files
    under cpp/ and python/ (read only: ``git diff``, no lock taken); ``None`` outside git."""
    import subprocess

    pkg = os.path.dirname(getattr(tg, "__file__", "") or "") if tg is not None else ""
    if not pkg:
        return None
    try:
        def git(*args):
            return subprocess.run(["git", "--no-optional-locks", "-C", pkg, *args],
                                  capture_output=True, text=True, timeout=10, check=True
                                  ).stdout.strip()
        head = git("rev-parse", "--short", "HEAD")
        top = git("rev-parse", "--show-toplevel")
        changed = git("diff", "--name-only", "HEAD", "--", os.path.join(top, "cpp"),
                      os.path.join(top, "python")).splitlines()
    except (OSError, subprocess.SubprocessError):
        return None
    if not changed:
        return head
    return f"{head} + uncommitted changes to {len(changed)} files in cpp/, python/"


def machine_info(tg=None, torch=None) -> dict:
    """A description of the machine and the library versions, for the report."""
    info = {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "loadavg": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "tapegrad": getattr(tg, "__version__", None) if tg is not None else None,
        "tapegrad_threads": tg.get_num_threads() if tg is not None else None,
        "tapegrad_blas": bool(getattr(getattr(tg, "_blas", None), "loaded", False)),
        "tapegrad_build": _build_stamp(tg),
        "tapegrad_git": _git_state(tg),
        "torch": torch.__version__ if torch is not None else None,
        "torch_threads": torch.get_num_threads() if torch is not None else None,
        "env": {k: os.environ[k] for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                           "MKL_NUM_THREADS") if k in os.environ},
        "openblas": openblas_info(),
    }
    return info


def format_machine(info: dict) -> str:
    """The machine description as a few readable lines."""
    lines = [
        (f"CPU      {info['cpu']}  ({info['cores']} cores, {info['cores_usable']} usable; "
         f"load avg {', '.join(f'{x:.2f}' for x in info['loadavg'] or [])})"),
        f"Python   {info['python']}   NumPy {info['numpy']}   "
        f"tapegrad {info['tapegrad']} (threads {info['tapegrad_threads']}, "
        f"OpenBLAS {'loaded' if info['tapegrad_blas'] else 'NOT loaded: Eigen fallback'}"
        + (f", core built {info['tapegrad_build']}" if info.get("tapegrad_build") else "")
        + ")   "
        f"torch {info['torch'] or 'not installed'}"
        + (f" (threads {info['torch_threads']})" if info["torch"] else ""),
    ]
    if info.get("tapegrad_git"):
        lines.append(f"source   {info['tapegrad_git']}")
    for b in info["openblas"]:
        lines.append(f"OpenBLAS {b['library']}: {b['config']} [core {b['core']}, "
                     f"threads {b['num_threads']}]")
    if info["env"]:
        lines.append("env      " + " ".join(f"{k}={v}" for k, v in info["env"].items()))
    return "\n".join(lines)


# ------------------------------------------------------------------ output

#: The columns shared by every bench's rows, so run_all can print one table.
COLUMNS = [
    ("bench", "bench"), ("case", "case"), ("unit", "unit"),
    ("tapegrad", "tapegrad"), ("torch", "torch"), ("numpy", "numpy"),
    ("tg/torch", "tg/torch"), ("tg/numpy", "tg/numpy"), ("spread", "±tg"),
    ("others", "others"), ("target", "target"), ("status", "status"),
]

#: What the less obvious columns mean, printed under the tables.
LEGEND = ("±tg: interquartile range of tapegrad's repeats / median.  others: cores that other "
          "processes kept busy during the case (disturbed cases are re-measured). A status "
          "ending in ? was disturbed or spread > 25%: don't trust it, run again.")


def fmt(value, digits: int = 3) -> str:
    """A compact cell: ``-`` for missing values, 3 significant digits for floats."""
    if value is None:
        return "-"
    if isinstance(value, float):
        if value == 0:
            return "0"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.{digits}g}" if abs(value) >= 0.01 else f"{value:.2e}"
    return str(value)


def print_table(rows: list[dict], columns=None, title: str | None = None, file=None) -> None:
    """Prints ``rows`` (dicts) as an aligned text table.

    ``columns`` is a list of ``(key, header)`` pairs; by default
    :data:`COLUMNS`. Columns that are empty in every row are left out.
    """
    file = file or sys.stdout
    columns = columns or COLUMNS
    special = {"spread": _fmt_spread, "others": _fmt_cores}
    cells = [[special.get(k, fmt)(r.get(k)) for k, _ in columns] for r in rows]
    keep = [i for i, (k, _) in enumerate(columns)
            if any(c[i] != "-" for c in cells)] or list(range(len(columns)))
    headers = [columns[i][1] for i in keep]
    cells = [[c[i] for i in keep] for c in cells]
    widths = [max([len(h)] + [len(c[j]) for c in cells]) for j, h in enumerate(headers)]
    numeric = [all(_looks_numeric(c[j]) for c in cells) for j in range(len(headers))]

    def line(vals):
        return "  ".join(v.rjust(w) if n else v.ljust(w)
                         for v, w, n in zip(vals, widths, numeric)).rstrip()

    if title:
        print(f"\n{title}", file=file)
    print(line(headers), file=file)
    print("  ".join("-" * w for w in widths), file=file)
    for c in cells:
        print(line(c), file=file)


def _fmt_spread(x) -> str:
    return "-" if x is None else f"{100 * x:.0f}%"


def _fmt_cores(x) -> str:
    return "-" if x is None else f"{x:.2f}"


def _looks_numeric(s: str) -> bool:
    s = s.replace(",", "").rstrip("%")
    if s == "-":
        return True
    try:
        float(s)
        return True
    except ValueError:
        return False


def status(value: float | None, op: str, bound: float, noisy: bool = False) -> str:
    """``PASS``/``MISS`` for ``value op bound`` (``op`` is ``<=`` or ``>=``), ``n/a`` if missing.

    ``noisy`` (the case was :func:`unreliable`) appends ``?``: don't trust it.
    """
    if value is None:
        return "n/a"
    ok = value <= bound if op == "<=" else value >= bound
    return ("PASS" if ok else "MISS") + ("?" if noisy else "")


def print_notes(result: dict) -> None:
    """The legend of the table columns, then the bench's notes."""
    print(f"  {LEGEND}")
    for n in result["notes"]:
        print(f"  note: {n}")


def make_parser(description: str) -> argparse.ArgumentParser:
    """The command line every bench script shares: ``--quick`` and ``--json PATH``."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true",
                   help="fewer sizes and repeats; finishes in seconds (a smoke test)")
    p.add_argument("--json", metavar="PATH", help="also write all results to PATH as JSON")
    p.add_argument("--repeats", type=int, default=None, help="timed repeats per contender")
    return p


def write_json(path: str, payload: dict) -> None:
    """Writes ``payload`` to ``path`` (directories created as needed)."""
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    with open(path, "w") as f:
        json.dump(payload, f, indent=2, default=str)
        f.write("\n")
    print(f"\nwrote {path}")


def main_for(name: str, run, report, args, *, torch_threads: bool = False, **run_kwargs) -> dict:
    """The ``main`` of a bench script, once its command line ``args`` is parsed.

    Imports tapegrad and torch (with tapegrad's thread count when
    ``torch_threads``), prints the machine, then ``result = run(quick=...,
    repeats=..., **run_kwargs)`` and ``report(result)``; with ``--json`` writes
    ``{"machine", "results": {name: result}}``. Returns ``result``.
    """
    tg = import_tapegrad()
    torch = import_torch(tg.get_num_threads() if torch_threads else None)
    machine = machine_info(tg, torch)
    print(format_machine(machine))
    result = run(quick=args.quick, repeats=args.repeats, **run_kwargs)
    report(result)
    if args.json:
        write_json(args.json, {"machine": machine, "results": {name: result}})
    return result


# ------------------------------------------------------- NumPy references


def numpy_adam(params, grads, exp_avgs, exp_avg_sqs, scratch, t: int, lr: float,
               betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0) -> None:
    """Step ``t`` (from 1) of PyTorch's Adam (AdamW with ``weight_decay``), in place.

    Updates each float32 array of ``params`` from its gradient in ``grads``
    and its states ``exp_avgs``/``exp_avg_sqs``, with in-place ufuncs through
    ``scratch`` (one array of each parameter's shape; never allocates).
    """
    b1, b2 = betas
    step_size = lr / (1 - b1 ** t)
    bias2_sqrt = math.sqrt(1 - b2 ** t)
    for p, g, m, v, s in zip(params, grads, exp_avgs, exp_avg_sqs, scratch):
        if weight_decay:  # AdamW: decoupled decay
            p *= 1 - lr * weight_decay
        m *= b1
        np.multiply(g, 1 - b1, out=s)
        m += s
        v *= b2
        np.multiply(g, g, out=s)
        s *= 1 - b2
        v += s
        np.sqrt(v, out=s)
        s /= bias2_sqrt
        s += eps
        np.divide(m, s, out=s)
        s *= step_size
        p -= s
