"""``tg.nn``: modules, layers, losses, init and parametrizations with PyTorch's names."""

from tapegrad.nn import functional, init, utils
from tapegrad.nn.modules import (
    BatchNorm1d,
    CrossEntropyLoss,
    Dropout,
    GaussianNLLLoss,
    Identity,
    Linear,
    Module,
    ModuleDict,
    ModuleList,
    MSELoss,
    ReLU,
    Sequential,
    Sigmoid,
    Softplus,
    Tanh,
)
from tapegrad.nn.parameter import Parameter

__all__ = [
    "BatchNorm1d", "CrossEntropyLoss", "Dropout", "GaussianNLLLoss", "Identity", "Linear",
    "MSELoss", "Module", "ModuleDict", "ModuleList", "Parameter", "ReLU", "Sequential",
    "Sigmoid", "Softplus", "Tanh", "functional", "init", "utils",
]
