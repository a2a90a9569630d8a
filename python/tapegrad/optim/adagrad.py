"""Adagrad (fused)."""

from tapegrad.optim import _functional, _fused


class Adagrad(_fused.FusedOptimizer):
    """Adagrad with PyTorch's update rule: ``s ← s + g²``,
    ``p ← p − lr/(1 + (t−1)·lr_decay) · g/(√s + eps)``."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0,
                 initial_accumulator_value=0, eps=1e-10, *, maximize=False, fused=True,
                 foreach=None, capturable=False, differentiable=False):
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps,
                        maximize=maximize)
        super().__init__(params, defaults, fused, capturable, differentiable)

    def _validate_group(self, g):
        _fused.check("learning rate", g["lr"], g["lr"] >= 0, f"Invalid learning rate: {g['lr']}")
        _fused.check("lr_decay", g["lr_decay"], g["lr_decay"] >= 0)
        _fused.check("weight_decay", g["weight_decay"], g["weight_decay"] >= 0)
        _fused.check("initial_accumulator_value", g["initial_accumulator_value"],
                     g["initial_accumulator_value"] >= 0)
        _fused.check("epsilon", g["eps"], g["eps"] >= 0)

    def _step_group(self, g):
        params = _fused.params_with_grads(g)
        _fused.check_grads(params)
        states = [_fused.state_of(self, p, ["sum"], step=True,
                                  fill=g["initial_accumulator_value"]) for p in params]
        steps = [_fused.advance(s) for s in states]
        grads, sums = [p.grad for p in params], [s["sum"] for s in states]
        args = dict(lr=g["lr"], lr_decay=g["lr_decay"], weight_decay=g["weight_decay"],
                    eps=g["eps"], maximize=g["maximize"])
        if self._fused:
            _fused.core._adagrad_step(params, grads, sums, steps, **args)
        else:
            _functional.adagrad(params, grads, sums, steps, **args)
