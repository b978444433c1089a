"""Optimizers and learning-rate schedules, laid out as ``torch.optim``.

- ``sgd.py``: `SGD`, ``adam.py``: `Adam`, `AdamW`, ``rmsprop.py``: `RMSprop`, ``adagrad.py``: `Adagrad`.
  Each file opens with its update rule, in the math and in the ``_update`` method that does it for one
  parameter.
- ``optimizer.py``: `Optimizer`, the base class: the step loop, parameter groups, the checks of
  what a caller passes, ``state_dict``/``load_state_dict``.
- ``lr_scheduler.py``: `LRScheduler`, PyTorch's `LambdaLR`, `StepLR`, `MultiStepLR`,
  `ExponentialLR`, `LinearLR`, `CosineAnnealingLR`, and `WarmupCosine` (linear warmup, then
  cosine decay) with `lr_at`, its formula. Use them as ``optim.lr_scheduler.StepLR``, as in torch.
- ``clip_grad.py``: `clip_grad_norm_` and `clip_grad_value_`, which PyTorch has in ``torch.nn.utils``
  (``tinygrad_tx.nn.utils`` has them too, with PyTorch's return values).

The names, defaults and update rules are ``torch.optim``'s, and each update does its
floating-point operations in the order of torch's single-tensor code (``foreach=False``). In
float64 a run matches PyTorch to about 1e-15 relative per step. It does not match to the bit,
because PyTorch's vectorised CPU kernels use fused multiply-adds (``lerp_``, ``add(alpha=)``) and
their own ``sqrt``. PyTorch's implementation switches (``foreach``, ``fused``, ``capturable``,
``differentiable``) are accepted by name; ``optimizer.py`` says which change nothing here and
which are refused.
"""

from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .clip_grad import clip_grad_norm_, clip_grad_value_
from .lr_scheduler import LRScheduler, WarmupCosine, lr_at
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "clip_grad_norm_", "clip_grad_value_",
           "lr_scheduler", "LRScheduler", "WarmupCosine", "lr_at"]
