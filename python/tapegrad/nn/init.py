"""Weight initialization, as ``torch.nn.init``: in-place fills that return the tensor.

Every function works under ``no_grad`` (so on parameters that require grad too), draws
from tapegrad's generator (``tg.manual_seed`` makes it repeatable) and uses PyTorch's
fan computation and gains, so the distributions are PyTorch's. ``lecun_uniform_`` and
``lecun_normal_`` (variance 1/fan_in) are tapegrad's own.

>>> w = tg.empty(256, 128)
>>> tg.nn.init.kaiming_normal_(w, nonlinearity="relu") is w
True
"""

import math
import warnings

import numpy as np

from tapegrad._core import Tensor, dtype, rand, randn
from tapegrad._grad_mode import no_grad
from tapegrad._tensor import tensor as _new_tensor

__all__ = [
    "calculate_gain",
    "uniform_",
    "normal_",
    "constant_",
    "zeros_",
    "ones_",
    "xavier_uniform_",
    "xavier_normal_",
    "kaiming_uniform_",
    "kaiming_normal_",
    "orthogonal_",
    "lecun_uniform_",
    "lecun_normal_",
]

_LINEAR_FNS = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
               "conv_transpose3d")


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity, as PyTorch's table: 1 for linear,
    conv and sigmoid, 5/3 for tanh, √2 for relu, √(2/(1 + slope²)) for leaky_relu
    (``param`` is the negative slope, default 0.01) and 3/4 for selu.

    >>> round(tg.nn.init.calculate_gain("leaky_relu", 0.2), 4)
    1.3868
    """
    if nonlinearity in _LINEAR_FNS or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor):
    # a weight is (out_features, in_features, *kernel): each input of the layer meets
    # in_features × kernel-size weights, each output out_features × kernel-size
    if tensor.ndim < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer "
                         "than 2 dimensions")
    receptive_field_size = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive_field_size, tensor.shape[0] * receptive_field_size


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower() if isinstance(mode, str) else mode
    valid_modes = ["fan_in", "fan_out"]
    if mode not in valid_modes:
        raise ValueError(f"Mode {mode} not supported, please use one of {valid_modes}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _check(t, name, generator=None, random=True):
    if not isinstance(t, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(t).__name__}")
    if generator is not None:
        raise ValueError(f"{name}: only generator=None is supported; seed tapegrad's "
                         "generator with tg.manual_seed instead")
    if random and not t.dtype.is_floating_point:
        # PyTorch's uniform_/normal_ refuse integer tensors too
        raise RuntimeError(f"{name}: expected a floating-point tensor, got {t.dtype!r}")


def _assign(t, values):
    with no_grad():
        t.copy_(values)
    return t


def _uniform(t, low, high):
    return _assign(t, rand(*t.shape, dtype=t.dtype) * (high - low) + low)


def _normal(t, mean, std):
    return _assign(t, randn(*t.shape, dtype=t.dtype) * std + mean)


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fills ``tensor`` with samples of U(a, b).

    >>> w = tg.nn.init.uniform_(tg.empty(3, 5), -0.1, 0.1)
    >>> float(w.abs().max()) <= 0.1
    True
    """
    _check(tensor, "uniform_", generator)
    return _uniform(tensor, a, b)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fills ``tensor`` with samples of N(mean, std²).

    >>> tg.nn.init.normal_(tg.empty(3, 5), mean=0.0, std=0.02).shape
    (3, 5)
    """
    _check(tensor, "normal_", generator)
    return _normal(tensor, mean, std)


def constant_(tensor, val):
    """Fills ``tensor`` with ``val``.

    >>> tg.nn.init.constant_(tg.empty(2), 0.3).tolist()
    [0.30000001192092896, 0.30000001192092896]
    """
    _check(tensor, "constant_", random=False)
    with no_grad():
        tensor.fill_(val)
    return tensor


def zeros_(tensor):
    """Fills ``tensor`` with zeros.

    >>> tg.nn.init.zeros_(tg.empty(2, 2)).tolist()
    [[0.0, 0.0], [0.0, 0.0]]
    """
    return constant_(tensor, 0)


def ones_(tensor):
    """Fills ``tensor`` with ones.

    >>> tg.nn.init.ones_(tg.empty(2)).tolist()
    [1.0, 1.0]
    """
    return constant_(tensor, 1)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Glorot/Xavier uniform: U(-a, a) with a = gain·√(6 / (fan_in + fan_out)).

    >>> w = tg.nn.init.xavier_uniform_(tg.empty(3, 5), gain=tg.nn.init.calculate_gain("relu"))
    >>> float(w.abs().max()) <= 1.2248  # √2 · √(6 / (5 + 3))
    True
    """
    _check(tensor, "xavier_uniform_", generator)
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    if tensor.numel() == 0:
        return tensor
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std  # the uniform bound with that standard deviation
    return _uniform(tensor, -a, a)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """Glorot/Xavier normal: N(0, std²) with std = gain·√(2 / (fan_in + fan_out)).

    >>> tg.nn.init.xavier_normal_(tg.empty(3, 5)).shape
    (3, 5)
    """
    _check(tensor, "xavier_normal_", generator)
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    if tensor.numel() == 0:
        return tensor
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return _normal(tensor, 0.0, std)


def _kaiming_std(tensor, a, mode, nonlinearity):
    fan = _calculate_correct_fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He/Kaiming uniform: U(-b, b) with b = gain·√(3 / fan), ``fan`` the ``mode``
    ('fan_in' keeps the forward variance, 'fan_out' the backward one) and gain
    ``calculate_gain(nonlinearity, a)``; ``a`` is the leaky_relu negative slope.

    >>> w = tg.nn.init.kaiming_uniform_(tg.empty(3, 5), mode="fan_in", nonlinearity="relu")
    >>> float(w.abs().max()) <= 1.0955  # √2 · √(3 / 5)
    True
    """
    _check(tensor, "kaiming_uniform_", generator)
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return _uniform(tensor, -bound, bound)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He/Kaiming normal: N(0, std²) with std = gain / √fan (arguments as in
    :func:`kaiming_uniform_`).

    >>> tg.nn.init.kaiming_normal_(tg.empty(3, 5), mode="fan_out", nonlinearity="relu").shape
    (3, 5)
    """
    _check(tensor, "kaiming_normal_", generator)
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    return _normal(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity))


def orthogonal_(tensor, gain=1, generator=None):
    """Fills ``tensor`` with a (semi-)orthogonal matrix times ``gain``: orthonormal
    rows when it has fewer rows than columns, orthonormal columns otherwise. Dims
    after the first are flattened, as PyTorch.

    >>> w = tg.nn.init.orthogonal_(tg.empty(3, 5, dtype=tg.float64))
    >>> np.allclose(w.numpy() @ w.numpy().T, np.eye(3))
    True
    """
    _check(tensor, "orthogonal_", generator)
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    # the QR is done in float64 whatever the tensor's dtype: a float32 result is then
    # orthogonal to float32 rounding
    flat = randn(rows, cols, dtype=dtype.float64).numpy()
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    # Q times the signs of diag(R) is uniform (Haar) over orthogonal matrices, as in
    # PyTorch (https://arxiv.org/abs/math-ph/0609050); a zero diagonal entry (probability
    # zero) counts as positive rather than zeroing a column
    q *= np.where(np.diag(r) < 0, -1.0, 1.0)
    if rows < cols:
        q = q.T
    q = np.ascontiguousarray(gain * q).reshape(tensor.shape)
    return _assign(tensor, _new_tensor(q, dtype=tensor.dtype))


def lecun_uniform_(tensor, generator=None):
    """LeCun uniform: U(-b, b) with b = √(3 / fan_in), so the variance is 1/fan_in
    (the gain-1 ``kaiming_uniform_``); suits tanh-like and SELU networks.

    >>> w = tg.nn.init.lecun_uniform_(tg.empty(4, 12))
    >>> float(w.abs().max()) <= 0.5
    True
    """
    _check(tensor, "lecun_uniform_", generator)
    fan_in, _ = _calculate_fan_in_and_fan_out(tensor)
    if tensor.numel() == 0:
        return tensor
    bound = math.sqrt(3.0 / fan_in)
    return _uniform(tensor, -bound, bound)


def lecun_normal_(tensor, generator=None):
    """LeCun normal: N(0, 1/fan_in), untruncated.

    >>> tg.nn.init.lecun_normal_(tg.empty(4, 12)).shape
    (4, 12)
    """
    _check(tensor, "lecun_normal_", generator)
    fan_in, _ = _calculate_fan_in_and_fan_out(tensor)
    if tensor.numel() == 0:
        return tensor
    return _normal(tensor, 0.0, 1.0 / math.sqrt(fan_in))
