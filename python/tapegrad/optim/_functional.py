"""Plain single-tensor reference implementations of the fused optimizer steps.

They follow PyTorch's single-tensor algorithms line by line with tapegrad's
ops, one parameter at a time. The optimizers use the fused C++ kernels; these
exist so that tests can hold the kernels to them (``fused=False`` selects them).
"""

import math

from tapegrad._core import maximum


def _assign(t, value):
    t.copy_(value)


def sgd(params, grads, bufs, fresh, *, lr, momentum, dampening, weight_decay, nesterov,
        maximize):
    for i, (p, g) in enumerate(zip(params, grads)):
        d = -g if maximize else g
        if weight_decay != 0:
            d = d + weight_decay * p
        if momentum != 0:
            b = bufs[i]
            _assign(b, d if fresh[i] else b * momentum + (1 - dampening) * d)
            d = d + momentum * b if nesterov else b
        _assign(p, p + (-lr) * d)


def adam(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, *, lr, beta1, beta2, eps,
         weight_decay, amsgrad, decoupled, maximize):
    for i, (p, g) in enumerate(zip(params, grads)):
        d = -g if maximize else g
        if weight_decay != 0:
            if decoupled:
                _assign(p, p * (1 - lr * weight_decay))
            else:
                d = d + weight_decay * p
        m, v = exp_avgs[i], exp_avg_sqs[i]
        _assign(m, m + (1 - beta1) * (d - m))
        _assign(v, v * beta2 + (1 - beta2) * d * d)
        step_size = lr / (1 - beta1 ** steps[i])
        bias2_sqrt = math.sqrt(1 - beta2 ** steps[i])
        second = v
        if amsgrad:
            _assign(max_exp_avg_sqs[i], maximum(max_exp_avg_sqs[i], v))
            second = max_exp_avg_sqs[i]
        denom = second.sqrt() / bias2_sqrt + eps
        _assign(p, p - step_size * (m / denom))


def adagrad(params, grads, sums, steps, *, lr, lr_decay, weight_decay, eps, maximize):
    for i, (p, g) in enumerate(zip(params, grads)):
        d = -g if maximize else g
        if weight_decay != 0:
            d = d + weight_decay * p
        clr = lr / (1 + (steps[i] - 1) * lr_decay)
        _assign(sums[i], sums[i] + d * d)
        _assign(p, p - clr * (d / (sums[i].sqrt() + eps)))


def rmsprop(params, grads, square_avgs, grad_avgs, bufs, *, lr, alpha, eps, weight_decay,
            momentum, centered, maximize):
    for i, (p, g) in enumerate(zip(params, grads)):
        d = -g if maximize else g
        if weight_decay != 0:
            d = d + weight_decay * p
        sq = square_avgs[i]
        _assign(sq, sq * alpha + (1 - alpha) * d * d)
        if centered:
            ga = grad_avgs[i]
            _assign(ga, ga + (1 - alpha) * (d - ga))
            avg = (sq - ga * ga).sqrt()
        else:
            avg = sq.sqrt()
        avg = avg + eps
        if momentum > 0:
            _assign(bufs[i], bufs[i] * momentum + d / avg)
            _assign(p, p - lr * bufs[i])
        else:
            _assign(p, p - lr * (d / avg))


def adadelta(params, grads, square_avgs, acc_deltas, *, lr, rho, eps, weight_decay, maximize):
    for i, (p, g) in enumerate(zip(params, grads)):
        d = -g if maximize else g
        if weight_decay != 0:
            d = d + weight_decay * p
        sq, acc = square_avgs[i], acc_deltas[i]
        _assign(sq, sq * rho + (1 - rho) * d * d)
        delta = (acc + eps).sqrt() / (sq + eps).sqrt() * d
        _assign(acc, acc * rho + (1 - rho) * delta * delta)
        _assign(p, p - lr * delta)
