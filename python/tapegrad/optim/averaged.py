"""Step-size weighted iterate averaging around any optimizer."""

import contextlib
import math

from tapegrad._core import Tensor
from tapegrad._grad_mode import no_grad
from tapegrad.optim.optimizer import Optimizer

_ITERATES = ("after", "before")


class Averaged(Optimizer):
    """Wraps an optimizer and keeps the step-size weighted average of its iterates,
    x̄ₖ = Σᵢ αᵢ·xᵢ / Σᵢ αᵢ, the point whose loss SGD's convergence bound controls:
    E F(x̄ₖ) − F* ≤ (‖x₀ − x*‖² + Σ αᵢ²·E‖gᵢ‖²) / (2·Σ αᵢ).

    αᵢ is the ``lr`` of the parameter's group when step i is taken (so learning-rate
    schedules that change ``lr`` between steps are weighted correctly). Which iterate
    xᵢ is averaged is chosen by ``iterate``:

    * ``"after"`` (default): xᵢ is the parameter value *after* step i, i.e. the point
      step i produced with step size αᵢ;
    * ``"before"``: xᵢ is the value *before* step i, the point where the gradient of
      step i was taken — the pairing of the bound above (x_{i+1} = xᵢ − αᵢgᵢ).

    The average is kept as a running mean, x̄ ← x̄ + (αᵢ / Σα)·(xᵢ − x̄), in the
    parameters' dtype. Steps with αᵢ = 0 do not change it.

    ``step``, ``zero_grad``, ``param_groups``, ``state``, ``defaults`` and
    ``add_param_group`` are the wrapped optimizer's, so the wrapper can be handed to a
    learning-rate scheduler. ``average()`` returns the averaged tensors (one per
    parameter, in parameter order; a parameter not averaged yet gives its current
    value). ``swap()`` exchanges parameters and average (call it again to swap back);
    ``with avg.averaged_parameters():`` does both around a block. ``state_dict()`` is
    the wrapped optimizer's plus the average under ``"average"``.

    >>> w = tg.tensor([0.0], requires_grad=True)
    >>> avg = tg.optim.Averaged(tg.optim.SGD([w], lr=0.25))
    >>> for lr in (0.25, 0.125):    # x₁ = 0.5, x₂ = 0.625
    ...     avg.param_groups[0]["lr"] = lr
    ...     avg.zero_grad(); ((w - 1) ** 2).sum().backward(); avg.step()
    >>> round(avg.average()[0].item(), 6)   # (0.25·0.5 + 0.125·0.625) / 0.375
    0.541667
    """

    def __init__(self, optimizer, iterate="after"):
        # Deliberately no Optimizer.__init__: everything but the average is forwarded.
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"Averaged wraps an Optimizer, got {type(optimizer).__name__}")
        if iterate not in _ITERATES:
            raise ValueError(f"Invalid iterate value: {iterate!r} (expected 'after' or "
                             "'before')")
        self.optimizer = optimizer
        self.iterate = iterate
        self._avg = {}  # parameter -> [running mean (tensor), Σα (float)]
        self._swapped = None  # the parameters' own values while the average is swapped in

    # --- forwarding ---------------------------------------------------------------------

    @property
    def param_groups(self):
        return self.optimizer.param_groups

    @property
    def state(self):
        return self.optimizer.state

    @property
    def defaults(self):
        return self.optimizer.defaults

    def add_param_group(self, param_group):
        self.optimizer.add_param_group(param_group)

    def zero_grad(self, set_to_none=True):
        self.optimizer.zero_grad(set_to_none)

    def step(self, closure=None):
        """The wrapped optimizer's step, then the average's update; returns the
        wrapped step's result."""
        if self._swapped is not None:
            raise RuntimeError("Averaged.step(): the average is swapped into the "
                               "parameters; call swap() again before stepping")
        # αᵢ is read before the step: it is the lr the step uses.
        weights = [(group, _step_size(group, i)) for i, group in enumerate(self.param_groups)]
        if self.iterate == "before":
            with no_grad():
                self._accumulate(weights)
        loss = self.optimizer.step() if closure is None else self.optimizer.step(closure)
        if self.iterate == "after":
            with no_grad():
                self._accumulate(weights)
        return loss

    def _accumulate(self, weights):
        for group, alpha in weights:
            if alpha == 0:
                continue
            for p in group["params"]:
                entry = self._avg.get(p)
                if entry is None:  # the first iterate is the average so far
                    self._avg[p] = [p.detach().clone(), alpha]
                    continue
                entry[1] += alpha
                mean = entry[0]
                mean.add_(p.detach() - mean, alpha=alpha / entry[1])

    # --- the average ----------------------------------------------------------------------

    def _params(self):
        return [p for group in self.param_groups for p in group["params"]]

    def average(self):
        """x̄ for every parameter (copies), in parameter order."""
        with no_grad():
            return [(self._avg[p][0] if p in self._avg else p.detach()).clone()
                    for p in self._params()]

    def swap(self):
        """Puts the averages into the parameters (saving their values), or on the next
        call restores the saved values exactly."""
        with no_grad():
            if self._swapped is None:
                self._swapped = {}
                for p in self._params():
                    if p in self._avg:
                        self._swapped[p] = p.detach().clone()
                        p.copy_(self._avg[p][0])
            else:
                for p, value in self._swapped.items():
                    p.copy_(value)
                self._swapped = None

    @contextlib.contextmanager
    def averaged_parameters(self):
        """``with avg.averaged_parameters(): evaluate(model)`` — the average inside,
        the parameters' own values restored after (also on an exception)."""
        if self._swapped is not None:
            raise RuntimeError("Averaged.averaged_parameters(): already swapped in")
        self.swap()
        try:
            yield self
        finally:
            self.swap()

    # --- state dicts ------------------------------------------------------------------------

    def state_dict(self):
        """The wrapped optimizer's state dict with ``"average": {index: {"mean": x̄,
        "weight_sum": Σα}}`` (parameters numbered as in ``"param_groups"``)."""
        sd = self.optimizer.state_dict()
        sd["average"] = {i: {"mean": self._avg[p][0].clone(), "weight_sum": self._avg[p][1]}
                         for i, p in enumerate(self._params()) if p in self._avg}
        sd["iterate"] = self.iterate
        return sd

    def load_state_dict(self, state_dict):
        """Restores the wrapped optimizer and the average saved by ``state_dict``."""
        if self._swapped is not None:
            raise RuntimeError("Averaged.load_state_dict(): swap the average out first")
        inner = {k: v for k, v in state_dict.items() if k not in ("average", "iterate")}
        params = self._params()
        saved = state_dict.get("average", {})
        for i in saved:
            if not 0 <= int(i) < len(params):
                raise ValueError(f"loaded state dict has an average for an unknown "
                                 f"parameter {i}")
        self.optimizer.load_state_dict(inner)
        self.iterate = state_dict.get("iterate", self.iterate)
        with no_grad():
            self._avg = {}
            for i, entry in saved.items():
                p = params[int(i)]
                mean = entry["mean"].detach().clone().to(p.dtype)
                if tuple(mean.shape) != tuple(p.shape):
                    raise ValueError(f"loaded average {i} has shape {tuple(mean.shape)}, "
                                     f"parameter has {tuple(p.shape)}")
                self._avg[p] = [mean, float(entry["weight_sum"])]

    def __repr__(self):
        return f"Averaged(iterate={self.iterate!r}, {self.optimizer!r})"


def _step_size(group, index):
    lr = group.get("lr")
    if isinstance(lr, Tensor):
        lr = lr.item()
    if not isinstance(lr, (int, float)) or isinstance(lr, bool) or not math.isfinite(lr) \
            or lr < 0:
        raise ValueError(f"Averaged weights iterates by the group's lr, but parameter group "
                         f"{index} has lr={lr!r}")
    return float(lr)
