"""Adam (L2 weight decay) and AdamW (decoupled weight decay), fused."""

from tapegrad._core import zeros_like
from tapegrad.optim import _functional, _fused


class Adam(_fused.FusedOptimizer):
    """Adam with PyTorch's update rule and numbers (``amsgrad``, L2 ``weight_decay``).

    >>> w = tg.tensor([1.0], requires_grad=True)
    >>> opt = tg.optim.Adam([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step(); round(w.item(), 6)
    0.9
    """

    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, maximize=False, fused=True,
                 foreach=None, capturable=False, differentiable=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize)
        super().__init__(params, defaults, fused, capturable, differentiable)

    def _validate_group(self, g):
        _fused.check("learning rate", g["lr"], g["lr"] >= 0, f"Invalid learning rate: {g['lr']}")
        _fused.check("epsilon", g["eps"], g["eps"] >= 0)
        b1, b2 = g["betas"]
        _fused.check("beta", b1, 0.0 <= b1 < 1.0, f"Invalid beta parameter at index 0: {b1}")
        _fused.check("beta", b2, 0.0 <= b2 < 1.0, f"Invalid beta parameter at index 1: {b2}")
        _fused.check("weight_decay", g["weight_decay"], g["weight_decay"] >= 0)

    def _step_group(self, g):
        params = _fused.params_with_grads(g)
        _fused.check_grads(params)
        names = ["exp_avg", "exp_avg_sq"] + (["max_exp_avg_sq"] if g["amsgrad"] else [])
        states = [_fused.state_of(self, p, names, step=True) for p in params]
        if g["amsgrad"]:
            for p, s in zip(params, states):  # amsgrad switched on after a resume
                if "max_exp_avg_sq" not in s:
                    s["max_exp_avg_sq"] = zeros_like(p)
        steps = [_fused.advance(s) for s in states]
        lists = ([p.grad for p in params], [s["exp_avg"] for s in states],
                 [s["exp_avg_sq"] for s in states],
                 [s["max_exp_avg_sq"] for s in states] if g["amsgrad"] else [])
        b1, b2 = g["betas"]
        args = dict(lr=g["lr"], beta1=b1, beta2=b2, eps=g["eps"], weight_decay=g["weight_decay"],
                    amsgrad=g["amsgrad"], decoupled=self._decoupled, maximize=g["maximize"])
        if self._fused:
            _fused.core._adam_step(params, *lists, steps, **args)
        else:
            _functional.adam(params, *lists, steps, **args)


class AdamW(Adam):
    """Adam with decoupled weight decay (``p ← p·(1 − lr·wd)`` before the Adam step),
    PyTorch's numbers; weight_decay defaults to 1e-2."""

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, fused=True,
                 foreach=None, capturable=False, differentiable=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         fused=fused)
