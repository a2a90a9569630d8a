"""SGD with momentum, dampening, Nesterov and weight decay (fused)."""

from tapegrad.optim import _functional, _fused


class SGD(_fused.FusedOptimizer):
    """Stochastic gradient descent, PyTorch's update rule and numbers:
    ``b ← μb + (1−τ)g`` (``b ← g`` on the first step), ``g ← g + μb`` (Nesterov) or
    ``g ← b``, ``p ← p − lr·g``, with ``g`` including ``weight_decay·p``.

    >>> w = tg.tensor([1.0], requires_grad=True)
    >>> opt = tg.optim.SGD([w], lr=0.1, momentum=0.9)
    >>> (w * w).sum().backward(); opt.step(); round(w.item(), 6)
    0.8
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, fused=True,
                 foreach=None, capturable=False, differentiable=False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults, fused, capturable, differentiable)

    def _validate_group(self, g):
        _fused.check("learning rate", g["lr"], g["lr"] >= 0, f"Invalid learning rate: {g['lr']}")
        _fused.check("momentum", g["momentum"], g["momentum"] >= 0)
        _fused.check("weight_decay", g["weight_decay"], g["weight_decay"] >= 0)
        if g["nesterov"] and (g["momentum"] <= 0 or g["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def _step_group(self, g):
        params = _fused.params_with_grads(g)
        _fused.check_grads(params)
        grads = [p.grad for p in params]
        bufs, fresh = [], []
        if g["momentum"] != 0:
            for p in params:
                state = self.state[p]
                fresh.append("momentum_buffer" not in state)
                if fresh[-1]:
                    state["momentum_buffer"] = p.detach().clone()
                bufs.append(state["momentum_buffer"])
        args = dict(lr=g["lr"], momentum=g["momentum"], dampening=g["dampening"],
                    weight_decay=g["weight_decay"], nesterov=g["nesterov"],
                    maximize=g["maximize"])
        if self._fused:
            _fused.core._sgd_step(params, grads, bufs, fresh, **args)
        else:
            _functional.sgd(params, grads, bufs, fresh, **args)
