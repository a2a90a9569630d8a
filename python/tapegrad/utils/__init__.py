"""Utilities, as ``torch.utils``: ``tg.utils.data`` holds datasets and the DataLoader."""

from tapegrad.utils import data

__all__ = ["data"]
