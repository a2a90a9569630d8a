"""``tg.nn.functional``: the stateless forms of the layers and losses, as PyTorch's."""

import math

from tapegrad import _core
from tapegrad._tensor import arange

_REDUCTIONS = ("mean", "sum", "none")


def _reduce(loss, reduction, fn):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{fn}: {reduction!r} is not a valid value for reduction (expected one of "
                     f"{', '.join(map(repr, _REDUCTIONS))})")


def linear(input, weight, bias=None):
    """``input @ weight.T + bias``, without materializing ``weight.T``.

    >>> F.linear(tg.ones(4, 3), tg.ones(2, 3)).shape
    (4, 2)
    """
    if input.ndim == 2 and weight.ndim == 2:
        out = _core._mm(input, weight, False, True)
    elif input.ndim >= 1 and weight.ndim == 2:
        lead = input.shape[:-1]
        rows = math.prod(lead)  # counted: reshape(-1, 0) is ambiguous for in_features 0
        out = _core._mm(input.reshape(rows, input.shape[-1]), weight, False, True)
        out = out.reshape(*lead, weight.shape[0])
    else:
        out = _core.matmul(input, weight.T if weight.ndim == 2 else weight)
    return out if bias is None else out + bias


def relu(input, inplace=False):
    return input.relu()


def sigmoid(input):
    return input.sigmoid()


def tanh(input):
    return input.tanh()


def softplus(input, beta=1.0, threshold=20.0):
    return _core.softplus(input, beta, threshold)


def softmax(input, dim):
    return _core.softmax(input, dim)


def log_softmax(input, dim):
    return _core.log_softmax(input, dim)


def dropout(input, p=0.5, training=True, inplace=False):
    """Inverted dropout: in training, zeroes each element with probability ``p`` and
    scales the rest by 1/(1-p) (masks from tapegrad's seeded generator); identity
    otherwise."""
    if not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    return input * _core._dropout_mask(list(input.shape), float(p), input.dtype)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Batch normalization over (N, C) or (N, C, L) input, as PyTorch's.

    In training the batch statistics are used and the running statistics (when
    given) are updated in place; otherwise the running statistics are used."""
    if input.ndim not in (2, 3):
        raise ValueError(f"batch_norm: expected 2D or 3D input, got {input.ndim}D input of "
                         f"shape {input.shape}")
    channels = input.shape[1]
    if input.ndim == 3:
        flat = input.permute(0, 2, 1).reshape(-1, channels)
        out = batch_norm(flat, running_mean, running_var, weight, bias, training, momentum, eps)
        return out.reshape(input.shape[0], input.shape[2], channels).permute(0, 2, 1)
    if training:
        return _core._batch_norm_train(input, weight, bias, running_mean, running_var,
                                       float(momentum or 0.0), float(eps))
    if running_mean is None or running_var is None:
        raise ValueError("batch_norm: running_mean and running_var are needed in eval mode")
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (channels,):
            raise ValueError(f"batch_norm: {name} should have shape ({channels},) for an input "
                             f"of shape {input.shape}, got {t.shape}")
    scale = (running_var.to(input.dtype) + eps) ** -0.5
    if weight is not None:
        scale = scale * weight
    out = (input - running_mean.to(input.dtype)) * scale
    return out if bias is None else out + bias


def mse_loss(input, target, reduction="mean"):
    """Mean squared error, with ``reduction`` 'mean' | 'sum' | 'none'."""
    diff = input - target
    return _reduce(diff * diff, reduction, "mse_loss")


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """Cross-entropy of logits and class indices (or class probabilities), as PyTorch's.

    Class-index targets go through one fused, numerically stable log-softmax +
    NLL kernel whose backward is softmax − one-hot.

    >>> F.cross_entropy(tg.tensor([[2.0, 0.0]]), tg.tensor([0])).item()  # doctest: +ELLIPSIS
    0.126...
    """
    if reduction not in _REDUCTIONS:
        raise ValueError(f"cross_entropy: {reduction!r} is not a valid value for reduction")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got "
                         f"{label_smoothing}")
    if input.ndim == 0:
        raise ValueError("cross_entropy: expected input of shape (C,), (N, C) or (N, C, d...), "
                         "got a 0-d tensor")
    if target.dtype.is_floating_point and tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"cross_entropy: probability targets must have the input's shape "
                         f"{input.shape}, got {target.shape}")
    if input.ndim == 1:  # unbatched (C,)
        out = cross_entropy(input.unsqueeze(0), target.unsqueeze(0), weight, ignore_index,
                            reduction, label_smoothing)
        return out.squeeze(0) if reduction == "none" else out
    if input.ndim > 2:  # (N, C, d1, ...): classes last, then flatten
        classes = input.shape[1]
        dims = [0] + list(range(2, input.ndim)) + [1]
        flat = input.permute(*dims).reshape(-1, classes)
        if target.dtype.is_floating_point:
            flat_target = target.permute(*dims).reshape(-1, classes)
        else:
            flat_target = target.reshape(-1)
        out = cross_entropy(flat, flat_target, weight, ignore_index, reduction, label_smoothing)
        if reduction == "none":
            return out.reshape(input.shape[0], *input.shape[2:])
        return out
    classes = input.shape[1]
    if weight is not None and tuple(weight.shape) != (classes,):
        raise ValueError(f"cross_entropy: weight should have shape ({classes},), got "
                         f"{weight.shape}")
    if target.dtype.is_floating_point:
        return _cross_entropy_probs(input, target, weight, reduction, label_smoothing)
    nll = _core._cross_entropy(input, target, int(ignore_index))
    keep = (target != ignore_index).to(input.dtype)
    safe = target * (target != ignore_index)
    w = keep if weight is None else weight.to(input.dtype)[safe] * keep
    loss = nll if weight is None else nll * w
    if label_smoothing > 0:
        lsm = _core.log_softmax(input, 1)
        per_class = -lsm if weight is None else -lsm * weight.to(input.dtype)
        smooth = per_class.sum(1) * keep
        loss = (1 - label_smoothing) * loss + (label_smoothing / classes) * smooth
    if reduction == "mean":
        return loss.sum() / w.sum()
    return _reduce(loss, reduction, "cross_entropy")


def _cross_entropy_probs(input, target, weight, reduction, label_smoothing):
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"cross_entropy: probability targets must have the input's shape "
                         f"{input.shape}, got {target.shape}")
    classes = input.shape[1]
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / classes
    lsm = _core.log_softmax(input, 1)
    per = -(lsm * target)
    if weight is not None:
        per = per * weight.to(input.dtype)
    loss = per.sum(1)
    if reduction == "mean":
        return loss.sum() / input.shape[0]
    return _reduce(loss, reduction, "cross_entropy")


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood of log-probabilities ``input`` (N, C) at class ``target``."""
    if input.ndim != 2:
        raise ValueError(f"nll_loss: expected input of shape (N, C), got {input.shape}")
    keep = (target != ignore_index).to(input.dtype)
    safe = target * (target != ignore_index)
    w = keep if weight is None else weight.to(input.dtype)[safe] * keep
    loss = -input[arange(input.shape[0]), safe] * w
    if reduction == "mean":
        return loss.sum() / w.sum()
    return _reduce(loss, reduction, "nll_loss")


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """Negative log-likelihood of ``target`` under N(input, var), as PyTorch's: the
    heteroscedastic loss ½(log σ² + (y − μ)²/σ²) (+ ½ log 2π with ``full``).

    ``var`` is clamped to at least ``eps`` for stability; the clamp passes the
    gradient through unchanged, as PyTorch's does."""
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (tuple(input.shape[:-1]) == tuple(var.shape[:-1]) and var.shape[-1] == 1):
            raise ValueError(f"gaussian_nll_loss: var is of incorrect size {var.shape} for "
                             f"input of shape {input.shape}")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"gaussian_nll_loss: {reduction!r} is not a valid value for reduction")
    if bool((var.detach() < 0).sum().item()):
        raise ValueError("gaussian_nll_loss: var has negative entry/entries")
    clamped = var.detach().clamp(min=eps)
    var = var + (clamped - var.detach())
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction, "gaussian_nll_loss")
