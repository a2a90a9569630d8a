"""``tg.optim``: PyTorch's optimizers with fused C++ steps, and the ones it lacks:
GD with exact/Armijo/Wolfe line searches, Newton (CG on Hessian-vector products),
NormalizedGD, iterate averaging, and the InverseTimeLR schedule."""

from tapegrad.optim import lr_scheduler
from tapegrad.optim.adadelta import Adadelta
from tapegrad.optim.adagrad import Adagrad
from tapegrad.optim.adam import Adam, AdamW
from tapegrad.optim.averaged import Averaged
from tapegrad.optim.lbfgs import LBFGS
from tapegrad.optim.line_search import GD, NormalizedGD
from tapegrad.optim.newton import Newton
from tapegrad.optim.optimizer import Optimizer
from tapegrad.optim.rmsprop import RMSprop
from tapegrad.optim.sgd import SGD

__all__ = [
    "GD", "LBFGS", "SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Averaged", "Newton",
    "NormalizedGD", "Optimizer", "RMSprop", "lr_scheduler",
]
