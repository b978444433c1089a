"""Initialisers, as ``torch.nn.init``: each fills a Tensor (or Parameter) in place, under ``no_grad``, and
returns it. Signatures, fans, gains and error messages are PyTorch's.

The random ones draw from the package's seeded generator (``tinygrad_tx.manual_seed``), or from
``generator`` (a ``numpy.random.Generator``) when given, in row-major order: ``uniform_(w, -b, b)`` on a
fresh ``w`` gives exactly ``manual_seed(s); rng.uniform(-b, b, w.shape)``. (The distributions are
PyTorch's; the random streams are NumPy's, so the numbers differ from torch's for the same seed.)

Fans are PyTorch's: a weight ``(out, in, *k)`` (``nn.Linear``'s layout) has ``fan_in = shape[1]`` and
``fan_out = shape[0]`` (times the size of any further dims), so ``kaiming_uniform_(linear.weight)`` has
PyTorch's bound for the same layer. As in PyTorch, this reads a `Conv1D` weight (in, out) the other way
round; `Conv1D` draws with nn.Linear's bound for its own fan-in.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from .._random import _generator
from ..autograd import no_grad
from ..tensor import Tensor

__all__ = [
    "calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "zeros_", "ones_",
    "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "fans",
]


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: np.random.Generator | None = None) -> Tensor:
    """Fill ``tensor`` with draws from U(a, b)."""
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a:g} > to={b:g}")
    return _fill(tensor, "uniform_", lambda rng: rng.uniform(a, b, tensor.shape), generator)


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0,
            generator: np.random.Generator | None = None) -> Tensor:
    """Fill ``tensor`` with draws from N(mean, std²)."""
    if not std >= 0.0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    return _fill(tensor, "normal_", lambda rng: rng.normal(mean, std, tensor.shape), generator)


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0,
                  generator: np.random.Generator | None = None) -> Tensor:
    """Fill ``tensor`` with draws from N(mean, std²) conditioned on [a, b] (the bounds are values, not
    multiples of std), by PyTorch's rejection sampling: when the interval holds more than 30% of the
    normal's mass, draw normals and redraw those outside; otherwise draw uniformly on [a, b] and accept
    a draw x with probability exp(-½((x-mean)/std)²) / (that at the point of [a, b] nearest the mean)."""
    if not std > 0.0:
        raise ValueError(f"trunc_normal_: std must be positive, got {std:g}")
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a:g} > to={b:g}")
    if (mean < a - 2 * std) or (mean > b + 2 * std):
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
                      "The distribution of values may be incorrect.", stacklevel=2)
    return _fill(tensor, "trunc_normal_", lambda rng: _truncated_normal(rng, tensor.shape, mean, std, a, b), generator)


def _truncated_normal(rng: np.random.Generator, shape: tuple[int, ...], mean: float, std: float, a: float,
                      b: float) -> np.ndarray:
    def cdf(z: float) -> float:  # Φ, the standard normal's
        return (1.0 + math.erf(z / math.sqrt(2.0))) / 2.0

    def log_density(x: np.ndarray) -> np.ndarray:  # up to a constant
        return -0.5 * ((x - mean) / std) ** 2

    if cdf((b - mean) / std) - cdf((a - mean) / std) > 0.3:
        x = rng.normal(mean, std, shape)
        outside = (x < a) | (x > b)
        while outside.any():
            x[outside] = rng.normal(mean, std, int(outside.sum()))
            outside = (x < a) | (x > b)
        return x
    log_peak = log_density(np.float64(max(a, min(mean, b))))
    x = rng.uniform(a, b, shape)
    pending = np.log(rng.random(shape)) > log_density(x) - log_peak
    while pending.any():
        k = int(pending.sum())
        candidates = rng.uniform(a, b, k)
        x[pending] = candidates
        rejected = np.log(rng.random(k)) > log_density(candidates) - log_peak
        pending[pending] = rejected
    return x


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill ``tensor`` with ``val``."""
    return _fill(tensor, "constant_", lambda _: np.full(tensor.shape, val))


def zeros_(tensor: Tensor) -> Tensor:
    """Fill ``tensor`` with 0."""
    return _fill(tensor, "zeros_", lambda _: np.zeros(tensor.shape))


def ones_(tensor: Tensor) -> Tensor:
    """Fill ``tensor`` with 1."""
    return _fill(tensor, "ones_", lambda _: np.ones(tensor.shape))


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain PyTorch recommends for a nonlinearity: 1 for linear and sigmoid, 5/3 for tanh, √2 for relu,
    √(2 / (1 + slope²)) for leaky_relu (``param`` is the slope, default 0.01), 3/4 for selu."""
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                        "conv_transpose3d", "sigmoid"):
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     generator: np.random.Generator | None = None) -> Tensor:
    """He's initialisation: U(-bound, bound) with ``bound = gain · √(3 / fan)``, ``gain =
    calculate_gain(nonlinearity, a)`` and ``fan`` the fan-in or fan-out (``mode``).

    ``a=√5`` is ``torch.nn.Linear``'s default, whose bound is 1/√fan_in in exact arithmetic (pytorch#57109);
    computed this way it can differ from 1/√fan_in in the last bit, so `nn.Linear` draws with
    ``uniform_(w, -1/√fan_in, 1/√fan_in)`` directly (see ``Linear.reset_parameters``).
    """
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_correct_fan(tensor, mode))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    generator: np.random.Generator | None = None) -> Tensor:
    """He's initialisation: N(0, std²) with ``std = gain / √fan`` (``gain``, ``fan`` as in `kaiming_uniform_`)."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_correct_fan(tensor, mode))
    return normal_(tensor, 0.0, std, generator)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: np.random.Generator | None = None) -> Tensor:
    """Glorot's initialisation: U(-a, a) with ``a = gain · √(6 / (fan_in + fan_out))``."""
    fan_in, fan_out = fans(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: np.random.Generator | None = None) -> Tensor:
    """Glorot's initialisation: N(0, std²) with ``std = gain · √(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = fans(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def fans(tensor: Tensor) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight stored ``(out, in, *kernel)``, as PyTorch computes them:
    ``(shape[1] · receptive, shape[0] · receptive)``, ``receptive`` the product of ``shape[2:]``."""
    if tensor.ndim < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


_calculate_fan_in_and_fan_out = fans  # PyTorch's name, which code copied from torch.nn layers calls


def _correct_fan(tensor: Tensor, mode: str) -> int:
    """The fan that ``mode`` names (``'fan_in'`` or ``'fan_out'``, in any case, as PyTorch)."""
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of ['fan_in', 'fan_out']")
    fan_in, fan_out = fans(tensor)
    return fan_in if mode == "fan_in" else fan_out


_calculate_correct_fan = _correct_fan


def _fill(tensor: Tensor, who: str, values: Any, generator: np.random.Generator | None = None) -> Tensor:
    """Write ``values(rng)`` (a float64 array of the tensor's shape) into ``tensor``, converted to its dtype."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{who}: expected a Tensor or Parameter, got {type(tensor).__name__}")
    if generator is not None and not isinstance(generator, np.random.Generator):
        raise TypeError(f"{who}: generator must be a numpy.random.Generator, got {type(generator).__name__}")
    if who not in ("zeros_", "ones_", "constant_") and tensor.dtype.kind != "f":
        raise TypeError(f"{who}: fills floating-point tensors only, got dtype {tensor.dtype}")
    with no_grad():
        tensor.copy_(values(_generator() if generator is None else generator))
    return tensor
