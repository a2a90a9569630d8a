"""Writes python/tapegrad/_core.pyi: pybind11-stubgen's stub of the module, with every op
of the op table (functions, Tensor methods, in-place methods and operators) typed from
its schema, overloads included.

    python tools/gen_stub.py          # needs pybind11-stubgen and an importable tapegrad
    python tools/gen_stub.py --check  # exit 1 when the committed stub is out of date
"""

import argparse
import pathlib
import re
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
STUB = ROOT / "python" / "tapegrad" / "_core.pyi"

SCALAR = "float | int | bool"
TYPES = {
    "Tensor": "Tensor", "Operand": f"Tensor | {SCALAR}", "Tensor[]": "Sequence[Tensor]",
    "Tensor?[]": "Sequence[Tensor | None]", "Scalar": SCALAR, "int": "int", "float": "float",
    "bool": "bool", "str": "str", "int[]": "int | Sequence[int]", "int...": "int",
    "ScalarType": "dtype",
}
RETURNS = {"Tensor": "Tensor", "Tensor[]": "tuple[Tensor, ...]", "Scalar": SCALAR,
           "int": "int", "float": "float", "bool": "bool", "None": "None"}


def _args(schema, method):
    inner = schema[schema.index("(") + 1:schema.rindex("->")].strip()[:-1]
    parts, depth, cur = [], 0, ""
    for ch in inner:
        depth += (ch in "([") - (ch in ")]")
        if ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur.strip())
    out, first = [], True
    for p in parts:
        if p == "*":
            out.append("*")
            continue
        decl, _, default = p.partition("=")
        typ, name = decl.strip().rsplit(" ", 1)
        optional = typ.endswith("?") and typ not in ("Tensor?[]",)
        base = typ[:-1] if optional else typ
        text = TYPES[base] + (" | None" if optional else "")
        if first and method:
            out.append("self")
        elif base == "int...":
            out.append(f"*{name}: int | Sequence[int]")
        else:
            d = default.strip()
            d = {"True": "True", "False": "False", "None": "None"}.get(d, d)
            if d.startswith("["):
                d = "(" + d[1:-1] + ("," if d[1:-1] else "") + ")"
            out.append(f"{name}: {text}" + (f" = {d}" if default else ""))
        first = False
    # a bare * before no keyword arguments, or after *varargs, is not valid Python
    cleaned = []
    for i, a in enumerate(out):
        if a == "*" and (i == len(out) - 1 or any(x.startswith("*") and x != "*"
                                                   for x in out[:i])):
            continue
        cleaned.append(a)
    return ", ".join(cleaned)


def _returns(schema):
    ret = schema[schema.rindex("->") + 2:].strip()
    if ret.startswith("("):
        return "tuple[Tensor, ...]"
    return RETURNS[ret]


def _doc(text, indent):
    first = text.strip().split("\n\n")[0].replace("\n", " ")
    return f'{indent}    """{first}"""\n' if first else f"{indent}    ...\n"


def _defs(name, entries, method, indent):
    many = len(entries) > 1
    out = []
    for e in entries:
        if many:
            out.append(f"{indent}@typing.overload\n")
        out.append(f"{indent}def {name}({_args(e['schema'], method)}) -> "
                   f"{'Tensor' if e.get('_self') else _returns(e['schema'])}:\n")
        out.append(_doc(e["doc"], indent))
    return "".join(out)


def _drop_blocks(lines, names, indent):
    """Removes the def blocks (and their decorators) of `names` at this indent."""
    out, i = [], 0
    pattern = re.compile(rf"^{indent}def ({'|'.join(map(re.escape, names))})\(")
    while i < len(lines):
        if pattern.match(lines[i]):
            while out and out[-1].startswith(indent + "@"):
                out.pop()
            i += 1
            while i < len(lines) and (lines[i].startswith(indent + " ") or not lines[i].strip()):
                i += 1
            continue
        out.append(lines[i])
        i += 1
    return out


def generate():
    import tapegrad  # noqa: F401  (the module must import before stubgen reads it)
    from tapegrad import _core

    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pybind11_stubgen", "tapegrad._core", "-o", tmp],
                       check=True, capture_output=True)
        base = (pathlib.Path(tmp) / "tapegrad" / "_core.pyi").read_text()
    table = _core._op_table()
    functions, methods = {}, {}
    for e in table:
        if e["function"]:
            functions.setdefault(e["name"], []).append(e)
        if e["method"]:
            methods.setdefault(e["name"], []).append(e)
        if e["inplace"]:
            methods.setdefault(e["name"] + "_", []).append(dict(e, _self=True))
        for d in e["dunders"] + e["reflected"] + e["inplace_dunders"]:
            methods.setdefault(d, []).append(dict(e, _self=d in e["inplace_dunders"]))
    lines = base.splitlines(keepends=True)
    lines = _drop_blocks(lines, list(functions), "")
    lines = _drop_blocks(lines, list(methods), "    ")
    text = "".join(lines)
    cls = text.index("class Tensor:")
    body = text.index("\n", cls) + 1
    # keep the class docstring first
    if text[body:].lstrip().startswith('"""'):
        start = text.index('"""', body)
        body = text.index('"""', start + 3) + 4
    method_text = "".join(_defs(n, es, True, "    ") for n, es in methods.items())
    text = text[:body] + method_text + text[body:]
    text = text.rstrip("\n") + "\n" + "".join(_defs(n, es, False, "")
                                             for n, es in functions.items())
    text = text.replace("import typing\n", "import typing\nfrom collections.abc import Sequence\n",
                        1)
    return text


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    text = generate()
    if args.check:
        if STUB.read_text() != text:
            print("python/tapegrad/_core.pyi is out of date: run python tools/gen_stub.py")
            return 1
        return 0
    STUB.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
