from tapegrad.nn.modules.layers import (
    BatchNorm1d,
    Dropout,
    Identity,
    Linear,
    ModuleDict,
    ModuleList,
    ReLU,
    Sequential,
    Sigmoid,
    Softplus,
    Tanh,
)
from tapegrad.nn.modules.loss import CrossEntropyLoss, GaussianNLLLoss, MSELoss
from tapegrad.nn.modules.module import Module

__all__ = [
    "BatchNorm1d", "CrossEntropyLoss", "Dropout", "GaussianNLLLoss", "Identity", "Linear",
    "MSELoss", "Module", "ModuleDict", "ModuleList", "ReLU", "Sequential", "Sigmoid", "Softplus",
    "Tanh",
]
