"""``tg.optim.lr_scheduler``: learning-rate schedules, PyTorch's and one of tapegrad's own.

A scheduler rewrites ``group["lr"]`` in its optimizer's parameter groups. Create it
after the optimizer and call ``scheduler.step()`` once per epoch (or iteration), after
``optimizer.step()``. ``LambdaLR``, ``StepLR``, ``ExponentialLR`` and
``CosineAnnealingLR`` give PyTorch's learning rates, float for float: like PyTorch's
they are *chainable* where PyTorch's are (``StepLR``, ``ExponentialLR`` and
``CosineAnnealingLR`` update the current ``group["lr"]`` by a recursive formula instead
of recomputing it from ``base_lrs``), including ``CosineAnnealingLR``'s behaviour past
``T_max`` (the learning rate climbs back to the initial one over the next ``T_max``
steps, and so on). ``InverseTimeLR`` is tapegrad's: ``lr_k = lr_0 / (1 + gamma·k)``,
the Robbins–Monro schedule (Σ lr_k = ∞, Σ lr_k² < ∞) under which SGD converges.

>>> w = tg.zeros(2, requires_grad=True)
>>> opt = tg.optim.SGD([w], lr=1.0)
>>> sched = tg.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
>>> lrs = []
>>> for epoch in range(5):
...     lrs.append(sched.get_last_lr()[0])
...     opt.step()        # (a real loop computes a loss and its gradients first)
...     sched.step()
>>> lrs
[1.0, 1.0, 0.5, 0.5, 0.25]
"""

import math
import numbers
import types
import warnings

from tapegrad.optim.optimizer import Optimizer

__all__ = [
    "LRScheduler",
    "LambdaLR",
    "StepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "InverseTimeLR",
]

_EPOCH_DEPRECATION_WARNING = (
    "The epoch parameter in `scheduler.step()` was not necessary and is being "
    "deprecated where possible. Please use `scheduler.step()` to step the "
    "scheduler. During the deprecation, if epoch is different from None, the "
    "closed form is used instead of the new chainable form, where available. "
    "Please open an issue if you are unable to replicate your use case: "
    "https://github.com/pytorch/pytorch/issues/new/choose."
)


# --- argument checks ----------------------------------------------------------------------

def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_int(name, value, minimum):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        bound = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"{name} must be {bound}, got {value!r}")
    return int(value)


def _check_real(name, value, *, positive=False):
    if not _is_real(value) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    if positive and not value > 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    if not positive and value < 0:
        raise ValueError(f"{name} must be non-negative, got {value!r}")
    return value


class LRScheduler:
    """Base class of the schedulers, with PyTorch's semantics.

    On construction (``last_epoch=-1``) it records each group's ``lr`` as
    ``group["initial_lr"]`` (unless already there) and in ``base_lrs``, then takes an
    initial step, so ``last_epoch`` is 0 and ``get_last_lr()`` holds the learning rates
    of epoch 0. Each ``step()`` increments ``last_epoch`` and writes the new learning
    rates into the optimizer's groups. Resuming with ``last_epoch=k >= 0`` requires
    ``"initial_lr"`` in every group (a ``KeyError`` otherwise, as PyTorch's).

    Subclasses implement ``get_lr()`` (the learning rates at ``last_epoch``, given the
    groups' current ones) and optionally ``_get_closed_form_lr()`` (used by the
    deprecated ``step(epoch)``).

    ``state_dict()`` holds everything but the optimizer (plain numbers, lists and
    bools, so ``tg.save`` can store it); ``load_state_dict()`` restores it. Save and
    restore the optimizer's state dict alongside, since the current learning rates live
    in its groups.
    """

    _get_lr_called_within_step = False
    _is_initial = False

    def __init__(self, optimizer, last_epoch=-1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        last_epoch = _check_int("last_epoch", last_epoch, -1)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] "
                                   "when resuming a scheduler with last_epoch >= 0")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self):
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    # --- state ----------------------------------------------------------------------------

    def state_dict(self):
        """The scheduler's state: every attribute but the optimizer."""
        return {key: _copy(value) for key, value in self.__dict__.items()
                if key != "optimizer"}

    def load_state_dict(self, state_dict):
        """Restores a state from ``state_dict()`` (the optimizer stays the same)."""
        if not isinstance(state_dict, dict):
            raise TypeError(f"state_dict must be a dict, got {type(state_dict).__name__}")
        self.__dict__.update({key: _copy(value) for key, value in state_dict.items()
                              if key != "optimizer"})

    # --- learning rates -------------------------------------------------------------------

    def get_last_lr(self):
        """The learning rates of the current epoch, one per parameter group (a copy)."""
        return list(self._last_lr)

    def get_lr(self):
        """The learning rates at ``last_epoch``; called by ``step()``. To read the current
        learning rates, use ``get_last_lr()``."""
        raise NotImplementedError

    def step(self, epoch=None):
        """Advances the schedule by one epoch and sets the groups' ``lr``.

        ``epoch`` is deprecated, as in PyTorch: it sets ``last_epoch`` to ``epoch`` and
        uses the closed form of the schedule (with a ``UserWarning``)."""
        self._step_count += 1
        if epoch is not None:
            warnings.warn(_EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
            epoch = _check_int("epoch", epoch, 0)
        self._update_lr(epoch)

    def _update_lr(self, epoch):
        groups = self.optimizer.param_groups
        if len(groups) != len(self.base_lrs):
            raise ValueError(f"the optimizer has {len(groups)} parameter groups but the "
                             f"scheduler was created for {len(self.base_lrs)}")
        self._get_lr_called_within_step = True
        try:
            if epoch is None:
                self.last_epoch += 1
                values = self.get_lr()
            else:
                self.last_epoch = epoch
                closed_form = getattr(self, "_get_closed_form_lr", None)
                values = closed_form() if closed_form is not None else self.get_lr()
        finally:
            self._get_lr_called_within_step = False
        for group, lr in zip(groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in groups]

    def _warn_if_outside_step(self):
        if not self._get_lr_called_within_step:
            warnings.warn("To get the last learning rate computed by the scheduler, "
                          "please use `get_last_lr()`.", UserWarning, stacklevel=3)

    def _current_lrs(self):
        return [group["lr"] for group in self.optimizer.param_groups]

    def __repr__(self):
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, lr={self.get_last_lr()})"


def _copy(value):
    if isinstance(value, list):
        return [_copy(v) for v in value]
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value


class LambdaLR(LRScheduler):
    """``lr = initial_lr · lr_lambda(epoch)``: ``lr_lambda`` is a function of the epoch
    (an int), or a list of such functions, one per parameter group.

    ``state_dict()`` stores ``None`` for plain functions and lambdas (they cannot be
    saved) and the attribute dict of callable objects, as PyTorch's.

    >>> opt = tg.optim.SGD([tg.zeros(1, requires_grad=True)], lr=0.5)
    >>> sched = tg.optim.lr_scheduler.LambdaLR(opt, lambda epoch: 0.9 ** epoch)
    >>> sched.step(); sched.step(); round(opt.param_groups[0]["lr"], 6)
    0.405
    """

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        n = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != n:
                raise ValueError(f"lr_lambda: expected {n} lr_lambdas (one per parameter "
                                 f"group), but got {len(lr_lambda)}")
            lambdas = list(lr_lambda)
        else:
            lambdas = [lr_lambda] * n
        for fn in lambdas:
            if not callable(fn):
                raise TypeError(f"lr_lambda must be callable (or a list of callables), got "
                                f"{type(fn).__name__}")
        self.lr_lambdas = lambdas
        super().__init__(optimizer, last_epoch)

    def state_dict(self):
        state = {key: _copy(value) for key, value in self.__dict__.items()
                 if key not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [
            None if isinstance(fn, types.FunctionType) or not hasattr(fn, "__dict__")
            else _copy(dict(fn.__dict__))
            for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict):
        if not isinstance(state_dict, dict):
            raise TypeError(f"state_dict must be a dict, got {type(state_dict).__name__}")
        lambdas = state_dict.get("lr_lambdas", [None] * len(self.lr_lambdas))
        super().load_state_dict({k: v for k, v in state_dict.items() if k != "lr_lambdas"})
        for fn, saved in zip(self.lr_lambdas, lambdas):
            if saved is not None:
                fn.__dict__.update(saved)

    def get_lr(self):
        self._warn_if_outside_step()
        return [base_lr * fn(self.last_epoch) for fn, base_lr in zip(self.lr_lambdas,
                                                                      self.base_lrs)]


class StepLR(LRScheduler):
    """Multiplies the learning rates by ``gamma`` every ``step_size`` epochs:
    ``lr = initial_lr · gamma^(epoch // step_size)`` (chainable, as PyTorch's: at each
    multiple of ``step_size`` the *current* lr is multiplied by ``gamma``).

    >>> opt = tg.optim.SGD([tg.zeros(1, requires_grad=True)], lr=1.0)
    >>> sched = tg.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.1)
    >>> for _ in range(3): sched.step()
    >>> round(sched.get_last_lr()[0], 12)
    0.1
    """

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size = _check_int("step_size", step_size, 1)
        self.gamma = _check_real("gamma", gamma, positive=True)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        self._warn_if_outside_step()
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _get_closed_form_lr(self):
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size)
                for base_lr in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiplies the learning rates by ``gamma`` every epoch:
    ``lr = initial_lr · gamma^epoch`` (chainable, as PyTorch's).

    >>> opt = tg.optim.SGD([tg.zeros(1, requires_grad=True)], lr=1.0)
    >>> sched = tg.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    >>> sched.step(); sched.step(); sched.get_last_lr()
    [0.25]
    """

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = _check_real("gamma", gamma, positive=True)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        self._warn_if_outside_step()
        if self._is_initial:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _get_closed_form_lr(self):
        return [base_lr * self.gamma ** self.last_epoch for base_lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing from ``initial_lr`` down to ``eta_min`` over ``T_max`` epochs,
    ``lr ≈ eta_min + (initial_lr − eta_min)·(1 + cos(π·epoch/T_max))/2``, computed by
    PyTorch's recursive (chainable) formula, so the numbers are PyTorch's. Past
    ``T_max`` the schedule continues the cosine: the learning rate climbs back to
    ``initial_lr`` at ``2·T_max``, falls again by ``3·T_max``, and so on.

    >>> opt = tg.optim.SGD([tg.zeros(1, requires_grad=True)], lr=1.0)
    >>> sched = tg.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4, eta_min=0.2)
    >>> lrs = [sched.get_last_lr()[0]]
    >>> for _ in range(8):
    ...     sched.step(); lrs.append(sched.get_last_lr()[0])
    >>> [round(lr, 6) for lr in lrs]
    [1.0, 0.882843, 0.6, 0.317157, 0.2, 0.317157, 0.6, 0.882843, 1.0]
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):  # noqa: N803
        self.T_max = _check_int("T_max", T_max, 1)
        self.eta_min = _check_real("eta_min", eta_min)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        self._warn_if_outside_step()
        epoch, t_max, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._current_lrs()
        if self._step_count == 1 and epoch > 0:
            return [eta_min + (base_lr - eta_min) * (1 + math.cos(epoch * math.pi / t_max)) / 2
                    for base_lr in self.base_lrs]
        if (epoch - 1 - t_max) % (2 * t_max) == 0:
            return [lr + (base_lr - eta_min) * (1 - math.cos(math.pi / t_max)) / 2
                    for base_lr, lr in zip(self.base_lrs, self._current_lrs())]
        return [(1 + math.cos(math.pi * epoch / t_max))
                / (1 + math.cos(math.pi * (epoch - 1) / t_max))
                * (lr - eta_min) + eta_min
                for lr in self._current_lrs()]

    def _get_closed_form_lr(self):
        return [self.eta_min + (base_lr - self.eta_min)
                * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
                for base_lr in self.base_lrs]


class InverseTimeLR(LRScheduler):
    """tapegrad's inverse-time decay ``lr_k = initial_lr / (1 + gamma·k)`` at epoch
    ``k``: the step sizes sum to infinity while their squares have a finite sum (for
    ``gamma > 0``), the classical condition under which SGD on a convex problem
    converges to a minimizer. ``gamma = 0`` keeps the learning rate constant.

    Computed in closed form from ``base_lrs`` (like ``LambdaLR``), so the k-th learning
    rate is exactly ``initial_lr / (1 + gamma·k)`` however long the run.

    >>> opt = tg.optim.SGD([tg.zeros(1, requires_grad=True)], lr=1.0)
    >>> sched = tg.optim.lr_scheduler.InverseTimeLR(opt, gamma=0.5)
    >>> lrs = [sched.get_last_lr()[0]]
    >>> for _ in range(4):
    ...     sched.step(); lrs.append(sched.get_last_lr()[0])
    >>> lrs
    [1.0, 0.6666666666666666, 0.5, 0.4, 0.3333333333333333]
    """

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = _check_real("gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        self._warn_if_outside_step()
        return self._get_closed_form_lr()

    def _get_closed_form_lr(self):
        return [base_lr / (1 + self.gamma * self.last_epoch) for base_lr in self.base_lrs]
