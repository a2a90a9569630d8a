"""``tg.nn.utils``: gradient clipping and parametrizations."""

from tapegrad.nn.utils import parametrizations, parametrize
from tapegrad.nn.utils.clip_grad import clip_grad_norm_

__all__ = ["clip_grad_norm_", "parametrizations", "parametrize"]
