"""The harness of the bad-input tests: each case runs in a subprocess, so that a
segfault or an abort fails the case instead of killing pytest.

The cases are batched: one interpreter runs them in order and prints one JSON
line per case as soon as it is done; if it dies, the case it was running is
recorded as a crash and a new interpreter resumes with the next case.
"""

import dataclasses
import json
import re
import subprocess
import sys
import textwrap


@dataclasses.dataclass(frozen=True)
class Case:
    code: str  # statements; the last one must raise (unless raises is empty)
    raises: tuple  # acceptable exception types (names of classes in the MRO); empty: none
    op: tuple = ()  # the message must name one of these (case-insensitive)
    shapes: tuple = ()  # the message must show each of these shapes
    words: tuple = ()  # other substrings the message must contain


def C(code, raises, op=(), shapes=(), words=()):
    raises = (raises,) if isinstance(raises, str) else tuple(raises)
    op = (op,) if isinstance(op, str) else tuple(op)
    return Case(textwrap.dedent(code).strip(), raises, op, tuple(shapes), tuple(words))


V, T, IX, R, M = "ValueError", "TypeError", "IndexError", "RuntimeError", "MemoryError"
OK = ()  # the code must run without raising
# A hostile call may be refused with any of the exceptions tapegrad documents, or succeed.
STANDARD = (V, T, IX, R, M)

RUNNER = r'''
import json, sys
import numpy as np
import tapegrad as tg
from tapegrad import nn
from tapegrad.nn import functional as F
from tapegrad.nn.utils import parametrizations as P
from tapegrad.nn.utils import parametrize

cases = json.loads(sys.stdin.read())
env = {"tg": tg, "np": np, "nn": nn, "F": F, "P": P, "parametrize": parametrize}
for name, code in cases:
    rec = {"name": name}
    try:
        exec(compile(code, name, "exec"), dict(env))
        rec["raised"] = None
    except BaseException as e:
        rec["raised"] = type(e).__name__
        rec["mro"] = [c.__name__ for c in type(e).__mro__]
        rec["msg"] = str(e)
    sys.stdout.write(json.dumps(rec) + "\n")
    sys.stdout.flush()
sys.stdout.write(json.dumps({"name": "__done__"}) + "\n")
sys.stdout.flush()
'''


def run_all(cases, timeout=60):
    """name -> record. A case that kills the interpreter is recorded as a crash."""
    pending = list(cases.items())
    results, exits = {}, []
    while pending:
        payload = json.dumps([[n, c.code] for n, c in pending])
        try:
            proc = subprocess.run([sys.executable, "-c", RUNNER], input=payload, check=False,
                                  capture_output=True, text=True, timeout=timeout)
            out, err, rc = proc.stdout, proc.stderr, proc.returncode
        except subprocess.TimeoutExpired as e:
            out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
            err, rc = "timeout", "timeout"
        done = False
        for line in out.splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if rec["name"] == "__done__":
                done = True
            else:
                results[rec["name"]] = rec
        pending = [(n, c) for n, c in pending if n not in results]
        if done:
            exits.append((rc, err))
            break
        if pending:  # the interpreter died while running pending[0]
            name, _ = pending.pop(0)
            # a sanitizer's report starts with what went wrong and ends with the stack
            stderr = err if len(err) <= 4000 else err[:1500] + "\n[...]\n" + err[-2500:]
            results[name] = {"name": name, "crashed": rc, "stderr": stderr}
    return results, exits


def check_survived(case, rec):
    """A hostile call of the sweep: the interpreter survived, and the call either returned
    or raised one of the standard exceptions (never SystemError or an unrelated type)."""
    assert "crashed" not in rec, (
        f"the interpreter died (exit {rec.get('crashed')}) running:\n{case.code}\n"
        f"{rec.get('stderr')}")
    if rec["raised"] is not None:
        assert any(t in rec["mro"] for t in STANDARD), (
            f"{rec['raised']}: {rec['msg']!r} from:\n{case.code}")
        assert rec["msg"].strip(), f"empty error message from:\n{case.code}"


def shape_regex(shape):
    inner = r"\s*,\s*".join(str(d) for d in shape)
    if len(shape) == 1:
        inner += r"\s*,?"
    return re.compile(r"[\(\[]\s*" + inner + r"\s*[\)\]]")


def check(case, rec):
    """The case raised one of its exceptions, with a message naming what it should (or,
    for a case that expects none, ran through)."""
    assert "crashed" not in rec, (
        f"the interpreter died (exit {rec.get('crashed')}) running:\n{case.code}\n"
        f"{rec.get('stderr')}")
    if not case.raises:
        assert rec["raised"] is None, (
            f"unexpected {rec['raised']}: {rec.get('msg')!r} from:\n{case.code}")
        return
    assert rec["raised"] is not None, f"no exception from:\n{case.code}"
    assert any(t in rec["mro"] for t in case.raises), (
        f"expected {case.raises}, got {rec['raised']}: {rec['msg']}")
    msg = rec["msg"]
    assert msg.strip(), "empty error message"
    if case.op:
        assert any(o.lower() in msg.lower() for o in case.op), (
            f"message doesn't name the op {case.op}: {msg!r}")
    for shape in case.shapes:
        assert shape_regex(shape).search(msg), f"message doesn't show shape {shape}: {msg!r}"
    for w in case.words:
        assert w in msg, f"message doesn't contain {w!r}: {msg!r}"


def check_clean_exit(exits):
    """After all the bad inputs the interpreter must still shut down without crashing."""
    assert exits, "the last interpreter never finished the cases"
    rc, err = exits[-1]
    assert rc == 0, err[-2000:]


def check_detects_crashes():
    """The harness itself: a case that kills the interpreter is reported, and the
    cases after it still run."""
    cases = {
        "before": C("raise ValueError('x')", V),
        "crash": C("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", V),
        "after": C("raise TypeError('y')", T),
    }
    results, _ = run_all(cases)
    assert results["before"]["raised"] == "ValueError"
    assert "crashed" in results["crash"]
    assert results["after"]["raised"] == "TypeError"
