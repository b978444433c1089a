"""The package's random stream, with PyTorch's API: `Generator`, `manual_seed`, `seed`, `initial_seed`,
``get_rng_state``/``set_rng_state``, and the in-place fills of `Tensor` (`RandomMethods`: ``normal_``,
``uniform_``, ``random_``, ``bernoulli_``, ``exponential_``, and ``bernoulli``, ``multinomial``). The sampling
factories (``randn``, ``randint``, ``multinomial``, ...) are in ``_factories.py``.

The distributions are PyTorch's; PyTorch's own stream (its Mersenne Twister and the way it turns bits into
numbers) is not reproduced: the same seed gives other numbers than in PyTorch, the same numbers on every run.

`RandomMethods` is a base class of `Tensor` (``tensor.py``), so this module cannot import ``tensor.py`` at its top;
it makes tensors through ``autograd.function._tensor_class``, which ``tensor.py`` binds once the class exists.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ._device import CPU, _check_device
from .autograd import function as _function
from .autograd.function import Function

if TYPE_CHECKING:
    from ._device import device
    from .tensor import Tensor

_DEFAULT_SEED = 67280421310721  # PyTorch's seed of a new generator (and of its default one at start-up)
_STATE_BYTES = 16 + 16 + 1 + 4 + 8  # PCG64's state and increment, its buffered 32 bits, the initial seed


class Generator(np.random.Generator):
    """``torch.Generator``: a NumPy `numpy.random.Generator` (PCG64) with PyTorch's methods, so it goes wherever
    either is expected (``generator=`` of the samplers here, of ``nn.init`` and of dropout).

    ``Generator().manual_seed(s)`` returns the generator, reseeded in place, and then draws what
    ``numpy.random.default_rng(s)`` draws. A new generator starts from PyTorch's default seed, 67280421310721,
    so an unseeded program is deterministic, as in PyTorch. The stream is NumPy's, not PyTorch's: a seed gives
    other numbers than ``torch.Generator().manual_seed(s)`` does."""

    def __init__(self, device: str | device = "cpu") -> None:
        _check_device(device, "Generator")
        super().__init__(np.random.PCG64(_DEFAULT_SEED))
        self._initial_seed = _DEFAULT_SEED

    @property
    def device(self) -> device:
        return CPU

    def manual_seed(self, seed: int) -> Generator:
        """Reseed with ``seed`` (an integer in [-2**63, 2**64); a negative one counts modulo 2**64, as in PyTorch)."""
        s = _checked_seed(seed)
        self.bit_generator.state = np.random.PCG64(s).state
        self._initial_seed = s
        return self

    def seed(self) -> int:
        """Reseed from the operating system's entropy; returns the seed."""
        s = int(np.random.SeedSequence().entropy) % 2**64
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        """The seed of the last `manual_seed` or `seed` (the default seed if neither was called)."""
        return self._initial_seed

    def get_state(self) -> Tensor:
        """The state as a uint8 tensor (as PyTorch's ``ByteTensor``): `set_state` returns to it."""
        st = self.bit_generator.state
        raw = (int(st["state"]["state"]).to_bytes(16, "little") + int(st["state"]["inc"]).to_bytes(16, "little")
               + bytes([int(st["has_uint32"])]) + int(st["uinteger"]).to_bytes(4, "little")
               + self._initial_seed.to_bytes(8, "little"))
        return _function._tensor_class._make(np.frombuffer(raw, dtype=np.uint8).copy(), False)

    def set_state(self, new_state: Any) -> Generator:
        """Return to a state from `get_state`."""
        data = getattr(new_state, "_data", None)
        if data is None or data.dtype != np.uint8 or data.shape != (_STATE_BYTES,):
            raise RuntimeError(f"set_state: expected a state from get_state() (a uint8 tensor of {_STATE_BYTES} "
                               f"values), got {_describe(new_state)}")
        raw = data.tobytes()
        self.bit_generator.state = {
            "bit_generator": "PCG64",
            "state": {"state": int.from_bytes(raw[:16], "little"), "inc": int.from_bytes(raw[16:32], "little")},
            "has_uint32": raw[32], "uinteger": int.from_bytes(raw[33:37], "little"),
        }
        self._initial_seed = int.from_bytes(raw[37:], "little")
        return self

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:  # (a copy or a pickle is a Generator, in the same state)
        return _restored, (self.get_state()._data,)


def _restored(state: np.ndarray) -> Generator:
    return Generator().set_state(_function._tensor_class._make(state, False))


def _describe(x: Any) -> str:
    data = getattr(x, "_data", None)
    if data is None:
        return type(x).__name__
    return f"a tensor of dtype {data.dtype} and shape {data.shape}"


def _checked_seed(seed: Any) -> int:
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"manual_seed: the seed must be an integer, got {type(seed).__name__}")
    s = int(seed)
    if not -(2**63) <= s < 2**64:
        raise ValueError(f"manual_seed: the seed {s} does not fit in 64 bits (PyTorch takes [-2**63, 2**64))")
    return s % 2**64


default_generator = Generator()  # the package's stream: randn, rand, nn.init, dropout


def manual_seed(seed: int) -> Generator:
    """Seed the generator behind `randn`, `rand`, ``nn.init`` and dropout; returns it (as PyTorch does).
    As PyTorch's, it takes what ``int()`` takes (``manual_seed(2.7)`` is ``manual_seed(2)``); a `Generator`'s
    ``manual_seed`` takes integers only."""
    if isinstance(seed, float) and not math.isfinite(seed):
        raise ValueError(f"manual_seed: the seed must be an integer, got {seed!r}")
    try:
        s = int(seed)
    except (TypeError, ValueError):
        raise TypeError(f"manual_seed: the seed must be an integer, got {seed!r}") from None
    return default_generator.manual_seed(s)


def seed() -> int:
    """Seed the package's generator from the operating system's entropy; returns the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    """The package generator's state, as a uint8 tensor (``torch.get_rng_state``)."""
    return default_generator.get_state()


def set_rng_state(new_state: Tensor) -> None:
    default_generator.set_state(new_state)


def _generator() -> np.random.Generator:
    return default_generator


def _rng(generator: Any, op: str) -> np.random.Generator:
    """The NumPy generator to draw from: ``generator=``, or the package's when it is None."""
    if generator is None:
        return default_generator
    if not isinstance(generator, np.random.Generator):
        raise TypeError(f"{op}: generator must be a tinygrad_tx.Generator, got {type(generator).__name__}")
    return generator


class Sampled(Function):
    """The node of a sample drawn from a tensor's parameters (``normal(mean, std)``, ``bernoulli(p)``). As in
    PyTorch, the sample is not reparameterised: the parameters get a gradient of 0."""

    @staticmethod
    def forward(ctx: Any, *params: np.ndarray, sample: np.ndarray, name: str) -> np.ndarray:
        ctx._torch_name = name
        ctx.shapes = [p.shape for p in params]
        return sample

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        Tensor = _function._tensor_class
        return tuple(Tensor._make(np.zeros(s, g._data.dtype), False) for s in ctx.shapes)


def _uniform_below_one(rng: np.random.Generator, shape: tuple[int, ...], dt: np.dtype) -> np.ndarray:
    """U[0, 1) in ``dt``: float64 draws rounded to ``dt``, those that round up to 1 put just below it."""
    u = rng.random(shape).astype(dt)
    return np.minimum(u, np.nextafter(dt.type(1), dt.type(0))) if dt != np.float64 else u


def _check_integer_range(low: Any, high: Any, dt: np.dtype, op: str) -> None:
    """[low, high) must be a non-empty range of integers that ``dt`` holds, as PyTorch requires."""
    for name, v in (("from", low), ("to", high)):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"{op}: '{name}' must be an integer, got {v!r}")
    if high <= low:
        raise RuntimeError(f"{op}: expects 'from' to be less than 'to', but got from={low} >= to={high}")
    if dt.kind in "iu":
        info = np.iinfo(dt)
        if low < int(info.min) or high - 1 > int(info.max):
            raise RuntimeError(f"{op}: [{low}, {high}) is out of bounds for {dt}")
    elif dt.kind == "b" and (low < 0 or high > 2):
        raise RuntimeError(f"{op}: [{low}, {high}) is out of bounds for bool")
    if not -(2**63) <= low or high > 2**63:
        raise RuntimeError(f"{op}: [{low}, {high}) does not fit in int64")


def _bernoulli(p: np.ndarray, rng: np.random.Generator, op: str) -> np.ndarray:
    if p.size and not ((p >= 0) & (p <= 1)).all():
        bad = p[~((p >= 0) & (p <= 1))][0]
        raise RuntimeError(f"{op}: probabilities must be in [0, 1], got {bad}")
    return rng.random(p.shape) < p


def _multinomial(p: np.ndarray, n: int, replacement: bool, rng: np.random.Generator) -> np.ndarray:
    """``n`` category indices per row of the weights ``p`` (1-d or 2-d), as ``torch.multinomial``: with
    replacement, inverse-CDF draws; without, PyTorch's exponential race (the ``n`` largest ``p / E`` with
    ``E ~ Exp(1)``: the same law as drawing one at a time from the rest), so a category of weight 0 is drawn only
    once every positive one is."""
    if p.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got shape {p.shape}")
    if p.dtype.kind != "f":
        raise RuntimeError(f"multinomial: only supports floating-point dtypes for input, got {p.dtype}")
    rows = p.reshape(math.prod(p.shape[:-1]), p.shape[-1]).astype(np.float64)
    k = rows.shape[1]
    if n <= 0:
        raise RuntimeError(f"multinomial: cannot sample n_sample <= 0 samples (got {n})")
    if not replacement and n > k:
        raise RuntimeError(f"multinomial: cannot sample n_sample > prob_dist.size(-1) samples without replacement "
                           f"({n} > {k})")
    if rows.size and not (np.isfinite(rows).all() and (rows >= 0).all()):
        raise RuntimeError("multinomial: probability tensor contains either `inf`, `nan` or element < 0")
    if rows.shape[0] and (rows.sum(axis=1) <= 0).any():
        raise RuntimeError("multinomial: invalid multinomial distribution (sum of probabilities <= 0)")
    if replacement:
        cdf = np.cumsum(rows, axis=1)
        cdf /= cdf[:, -1:]
        u = rng.random((rows.shape[0], n))
        out = np.stack([np.searchsorted(c, ui, side="right") for c, ui in zip(cdf, u)]) if rows.size else \
            np.zeros((rows.shape[0], n), np.int64)
        out = np.minimum(out, k - 1)
    else:
        keys = rows / rng.exponential(size=rows.shape)
        out = np.argsort(-keys, axis=1, kind="stable")[:, :n]
    return out.astype(np.int64).reshape(p.shape[:-1] + (n,))


class RandomMethods:
    """In-place random fills and sampling methods. A base class of `Tensor`."""

    __slots__ = ()  # Tensor has slots: no __dict__ through a base class

    def _fill_random(self, values: np.ndarray, op: str) -> Tensor:
        sample = _function._tensor_class._make(np.asarray(values).astype(self._data.dtype), False)
        return self._inplace(lambda old: sample, op)

    def _require_floating_fill(self, op: str) -> None:
        if self._data.dtype.kind != "f":
            raise TypeError(f"{op}: fills floating-point tensors only, got dtype {self._data.dtype}")

    def normal_(self, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> Tensor:
        """Fill with samples of N(mean, std²)."""
        self._require_floating_fill("normal_")
        if std < 0:
            raise RuntimeError(f"normal_: expects std >= 0.0, but found std {std}")
        z = _rng(generator, "normal_").standard_normal(self._data.shape)
        return self._fill_random(mean + std * z, "normal_")

    def uniform_(self, a: float = 0.0, b: float = 1.0, *, generator: Any = None) -> Tensor:  # (torch: from, to)
        """Fill with samples of U[a, b)."""
        self._require_floating_fill("uniform_")
        if a > b:
            raise RuntimeError(f"uniform_: expects to return a [from, to) range, but found from={a} > to={b}")
        u = _rng(generator, "uniform_").random(self._data.shape)
        return self._fill_random(a + (b - a) * u, "uniform_")

    def exponential_(self, lambd: float = 1.0, *, generator: Any = None) -> Tensor:
        """Fill with samples of Exp(lambd) (density lambd·e^(-lambd·x))."""
        self._require_floating_fill("exponential_")
        if not lambd > 0:
            raise RuntimeError(f"exponential_: expects lambda > 0.0, but found lambda={lambd}")
        return self._fill_random(_rng(generator, "exponential_").exponential(1.0 / lambd, self._data.shape),
                                 "exponential_")

    def random_(self, *bounds: int, generator: Any = None) -> Tensor:
        """Fill with integers uniform in [from, to): ``random_(to)``, ``random_(from, to)``, or ``random_()``:
        [0, the dtype's largest integer] (2**mantissa for floating dtypes, as in PyTorch)."""
        dt = self._data.dtype
        if len(bounds) > 2:
            raise TypeError(f"random_: takes (to), (from, to) or nothing, got {len(bounds)} arguments")
        if not bounds:
            low = 0
            if dt.kind == "b":
                high = 2
            elif dt.kind == "f":
                high = 2 ** (np.finfo(dt).nmant + 1) + 1
            else:
                high = int(np.iinfo(dt).max) + 1
        else:
            low, high = (0, bounds[0]) if len(bounds) == 1 else bounds
            _check_integer_range(low, high, dt, "random_")
        draw = _rng(generator, "random_").integers
        values = draw(low, high, self._data.shape, dtype=np.uint64 if high > 2**63 else np.int64)
        return self._fill_random(values, "random_")

    def bernoulli_(self, p: Any = 0.5, *, generator: Any = None) -> Tensor:
        """Fill with 1 with probability ``p`` (a number or a tensor of probabilities), else 0."""
        probs = np.asarray(p._data if hasattr(p, "_data") else p, dtype=np.float64)
        draws = _bernoulli(np.broadcast_to(probs, self._data.shape), _rng(generator, "bernoulli_"), "bernoulli_")
        return self._fill_random(draws, "bernoulli_")

    def bernoulli(self, p: float | None = None, *, generator: Any = None) -> Tensor:
        """0/1 samples, 1 with probability self (or ``p``), in self's dtype."""
        from ._factories import bernoulli  # (that module imports tensor.py, which imports this one)

        return bernoulli(self, p, generator=generator)

    def multinomial(self, num_samples: int, replacement: bool = False, *, generator: Any = None) -> Tensor:
        from ._factories import multinomial

        return multinomial(self, num_samples, replacement, generator=generator)
