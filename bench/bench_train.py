"""The training loop of ``tapegrad train``: 20 epochs of a 64-128-64-10 ReLU MLP with
Adam, batch 32, on the bundled digits' training split (1,257 samples), float32.

Each call runs the whole loop as a user writes it: a shuffling DataLoader, and
per batch ``zero_grad``, forward, cross-entropy, backward and ``step``. PyTorch
runs the same loop with its own DataLoader and ``Adam`` (its default
implementation); both start from PyTorch-style initial weights of their own
generator. One thread in both.

Target: tapegrad ≤ 0.5× PyTorch's time for the loop.
"""

from __future__ import annotations

import sys

import numpy as np

try:
    from . import _common as C
except ImportError:
    import _common as C

NAME = "train"
TARGET = 0.5  # tg/torch time for the loop
HIDDEN, BATCH, LR = (128, 64), 32, 1e-3


def _data(tg):
    x, y = tg.datasets.load_digits()
    order = np.random.default_rng(0).permutation(len(x))[: int(0.7 * len(x))]
    x, y = x[order], y[order]
    std = x.std(0)
    x = ((x - x.mean(0)) / np.where(std == 0, 1, std)).astype(np.float32)
    return x, y


def _loop(lib, x, y, epochs):
    """The loop, written once for both libraries (``lib`` is tapegrad or torch: the
    same names, arguments and semantics)."""
    nn, sizes = lib.nn, (64, *HIDDEN, 10)
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    model = nn.Sequential(*layers[:-1])
    opt = lib.optim.Adam(model.parameters(), lr=LR)
    data = lib.utils.data.TensorDataset(lib.from_numpy(x), lib.from_numpy(y))

    def loop():
        loader = lib.utils.data.DataLoader(data, batch_size=BATCH, shuffle=True)
        for _ in range(epochs):
            for xb, yb in loader:
                opt.zero_grad()
                loss = nn.functional.cross_entropy(model(xb), yb)
                loss.backward()
                opt.step()
        return loss.item()

    return loop


def run(quick: bool = False, repeats: int | None = None) -> dict:
    """Times the loop on 1 thread; returns ``{"rows", "notes", "config"}``."""
    tg = C.import_tapegrad()
    torch = C.import_torch()
    epochs = 2 if quick else 20
    opts = C.compare_opts(quick, repeats, full=(5, 0.0, 0.0), short=(3, 0.0, 0.0))
    x, y = _data(tg)
    rows = []
    with C.Threads(1, tg, torch):
        print(f"[train] {epochs} epochs", file=sys.stderr, flush=True)
        fns = {"tg": _loop(tg, x, y, epochs),
               "torch": _loop(torch, x, y, epochs) if torch is not None else None,
               "numpy": None}
        t, others, attempts = C.compare_quiet(fns, threads=1, **C.quiet_opts(quick), **opts)
        noisy = C.unreliable(t, others, 1)
        s = {k: (v.median if v is not None else None) for k, v in t.items()}
        row = {"bench": NAME, "case": f"{epochs} epochs, batch {BATCH}, 64-128-64-10 Adam",
               "unit": "s", "tapegrad": s.get("tg"), "torch": s.get("torch"), "numpy": None,
               "tg/torch": C.ratio(s.get("tg"), s.get("torch")), "tg/numpy": None,
               "spread": t["tg"].spread, "others": others, "attempts": attempts,
               "timings": t, "target": f"tg/torch ≤ {TARGET:g}"}
        row["status"] = C.status(row["tg/torch"], "<=", TARGET, noisy)
        rows.append(row)
    notes = [f"{len(x)} training samples of the bundled digits, float32, 1 thread in both"]
    if torch is None:
        notes.append("torch not installed: tg/torch ratio and target are n/a")
    return {"rows": rows, "notes": notes, "config": {**opts, "quick": quick, "epochs": epochs}}


def report(result: dict) -> None:
    C.print_table(result["rows"], title="Training loop of `tapegrad train` (median seconds per "
                                        "loop; ratios are tapegrad time / other time)")
    C.print_notes(result)


def main(argv=None) -> dict:
    args = C.make_parser(__doc__.splitlines()[0]).parse_args(argv)
    return C.main_for(NAME, run, report, args)


if __name__ == "__main__":
    main(sys.argv[1:])
