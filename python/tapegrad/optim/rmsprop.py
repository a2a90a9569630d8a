"""RMSprop (fused)."""

from tapegrad._core import zeros_like
from tapegrad.optim import _functional, _fused


class RMSprop(_fused.FusedOptimizer):
    """RMSprop with PyTorch's update rule: ``v ← αv + (1−α)g²``, optionally centered
    (``v − ḡ²``) and with momentum, ``p ← p − lr·g/(√v + eps)``."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, *, maximize=False, fused=True,
                 foreach=None, capturable=False, differentiable=False):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered, maximize=maximize)
        super().__init__(params, defaults, fused, capturable, differentiable)

    def _validate_group(self, g):
        _fused.check("learning rate", g["lr"], g["lr"] >= 0, f"Invalid learning rate: {g['lr']}")
        _fused.check("epsilon", g["eps"], g["eps"] >= 0)
        _fused.check("momentum", g["momentum"], g["momentum"] >= 0)
        _fused.check("weight_decay", g["weight_decay"], g["weight_decay"] >= 0)
        _fused.check("alpha", g["alpha"], g["alpha"] >= 0)

    def _step_group(self, g):
        params = _fused.params_with_grads(g)
        _fused.check_grads(params)
        names = (["square_avg"] + (["momentum_buffer"] if g["momentum"] > 0 else [])
                 + (["grad_avg"] if g["centered"] else []))
        states = [_fused.state_of(self, p, names, step=True) for p in params]
        for p, s in zip(params, states):
            for name in names:  # options switched on after the state was made
                if name not in s:
                    s[name] = zeros_like(p)
            _fused.advance(s)
        grads = [p.grad for p in params]
        sq = [s["square_avg"] for s in states]
        ga = [s["grad_avg"] for s in states] if g["centered"] else []
        bufs = [s["momentum_buffer"] for s in states] if g["momentum"] > 0 else []
        args = dict(lr=g["lr"], alpha=g["alpha"], eps=g["eps"], weight_decay=g["weight_decay"],
                    momentum=g["momentum"], centered=g["centered"], maximize=g["maximize"])
        if self._fused:
            _fused.core._rmsprop_step(params, grads, sq, ga, bufs, **args)
        else:
            _functional.rmsprop(params, grads, sq, ga, bufs, **args)
