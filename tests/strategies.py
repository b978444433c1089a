"""Hypothesis strategies for the tensor tests, in one place.

Values are not drawn element by element: a strategy draws a *seed* (and the shapes, dims and
indices, which Hypothesis shrinks well) and the array is generated from it with NumPy. That keeps
every example cheap and lets each strategy guarantee what the op needs: a domain (positive numbers
for log/sqrt/pow), a margin around kinks (relu, abs, clamp), or no ties (max, amax, maximum).

Settings come from profiles, never from the global default, so importing this module changes no
other test file:

- ``tinygrad-ci`` (default): few examples, no deadline, derandomized (the same examples on every
  run and every machine), no example database;
- ``tinygrad-thorough``: many random examples, for hunting bugs locally
  (``TINYGRAD_TX_HYPOTHESIS=tinygrad-thorough python -m pytest tests/test_ops_torch.py``).

Decorate a test with ``@PROFILE`` (or ``@settings(PROFILE, max_examples=...)``).
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

__all__ = [
    "PROFILE", "MAX_SIDE", "seeds", "shapes", "broadcast_pairs", "broadcast_triples",
    "uniform", "away_from", "distinct", "grid", "offset_grids", "dims", "dim", "permutations",
    "reshape_targets", "expand_targets", "indices", "matmul_shapes", "split_args",
    "cat_shapes", "gather_index", "with_zeros", "distinct_magnitudes", "remainder_operands",
    "integer_operands", "repeat_args", "unflatten_sizes",
]

# ------------------------------------------------------------------------------------ profiles
settings.register_profile(
    "tinygrad-ci",
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "tinygrad-thorough",
    max_examples=500,
    deadline=None,
    derandomize=False,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROFILE = settings.get_profile(os.environ.get("TINYGRAD_TX_HYPOTHESIS", "tinygrad-ci"))

MAX_SIDE = 4  # small sides: every element is finite-differenced, and the file must run in seconds

seeds = st.integers(0, 2**32 - 1)


# -------------------------------------------------------------------------------------- shapes
def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = MAX_SIDE) -> st.SearchStrategy:
    """Array shapes (0-d included when ``min_dims == 0``)."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcast_pairs(max_dims: int = 4, min_side: int = 1, max_side: int = MAX_SIDE) -> st.SearchStrategy:
    """Two shapes that broadcast together (0-d, size-1 dims and missing leading dims included)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=2, min_dims=0, max_dims=max_dims, min_side=min_side, max_side=max_side
    ).map(lambda b: tuple(b.input_shapes))


def broadcast_triples(max_dims: int = 3) -> st.SearchStrategy:
    """Three mutually broadcastable shapes (for ``where(condition, a, b)``)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=3, min_dims=0, max_dims=max_dims, min_side=1, max_side=MAX_SIDE
    ).map(lambda b: tuple(b.input_shapes))


# -------------------------------------------------------------------------------------- values
def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def uniform(shape: tuple[int, ...], low: float = -2.0, high: float = 2.0, dtype: Any = np.float64) -> st.SearchStrategy:
    """Uniform values in [low, high): use low > 0 for log, sqrt, division by x and pow bases."""
    return seeds.map(lambda s: np.asarray(_rng(s).uniform(low, high, size=shape), dtype=dtype))


def away_from(
    shape: tuple[int, ...], point: float = 0.0, margin: float = 0.1, spread: float = 2.0, dtype: Any = np.float64
) -> st.SearchStrategy:
    """Values at least ``margin`` from ``point`` on both sides (kinks: relu, abs, clamp bounds)."""

    def make(s: int) -> np.ndarray:
        r = _rng(s)
        mag = r.uniform(margin, margin + spread, size=shape)
        sign = np.where(r.random(size=shape) < 0.5, -1.0, 1.0)
        return np.asarray(point + sign * mag, dtype=dtype)

    return seeds.map(make)


def distinct(
    shape: tuple[int, ...], spacing: float = 0.05, offset: float = 0.0, dtype: Any = np.float64
) -> st.SearchStrategy:
    """Pairwise distinct values on the grid ``k * spacing + offset`` (no ties: amax, max(dim)).

    Neighbouring values differ by at least ``spacing`` (far more than the finite-difference step),
    so no perturbation can change which element wins.
    """

    def make(s: int) -> np.ndarray:
        n = math.prod(shape)
        k = _rng(s).choice(np.arange(-n - 8, n + 8), size=n, replace=False)
        return np.asarray(k * spacing + offset, dtype=dtype).reshape(shape)

    return seeds.map(make)


def with_zeros(shape: tuple[int, ...], p_zero: float = 0.3, dtype: Any = np.float64) -> st.SearchStrategy:
    """Magnitudes in [0.5, 1.5] with random signs, and about ``p_zero`` of the elements exactly 0
    (prod: slices with one zero, with several, and without; products stay of order 1)."""

    def make(s: int) -> np.ndarray:
        r = _rng(s)
        x = r.uniform(0.5, 1.5, size=shape) * np.where(r.random(size=shape) < 0.5, -1.0, 1.0)
        return np.asarray(np.where(r.random(size=shape) < p_zero, 0.0, x), dtype=dtype)

    return seeds.map(make)


def distinct_magnitudes(shape: tuple[int, ...], spacing: float = 0.05, dtype: Any = np.float64) -> st.SearchStrategy:
    """Random signs on pairwise distinct magnitudes ``k * spacing + spacing / 2`` (k ≥ 0): no ties
    in |x| and no zeros (the inf-norm: a max of |x|)."""

    def make(s: int) -> np.ndarray:
        r = _rng(s)
        n = math.prod(shape)
        k = r.choice(np.arange(n + 8), size=n, replace=False)
        sign = np.where(r.random(size=n) < 0.5, -1.0, 1.0)
        return np.asarray(sign * (k * spacing + spacing / 2), dtype=dtype).reshape(shape)

    return seeds.map(make)


def remainder_operands(shape_a: tuple[int, ...], shape_b: tuple[int, ...]) -> st.SearchStrategy:
    """``a`` on ``k + 0.3`` and ``b`` in {±0.5, ±1, ±2, ±4}: a/b is at least 0.075 away from an
    integer for every pairing the broadcast makes, so ``a % b`` is far from its jumps."""

    def make(s: int) -> tuple[np.ndarray, np.ndarray]:
        r = _rng(s)
        a = r.integers(-5, 6, size=shape_a) + 0.3
        b = r.choice([-4.0, -2.0, -1.0, -0.5, 0.5, 1.0, 2.0, 4.0], size=shape_b)
        return np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)

    return seeds.map(make)


def integer_operands(shape_a: tuple[int, ...], shape_b: tuple[int, ...]) -> st.SearchStrategy:
    """int64 dividends in [-20, 20] and nonzero divisors in ±[1, 6] (``//`` and ``%`` of integers)."""

    def make(s: int) -> tuple[np.ndarray, np.ndarray]:
        r = _rng(s)
        b = r.integers(1, 7, size=shape_b) * np.where(r.random(size=shape_b) < 0.5, -1, 1)
        return r.integers(-20, 21, size=shape_a).astype(np.int64), np.asarray(b, dtype=np.int64)

    return seeds.map(make)


def grid(
    shape: tuple[int, ...], low: float = -2.0, high: float = 2.0, spacing: float = 0.1, offset: float = 0.05
) -> st.SearchStrategy:
    """Values ``k * spacing + offset`` in about [low, high] (repeats allowed). With the default
    offset every value is at least 0.05 away from any multiple of 0.1 (clamp bounds, say)."""
    lo, hi = math.ceil(low / spacing), math.floor(high / spacing)
    return seeds.map(
        lambda s: np.asarray(_rng(s).integers(lo, hi, size=shape, endpoint=True) * spacing + offset, dtype=np.float64)
    )


def offset_grids(shape_a: tuple[int, ...], shape_b: tuple[int, ...], spacing: float = 0.1) -> st.SearchStrategy:
    """Two arrays on interleaved grids (``a`` on ``k·s``, ``b`` on ``k·s + s/2``): no element of
    ``a`` can equal any element of ``b``, whatever the broadcasting (elementwise maximum/minimum)."""

    def make(s: int) -> tuple[np.ndarray, np.ndarray]:
        r = _rng(s)
        a = r.integers(-20, 21, size=shape_a) * spacing
        b = r.integers(-20, 21, size=shape_b) * spacing + spacing / 2
        return np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)

    return seeds.map(make)


# ------------------------------------------------------------------------------ dims and shapes
def dim(ndim: int) -> st.SearchStrategy:
    """One valid dim of an ``ndim``-d tensor, negative spellings included (0-d: 0 or -1)."""
    n = max(ndim, 1)
    return st.integers(-n, n - 1)


def dims(ndim: int, allow_none: bool = True) -> st.SearchStrategy:
    """A reduction's ``dim``: None (all), one int, or a non-empty tuple of distinct dims."""
    options = [dim(ndim)]
    if ndim >= 1:
        options.append(
            st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).flatmap(
                lambda ds: st.tuples(*[st.sampled_from([d, d - ndim]) for d in ds])
            )
        )
    if allow_none:
        options.append(st.none())
    return st.one_of(*options)


def permutations(ndim: int) -> st.SearchStrategy:
    """A permutation of ``range(ndim)``, each entry possibly spelled negatively."""
    return st.permutations(list(range(ndim))).flatmap(
        lambda p: st.tuples(*[st.sampled_from([d, d - ndim]) for d in p]) if p else st.just(())
    )


@st.composite
def reshape_targets(draw: Any, shape: tuple[int, ...]) -> tuple[int, ...]:
    """A shape with as many elements as ``shape`` (prime factors regrouped, 1s inserted, maybe a -1)."""
    n = math.prod(shape)
    factors = []
    m, p = n, 2
    while m > 1:
        while m % p == 0:
            factors.append(p)
            m //= p
        p += 1
    factors = draw(st.permutations(factors))
    n_dims = draw(st.integers(0 if n == 1 else 1, 4))
    if n_dims == 0:
        return ()
    cuts = sorted(draw(st.lists(st.integers(0, len(factors)), min_size=n_dims - 1, max_size=n_dims - 1)))
    bounds = [0, *cuts, len(factors)]
    target = [math.prod(factors[bounds[i]:bounds[i + 1]]) for i in range(n_dims)]
    if draw(st.booleans()):
        target[draw(st.integers(0, n_dims - 1))] = -1
    return tuple(target)


def repeat_args(ndim: int) -> st.SearchStrategy:
    """``repeat``'s sizes for an ``ndim``-d tensor: one per dim and up to 2 more (new leading
    dims), each in 0..3 (0 gives an empty result and an all-zero gradient)."""
    return st.integers(ndim if ndim else 1, ndim + 2).flatmap(
        lambda n: st.tuples(*[st.integers(0, 3) for _ in range(n)])
    )


def unflatten_sizes(n: int) -> st.SearchStrategy:
    """``unflatten``'s sizes for a dim of size n: a non-empty shape with n elements (maybe a -1)."""
    return reshape_targets((n,)).filter(lambda sizes: len(sizes) > 0)


@st.composite
def expand_targets(draw: Any, shape: tuple[int, ...]) -> tuple[int, ...]:
    """A shape ``shape`` can be expanded to: size-1 dims grow, leading dims are added, -1 keeps a dim."""
    out = []
    for n in shape:
        if n == 1:
            out.append(draw(st.integers(1, 3)))
        else:
            out.append(draw(st.sampled_from([n, -1])))
    lead = draw(st.lists(st.integers(1, 3), max_size=2))
    return tuple(lead + out)


# ------------------------------------------------------------------------------------ indexing
def _slice(n: int) -> st.SearchStrategy:
    """A slice of a dim of size n. Positive steps only: PyTorch refuses negative steps."""
    bound = st.one_of(st.none(), st.integers(-n - 1, n + 1))
    return st.builds(slice, bound, bound, st.one_of(st.none(), st.integers(1, 3)))


def _int_array(n: int) -> st.SearchStrategy:
    """An int64 index array into a dim of size n, with repeated and negative entries."""
    return st.lists(st.integers(-n, n - 1), min_size=1, max_size=5).map(lambda v: np.array(v, dtype=np.int64))


def _mask(shape: tuple[int, ...]) -> st.SearchStrategy:
    return seeds.map(lambda s: np.asarray(_rng(s).random(size=shape) < 0.5))


@st.composite
def indices(draw: Any, shape: tuple[int, ...]) -> Any:
    """An index for ``x[index]`` with ``x.shape == shape`` (at least 1-d), in NumPy form.

    Kinds: slices, ints (negative too), integer arrays with repeats, a 2-d integer array,
    boolean masks (one dim or the full shape), None and Ellipsis, and mixtures: one advanced
    index among slices, two adjacent arrays, and integers next to arrays or masks (where NumPy's
    layout differs from PyTorch's, which is the one that counts).
    """
    nd = len(shape)
    kind = draw(st.sampled_from(
        ["int", "slices", "int_array", "int_array_2d", "list", "mask_full", "mask_dim",
         "mixed", "two_arrays", "int_and_arrays", "int_and_mask", "none_ellipsis"]
    ))
    if kind == "int":
        return draw(st.integers(-shape[0], shape[0] - 1))
    if kind == "slices":
        k = draw(st.integers(1, nd))
        return tuple(draw(_slice(shape[i])) for i in range(k))
    if kind == "int_array":
        return draw(_int_array(shape[0]))
    if kind == "int_array_2d":
        return _rng(draw(seeds)).integers(-shape[0], shape[0], size=(2, 3))
    if kind == "list":
        return [int(i) for i in draw(_int_array(shape[0]))]
    if kind == "mask_full":
        return draw(_mask(shape))
    if kind == "mask_dim":
        d = draw(st.integers(0, nd - 1))
        return (slice(None),) * d + (draw(_mask((shape[d],))),)
    if kind == "mixed":
        # one advanced index (int array with repeats) somewhere, slices elsewhere
        d = draw(st.integers(0, nd - 1))
        return tuple(draw(_int_array(shape[i])) if i == d else draw(_slice(shape[i])) for i in range(nd))
    if kind == "two_arrays":
        if nd < 2:
            return draw(_int_array(shape[0]))
        d = draw(st.integers(0, nd - 2))
        k = draw(st.integers(1, 4))
        r = _rng(draw(seeds))
        a = r.integers(-shape[d], shape[d], size=k)
        b = r.integers(-shape[d + 1], shape[d + 1], size=k)
        return (slice(None),) * d + (a, b)
    if kind == "int_and_arrays":
        # integers next to arrays (PyTorch selects with the integers first; NumPy would not)
        if nd < 2:
            return (draw(st.integers(-shape[0], shape[0] - 1)),)
        k = draw(st.integers(1, 4))
        r = _rng(draw(seeds))
        picks = [draw(st.sampled_from(["int", "slice", "array"])) for _ in range(nd)]
        i_int, i_arr = draw(st.permutations(list(range(nd))))[:2]
        picks[i_int], picks[i_arr] = "int", "array"
        out: list[Any] = []
        for i, p in enumerate(picks):
            if p == "int":
                out.append(draw(st.integers(-shape[i], shape[i] - 1)))
            elif p == "slice":
                out.append(draw(_slice(shape[i])))
            else:
                out.append(r.integers(-shape[i], shape[i], size=k))
        if draw(st.booleans()):
            out.insert(draw(st.integers(0, len(out))), None)
        return tuple(out)
    if kind == "int_and_mask":
        if nd < 2:
            return draw(_mask(shape))
        d = draw(st.integers(0, nd - 1))
        i = draw(st.sampled_from([j for j in range(nd) if j != d]))
        out = [slice(None)] * nd
        out[d] = draw(_mask((shape[d],)))
        out[i] = draw(st.integers(-shape[i], shape[i] - 1))
        return tuple(out)
    # none_ellipsis
    which = draw(st.integers(0, 2))
    if which == 0:
        return (None, Ellipsis, draw(st.integers(-shape[-1], shape[-1] - 1)))
    if which == 1:
        return (Ellipsis, None)
    return (draw(_slice(shape[0])), None)


@st.composite
def gather_index(draw: Any, shape: tuple[int, ...], d: int) -> np.ndarray:
    """An index for ``x.gather(d, index)``: same ndim, any size along d (repeats welcome), at most
    ``shape[i]`` elsewhere (torch.gather's rule)."""
    d %= len(shape)
    idx_shape = tuple(draw(st.integers(1, 4)) if i == d else draw(st.integers(1, n)) for i, n in enumerate(shape))
    s = draw(seeds)
    return _rng(s).integers(0, shape[d], size=idx_shape).astype(np.int64)


# ------------------------------------------------------------------------------------- matmul
MATMUL_KINDS = (
    "vec_vec", "vec_mat", "mat_vec", "mat_mat", "batch_vec", "vec_batch", "batch_mat",
    "batch_batch", "one_batch", "mat_batch", "broadcast_batch",
)


@st.composite
def matmul_shapes(draw: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Operand shapes for every matmul layout, batch-dim broadcasting included."""
    side = st.integers(1, MAX_SIDE)
    n, k, m, b, c = (draw(side) for _ in range(5))
    kind = draw(st.sampled_from(MATMUL_KINDS))
    return {
        "vec_vec": ((k,), (k,)),
        "vec_mat": ((k,), (k, m)),
        "mat_vec": ((n, k), (k,)),
        "mat_mat": ((n, k), (k, m)),
        "batch_vec": ((b, n, k), (k,)),
        "vec_batch": ((k,), (b, k, m)),
        "batch_mat": ((b, n, k), (k, m)),
        "batch_batch": ((b, n, k), (b, k, m)),
        "one_batch": ((1, n, k), (b, k, m)),
        "mat_batch": ((n, k), (b, k, m)),
        "broadcast_batch": ((b, 1, n, k), (c, k, m)),
    }[kind]


# ------------------------------------------------------------------------------ split and cat
@st.composite
def split_args(draw: Any, n: int) -> Any:
    """``split``'s first argument for a dim of size n: a positive size, or sizes adding up to n."""
    if draw(st.booleans()):
        return draw(st.integers(1, n + 1))
    # cut points in [0, n] (repeats give empty sections, which must get an empty gradient)
    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=3)))
    bounds = [0, *cuts, n]
    return [bounds[i + 1] - bounds[i] for i in range(len(bounds) - 1)]


@st.composite
def cat_shapes(draw: Any) -> tuple[list[tuple[int, ...]], int]:
    """Shapes of 1-4 tensors that ``cat`` joins along a drawn dim (some pieces may be empty there)."""
    base = list(draw(shapes(min_dims=1, max_dims=3)))
    d = draw(dim(len(base)))
    count = draw(st.integers(1, 4))
    out = []
    for _ in range(count):
        s = list(base)
        s[d] = draw(st.integers(0, MAX_SIDE))
        out.append(tuple(s))
    if all(s[d] == 0 for s in out):
        first = list(out[0])
        first[d] = 1
        out[0] = tuple(first)
    return out, d
