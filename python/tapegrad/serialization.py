"""``tg.save`` and ``tg.load``: state dicts in a small documented format, without pickle.

``tg.save(obj, path)`` stores nested dicts (str or int keys), lists, tuples, tensors
(float32, float64, int64; any shape), ``int``, ``float``, ``bool``, ``str`` and
``None`` -- what model and optimizer state dicts hold. ``tg.load(path)`` gives the
same structure back. Loading only parses JSON and copies bytes, so a file can never
run code, unlike a pickle.

File layout (integers little-endian)::

    offset      size  field
    0           8     magic b"TAPEGRAD"
    8           4     format version, uint32 (currently 1)
    12          8     header length H in bytes, uint64
    20          8     data length D in bytes, uint64
    28          H     header: UTF-8 JSON, described below
    28+H        D     data: the tensors' raw bytes, back to back
    28+H+D      32    SHA-256 of all the bytes before it

The header is ``{"object": NODE, "tensors": [TENSOR, ...]}``. Each TENSOR is
``{"dtype": "float32" | "float64" | "int64", "shape": [...], "offset": o,
"nbytes": n}``: its elements in C order, little-endian, at ``data[o:o+n]``.
A NODE encodes one value:

    ``None``, ``bool``, ``int``, ``str``  the JSON value itself
    ``float``                        a JSON number; ``{"float": "nan" | "inf" | "-inf"}``
                                     for the values JSON has no number for
    ``list``                         a JSON array of NODEs
    ``tuple``                        ``{"tuple": [NODE, ...]}``
    ``dict``                         ``{"dict": [[key, NODE], ...]}``, in insertion
                                     order; a key is a JSON string or integer
    tensor                           ``{"tensor": i}``, an index into ``"tensors"``

A dict is never stored as a bare JSON object, so every JSON object in a NODE is one
of the one-key tagged forms above. A tensor that appears several times in ``obj`` is
stored once and loads as one tensor. NumPy scalars are saved as Python numbers, and
subclasses as their base type: an ``OrderedDict`` (as ``state_dict()`` returns) loads
as a ``dict`` with the same order, a named tuple as a tuple.

``save`` writes a temporary file next to the target, flushes it to disk and renames
it over the target, so the target holds either the old or the new contents, whole.
The temporary file is named ``.NAME.tmp.HOST.PID.RANDOM`` (HOST: a tag of the machine,
boot and PID namespace; PID: the writing process). A save killed outright (SIGKILL,
power loss) leaves it behind; the next save to the same path on POSIX removes those
whose process is gone, never one whose writer is still running, nor one written on
another machine, container or boot (which can't be told apart from a live one).
``load`` checks the length and the checksum before parsing anything and raises
:class:`CorruptFileError` for a file that is truncated, damaged or not a tapegrad file.

Limits, the same for ``save`` (a ``ValueError``) and ``load`` (checked before the header
is parsed or anything allocated; a ``CorruptFileError``): the header's JSON nests at
most ``MAX_DEPTH`` (200) levels deep (a list is one level, a tuple two, a dict three);
a tensor has at most ``MAX_DIMS`` (64, NumPy's limit) dimensions, none above 2**62, and
the product of its non-zero dimensions times the element size is at most 2**62 bytes.

>>> state = {"weight": tg.ones(2, 3), "step": 3, "betas": (0.9, 0.999)}
>>> tg.save(state, "checkpoint.tg")
>>> tg.load("checkpoint.tg")["betas"]
(0.9, 0.999)
"""

import hashlib
import json
import math
import numbers
import os
import re
import secrets
import struct

import numpy as np

from tapegrad._core import Tensor
from tapegrad._tensor import from_numpy

__all__ = ["save", "load", "CorruptFileError", "FORMAT_VERSION", "MAX_DEPTH", "MAX_DIMS"]

MAGIC = b"TAPEGRAD"
FORMAT_VERSION = 1
MAX_DEPTH = 200  # JSON nesting of the header: far below Python's recursion limit
MAX_DIMS = 64  # dimensions of a tensor (NumPy's limit)
_MAX_BYTES = 2**62  # of one tensor, counting only its non-zero dimensions
_PREFIX = struct.Struct("<8sIQQ")  # magic, version, header length, data length
_DIGEST_SIZE = hashlib.sha256().digest_size

# tapegrad dtype name -> little-endian NumPy dtype of the stored bytes
_DTYPES = {
    "float32": np.dtype("<f4"),
    "float64": np.dtype("<f8"),
    "int64": np.dtype("<i8"),
}
_SPECIAL_FLOATS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


class CorruptFileError(ValueError):
    """The file is not a valid tapegrad file: foreign, truncated, damaged or written
    by a newer format version. The message names the path."""


_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


def _json_depth(text):
    """How deep the JSON ``text`` (bytes) nests, counted without parsing it (brackets
    inside strings don't count), so that a hostile header is refused before the parser
    recurses into it."""
    codes = np.frombuffer(_JSON_STRING.sub(b'""', text), dtype=np.uint8)
    steps = (np.isin(codes, (ord("["), ord("{"))).astype(np.int64)
             - np.isin(codes, (ord("]"), ord("}"))))
    return int(np.cumsum(steps).max()) if len(steps) else 0


def _check_shape(shape, itemsize):
    """A problem with a tensor's shape that NumPy or tapegrad would refuse, or None."""
    if len(shape) > MAX_DIMS:
        return f"has {len(shape)} dimensions (at most {MAX_DIMS})"
    nonzero = math.prod(d for d in shape if d)
    if any(d > _MAX_BYTES for d in shape) or nonzero * itemsize > _MAX_BYTES:
        return f"is too large ({'x'.join(map(str, shape))} elements of {itemsize} bytes)"
    return None


def _fspath(f, func):
    if isinstance(f, (str, bytes, os.PathLike)):
        return os.fsdecode(f)
    # a path, not a file object: the atomic rename needs to know where the file lives
    raise TypeError(f"{func}: expected a file path (str or os.PathLike), "
                    f"got {type(f).__name__}")


# --- save ----------------------------------------------------------------------


class _Encoder:
    """Turns an object into a JSON-able node, collecting its tensors on the way."""

    def __init__(self):
        self.tensors = []  # header entries
        self.arrays = []  # the matching little-endian arrays, in data order
        self.nbytes = 0
        self._tensor_index = {}  # id(tensor) -> index, so a shared tensor is stored once
        self._open = set()  # ids of the containers being encoded, to catch cycles

    def encode(self, x, where):
        # bool before int: bool is a subclass of int
        if x is None or isinstance(x, (bool, np.bool_)):
            return None if x is None else bool(x)
        if isinstance(x, numbers.Integral):
            return int(x)
        if isinstance(x, (float, np.floating)):
            x = float(x)
            return x if math.isfinite(x) else {"float": repr(x)}
        if isinstance(x, str):
            return str(x)
        if isinstance(x, Tensor):
            return {"tensor": self._tensor(x, where)}
        if isinstance(x, (list, tuple, dict)):
            if id(x) in self._open:
                raise ValueError(f"save: {where} contains itself; a circular structure "
                                 "can't be saved")
            self._open.add(id(x))
            try:
                if isinstance(x, dict):
                    return {"dict": [[self._key(k, where), self.encode(v, f"{where}[{k!r}]")]
                                     for k, v in x.items()]}
                items = [self.encode(v, f"{where}[{i}]") for i, v in enumerate(x)]
                return {"tuple": items} if isinstance(x, tuple) else items
            finally:
                self._open.discard(id(x))
        raise TypeError(f"save: can't save an object of type {type(x).__name__!r} (at "
                        f"{where}); supported: dict (str or int keys), list, tuple, Tensor, "
                        "int, float, bool, str, None")

    @staticmethod
    def _key(k, where):
        if isinstance(k, str):
            return str(k)
        if isinstance(k, numbers.Integral) and not isinstance(k, (bool, np.bool_)):
            return int(k)
        raise TypeError(f"save: dict keys must be str or int, got a key of type "
                        f"{type(k).__name__!r} ({k!r}) in {where}")

    def _tensor(self, t, where):
        # ids are unique among live objects, and every tensor of obj lives until save returns
        if id(t) not in self._tensor_index:
            name = t.dtype.name
            if name not in _DTYPES:
                raise TypeError(f"save: can't save a tensor of dtype {name} (at {where})")
            # tobytes() below writes C order whatever the strides (and, unlike
            # ascontiguousarray, asarray keeps 0-d arrays 0-d)
            array = np.asarray(t.detach().numpy(), dtype=_DTYPES[name])
            problem = _check_shape(array.shape, array.itemsize)
            if problem:
                raise ValueError(f"save: the tensor at {where} {problem}; load would refuse it")
            self._tensor_index[id(t)] = len(self.tensors)
            self.tensors.append({"dtype": name, "shape": list(array.shape),
                                 "offset": self.nbytes, "nbytes": array.nbytes})
            self.arrays.append(array)
            self.nbytes += array.nbytes
        return self._tensor_index[id(t)]


def save(obj, f):
    """Saves ``obj`` (nested dicts, lists and tuples of tensors, numbers, strings and
    None) to the path ``f``, atomically: the file holds the old contents or the new
    ones, never a mix. See the module docstring for the format.

    >>> model_state = {"0.weight": tg.randn(4, 3), "0.bias": tg.zeros(4)}
    >>> tg.save({"model": model_state, "epoch": 7}, "checkpoint.tg")

    Raises ``TypeError`` naming the type and its place (e.g. ``obj['state'][2]``)
    for an object it can't store; nothing is written then.
    """
    path = _fspath(f, "save")
    encoder = _Encoder()
    too_deep = ValueError(f"save: obj nests deeper than a saved file may ({MAX_DEPTH} levels "
                          "of JSON: a list is one, a tuple two, a dict three); load would "
                          "refuse it")
    try:
        root = encoder.encode(obj, "obj")
        # ASCII JSON (non-ASCII text as \u escapes) encodes any str, even lone surrogates
        header = json.dumps({"object": root, "tensors": encoder.tensors}, allow_nan=False,
                            separators=(",", ":")).encode("ascii")
    except RecursionError:
        raise too_deep from None
    if _json_depth(header) > MAX_DEPTH:
        raise too_deep

    directory = os.path.dirname(os.path.abspath(path))
    _remove_stale_temporaries(directory, os.path.basename(path))
    tmp, fd = _create_temporary(directory, os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as out:
            digest = hashlib.sha256()

            def write(chunk):
                digest.update(chunk)
                out.write(chunk)

            write(_PREFIX.pack(MAGIC, FORMAT_VERSION, len(header), encoder.nbytes))
            write(header)
            for array in encoder.arrays:
                write(array.tobytes())
            out.write(digest.digest())
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        # leave the target untouched and no temporary file behind, whatever failed
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_directory(directory)


def _read_text(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return ""


def _host_tag():
    """8 hex digits naming this machine, boot and PID namespace: a PID means something
    only among the processes that share all three."""
    try:
        namespace = str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        namespace = ""
    boot = _read_text("/proc/sys/kernel/random/boot_id")
    node = os.uname().nodename if hasattr(os, "uname") else os.environ.get("COMPUTERNAME", "")
    return hashlib.sha256(f"{node}/{boot}/{namespace}".encode()).hexdigest()[:8]


def _temporary_pattern(name, host):
    return re.compile(re.escape(f".{name}.tmp.{host}.") + r"(\d+)\.[0-9a-f]{12}")


def _process_is_gone(pid):
    try:
        os.kill(pid, 0)  # signal 0 only checks that the process exists
    except ProcessLookupError:
        return True
    except OSError:  # PermissionError: it exists, and belongs to another user
        return False
    return False


def _remove_stale_temporaries(directory, name):
    """Removes the temporary files that killed saves to ``name`` left behind: those of
    this machine whose writing process no longer exists. Only on POSIX: Windows has no
    harmless way to ask whether a process exists (os.kill would terminate it)."""
    if os.name != "posix":
        return
    pattern = _temporary_pattern(name, _host_tag())
    try:
        entries = os.listdir(directory)
    except OSError:
        return
    for entry in entries:
        match = pattern.fullmatch(entry)
        if not match:
            continue
        pid = int(match.group(1))
        # our own PID: maybe another thread's save in progress
        if pid != os.getpid() and _process_is_gone(pid):
            try:
                os.unlink(os.path.join(directory, entry))
            except OSError:
                pass  # already removed by a concurrent save, or not ours to remove


def _create_temporary(directory, name):
    """A new hidden file next to the target, named for _remove_stale_temporaries. Created
    with O_EXCL and mode 0o666 so that the umask gives it the permissions any newly
    written file would get."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    prefix = f".{name}.tmp.{_host_tag()}.{os.getpid()}."
    while True:
        tmp = os.path.join(directory, prefix + secrets.token_hex(6))
        try:
            return tmp, os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue


def _fsync_directory(directory):
    # makes the rename itself durable on POSIX; Windows can't open directories
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --- load ----------------------------------------------------------------------


def load(f, map_location=None, weights_only=True):
    """Loads an object saved with :func:`save`. Tensors come back as fresh tensors
    (their own memory) that don't require grad; tuples come back as tuples.

    >>> tg.save({"w": tg.ones(2), "betas": (0.9, 0.999)}, "checkpoint.tg")
    >>> tg.load("checkpoint.tg")["w"]
    tensor([1., 1.])

    ``map_location`` (``None`` or ``"cpu"``) and ``weights_only`` are accepted for
    PyTorch compatibility; loading never runs code, whatever ``weights_only`` says.
    Raises :class:`CorruptFileError` (a ``ValueError``) naming the path for a file that
    is truncated, damaged or not a tapegrad file, and ``FileNotFoundError`` as usual.
    """
    path = _fspath(f, "load")
    if map_location not in (None, "cpu"):
        raise ValueError(f"load: tapegrad tensors live on the CPU; map_location must be None "
                         f"or 'cpu', got {map_location!r}")
    with open(path, "rb") as fh:
        blob = fh.read()
    return _Decoder(blob, path).decode()


def _sniff(blob):
    """A hint about what a foreign file is, for the error message."""
    if blob[:1] == b"\x80":
        return " (it looks like a pickle; tapegrad never unpickles)"
    if blob[:4] == b"PK\x03\x04":
        return " (it looks like a zip archive, e.g. a torch.save file)"
    return ""


class _Decoder:
    def __init__(self, blob, path):
        self.blob = blob
        self.path = path
        self._loaded = {}  # tensor index -> Tensor, so a shared tensor loads once

    def fail(self, problem):
        return CorruptFileError(f"load: '{self.path}' {problem}")

    def decode(self):
        blob = self.blob
        if len(blob) < len(MAGIC):
            if not blob:
                raise self.fail("is empty, not a tapegrad file")
            if MAGIC.startswith(blob):
                raise self.fail(f"is truncated ({len(blob)} bytes)")
        if blob[:len(MAGIC)] != MAGIC:
            raise self.fail(f"is not a tapegrad file: it doesn't start with {MAGIC!r}"
                            + _sniff(blob))
        if len(blob) < _PREFIX.size + _DIGEST_SIZE:
            raise self.fail(f"is truncated ({len(blob)} bytes)")
        _, version, header_len, data_len = _PREFIX.unpack_from(blob)
        if version != FORMAT_VERSION:
            raise self.fail(f"has format version {version}; this tapegrad reads version "
                            f"{FORMAT_VERSION} (the file is damaged or from a newer tapegrad)")
        expected = _PREFIX.size + header_len + data_len + _DIGEST_SIZE
        if len(blob) < expected:
            raise self.fail(f"is truncated: {len(blob)} bytes, its header says {expected}")
        if len(blob) > expected:
            raise self.fail(f"is corrupted: {len(blob) - expected} unexpected bytes at the end")
        body = memoryview(blob)[:-_DIGEST_SIZE]
        if hashlib.sha256(body).digest() != blob[-_DIGEST_SIZE:]:
            raise self.fail("is corrupted: its SHA-256 checksum doesn't match its contents")

        header_end = _PREFIX.size + header_len
        text = bytes(body[_PREFIX.size:header_end])
        depth = _json_depth(text)
        if depth > MAX_DEPTH:
            raise self.fail(f"is corrupted: its header nests {depth} levels deep (at most "
                            f"{MAX_DEPTH})")
        try:
            header = json.loads(text.decode("utf-8"))
            self.tensors = header["tensors"]
            root = header["object"]
        except (UnicodeDecodeError, ValueError, TypeError, KeyError):
            raise self.fail("is corrupted: its header is not valid") from None
        if not isinstance(self.tensors, list):
            raise self.fail("is corrupted: its tensor table is not a list")
        self.data = body[header_end:]
        return self.node(root)

    def node(self, n):
        if n is None or isinstance(n, (bool, int, float, str)):
            return n
        if isinstance(n, list):
            return [self.node(v) for v in n]
        if not (isinstance(n, dict) and len(n) == 1):
            raise self.fail(f"is corrupted: unexpected entry {n!r:.60} in its header")
        tag, value = next(iter(n.items()))
        if tag == "tuple" and isinstance(value, list):
            return tuple(self.node(v) for v in value)
        if tag == "dict" and isinstance(value, list):
            out = {}
            for pair in value:
                if not (isinstance(pair, list) and len(pair) == 2
                        and isinstance(pair[0], (str, int)) and not isinstance(pair[0], bool)):
                    raise self.fail(f"is corrupted: bad dict entry {pair!r:.60}")
                out[pair[0]] = self.node(pair[1])
            return out
        if tag == "float" and value in _SPECIAL_FLOATS:
            return _SPECIAL_FLOATS[value]
        if tag == "tensor" and isinstance(value, int) and 0 <= value < len(self.tensors):
            if value not in self._loaded:
                self._loaded[value] = self.tensor(self.tensors[value])
            return self._loaded[value]
        raise self.fail(f"is corrupted: unexpected entry {n!r:.60} in its header")

    def tensor(self, entry):
        try:
            dtype = _DTYPES[entry["dtype"]]
            shape = tuple(entry["shape"])
            offset, nbytes = entry["offset"], entry["nbytes"]
        except (KeyError, TypeError):
            raise self.fail(f"is corrupted: bad tensor entry {entry!r:.80}") from None
        if len(shape) > MAX_DIMS:  # before looking at each of them
            raise self.fail(f"is corrupted: a tensor entry has {len(shape)} dimensions (at "
                            f"most {MAX_DIMS})")
        ints = (*shape, offset, nbytes)
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in ints):
            raise self.fail(f"is corrupted: bad tensor entry {entry!r:.80}")
        problem = _check_shape(shape, dtype.itemsize)
        if problem:
            raise self.fail(f"is corrupted: the tensor entry {entry!r:.80} {problem}")
        count = math.prod(shape)
        if nbytes != count * dtype.itemsize or offset + nbytes > len(self.data):
            raise self.fail(f"is corrupted: tensor entry {entry!r:.80} doesn't fit the data")
        array = np.frombuffer(self.data, dtype=dtype, count=count, offset=offset)
        # astype copies into native byte order: the tensor owns its memory, the file
        # buffer is released
        array = array.astype(dtype.newbyteorder("=")).reshape(shape)
        return from_numpy(array)
