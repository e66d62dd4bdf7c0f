"""pathgrad.optim: PyTorch's optimizers and learning-rate schedules over pathgrad tensors."""

from pathgrad.optim import lr_scheduler
from pathgrad.optim.algorithms import SGD, Adagrad, Adam, AdamW, RMSprop
from pathgrad.optim.optimizer import Optimizer

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "lr_scheduler"]
