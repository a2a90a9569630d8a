"""What every experiment shares: its context (quick or full, seeds), its checks, and
small plotting helpers."""

import math
import zlib
from dataclasses import dataclass, field

import numpy as np

import tapegrad as tg


def _number(value):
    """A JSON-ready form of a measurement: floats and ints stay numbers, NaN and
    infinities become strings (JSON has no NaN), anything else becomes its str."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else str(value)
    return str(value)


def fmt(value):
    """A short human form of a number: 4 significant digits."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return f"{float(value):.4g}"


@dataclass
class Check:
    """One claim of the notes, the measured value and the expectation it is held to."""

    claim: str
    measured: object
    expected: str
    passed: bool

    def to_dict(self):
        return {"claim": self.claim, "measured": _number(self.measured),
                "expected": self.expected, "passed": bool(self.passed)}


def _finite(x):
    return isinstance(x, (int, float, np.integer, np.floating)) and math.isfinite(float(x))


def at_most(claim, measured, bound, label=None):
    """Passes when measured ≤ bound."""
    ok = _finite(measured) and float(measured) <= bound
    return Check(claim, measured, label or f"≤ {fmt(bound)}", ok)


def at_least(claim, measured, bound, label=None):
    """Passes when measured ≥ bound."""
    ok = _finite(measured) and float(measured) >= bound
    return Check(claim, measured, label or f"≥ {fmt(bound)}", ok)


def between(claim, measured, low, high, label=None):
    """Passes when low ≤ measured ≤ high."""
    ok = _finite(measured) and low <= float(measured) <= high
    return Check(claim, measured, label or f"in [{fmt(low)}, {fmt(high)}]", ok)


def close(claim, measured, expected, tol, label=None):
    """Passes when |measured − expected| ≤ tol."""
    ok = _finite(measured) and abs(float(measured) - expected) <= tol
    return Check(claim, measured, label or f"{fmt(expected)} ± {fmt(tol)}", ok)


def holds(claim, measured, label="True"):
    """Passes when the measured condition is true."""
    return Check(claim, bool(measured), label, bool(measured))


@dataclass
class Context:
    """What an experiment is given: ``quick`` (smaller sizes, same claims), a NumPy
    generator and the seed for tapegrad's generator, both derived from the run's seed
    and the experiment's name (so ``--only`` reproduces the numbers of a full run)."""

    name: str
    quick: bool = False
    seed: int = 0
    rng: np.random.Generator = field(init=False, repr=False)
    tg_seed: int = field(init=False)

    def __post_init__(self):
        sequence = np.random.SeedSequence([int(self.seed) & 0xFFFFFFFF,
                                           zlib.crc32(self.name.encode())])
        self.tg_seed = int(sequence.generate_state(1)[0])
        self.rng = np.random.default_rng(sequence)
        tg.manual_seed(self.tg_seed)

    def pick(self, quick, full):
        """``quick`` in quick mode, else ``full``."""
        return quick if self.quick else full


# --- plotting ----------------------------------------------------------------------------


def new_figure(ncols, width=4.2, height=3.4, nrows=1):
    """A matplotlib Figure (no pyplot, so no display and no global state) with a row of
    ``ncols`` axes; returns ``(fig, axes)`` with ``axes`` a flat list."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * ncols, height * nrows), dpi=90, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, [ax for row in axes for ax in row]


def contour(ax, f, xlim, ylim, levels=20, n=160):
    """Contour lines of ``f(X, Y)`` (NumPy arrays) over the given box, levels spaced
    evenly in log of the value above the minimum on the grid."""
    xs, ys = np.linspace(*xlim, n), np.linspace(*ylim, n)
    gx, gy = np.meshgrid(xs, ys)
    z = f(gx, gy)
    low = z.min()
    span = z.max() - low
    lv = low + span * np.logspace(-4, 0, levels)
    ax.contour(gx, gy, z, levels=lv, colors="0.75", linewidths=0.7)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)


def log_fit(x, y):
    """Slope and intercept of log y against log x (least squares)."""
    slope, intercept = np.polyfit(np.log(np.asarray(x, float)), np.log(np.asarray(y, float)), 1)
    return float(slope), float(intercept)
