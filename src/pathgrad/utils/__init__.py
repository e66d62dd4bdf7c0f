"""pathgrad.utils: data loading (pathgrad.utils.data), as torch.utils."""

from pathgrad.utils import data

__all__ = ["data"]
