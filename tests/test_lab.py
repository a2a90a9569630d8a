"""`tapegrad lab`: the quick run passes every check and writes what the issue specifies
(figures, results.json in its exact schema, one self-contained page); bad arguments,
--only, a failing check and a missing matplotlib behave as documented. Images are not
compared."""

import base64
import doctest
import json
import re
import struct
import subprocess
import sys

import pytest

pytest.importorskip("matplotlib")

import tapegrad.lab as lab  # noqa: E402
from tapegrad import cli  # noqa: E402
from tapegrad.lab._common import Check  # noqa: E402

NAMES = list(lab.EXPERIMENTS)
ENTRY_KEYS = {"name", "title", "seed_claim", "figure", "seconds", "checks"}
CHECK_KEYS = {"claim", "measured", "expected", "passed"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """One `tapegrad lab --quick` in a subprocess (warnings are errors there too)."""
    out = tmp_path_factory.mktemp("lab")
    r = subprocess.run([sys.executable, "-W", "error", "-m", "tapegrad", "lab", "--quick",
                        "--out", str(out)], capture_output=True, text=True, timeout=900)
    with open(out / "results.json", encoding="utf-8") as f:
        results = json.load(f)
    return r, out, results


def test_quick_run_exits_0_with_a_progress_line_per_experiment(quick):
    r, out, _ = quick
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stderr == ""
    lines = r.stdout.strip().splitlines()
    progress = [re.match(r"\[\s*\d+/18\] (\S+)", ln) for ln in lines]
    assert [m.group(1) for m in progress if m] == NAMES
    progress = [ln for ln, m in zip(lines, progress) if m]
    for ln in progress:
        assert re.search(r"(\d+)/\1 checks ok +[\d.]+ s$", ln), ln
    assert re.match(r"\d+/\d+ checks passed in \d+ s; open .*index\.html$", lines[-1])


def test_results_json_has_exactly_the_issue_schema(quick):
    _, _, results = quick
    assert set(results) == {"experiments"}
    assert [e["name"] for e in results["experiments"]] == NAMES
    for e in results["experiments"]:
        assert set(e) == ENTRY_KEYS, e["name"]
        assert e["title"] and isinstance(e["title"], str)
        assert e["seed_claim"] and isinstance(e["seed_claim"], str)
        assert e["figure"] == f"{e['name']}.png"
        assert isinstance(e["seconds"], (int, float)) and e["seconds"] >= 0
        assert e["checks"], e["name"]
        for c in e["checks"]:
            assert set(c) == CHECK_KEYS, (e["name"], c)
            assert isinstance(c["claim"], str) and c["claim"]
            assert isinstance(c["expected"], str) and c["expected"]
            assert isinstance(c["passed"], bool)
            assert isinstance(c["measured"], (int, float, bool, str))


def test_every_check_passes(quick):
    _, _, results = quick
    failed = [(e["name"], c) for e in results["experiments"] for c in e["checks"]
              if not c["passed"]]
    assert not failed


def _png_size(data):
    assert data[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    width, height = struct.unpack(">II", data[16:24])
    assert data[-12:] == b"\x00\x00\x00\x00IEND\xaeB`\x82"
    return width, height


def test_every_figure_is_a_png(quick):
    _, out, _ = quick
    for name in NAMES:
        width, height = _png_size((out / f"{name}.png").read_bytes())
        assert width >= 400 and height >= 200, name


def test_index_html_embeds_every_figure_and_check(quick):
    _, out, results = quick
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "<script" not in page and "http://" not in page and "https://" not in page
    embedded = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(embedded) == len(NAMES)
    for name, data in zip(NAMES, embedded):
        assert base64.b64decode(data) == (out / f"{name}.png").read_bytes(), name
        assert f'<section id="{name}">' in page
    for e in results["experiments"]:
        module = lab.EXPERIMENTS[e["name"]]
        assert module.FORMULA.split("\n")[0][:30] in page.replace("&#x27;", "'")
    checks = sum(len(e["checks"]) for e in results["experiments"])
    assert page.count("class='mark pass'>✓") == checks
    assert "✗</td>" not in page


def test_only_runs_the_named_experiments_with_the_same_numbers(quick, tmp_path, capsys):
    _, _, full = quick
    code = cli.main(["lab", "--quick", "--only", "activations,graph", "--out", str(tmp_path)])
    assert code == 0
    results = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert [e["name"] for e in results["experiments"]] == ["activations", "graph"]
    assert sorted(p.name for p in tmp_path.glob("*.png")) == ["activations.png", "graph.png"]
    # each experiment's seed comes from --seed and its name, not from its position
    before = {e["name"]: e["checks"] for e in full["experiments"]}
    for e in results["experiments"]:
        assert e["checks"] == before[e["name"]]
    lines = capsys.readouterr().out.strip().splitlines()
    assert len([ln for ln in lines if ln.startswith("[")]) == 2


@pytest.mark.parametrize("args", [
    ["--only", "nope"],
    ["--only", "graph,nope"],
    ["--only", ","],
    ["--seed", "x"],
    ["--seed", "-1"],
    ["--quick", "--bogus"],
])
def test_bad_arguments_exit_2_with_one_line(args, tmp_path, capsys):
    assert cli.main(["lab", *args, "--out", str(tmp_path / "out")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_an_output_path_that_is_a_file_exits_2(tmp_path, capsys):
    path = tmp_path / "file"
    path.write_text("x")
    assert cli.main(["lab", "--quick", "--only", "graph", "--out", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a directory" in err[0]


def test_without_matplotlib_says_how_to_install_and_exits_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails
    assert cli.main(["lab", "--quick", "--only", "graph", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "pip install 'tapegrad[lab]'" in err
    assert not list(tmp_path.iterdir())


def test_a_failing_check_or_a_broken_experiment_exits_1(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(lab.EXPERIMENTS["graph"], "checks",
                        lambda data: [Check("a claim that fails", 2.0, "≤ 1", False)])

    def broken(ctx):
        raise ValueError("no data")

    monkeypatch.setattr(lab.EXPERIMENTS["activations"], "run", broken)
    code = cli.main(["lab", "--quick", "--only", "graph,activations,sgd_toy", "--out",
                     str(tmp_path)])
    assert code == 1
    out = capsys.readouterr().out
    assert "failed: a claim that fails: measured 2, expected ≤ 1" in out
    results = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    graph, activations, sgd = results["experiments"]
    assert [c["passed"] for c in graph["checks"]] == [False]
    assert activations["checks"] == [{"claim": "the experiment runs to the end",
                                      "measured": "ValueError: no data",
                                      "expected": "no exception", "passed": False}]
    assert all(c["passed"] for c in sgd["checks"])  # the others still run
    assert _png_size((tmp_path / "activations.png").read_bytes())
    assert "✗" in (tmp_path / "index.html").read_text(encoding="utf-8")


def test_the_package_docstring_example():
    assert doctest.testmod(lab, report=True).failed == 0
