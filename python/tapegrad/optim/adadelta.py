"""Adadelta (fused)."""

from tapegrad.optim import _functional, _fused


class Adadelta(_fused.FusedOptimizer):
    """Adadelta with PyTorch's update rule: ``v ← ρv + (1−ρ)g²``,
    ``Δ = √(u + eps)/√(v + eps)·g``, ``u ← ρu + (1−ρ)Δ²``, ``p ← p − lr·Δ``."""

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False,
                 fused=True, foreach=None, capturable=False, differentiable=False):
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults, fused, capturable, differentiable)

    def _validate_group(self, g):
        _fused.check("learning rate", g["lr"], g["lr"] >= 0, f"Invalid learning rate: {g['lr']}")
        _fused.check("rho", g["rho"], 0.0 <= g["rho"] <= 1.0)
        _fused.check("epsilon", g["eps"], g["eps"] >= 0)
        _fused.check("weight_decay", g["weight_decay"], g["weight_decay"] >= 0)

    def _step_group(self, g):
        params = _fused.params_with_grads(g)
        _fused.check_grads(params)
        states = [_fused.state_of(self, p, ["square_avg", "acc_delta"], step=True)
                  for p in params]
        for s in states:
            _fused.advance(s)
        grads = [p.grad for p in params]
        sq, acc = [s["square_avg"] for s in states], [s["acc_delta"] for s in states]
        args = dict(lr=g["lr"], rho=g["rho"], eps=g["eps"], weight_decay=g["weight_decay"],
                    maximize=g["maximize"])
        if self._fused:
            _fused.core._adadelta_step(params, grads, sq, acc, **args)
        else:
            _functional.adadelta(params, grads, sq, acc, **args)
