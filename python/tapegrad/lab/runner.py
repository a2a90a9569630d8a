"""Runs experiments and writes their figures, ``results.json`` and ``index.html``."""

import contextlib
import json
import os
import time
import traceback

import tapegrad as tg
from tapegrad.lab._common import Check, Context, fmt
from tapegrad.lab.report import write_html


def _experiments():
    from tapegrad.lab import EXPERIMENTS

    return EXPERIMENTS


def _numpy_blas_on_one_thread():
    """NumPy's own BLAS (its QR, SVD and eigensolvers) on one thread too, when
    threadpoolctl is installed (the ``lab`` extra brings it): on a machine busier than
    its cores, a threaded 128×128 QR was measured at 0.9 s instead of 0.6 ms."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def _error_figure(message):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 2), dpi=90)
    fig.text(0.02, 0.5, message, family="monospace", fontsize=8, va="center", wrap=True)
    return fig


def run_experiment(name, quick=False, seed=0):
    """Runs one experiment; returns ``(entry, figure)`` where ``entry`` is its
    ``results.json`` record (``figure`` names ``NAME.png``) and ``figure`` a matplotlib
    Figure. An experiment that raises gets one failed check that quotes the error.

    >>> entry, fig = run_experiment("activations", quick=True)  # doctest: +SKIP
    >>> [c["passed"] for c in entry["checks"]]  # doctest: +SKIP
    [True, True, True, True, True, True, True]
    """
    module = _experiments()[name]
    threads, grad_mode = tg.get_num_threads(), tg.is_grad_enabled()
    began = time.perf_counter()
    try:
        # One thread: the sizes here are small, the numbers are then the same from run to
        # run, and on a busy machine threaded kernels can wait on each other for longer
        # than they compute.
        tg.set_num_threads(1)
        with _numpy_blas_on_one_thread():
            data = module.run(Context(name, quick=quick, seed=seed))
            checks = module.checks(data)
            fig = module.figure(data)
    except Exception as e:  # one broken experiment must not hide the others' results
        text = "".join(traceback.format_exception_only(type(e), e)).strip()
        checks = [Check("the experiment runs to the end", text, "no exception", False)]
        fig = _error_figure(traceback.format_exc(limit=4))
    finally:
        tg.set_num_threads(threads)
        tg.set_grad_enabled(grad_mode)
    seconds = time.perf_counter() - began
    entry = {"name": name, "title": module.TITLE, "seed_claim": module.CLAIM,
             "figure": f"{name}.png", "seconds": round(seconds, 3),
             "checks": [c.to_dict() for c in checks]}
    return entry, fig


def run(names=None, out="tapegrad-lab", quick=False, seed=0, log=print):
    """Runs the named experiments (all of them by default, in the page's order), writes
    ``NAME.png`` for each, ``results.json`` and ``index.html`` into ``out``, prints one
    progress line per experiment through ``log`` (``None``: silent) and returns the
    results as written to ``results.json``. Needs matplotlib; the figures are drawn on
    ``matplotlib.figure.Figure`` objects and saved through Agg (no pyplot, no display, and
    the caller's backend is left alone).

    >>> results = run(["graph"], out="lab-out", quick=True, log=None)  # doctest: +SKIP
    >>> [e["name"] for e in results["experiments"]]  # doctest: +SKIP
    ['graph']
    """
    experiments = _experiments()
    names = list(experiments) if names is None else list(names)
    unknown = [n for n in names if n not in experiments]
    if unknown:
        raise ValueError(f"unknown experiment {unknown[0]!r} (expected one of "
                         f"{', '.join(experiments)})")
    os.makedirs(out, exist_ok=True)
    entries, figures = [], {}
    for i, name in enumerate(names, 1):
        entry, fig = run_experiment(name, quick=quick, seed=seed)
        path = os.path.join(out, entry["figure"])
        fig.savefig(path)
        figures[name] = path
        entries.append(entry)
        if log is not None:
            passed = sum(c["passed"] for c in entry["checks"])
            total = len(entry["checks"])
            status = "ok" if passed == total else "FAILED"
            log(f"[{i:2d}/{len(names)}] {name:<22} {f'{passed}/{total}':>5} checks {status:<6} "
                f"{entry['seconds']:6.1f} s")
            for c in entry["checks"]:
                if not c["passed"]:
                    measured = c["measured"]
                    shown = fmt(measured) if isinstance(measured, (int, float)) else measured
                    log(f"        failed: {c['claim']}: measured {shown}, expected "
                        f"{c['expected']}")
    results = {"experiments": entries}
    with open(os.path.join(out, "results.json"), "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1, ensure_ascii=False, allow_nan=False)
        f.write("\n")
    write_html(os.path.join(out, "index.html"), results, figures, experiments,
               quick=quick, seed=seed)
    return results
