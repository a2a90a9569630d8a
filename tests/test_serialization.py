"""tg.save / tg.load: round trips, atomic writes, and clear errors on bad files."""

import hashlib
import io
import json
import math
import os
import pathlib
import pickle
import signal
import struct
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import tapegrad as tg
from tapegrad import serialization
from tapegrad.serialization import CorruptFileError, load, save

DTYPES = [tg.float32, tg.float64, tg.int64]
SHAPES = [(), (0,), (1,), (5,), (2, 3), (2, 0, 4), (2, 3, 4, 5)]


def make_tensor(shape, dtype):
    if dtype == tg.int64:
        return tg.tensor(np.arange(math.prod(shape), dtype=np.int64).reshape(shape) - 3)
    return tg.randn(shape, dtype=dtype)


def assert_same(a, b, where="obj"):
    """Equal values, dtypes, shapes and container types (tuples stay tuples)."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, tg.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy(), err_msg=where)
    elif isinstance(a, dict):
        assert list(a) == list(b), f"{where}: keys {list(a)} vs {list(b)}"
        for k in a:
            assert type(k) is type(next(kb for kb in b if kb == k)), where
            assert_same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b), where
    else:
        assert a == b, where


def optimizer_state():
    return {
        "state": {
            0: {"step": 3, "exp_avg": tg.randn(4, 3), "exp_avg_sq": tg.rand(4, 3)},
            1: {"step": 3, "exp_avg": tg.randn(4), "exp_avg_sq": tg.rand(4)},
        },
        "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "eps": 1e-8,
                          "weight_decay": 0, "amsgrad": False, "foreach": None,
                          "params": [0, 1]}],
    }


def roundtrip(obj, tmp_path):
    path = tmp_path / "obj.tg"
    save(obj, path)
    return load(path)


def listing(directory):
    return sorted(os.listdir(directory))


# --- round trips ------------------------------------------------------------------


def test_optimizer_state_dict_roundtrip(tmp_path):
    state = optimizer_state()
    assert_same(roundtrip(state, tmp_path), state)


def test_model_state_dict_roundtrip(tmp_path):
    state = {"0.weight": tg.randn(8, 4), "0.bias": tg.zeros(8),
             "1.running_mean": tg.zeros(8, dtype=tg.float64),
             "1.num_batches_tracked": tg.tensor(5)}
    loaded = roundtrip(state, tmp_path)
    assert_same(loaded, state)
    assert loaded["1.num_batches_tracked"].shape == ()


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_tensor_roundtrip(tmp_path, dtype, shape):
    t = make_tensor(shape, dtype)
    assert_same(roundtrip(t, tmp_path), t)


@pytest.mark.parametrize("value", [
    None, True, False, 0, -7, 2**100, -(2**70), 0.0, -0.0, 1.5, 1e-310, 1.7976931348623157e308,
    math.inf, -math.inf, math.nan, "", "héllo ☃ \n \"quoted\" \\", "lone \ud800 surrogate",
    [], (), {}, {"ключ": "値"},
    [1, [2, [3, (4, {"a": (5,)})]]], (None, (None,)), {1: "int key", "1": "str key"},
    {"nested": {"empty": {}, "tuple": (1, 2.0, "three", None, True)}},
], ids=repr)
def test_python_values_roundtrip(tmp_path, value):
    loaded = roundtrip(value, tmp_path)
    assert_same(loaded, value)
    if isinstance(value, float) and value == 0.0:
        assert math.copysign(1.0, loaded) == math.copysign(1.0, value)


def test_module_state_dict_roundtrip(tmp_path):
    model = tg.nn.Sequential(tg.nn.Linear(3, 4), tg.nn.BatchNorm1d(4), tg.nn.Linear(4, 2))
    model(tg.randn(8, 3))  # moves the batch norm's running statistics
    path = tmp_path / "model.tg"
    save(model.state_dict(), path)
    loaded = load(path)
    assert list(loaded) == list(model.state_dict())
    fresh = tg.nn.Sequential(tg.nn.Linear(3, 4), tg.nn.BatchNorm1d(4), tg.nn.Linear(4, 2))
    fresh.load_state_dict(loaded)
    for (name, a), b in zip(model.state_dict().items(), fresh.state_dict().values()):
        assert a.dtype == b.dtype and a.shape == b.shape, name
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy(), err_msg=name)


def test_numpy_scalars_become_python_numbers(tmp_path):
    loaded = roundtrip({"i": np.int64(3), "f": np.float32(0.5), "b": np.bool_(True)}, tmp_path)
    assert_same(loaded, {"i": 3, "f": 0.5, "b": True})


def test_loaded_tensors_are_fresh_and_do_not_require_grad(tmp_path):
    w = tg.randn(3, 2, requires_grad=True)
    expected = w.detach().numpy().copy()
    path = tmp_path / "w.tg"
    save({"w": w}, path)
    first, second = load(path)["w"], load(path)["w"]
    assert not first.requires_grad and first.is_leaf and first.grad_fn is None
    # changing the original or one loaded copy changes no other
    with tg.no_grad():
        w.fill_(7.0)
    first.fill_(1.0)
    np.testing.assert_array_equal(second.numpy(), expected)


def test_non_contiguous_tensor_roundtrip(tmp_path):
    t = tg.randn(3, 4, 5).permute(2, 0, 1)
    assert_same(roundtrip(t, tmp_path), t)


def test_shared_tensor_is_stored_once_and_loads_as_one(tmp_path):
    w = tg.randn(100, 100)
    path = tmp_path / "shared.tg"
    save({"a": w, "b": [w, w]}, path)
    single = tmp_path / "single.tg"
    save({"a": w}, single)
    assert os.path.getsize(path) < os.path.getsize(single) + 200
    loaded = load(path)
    assert loaded["a"] is loaded["b"][0] is loaded["b"][1]


def test_accepts_str_and_pathlike_and_overwrites(tmp_path):
    save({"v": 1}, str(tmp_path / "a.tg"))
    save({"v": 2}, pathlib.Path(tmp_path / "a.tg"))
    assert load(str(tmp_path / "a.tg")) == {"v": 2}
    assert load(tmp_path / "a.tg") == {"v": 2}
    assert listing(tmp_path) == ["a.tg"]


def test_saves_into_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    save([1, 2], "here.tg")
    assert load("here.tg") == [1, 2]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_new_file_gets_the_usual_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        save({}, tmp_path / "perm.tg")
    finally:
        os.umask(umask)
    assert os.stat(tmp_path / "perm.tg").st_mode & 0o777 == 0o644


def test_file_follows_the_documented_format(tmp_path):
    """Reads a saved file by hand, following only the module docstring."""
    t = tg.tensor(np.array([[1.0, 2.0], [3.0, 4.0]]))
    path = tmp_path / "doc.tg"
    save({"t": t, "pair": (1, 2.5)}, path)
    blob = path.read_bytes()
    magic, version, header_len, data_len = struct.unpack_from("<8sIQQ", blob)
    assert (magic, version) == (b"TAPEGRAD", 1)
    assert len(blob) == 28 + header_len + data_len + 32
    assert hashlib.sha256(blob[:-32]).digest() == blob[-32:]
    header = json.loads(blob[28:28 + header_len])
    assert header["object"] == {"dict": [["t", {"tensor": 0}],
                                         ["pair", {"tuple": [1, 2.5]}]]}
    entry = header["tensors"][0]
    assert entry == {"dtype": "float64", "shape": [2, 2], "offset": 0, "nbytes": 32}
    data = blob[28 + header_len:-32]
    np.testing.assert_array_equal(np.frombuffer(data, "<f8").reshape(2, 2), t.numpy())


# --- failed saves leave the old file whole -----------------------------------------


def test_unsupported_type_raises_naming_type_and_place(tmp_path):
    path = tmp_path / "x.tg"
    with pytest.raises(TypeError, match=r"'set'.*obj\['state'\]\['x'\]\[2\]"):
        save({"state": {"x": [1, 2, {3}]}}, path)
    with pytest.raises(TypeError, match=r"'ndarray'.*obj\[0\]\[1\]"):
        save([(1, np.zeros(2))], path)
    with pytest.raises(TypeError, match=r"'object'.*obj\[5\]"):
        save({5: object()}, path)
    with pytest.raises(TypeError, match=r"key of type 'tuple'.*obj\['a'\]"):
        save({"a": {(1, 2): 3}}, path)
    with pytest.raises(TypeError, match="bytes"):
        save(b"raw", path)
    assert listing(tmp_path) == []


def test_circular_structure_raises(tmp_path):
    loop = {"a": []}
    loop["a"].append(loop)
    with pytest.raises(ValueError, match="contains itself"):
        save(loop, tmp_path / "loop.tg")
    assert listing(tmp_path) == []


def test_save_needs_a_path():
    with pytest.raises(TypeError, match="BytesIO"):
        save({}, io.BytesIO())
    with pytest.raises(TypeError, match="int"):
        load(3)


def test_failed_save_of_bad_object_keeps_old_file(tmp_path):
    path = tmp_path / "ckpt.tg"
    save(optimizer_state(), path)
    before = path.read_bytes()
    with pytest.raises(TypeError):
        save({"model": {"w": tg.ones(3)}, "deep": [[[{"x": lambda: 0}]]]}, path)
    assert path.read_bytes() == before
    assert listing(tmp_path) == ["ckpt.tg"]


class _FailingWriter:
    """A file wrapper whose writes fail once `limit` bytes are written."""

    def __init__(self, f, limit, exc):
        self._f, self._limit, self._exc, self.written = f, limit, exc, 0

    def write(self, data):
        if self.written + len(data) > self._limit:
            self._f.write(bytes(data)[:self._limit - self.written])  # a partial write
            raise self._exc
        self.written += len(data)
        return self._f.write(data)

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()


@pytest.mark.parametrize("exc", [OSError(28, "No space left on device"), KeyboardInterrupt()],
                         ids=["ENOSPC", "KeyboardInterrupt"])
@pytest.mark.parametrize("limit", [0, 10, 100, 5000])
def test_write_failing_halfway_keeps_old_file(tmp_path, monkeypatch, exc, limit):
    path = tmp_path / "ckpt.tg"
    save(optimizer_state(), path)
    before = path.read_bytes()
    real_fdopen = os.fdopen
    monkeypatch.setattr(os, "fdopen",
                        lambda *a, **k: _FailingWriter(real_fdopen(*a, **k), limit, exc))
    new_state = {"big": tg.randn(100, 100)}
    with pytest.raises(type(exc)):
        save(new_state, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert listing(tmp_path) == ["ckpt.tg"]
    assert_same(load(path), load(path))


@pytest.mark.parametrize("step", ["fsync", "replace"])
def test_failure_before_rename_keeps_old_file(tmp_path, monkeypatch, step):
    path = tmp_path / "ckpt.tg"
    save([1, 2, 3], path)
    before = path.read_bytes()

    def fail(*args):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, step, fail)
    with pytest.raises(OSError, match="Input/output"):
        save([4, 5, 6], path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert listing(tmp_path) == ["ckpt.tg"]


def test_save_into_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError):
        save({}, tmp_path / "no" / "such" / "dir.tg")
    assert listing(tmp_path) == []


# --- bad files give a clear error ---------------------------------------------------


@pytest.fixture
def saved(tmp_path):
    """A small saved file and its bytes."""
    path = tmp_path / "ckpt.tg"
    save({"w": tg.randn(3, 2), "i": tg.tensor([1, 2]), "step": 4, "betas": (0.9, 0.99)}, path)
    return path, path.read_bytes()


def expect_corrupt(path, match=None):
    with pytest.raises(CorruptFileError) as info:
        load(path)
    assert isinstance(info.value, ValueError)
    assert str(path) in str(info.value)
    if match:
        assert match in str(info.value)
    return info.value


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.tg")


def test_truncated_at_every_length(saved):
    path, blob = saved
    for length in range(len(blob)):
        path.write_bytes(blob[:length])
        message = str(expect_corrupt(path))
        assert ("truncated" in message or "empty" in message), (length, message)


def test_flipped_byte_anywhere_is_detected(saved):
    path, blob = saved
    for position in range(len(blob)):
        damaged = bytearray(blob)
        damaged[position] ^= 0x01
        path.write_bytes(bytes(damaged))
        expect_corrupt(path)


def test_trailing_bytes_are_detected(saved):
    path, blob = saved
    path.write_bytes(blob + b"\0")
    expect_corrupt(path, "unexpected bytes")


@pytest.mark.parametrize("content", [
    b"", b"hello, this is a text file\n", b"TAPE", b"weight,bias\n1,2\n",
    b"\x89PNG\r\n\x1a\n" + bytes(100),
], ids=["empty", "text", "magic-prefix", "csv", "png"])
def test_foreign_files(tmp_path, content):
    path = tmp_path / "foreign.tg"
    path.write_bytes(content)
    expect_corrupt(path)


class _Marker:
    """Unpickling this creates a file: evidence that pickle code ran."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_crafted_pickle_is_rejected_without_unpickling(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.tg"
    path.write_bytes(pickle.dumps({"weight": _Marker(str(marker))}))

    def forbidden(*args, **kwargs):
        raise AssertionError("load called pickle")

    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "Unpickler", forbidden)
    expect_corrupt(path, "pickle")
    # a pickle behind a valid-looking magic is rejected too
    path.write_bytes(b"TAPEGRAD" + pickle.dumps(_Marker(str(marker))))
    expect_corrupt(path)
    assert not marker.exists()


def test_zip_archive_is_rejected(tmp_path):
    path = tmp_path / "archive.pt"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
    expect_corrupt(path, "zip")


def test_torch_save_file_is_rejected(tmp_path, torch):
    path = tmp_path / "torch.pt"
    torch.save({"w": torch.ones(2)}, path)
    expect_corrupt(path)


def write_file(path, header, data=b"", version=1):
    """Assembles a file by the documented layout, with a valid checksum."""
    head = json.dumps(header).encode()
    body = struct.pack("<8sIQQ", b"TAPEGRAD", version, len(head), len(data)) + head + data
    path.write_bytes(body + hashlib.sha256(body).digest())


def test_hand_written_file_loads(tmp_path):
    path = tmp_path / "hand.tg"
    data = np.array([1, -2, 3], dtype="<i8").tobytes()
    write_file(path, {"object": {"dict": [[7, {"tensor": 0}], ["x", {"float": "-inf"}]]},
                      "tensors": [{"dtype": "int64", "shape": [3], "offset": 0, "nbytes": 24}]},
               data)
    loaded = load(path)
    assert list(loaded) == [7, "x"] and loaded["x"] == -math.inf
    assert loaded[7].dtype == tg.int64 and loaded[7].tolist() == [1, -2, 3]


@pytest.mark.parametrize("header, data", [
    ({"object": {"pickle": "gASVAAAAAAAAAAB9lC4="}, "tensors": []}, b""),
    ({"object": {"tensor": 0}, "tensors": []}, b""),
    ({"object": {"tensor": 0}, "tensors": [{"dtype": "float16", "shape": [1], "offset": 0,
                                            "nbytes": 2}]}, b"\0\0"),
    ({"object": {"tensor": 0}, "tensors": [{"dtype": "float32", "shape": [4], "offset": 0,
                                            "nbytes": 16}]}, bytes(8)),
    ({"object": {"tensor": 0}, "tensors": [{"dtype": "float32", "shape": [2], "offset": 0,
                                            "nbytes": 4}]}, bytes(8)),
    ({"object": {"tensor": 0}, "tensors": [{"dtype": "float32", "shape": [-1], "offset": 0,
                                            "nbytes": 4}]}, bytes(4)),
    ({"object": {"dict": {"a": 1}}, "tensors": []}, b""),
    ({"object": {"dict": [[1.5, 1]]}, "tensors": []}, b""),
    ({"object": {"float": "huge"}, "tensors": []}, b""),
    ({"object": {"tuple": [], "extra": 1}, "tensors": []}, b""),
    ({"tensors": []}, b""),
    ([1, 2], b""),
], ids=["unknown-tag", "missing-tensor", "bad-dtype", "data-too-short", "nbytes-mismatch",
        "negative-shape", "bare-object", "float-key", "bad-float", "two-keys",
        "no-object", "not-an-object"])
def test_valid_checksum_but_bad_header(tmp_path, header, data):
    path = tmp_path / "bad.tg"
    write_file(path, header, data)
    expect_corrupt(path)


def test_newer_format_version(tmp_path):
    path = tmp_path / "future.tg"
    write_file(path, {"object": None, "tensors": []}, version=2)
    expect_corrupt(path, "version 2")


def test_map_location(tmp_path):
    save({"w": tg.ones(2)}, tmp_path / "w.tg")
    assert load(tmp_path / "w.tg", map_location="cpu")["w"].tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match="map_location"):
        load(tmp_path / "w.tg", map_location="cuda")


def test_format_version_is_exported():
    assert serialization.FORMAT_VERSION == 1


# --- hostile headers: bounded before parsing or allocating -------------------------------


def write_raw_file(path, head, data=b""):
    """A file with the header bytes as given (json.dumps can't even write some of them)."""
    body = struct.pack("<8sIQQ", b"TAPEGRAD", 1, len(head), len(data)) + head + data
    path.write_bytes(body + hashlib.sha256(body).digest())


def _tensor_file(path, shape, nbytes=0, dtype="float32"):
    write_file(path, {"object": {"tensor": 0}, "tensors": [
        {"dtype": dtype, "shape": shape, "offset": 0, "nbytes": nbytes}]}, bytes(nbytes))


HOSTILE_HEADERS = {
    # nesting: RecursionError from the parser before
    "lists-100000-deep": b'{"object":' + b"[" * 100_000 + b"]" * 100_000 + b',"tensors":[]}',
    "tuples-50000-deep": (b'{"object":' + b'{"tuple":[' * 50_000 + b"]}" * 50_000
                          + b',"tensors":[]}'),
    "unbalanced-100000-deep": b'{"object":' + b"[" * 100_000,
    "deep-in-the-tensor-table": (b'{"object":null,"tensors":[{"shape":' + b"[" * 5000
                                 + b"]" * 5000 + b"}]}"),
    "just-over-the-limit": (b'{"object":' + b"[" * serialization.MAX_DEPTH + b"]"
                            * serialization.MAX_DEPTH + b',"tensors":[]}'),
    "brackets-in-strings-then-deep": (b'{"object":["]]]]\\"]]",' + b"[" * 300 + b"]" * 300
                                      + b'],"tensors":[]}'),
    # huge numbers: int() of 100,000 digits is refused by Python
    "number-with-100000-digits": b'{"object":' + b"7" * 100_000 + b',"tensors":[]}',
}


@pytest.mark.parametrize("name", list(HOSTILE_HEADERS))
def test_hostile_header_is_a_corrupt_file(tmp_path, name):
    path = tmp_path / f"{name}.tg"
    write_raw_file(path, HOSTILE_HEADERS[name])
    expect_corrupt(path)


def test_nesting_within_the_limit_loads_and_save_refuses_deeper(tmp_path):
    path = tmp_path / "deep.tg"
    ok = [1]
    for _ in range(serialization.MAX_DEPTH - 2):  # the root object and "tensors" add 2
        ok = [ok]
    save(ok, path)
    assert load(path) == ok
    brackets = {"[" * 1000 + '\\"{': ["]" * 500] * 3}  # in strings, brackets don't count
    save(brackets, path)
    assert load(path) == brackets
    for deep in ([ok], {"a": ok}, (ok,)):
        with pytest.raises(ValueError, match="nests deeper"):
            save(deep, tmp_path / "too-deep.tg")
    very_deep = []
    for _ in range(100_000):  # deeper than Python's recursion limit
        very_deep = [very_deep]
    with pytest.raises(ValueError, match="nests deeper"):
        save(very_deep, tmp_path / "too-deep.tg")
    assert listing(tmp_path) == ["deep.tg"]


@pytest.mark.parametrize("shape, nbytes", [
    ([0, 2**62, 2**62], 0),  # zero elements, but NumPy can't make the array
    ([2**62, 2**62, 0], 0),
    ([2**63, 0], 0),
    ([2**40, 2**40], 16),
    ([1] * 100_000, 4),  # 100,000 dimensions
    ([0] * 100_000, 0),
    ([1] * (serialization.MAX_DIMS + 1), 4),
], ids=["0x2^62x2^62", "2^62x2^62x0", "2^63x0", "2^40x2^40", "1x100000", "0x100000",
        "too-many-dims"])
def test_hostile_shapes_are_a_corrupt_file(tmp_path, shape, nbytes):
    path = tmp_path / "shape.tg"
    _tensor_file(path, shape, nbytes)
    expect_corrupt(path)


def test_shapes_at_the_limits_load(tmp_path):
    path = tmp_path / "edge.tg"
    _tensor_file(path, [1] * serialization.MAX_DIMS, 4)
    assert load(path).shape == (1,) * serialization.MAX_DIMS
    _tensor_file(path, [0, 2**40], 0)
    assert load(path).shape == (0, 2**40)


# --- saves killed outright leave no temporary files for ever ----------------------------

# A child process that starts a save to PATH and stops (as if stuck on a slow disk) once
# part of the data is written, after saying so; the test then kills it with SIGKILL.
_STALLED_SAVE = """
import os, sys, time
import tapegrad as tg

real_fdopen = os.fdopen

class Stalling:
    def __init__(self, f):
        self.f, self.written = f, 0
    def write(self, data):
        self.f.write(data)
        self.written += len(data)
        if self.written > 100_000:
            self.f.flush()
            print("stalled", flush=True)
            time.sleep(120)
    def __getattr__(self, name):
        return getattr(self.f, name)
    def __enter__(self):
        return self
    def __exit__(self, *exc):
        self.f.close()

os.fdopen = lambda *a, **k: Stalling(real_fdopen(*a, **k))
tg.save({"w": tg.full((200_000,), float(sys.argv[2]))}, sys.argv[1])
"""


def _start_stalled_save(path, value):
    proc = subprocess.Popen([sys.executable, "-c", _STALLED_SAVE, str(path), str(value)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if line.strip() != "stalled":
        _, err = proc.communicate(timeout=30)
        raise AssertionError(f"the save did not start: {err}")
    return proc


def _kill(proc):
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)  # waits, and closes the pipes
    assert proc.returncode == -signal.SIGKILL


def _temporaries(directory, name):
    return sorted(e for e in os.listdir(directory) if e.startswith(f".{name}.tmp."))


posix_only = pytest.mark.skipif(os.name != "posix", reason="SIGKILL and process checks")


@posix_only
def test_the_next_save_removes_what_a_killed_save_left(tmp_path):
    path = tmp_path / "ckpt.tg"
    save({"w": tg.ones(3)}, path)
    before = path.read_bytes()
    proc = _start_stalled_save(path, 2.0)
    _kill(proc)
    left = _temporaries(tmp_path, "ckpt.tg")
    # recognizable: the name says which process wrote it
    assert len(left) == 1 and f".{proc.pid}." in left[0]
    assert os.path.getsize(tmp_path / left[0]) > 100_000
    assert path.read_bytes() == before  # the target was never touched
    save({"w": tg.zeros(3)}, path)
    assert listing(tmp_path) == ["ckpt.tg"]
    assert load(path)["w"].tolist() == [0.0, 0.0, 0.0]


@posix_only
def test_repeated_kills_leave_at_most_one_temporary(tmp_path):
    # 50 killed saves left 36 files (804 MiB) behind: each save now removes the earlier ones
    path = tmp_path / "ckpt.tg"
    save({"w": tg.ones(3)}, path)
    for i in range(4):
        _kill(_start_stalled_save(path, float(i)))
        assert len(_temporaries(tmp_path, "ckpt.tg")) == 1
    assert load(path)["w"].tolist() == [1.0, 1.0, 1.0]


@posix_only
def test_a_live_writers_temporary_is_never_removed(tmp_path):
    path = tmp_path / "ckpt.tg"
    proc = _start_stalled_save(path, 5.0)
    try:
        theirs = _temporaries(tmp_path, "ckpt.tg")
        assert len(theirs) == 1
        save({"w": tg.ones(2)}, path)  # another process saves to the same path meanwhile
        assert _temporaries(tmp_path, "ckpt.tg") == theirs
        assert load(path)["w"].tolist() == [1.0, 1.0]
    finally:
        _kill(proc)
    save({"w": tg.ones(2)}, path)
    assert listing(tmp_path) == ["ckpt.tg"]


@posix_only
def test_only_this_targets_dead_temporaries_of_this_machine_are_removed(tmp_path):
    path = tmp_path / "ckpt.tg"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    pid = int(dead.stdout)  # a process that has exited
    host = serialization._host_tag()
    keep = [f".other.tg.tmp.{host}.{pid}.0123456789ab",  # another target
            f".ckpt.tg.tmp.ffffffff.{pid}.0123456789ab",  # another machine or container
            f".ckpt.tg.tmp.{host}.{os.getpid()}.0123456789ab",  # this process: a live save
            f".ckpt.tg.tmp.{host}.{pid}.not-hex-token",  # not a name save makes
            "ckpt.tg.bak"]
    stale = f".ckpt.tg.tmp.{host}.{pid}.0123456789ab"
    for name in keep + [stale]:
        (tmp_path / name).write_bytes(b"partial")
    save([1, 2], path)
    assert listing(tmp_path) == sorted(keep + ["ckpt.tg"])
