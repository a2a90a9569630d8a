"""Loss modules: MSELoss, CrossEntropyLoss, GaussianNLLLoss."""

from tapegrad.nn import functional as F
from tapegrad.nn.modules.module import Module


class _Loss(Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"{type(self).__name__}: {reduction!r} is not a valid value for "
                             "reduction")
        self.reduction = reduction


class MSELoss(_Loss):
    """Mean squared error: ``MSELoss()(prediction, target)``."""

    def forward(self, input, target):
        return F.mse_loss(input, target, self.reduction)


class CrossEntropyLoss(_Loss):
    """Cross-entropy of logits and class indices (or probabilities), as PyTorch's.

    >>> loss = tg.nn.CrossEntropyLoss()(tg.zeros(4, 3), tg.tensor([0, 1, 2, 0]))
    >>> round(loss.item(), 4)  # log 3
    1.0986
    """

    def __init__(self, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        super().__init__(reduction)
        self.weight, self.ignore_index, self.label_smoothing = weight, ignore_index, label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, self.weight, self.ignore_index, self.reduction,
                               self.label_smoothing)


class GaussianNLLLoss(_Loss):
    """Gaussian negative log-likelihood with predicted mean and variance:
    ``GaussianNLLLoss()(mean, target, var)``."""

    def __init__(self, full=False, eps=1e-6, reduction="mean"):
        super().__init__(reduction)
        self.full, self.eps = full, eps

    def forward(self, input, target, var):
        return F.gaussian_nll_loss(input, target, var, self.full, self.eps, self.reduction)
