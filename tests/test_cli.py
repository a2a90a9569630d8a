"""The `tapegrad` command: train end to end, resume exactly, fail cleanly, bench."""

import importlib.util
import os
import re
import subprocess
import sys

import pytest


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "tapegrad", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=600)


def test_train_default_settings_learn_digits():
    r = run("train", "--epochs", "4")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    epochs = [ln for ln in lines if ln.startswith("epoch")]
    assert len(epochs) == 4
    for ln in epochs:
        assert re.search(r"loss \d+\.\d+ +train +\d+\.\d% +held-out +\d+\.\d% +[\d,]+ samples/s",
                         ln), ln
    acc = float(re.search(r"test accuracy ([\d.]+)%", lines[-1]).group(1))
    assert acc >= 90.0  # 4 epochs of Adam on standardized digits


@pytest.mark.parametrize("options", [
    ["--optimizer", "sgd"],
    ["--optimizer", "nesterov", "--batchnorm", "--dropout", "0.2", "--schedule", "cosine"],
    ["--optimizer", "rmsprop", "--init", "xavier", "--activation", "tanh"],
    ["--optimizer", "adadelta", "--init", "orthogonal", "--schedule", "step"],
    ["--optimizer", "adamw", "--init", "lecun", "--schedule", "inverse-time"],
    ["--optimizer", "adagrad", "--init", "kaiming", "--dtype", "float64"],
    ["--optimizer", "lbfgs", "--hidden", "32"],
])
def test_train_options_run_and_learn(options):
    r = run("train", "--epochs", "2", "--quiet", *options)
    assert r.returncode == 0, r.stderr
    acc = float(re.search(r"test accuracy ([\d.]+)%", r.stdout).group(1))
    assert acc > 50.0, (options, r.stdout)  # far above chance (10%)


def test_resume_continues_exactly(tmp_path):
    common = ["train", "--quiet", "--batchnorm", "--dropout", "0.1", "--schedule", "cosine",
              "--seed", "3"]
    whole = run(*common, "--epochs", "4", "--save", str(tmp_path / "whole.tg"))
    first = run(*common, "--epochs", "4", "--stop-after", "2", "--save", str(tmp_path / "ck.tg"))
    rest = run(*common, "--epochs", "4", "--resume", str(tmp_path / "ck.tg"),
               "--save", str(tmp_path / "resumed.tg"))
    for r in (whole, first, rest):
        assert r.returncode == 0, r.stderr
    assert rest.stdout == whole.stdout
    assert first.stdout != whole.stdout  # the first part alone is a different model
    import tapegrad as tg

    a, b = tg.load(tmp_path / "whole.tg"), tg.load(tmp_path / "resumed.tg")
    for key, value in a["model"].items():
        assert value.numpy().tobytes() == b["model"][key].numpy().tobytes(), key


def test_user_csv_and_npz(tmp_path):
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 3))
    y = (x[:, 0] + x[:, 1] > 0).astype(int)
    csv = tmp_path / "data.csv"
    with open(csv, "w") as f:
        f.write("a,b,c,label\n")
        for row, label in zip(x, y):
            f.write(",".join(f"{v:.6f}" for v in row) + f",{'yes' if label else 'no'}\n")
    r = run("train", "--data", str(csv), "--epochs", "5", "--quiet")
    assert r.returncode == 0, r.stderr
    assert float(re.search(r"test accuracy ([\d.]+)%", r.stdout).group(1)) > 80
    npz = tmp_path / "data.npz"
    np.savez(npz, x=x, y=y)
    r = run("train", "--data", str(npz), "--epochs", "5", "--quiet")
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("files, args", [
    ({}, ["--data", "{d}/missing.csv"]),
    ({"bad.csv": b"1,2,0\n3,x,1\n4,5,0\n"}, ["--data", "{d}/bad.csv"]),
    ({"ragged.csv": b"1,2,0\n3,1\n"}, ["--data", "{d}/ragged.csv"]),
    ({"empty.csv": b""}, ["--data", "{d}/empty.csv"]),
    ({"binary.csv": bytes(range(256))}, ["--data", "{d}/binary.csv"]),
    ({"bin.npz": b"\x00garbage"}, ["--data", "{d}/bin.npz"]),
    ({}, ["--optimizer", "adamax"]),
    ({}, ["--epochs", "0"]),
    ({}, ["--hidden", "12,x"]),
    ({}, ["--dropout", "1.5"]),
    ({}, ["--lr", "-1"]),
    ({}, ["--resume", "{d}/nothing.tg"]),
    ({"foreign.tg": b"not a checkpoint"}, ["--resume", "{d}/foreign.tg"]),
    ({}, ["--no-such-flag"]),
])
def test_bad_arguments_and_files_exit_2_with_one_line(tmp_path, files, args):
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    r = run("train", "--epochs", "1", *[a.format(d=tmp_path) for a in args])
    assert r.returncode == 2, (args, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tapegrad: error:"), r.stderr
    assert "Traceback" not in r.stderr


def test_constant_schedule_runs_can_be_extended(tmp_path):
    whole = run("train", "--quiet", "--epochs", "3")
    first = run("train", "--quiet", "--epochs", "1", "--save", str(tmp_path / "c.tg"))
    rest = run("train", "--quiet", "--epochs", "3", "--resume", str(tmp_path / "c.tg"))
    assert first.returncode == 0 and rest.returncode == 0, rest.stderr
    assert rest.stdout == whole.stdout


def test_resume_with_other_settings_is_refused(tmp_path):
    saved = run("train", "--epochs", "1", "--quiet", "--save", str(tmp_path / "c.tg"))
    assert saved.returncode == 0
    r = run("train", "--epochs", "2", "--hidden", "16", "--resume", str(tmp_path / "c.tg"))
    assert r.returncode == 2 and "settings" in r.stderr


@pytest.mark.skipif(importlib.util.find_spec("tapegrad.bench") is None,
                    reason="the benchmarks ship in the installed package (pip install .)")
def test_bench_quick_prints_its_table(tmp_path):
    out = tmp_path / "bench.json"
    env = dict(os.environ, TAPEGRAD_BENCH_NO_TORCH="1")
    r = subprocess.run([sys.executable, "-m", "tapegrad", "bench", "--quick", "--json", str(out)],
                       capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, r.stderr
    assert "tapegrad" in r.stdout and "numpy" in r.stdout
    assert out.exists() and out.stat().st_size > 0
