"""Every tensor primitive and composite op, checked two ways on Hypothesis-drawn shapes:

(a) against central finite differences in float64 (`tinygrad_tx.gradcheck`), and
(b) against PyTorch: the values, and the gradients of ``Σ (out ⊙ R)`` for a random R (a
    non-uniform upstream gradient: ``out.sum()`` would hide VJPs that mix up positions).

An op is written once, as ``fn(lib, *tensors)``, and run with ``lib = tinygrad_tx`` and
``lib = torch``: the two APIs are the same (``lib.cat``, ``lib.where``, ``x.max(dim)``, ...). The
harness that runs and compares the two is tests/oracle.py; without torch, this module is skipped.

Inputs are shifted into each op's domain and away from kinks and ties for the finite-difference
checks (see ``strategies.py``); what happens *at* the kinks and ties is checked against PyTorch
explicitly (``test_ties_*``, ``test_kinks_*``, ``test_pow_zero_base_*``). Grad-of-grad is checked
with Hessian-vector products, and float32, dtype promotion and casts have their own smoke tests.

Settings: the ``tinygrad-ci`` Hypothesis profile (derandomized, ~30 examples per test); run
``TINYGRAD_TX_HYPOTHESIS=tinygrad-thorough`` for 500 random examples per test.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_tx as tg
from tinygrad_tx import Tensor, gradcheck

from .oracle import ATOL, RTOL_ELEMENTWISE, RTOL_REDUCTION, Fn, close, leaf, numpy_of, same
from .strategies import (
    PROFILE,
    away_from,
    broadcast_pairs,
    broadcast_triples,
    cat_shapes,
    dim,
    dims,
    distinct,
    distinct_magnitudes,
    expand_targets,
    gather_index,
    grid,
    indices,
    integer_operands,
    matmul_shapes,
    offset_grids,
    permutations,
    remainder_operands,
    repeat_args,
    reshape_targets,
    seeds,
    shapes,
    split_args,
    unflatten_sizes,
    uniform,
    with_zeros,
)

torch = pytest.importorskip("torch")  # the oracle (tests/oracle.py): without it, this module is skipped

# ------------------------------------------------------------------------------- tolerances
# float64 against PyTorch: RTOL_ELEMENTWISE, RTOL_REDUCTION and ATOL (tests/oracle.py).
# float32 smoke checks against PyTorch
RTOL_FLOAT32 = 1e-5
ATOL_FLOAT32 = 1e-5
# finite differences (float64, central): |analytic - numeric| <= FD_ATOL + FD_RTOL·|numeric|
FD_EPS = 1e-6
FD_ATOL = 1e-6
FD_RTOL = 1e-5


# ---------------------------------------------------------------------------------- helpers
def _ix(lib: Any, index: Any) -> Any:
    """An index in each library's spelling: arrays become tensors, lists/slices/ints stay."""
    if isinstance(index, tuple):
        return tuple(_ix(lib, i) for i in index)
    if isinstance(index, np.ndarray):
        return lib.tensor(index)
    return index


def check(
    fn: Fn,
    *arrays: Any,
    rtol: float = RTOL_ELEMENTWISE,
    atol: float = ATOL,
    fd: bool = True,
    torch_fn: Fn | None = None,
    weight_seed: int = 0,
) -> None:
    """``fn(tinygrad_tx, ...)`` against ``fn(torch, ...)`` (`same` in tests/oracle.py: values, dtypes,
    gradients of a randomly weighted sum), then against finite differences (``fd``; float64 inputs)."""
    same(fn, *arrays, rtol=rtol, atol=atol, torch_fn=torch_fn, weight_seed=weight_seed)
    if fd:
        fd_check(fn, *arrays)


def fd_check(fn: Fn, *arrays: Any) -> None:
    """Central finite differences in float64 over every floating input."""
    inputs = [leaf(tg, a) for a in arrays]
    assert gradcheck(lambda *xs: fn(tg, *xs), inputs, eps=FD_EPS, atol=FD_ATOL, rtol=FD_RTOL)


def _c(lib: Any, a: np.ndarray) -> Any:
    """A constant (no gradient) in ``lib``."""
    return lib.tensor(a)


# ======================================================================= unary elementwise
# name -> (fn, strategy of values for a shape)
UNARY: dict[str, tuple[Fn, Callable[[tuple[int, ...]], st.SearchStrategy]]] = {
    "neg": (lambda lib, x: -x, uniform),
    "exp": (lambda lib, x: x.exp(), uniform),
    "log": (lambda lib, x: x.log(), lambda s: uniform(s, 0.2, 3.0)),
    "tanh": (lambda lib, x: x.tanh(), lambda s: uniform(s, -3.0, 3.0)),
    "erf": (lambda lib, x: x.erf(), lambda s: uniform(s, -2.5, 2.5)),
    "sin": (lambda lib, x: x.sin(), lambda s: uniform(s, -4.0, 4.0)),
    "cos": (lambda lib, x: x.cos(), lambda s: uniform(s, -4.0, 4.0)),
    "sigmoid": (lambda lib, x: x.sigmoid(), lambda s: uniform(s, -5.0, 5.0)),
    "relu": (lambda lib, x: x.relu(), away_from),
    "abs": (lambda lib, x: x.abs(), away_from),
    "sqrt": (lambda lib, x: x.sqrt(), lambda s: uniform(s, 0.2, 3.0)),
    "rsqrt": (lambda lib, x: x.rsqrt(), lambda s: uniform(s, 0.2, 3.0)),
    "square": (lambda lib, x: x.square(), uniform),
    "pow_int": (lambda lib, x: x**3, uniform),
    "pow_2": (lambda lib, x: x**2, uniform),
    "pow_frac": (lambda lib, x: x**2.5, lambda s: uniform(s, 0.2, 3.0)),
    "pow_negative": (lambda lib, x: x**-1.5, lambda s: uniform(s, 0.2, 3.0)),
    "pow_half": (lambda lib, x: x**0.5, lambda s: uniform(s, 0.2, 3.0)),
    "pow_method": (lambda lib, x: x.pow(1.5), lambda s: uniform(s, 0.2, 3.0)),
    "rpow": (lambda lib, x: 2.0**x, uniform),
    "rpow_fraction": (lambda lib, x: 0.5**x, uniform),
    "add_scalar": (lambda lib, x: x + 1.5, uniform),
    "radd_scalar": (lambda lib, x: 1.5 + x, uniform),
    "sub_scalar": (lambda lib, x: x - 0.5, uniform),
    "rsub_scalar": (lambda lib, x: 0.5 - x, uniform),
    "mul_scalar": (lambda lib, x: x * -1.5, uniform),
    "rmul_int": (lambda lib, x: 2 * x, uniform),
    "div_scalar": (lambda lib, x: x / 3.0, uniform),
    "rdiv_scalar": (lambda lib, x: 3.0 / x, lambda s: away_from(s, margin=0.3)),
    "clamp": (lambda lib, x: x.clamp(-0.5, 0.7), grid),
    "clamp_min": (lambda lib, x: x.clamp(min=0.3), grid),
    "clamp_max": (lambda lib, x: x.clamp(max=-0.2), grid),
    # grid values are 0.05 away from multiples of 0.1, so from those of 1.5 and 0.7: from the jumps
    "remainder_scalar": (lambda lib, x: x % 1.5, grid),
    "remainder_negative_scalar": (lambda lib, x: x.remainder(-0.7), grid),
    "clone": (lambda lib, x: x.clone() * 2, uniform),
    "reuse": (lambda lib, x: x * x.exp() + x - x.tanh() * x, uniform),
}


@pytest.mark.parametrize("name", list(UNARY))
@PROFILE
@given(data=st.data())
def test_unary(name: str, data: Any) -> None:
    fn, values = UNARY[name]
    shape = data.draw(shapes(min_dims=0, max_dims=3), label="shape")
    x = data.draw(values(shape), label="x")
    check(fn, x)


# ====================================================================== binary elementwise
def _pow_operands(sa: tuple[int, ...], sb: tuple[int, ...]) -> st.SearchStrategy:
    return st.tuples(uniform(sa, 0.2, 3.0), uniform(sb, -2.0, 2.0))


def _div_operands(sa: tuple[int, ...], sb: tuple[int, ...]) -> st.SearchStrategy:
    return st.tuples(uniform(sa), away_from(sb, margin=0.3))


def _plain_operands(sa: tuple[int, ...], sb: tuple[int, ...]) -> st.SearchStrategy:
    return st.tuples(uniform(sa), uniform(sb))


BINARY: dict[str, tuple[Fn, Callable[..., st.SearchStrategy]]] = {
    "add": (lambda lib, a, b: a + b, _plain_operands),
    "sub": (lambda lib, a, b: a - b, _plain_operands),
    "mul": (lambda lib, a, b: a * b, _plain_operands),
    "div": (lambda lib, a, b: a / b, _div_operands),
    "pow": (lambda lib, a, b: a**b, _pow_operands),
    "pow_method": (lambda lib, a, b: a.pow(b), _pow_operands),
    "maximum": (lambda lib, a, b: a.maximum(b), offset_grids),
    "minimum": (lambda lib, a, b: a.minimum(b), offset_grids),
    "mul_then_div": (lambda lib, a, b: (a * b) / (b * b + 1.0) - a, _plain_operands),
    "remainder": (lambda lib, a, b: a % b, remainder_operands),
}

# The broadcasting cases that must always be covered (Hypothesis draws more).
BROADCAST_CASES = [
    ((3,), (2, 3)),
    ((2, 3), (3,)),
    ((3, 1), (3, 4)),
    ((3, 4), (3, 1)),
    ((), (2, 3)),
    ((2, 3), ()),
    ((1,), (2, 3)),
    ((2, 3), (1,)),
    ((), ()),
    ((), (1,)),
    ((4, 1, 3), (2, 1)),
    ((2, 1, 4), (1, 3, 1)),
]


@pytest.mark.parametrize("name", list(BINARY))
@pytest.mark.parametrize("sa,sb", BROADCAST_CASES, ids=[f"{a}-{b}" for a, b in BROADCAST_CASES])
@settings(PROFILE, max_examples=5)
@given(data=st.data())
def test_binary_broadcast_cases(name: str, sa: tuple[int, ...], sb: tuple[int, ...], data: Any) -> None:
    fn, operands = BINARY[name]
    a, b = data.draw(operands(sa, sb), label="operands")
    check(fn, a, b)


@pytest.mark.parametrize("name", list(BINARY))
@PROFILE
@given(data=st.data())
def test_binary_broadcast_drawn(name: str, data: Any) -> None:
    fn, operands = BINARY[name]
    sa, sb = data.draw(broadcast_pairs(), label="shapes")
    a, b = data.draw(operands(sa, sb), label="operands")
    check(fn, a, b)


@PROFILE
@given(shapes3=broadcast_triples(), seed=seeds)
def test_where_broadcast(shapes3: tuple[tuple[int, ...], ...], seed: int) -> None:
    sc, sa, sb = shapes3
    rng = np.random.default_rng(seed)
    cond = rng.random(sc) < 0.5
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    check(lambda lib, c, x, y: lib.where(c, x, y), cond, a, b)
    check(lambda lib, c, x: lib.where(c, x, 0.5), cond, a)
    check(lambda lib, c, y: lib.where(c, -1.5, y), cond, b)


@PROFILE
@given(shape=shapes(min_dims=0, max_dims=3, min_side=0), seed=seeds, kind=st.sampled_from(["bool", "int", "float"]))
def test_where_condition_only(shape: tuple[int, ...], seed: int, kind: str) -> None:
    """``where(condition)``: the indices of the nonzero elements, one int64 tensor per dim (0-d: one)."""
    r = np.random.default_rng(seed)
    c = {"bool": r.random(shape) < 0.5, "int": r.integers(-1, 2, shape),
         "float": np.where(r.random(shape) < 0.5, 0.0, r.standard_normal(shape))}[kind]
    check(lambda lib, t: lib.where(t), c, fd=False)
    check(lambda lib, t: lib.where(condition=t != 0), c, fd=False)


@PROFILE
@given(shape=shapes(min_dims=0, max_dims=3), seed=seeds, data=st.data())
def test_masked_fill(shape: tuple[int, ...], seed: int, data: Any) -> None:
    # the mask broadcasts to x: some of x's dims become 1, some leading dims go
    mask_shape = tuple(n if data.draw(st.booleans()) else 1 for n in shape)
    mask_shape = mask_shape[data.draw(st.integers(0, len(mask_shape))):]
    rng = np.random.default_rng(seed)
    x, mask = rng.standard_normal(shape), rng.random(mask_shape) < 0.5
    check(lambda lib, t, m: t.masked_fill(m, -2.5) * t, x, mask)


def test_remainder_of_a_python_number() -> None:
    """``2.5 % t``: PyTorch has no derivative for a Python dividend (remainder(Scalar, Tensor)); a
    0-d constant dividend is the same function, so its gradient is the oracle: b̄ = -ȳ ⌊a/b⌋."""
    b = np.array([[0.4, -1.5, 2.5], [-4.5, 1.5, -0.8]])  # 2.3/b and 7/b are far from integers
    check(lambda lib, t: 2.3 % t, b, torch_fn=lambda lib, t: torch.tensor(2.3, dtype=torch.float64) % t)
    check(lambda lib, t: 7 % t, b, torch_fn=lambda lib, t: torch.tensor(7.0, dtype=torch.float64) % t)


@PROFILE
@given(data=st.data())
def test_floor_divide_and_remainder_values(data: Any) -> None:
    """Values and dtypes over drawn broadcasts: integers (int64 results), floats, and mixes. ``//`` of
    tensors that require grad requires grad, and backward through it raises, in both libraries."""
    sa, sb = data.draw(broadcast_pairs(max_dims=3), label="shapes")
    ia, ib = data.draw(integer_operands(sa, sb), label="integers")
    fa, fb = data.draw(remainder_operands(sa, sb), label="floats")
    check(lambda lib, a, b: (a // b, a % b, a.floor_divide(b), a.remainder(b), a / b, a // 4, -9 % b), ia, ib, fd=False)
    check(lambda lib, a, b: (a // 1.5, b % 2.5, 3 // b), ia, ib, fd=False)  # int with a float: the default dtype
    for lib in (tg, torch):
        a, b = leaf(lib, fa), leaf(lib, fb)
        q = a // b
        assert q.requires_grad and q.dtype == a.dtype
        with pytest.raises(RuntimeError, match="floor_divide|derivative for aten::floor_divide"):
            (q * _c(lib, np.ones(q.shape))).sum().backward()
        ref = _c(torch, fa) // _c(torch, fb)
        close(numpy_of(q), numpy_of(ref), RTOL_ELEMENTWISE, ATOL, "float floor_divide")
        close(numpy_of(a.detach() // 0.5), numpy_of(_c(torch, fa) // 0.5), RTOL_ELEMENTWISE, ATOL, "// number")


# ============================================================================== reductions
REDUCTIONS: dict[str, tuple[Fn, Callable[[tuple[int, ...]], st.SearchStrategy]]] = {
    "sum": (lambda lib, x, d, k: x.sum(dim=d, keepdim=k), uniform),
    "mean": (lambda lib, x, d, k: x.mean(dim=d, keepdim=k), uniform),
    "amax": (lambda lib, x, d, k: x.amax(dim=d, keepdim=k), distinct),
    "amin": (lambda lib, x, d, k: x.amin(dim=d, keepdim=k), distinct),
    "sum_of_square": (lambda lib, x, d, k: (x * x).sum(dim=d, keepdim=k) / x.sum(), lambda s: uniform(s, 0.5, 2)),
}


@pytest.mark.parametrize("name", list(REDUCTIONS))
@PROFILE
@given(data=st.data())
def test_reduction(name: str, data: Any) -> None:
    fn, values = REDUCTIONS[name]
    shape = data.draw(shapes(min_dims=0, max_dims=3), label="shape")
    d = data.draw(dims(len(shape)), label="dim")
    keepdim = data.draw(st.booleans(), label="keepdim")
    x = data.draw(values(shape), label="x")
    check(lambda lib, t: fn(lib, t, d, keepdim), x, rtol=RTOL_REDUCTION)


@PROFILE
@given(data=st.data())
def test_prod(data: Any) -> None:
    """prod over one dim or all, with and without zeros (one per slice, several, none): the VJP's
    two paths (ȳ·y/x and the exclusive products) against PyTorch and finite differences (prod is
    multilinear, so central differences are exact at zeros too)."""
    shape = data.draw(shapes(min_dims=0, max_dims=3), label="shape")
    d = data.draw(st.one_of(st.none(), dim(len(shape))), label="dim")
    keepdim = data.draw(st.booleans(), label="keepdim")
    x = data.draw(st.one_of(with_zeros(shape), with_zeros(shape, p_zero=0.0)), label="x")
    kw = {} if d is None else {"keepdim": keepdim}  # PyTorch takes keepdim only with a dim
    check(lambda lib, t: t.prod(d, **kw) if d is not None else t.prod(), x, rtol=RTOL_REDUCTION)
    check(lambda lib, t: (t * t).prod(dim=d, **kw) if d is not None else (t * t).prod(), x, rtol=RTOL_REDUCTION)


@PROFILE
@given(data=st.data())
def test_norm(data: Any) -> None:
    shape = data.draw(shapes(min_dims=0, max_dims=3), label="shape")
    p = data.draw(st.sampled_from([2, 2.0, "fro", None, 1, float("inf")]), label="p")
    d = data.draw(dims(len(shape)), label="dim")
    if p == "fro" and isinstance(d, tuple) and len(d) > 2:
        d = d[:2]  # PyTorch's 'fro' is a vector norm over at most 2 dims
    keepdim = data.draw(st.booleans(), label="keepdim")
    x = data.draw((distinct_magnitudes if p == float("inf") else away_from)(shape), label="x")
    check(lambda lib, t: t.norm(p, d, keepdim), x, rtol=RTOL_REDUCTION)
    check(lambda lib, t: t.norm(p=p, dim=d, keepdim=keepdim) * t.sum(), x, rtol=RTOL_REDUCTION)


@PROFILE
@given(data=st.data())
def test_reductions_with_dtype(data: Any) -> None:
    """``dtype=`` converts before reducing: float32 summed in float64 (the gradient comes back as
    float32), integers and bools reduced as floats, int32 kept by sum(dtype=int32)."""
    shape = data.draw(shapes(min_dims=0, max_dims=3), label="shape")
    d = data.draw(dims(len(shape)), label="dim")
    keepdim = data.draw(st.booleans(), label="keepdim")
    x = data.draw(uniform(shape, dtype=np.float32), label="x")
    ints = np.round(x * 4).astype(np.int32)
    check(lambda lib, t: (t.sum(d, keepdim, dtype=lib.float64), t.mean(dim=d, keepdim=keepdim, dtype=lib.float64)),
          x, rtol=RTOL_REDUCTION, fd=False)
    check(lambda lib, t: (t.sum(d, dtype=lib.float64), t.sum(d, dtype=lib.int32), t.mean(d, dtype=lib.float64),
                          t.prod(dtype=lib.float64), (t > 0).sum(d, dtype=lib.float64)), ints, rtol=RTOL_REDUCTION,
          fd=False)


@pytest.mark.parametrize("op", ["var", "std"])
@PROFILE
@given(data=st.data())
def test_var_std(op: str, data: Any) -> None:
    # every reduced group has >= 2 distinct values: the variance is positive, std differentiable
    shape = data.draw(shapes(min_dims=1, max_dims=3, min_side=2), label="shape")
    d = data.draw(dims(len(shape)), label="dim")
    keepdim = data.draw(st.booleans(), label="keepdim")
    correction = data.draw(st.sampled_from([None, 0, 1]), label="correction")
    x = data.draw(distinct(shape), label="x")
    kw = {} if correction is None else {"correction": correction}
    check(lambda lib, t: getattr(t, op)(dim=d, keepdim=keepdim, **kw), x, rtol=RTOL_REDUCTION)


@pytest.mark.parametrize("op", ["max", "min"])
@PROFILE
@given(data=st.data())
def test_max_min(op: str, data: Any) -> None:
    shape = data.draw(shapes(min_dims=1, max_dims=3), label="shape")  # 0-d: test_max_min_dim_of_0d
    x = data.draw(distinct(shape), label="x")
    d = data.draw(dim(len(shape)), label="dim")
    keepdim = data.draw(st.booleans(), label="keepdim")
    check(lambda lib, t: getattr(t, op)(), x)  # the full reduction
    check(lambda lib, t: getattr(t, op)(d, keepdim=keepdim), x)  # (values, indices)
    check(lambda lib, t: getattr(t, op)(dim=d), x)
    check(lambda lib, t: getattr(t, "arg" + op)(d, keepdim=keepdim).to(lib.float64) * t.sum(), x)


@pytest.mark.parametrize("op", ["max", "min"])
@pytest.mark.parametrize("d", [0, -1])
def test_max_min_dim_of_0d(op: str, d: int) -> None:
    """torch.max(x, dim) accepts a 0-d x (dim 0 or -1): values x, indices 0."""
    x = np.array(1.5)
    check(lambda lib, t: getattr(t, op)(d), x, fd=False)
    check(lambda lib, t: getattr(t, op)(d, keepdim=True), x, fd=False)
    check(lambda lib, t: getattr(t, "arg" + op)(d).to(lib.float64) + t, x, fd=False)


@pytest.mark.parametrize("op", ["softmax", "log_softmax", "logsumexp"])
@PROFILE
@given(data=st.data())
def test_softmax_family(op: str, data: Any) -> None:
    shape = data.draw(shapes(min_dims=0, max_dims=3), label="shape")
    d = data.draw(dim(len(shape)), label="dim")
    x = data.draw(uniform(shape, -3.0, 3.0), label="x")
    if op == "logsumexp":
        def fn(lib: Any, t: Any) -> Any:  # composed from amax/exp/sum/log in both libraries
            m = t.amax(d, keepdim=True).detach()
            return (t - m).exp().sum(d).log() + m.squeeze(d)

        check(fn, x, rtol=RTOL_REDUCTION, torch_fn=lambda lib, t: torch.logsumexp(t, d))
    else:
        check(lambda lib, t: getattr(t, op)(d), x, rtol=RTOL_REDUCTION)


# ================================================================================== matmul
MATMUL_CASES = [
    ((3,), (3,)),
    ((3,), (3, 2)),
    ((2, 3), (3,)),
    ((2, 3), (3, 4)),
    ((2, 2, 3), (3,)),
    ((3,), (2, 3, 4)),
    ((2, 2, 3), (3, 4)),
    ((2, 2, 3), (2, 3, 4)),
    ((1, 2, 3), (4, 3, 2)),
    ((2, 3), (4, 3, 2)),
    ((2, 1, 2, 3), (3, 3, 4)),
    ((1, 1), (1, 1)),
]


@pytest.mark.parametrize("sa,sb", MATMUL_CASES, ids=[f"{a}@{b}" for a, b in MATMUL_CASES])
def test_matmul_cases(sa: tuple[int, ...], sb: tuple[int, ...]) -> None:
    rng = np.random.default_rng(len(sa) * 10 + len(sb))
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    check(lambda lib, x, y: x @ y, a, b, rtol=RTOL_REDUCTION)
    check(lambda lib, x, y: lib.matmul(x, y), a, b, rtol=RTOL_REDUCTION, fd=False)


@PROFILE
@given(ab=matmul_shapes(), seed=seeds)
def test_matmul_drawn(ab: tuple[tuple[int, ...], tuple[int, ...]], seed: int) -> None:
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(ab[0]), rng.standard_normal(ab[1])
    check(lambda lib, x, y: x @ y, a, b, rtol=RTOL_REDUCTION)


@PROFILE
@given(n=st.integers(1, 4), k=st.integers(1, 4), seed=seeds)
def test_matmul_with_itself(n: int, k: int, seed: int) -> None:
    x = np.random.default_rng(seed).standard_normal((n, k))
    check(lambda lib, t: t @ t.mT, x, rtol=RTOL_REDUCTION)
    check(lambda lib, t: t.T @ t, x, rtol=RTOL_REDUCTION)


# ============================================================================== shape ops
@PROFILE
@given(data=st.data())
def test_reshape_view(data: Any) -> None:
    shape = data.draw(shapes(min_dims=0, max_dims=3), label="shape")
    target = data.draw(reshape_targets(shape), label="target")
    x = data.draw(uniform(shape), label="x")
    check(lambda lib, t: t.reshape(target), x)
    check(lambda lib, t: t.view(*target) if target else t.view(()), x)
    check(lambda lib, t: t.reshape(target).exp().reshape(shape), x)


@PROFILE
@given(data=st.data())
def test_transpose_permute(data: Any) -> None:
    shape = data.draw(shapes(min_dims=1, max_dims=4), label="shape")
    nd = len(shape)
    d0, d1 = data.draw(dim(nd), label="dim0"), data.draw(dim(nd), label="dim1")
    perm = data.draw(permutations(nd), label="perm")
    x = data.draw(uniform(shape), label="x")
    check(lambda lib, t: t.transpose(d0, d1), x)
    check(lambda lib, t: t.permute(*perm), x)
    check(lambda lib, t: t.permute(perm), x)
    if nd == 2:  # PyTorch deprecates .T on other ranks
        check(lambda lib, t: t.T, x)
    if nd >= 2:
        check(lambda lib, t: t.mT, x)


@PROFILE
@given(data=st.data())
def test_expand(data: Any) -> None:
    shape = data.draw(shapes(min_dims=0, max_dims=3, max_side=3), label="shape")
    target = data.draw(expand_targets(shape), label="target")
    x = data.draw(uniform(shape), label="x")
    check(lambda lib, t: t.expand(*target) if target else t.expand(()), x)
    check(lambda lib, t: t.expand(target) * 2.0, x)


@PROFILE
@given(data=st.data())
def test_repeat(data: Any) -> None:
    shape = data.draw(shapes(min_dims=0, max_dims=3, max_side=3), label="shape")
    sizes = data.draw(repeat_args(len(shape)), label="repeats")
    x = data.draw(uniform(shape), label="x")
    check(lambda lib, t: t.repeat(*sizes), x)
    check(lambda lib, t: t.repeat(sizes).tanh(), x)  # a nonlinear op after it: each tile's gradient differs


@PROFILE
@given(data=st.data())
def test_unflatten(data: Any) -> None:
    shape = data.draw(shapes(min_dims=1, max_dims=3), label="shape")
    d = data.draw(dim(len(shape)), label="dim")
    sizes = data.draw(unflatten_sizes(shape[d]), label="sizes")
    x = data.draw(uniform(shape), label="x")
    check(lambda lib, t: t.unflatten(d, sizes), x)
    check(lambda lib, t: t.unflatten(dim=d, sizes=list(sizes)).exp(), x)


@PROFILE
@given(data=st.data())
def test_squeeze_unsqueeze_flatten(data: Any) -> None:
    shape = data.draw(shapes(min_dims=0, max_dims=4, max_side=3), label="shape")
    nd = len(shape)
    x = data.draw(uniform(shape), label="x")
    check(lambda lib, t: t.squeeze(), x)
    d = data.draw(dim(nd), label="squeeze dim")
    check(lambda lib, t: t.squeeze(d), x)
    if nd:
        ds = data.draw(st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True), label="squeeze dims")
        check(lambda lib, t: t.squeeze(tuple(ds)), x)
    u = data.draw(st.integers(-nd - 1, nd), label="unsqueeze dim")
    check(lambda lib, t: t.unsqueeze(u), x)
    s = data.draw(dim(nd), label="start")
    e = data.draw(dim(nd), label="end")
    if nd == 0 or s % nd <= e % nd:
        check(lambda lib, t: t.flatten(s, e), x)
    check(lambda lib, t: t.flatten(), x)


@PROFILE
@given(data=st.data())
def test_getitem(data: Any) -> None:
    shape = data.draw(shapes(min_dims=1, max_dims=3), label="shape")
    index = data.draw(indices(shape), label="index")
    x = data.draw(uniform(shape), label="x")
    check(lambda lib, t: t[_ix(lib, index)], x)
    check(lambda lib, t: t[_ix(lib, index)].tanh(), x)  # a nonlinear op after it


@PROFILE
@given(data=st.data())
def test_split_chunk(data: Any) -> None:
    shape = data.draw(shapes(min_dims=1, max_dims=3), label="shape")
    d = data.draw(dim(len(shape)), label="dim")
    arg = data.draw(split_args(shape[d]), label="split")
    chunks = data.draw(st.integers(1, 5), label="chunks")
    x = data.draw(uniform(shape), label="x")
    check(lambda lib, t: t.split(arg, d), x)
    check(lambda lib, t: t.split(arg, dim=d), x)
    check(lambda lib, t: t.split(split_size=arg, dim=d), x)  # Tensor.split's keyword (torch.split's differs)
    check(lambda lib, t: t.chunk(chunks, d), x)


@PROFILE
@given(spec=cat_shapes(), seed=seeds)
def test_cat(spec: tuple[list[tuple[int, ...]], int], seed: int) -> None:
    shapes_, d = spec
    rng = np.random.default_rng(seed)
    xs = [rng.standard_normal(s) for s in shapes_]
    check(lambda lib, *ts: lib.cat(list(ts), d), *xs)
    check(lambda lib, *ts: lib.cat(list(ts), dim=d).sigmoid(), *xs)


@PROFILE
@given(shape=shapes(min_dims=0, max_dims=3), count=st.integers(1, 4), seed=seeds, data=st.data())
def test_stack(shape: tuple[int, ...], count: int, seed: int, data: Any) -> None:
    d = data.draw(st.integers(-len(shape) - 1, len(shape)), label="dim")
    rng = np.random.default_rng(seed)
    xs = [rng.standard_normal(shape) for _ in range(count)]
    check(lambda lib, *ts: lib.stack(list(ts), d), *xs)
    check(lambda lib, *ts: lib.stack([ts[0], *ts], dim=d).tanh(), *xs)  # the first one twice


@PROFILE
@given(data=st.data())
def test_gather(data: Any) -> None:
    shape = data.draw(shapes(min_dims=1, max_dims=3), label="shape")
    d = data.draw(dim(len(shape)), label="dim")
    idx = data.draw(gather_index(shape, d), label="index")
    x = data.draw(uniform(shape), label="x")
    check(lambda lib, t, i: t.gather(d, i), x, idx)
    check(lambda lib, t, i: t.gather(d, i).exp(), x, idx)


@PROFILE
@given(shape=shapes(min_dims=0, max_dims=3), seed=seeds)
def test_cast_and_clone(shape: tuple[int, ...], seed: int) -> None:
    x = np.random.default_rng(seed).standard_normal(shape)
    # float64 -> float32 -> float64: the gradient comes back as float64, through a float32 cast
    check(lambda lib, t: t.to(lib.float32), x, fd=False)
    check(lambda lib, t: t.to(lib.float32).exp().to(lib.float64) * t, x, rtol=RTOL_FLOAT32, atol=ATOL_FLOAT32, fd=False)
    check(lambda lib, t: t.float().double(), x, rtol=RTOL_FLOAT32, atol=ATOL_FLOAT32, fd=False)
    check(lambda lib, t: t.to(lib.float64), x)  # the same dtype: a no-op
    check(lambda lib, t: t.clone(), x)
    check(lambda lib, t: t.clone() * t, x)
    check(lambda lib, t: t.long(), x, fd=False)


# ======================================================== explicit indexing: repeats and mixes
INDEX_CASES: list[tuple[str, Any]] = [
    ("repeated ints", np.array([0, 0, 2, 0, -1])),
    ("repeated list", [1, 1, 1]),
    ("2-d repeated ints", np.array([[0, 1], [1, 0], [0, 0]])),
    ("repeats then slice", (np.array([2, 2, 0]), slice(1, None))),
    ("slice then repeats", (slice(None), np.array([3, 3, 0, 3]))),
    ("two arrays with repeats", (np.array([0, 0, 1, 2]), np.array([1, 1, 3, 1]))),
    ("two arrays broadcast", (np.array([[0], [2]]), np.array([1, 1, 3]))),
    ("row mask", np.array([True, False, True])),
    ("full mask", np.arange(12).reshape(3, 4) % 3 == 0),
    ("mask and slice", (np.array([False, True, True]), slice(None, None, 2))),
    ("slice and mask", (slice(0, 2), np.array([True, False, False, True]))),
    ("int and slice", (1, slice(1, 3))),
    ("int then array", (2, np.array([0, 0, 3]))),
    ("negative int", -1),
    ("ellipsis", (Ellipsis, 0)),
    ("None", (None, slice(None), None)),
]


@pytest.mark.parametrize("label,index", INDEX_CASES, ids=[c[0] for c in INDEX_CASES])
def test_getitem_cases(label: str, index: Any) -> None:
    x = np.random.default_rng(1).standard_normal((3, 4))
    check(lambda lib, t: t[_ix(lib, index)], x)
    check(lambda lib, t: t[_ix(lib, index)] * t[_ix(lib, index)], x)


def test_getitem_0d_integer_tensor_acts_like_an_int() -> None:
    """PyTorch treats a 0-d integer tensor in an index like a Python int (applied first)."""
    x = np.random.default_rng(2).standard_normal((2, 3, 4))
    check(lambda lib, t: t[lib.tensor(1), :, lib.tensor([0, 2])], x)
    check(lambda lib, t: t[lib.tensor(1), lib.tensor([0, 2])], x)
    check(lambda lib, t: t[lib.tensor(-1)], x)


def test_getitem_int_slice_array_layout() -> None:
    """``x[int, :, array]``: PyTorch applies the int first (basic indexing), so the sliced dim
    stays in front; NumPy treats the int as an advanced index and moves the advanced dims first."""
    x = np.random.default_rng(2).standard_normal((2, 3, 4))
    idx = np.array([0, 1])
    check(lambda lib, t: t[1, :, _ix(lib, idx)], x)


# ================================================================ in-place ops on non-leaves
@PROFILE
@given(shapes2=broadcast_pairs(max_dims=3), seed=seeds)
def test_inplace_on_intermediates(shapes2: tuple[tuple[int, ...], tuple[int, ...]], seed: int) -> None:
    sa, sb = shapes2
    sa = tuple(np.broadcast_shapes(sa, sb))  # the in-place target has the full shape
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(sa), rng.uniform(0.5, 2.0, sb)

    def add_sub(lib: Any, x: Any, y: Any) -> Any:
        z = x * 1.5  # a non-leaf, so it may be updated in place
        z += y
        z -= x * y
        z.add_(y, alpha=-0.5).sub_(x, alpha=2.0).mul_(2.0).div_(4.0)
        return z.tanh()

    def mul_div(lib: Any, x: Any, y: Any) -> Any:
        # multiplying in place by a tensor that requires grad: the VJP for y needs z's old value,
        # which PyTorch keeps (and tinygrad_tx never overwrites)
        z = x * 1.5
        z *= y
        z /= y + 1.0
        z.mul_(x).div_(y)
        return z.tanh()

    check(add_sub, a, b)
    check(mul_div, a, b)


# ================================================================= ties and kinks vs PyTorch
def test_ties_amax_split_evenly() -> None:
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [-1.0, 0.0, -1.0]])
    check(lambda lib, t: t.amax(dim=1), x, fd=False)
    check(lambda lib, t: t.amax(dim=0, keepdim=True), x, fd=False)
    check(lambda lib, t: t.amax(), x, fd=False)
    check(lambda lib, t: t.amin(dim=1), x, fd=False)
    check(lambda lib, t: t.amax(dim=(0, 1)), x, fd=False)
    # and the explicit expectation
    t = Tensor(x, requires_grad=True)
    t.amax(dim=1).sum().backward()
    np.testing.assert_array_equal(t.grad, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3], [0, 1, 0]])


def test_ties_full_max_min_split_evenly() -> None:
    x = np.array([[3.0, 1.0, 3.0], [3.0, -2.0, -2.0]])
    check(lambda lib, t: t.max(), x, fd=False)
    check(lambda lib, t: t.min(), x, fd=False)


def test_ties_max_dim_gradient_to_returned_index() -> None:
    x = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0], [5.0, -1.0, 5.0, -1.0]])
    for d in (0, 1, -1):
        for keepdim in (False, True):
            check(lambda lib, t, d=d, keepdim=keepdim: t.max(d, keepdim=keepdim), x, fd=False)
            check(lambda lib, t, d=d, keepdim=keepdim: t.min(d, keepdim=keepdim), x, fd=False)
    t = Tensor(x, requires_grad=True)
    values, idx = t.max(1)
    values.sum().backward()
    assert t.grad.sum() == 3.0  # one winner per row, not shared
    np.testing.assert_array_equal(t.grad[np.arange(3), idx.data], [1.0, 1.0, 1.0])


def test_ties_maximum_minimum_split_half() -> None:
    a = np.array([1.0, 2.0, -3.0, 0.0])
    b = np.array([1.0, 0.0, -3.0, 5.0])
    check(lambda lib, x, y: x.maximum(y), a, b, fd=False)
    check(lambda lib, x, y: x.minimum(y), a, b, fd=False)
    # with broadcasting: the 0-d operand collects half of every tie
    check(lambda lib, x, y: x.maximum(y), a, np.array(1.0), fd=False)
    check(lambda lib, x, y: x.minimum(y), np.array(0.0), a, fd=False)
    ta, tb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    ta.maximum(tb).sum().backward()
    np.testing.assert_array_equal(ta.grad, [0.5, 1.0, 0.5, 0.0])
    np.testing.assert_array_equal(tb.grad, [0.5, 0.0, 0.5, 1.0])


def test_kinks_relu_abs_at_zero() -> None:
    x = np.array([-1.0, 0.0, -0.0, 2.0])
    check(lambda lib, t: t.relu(), x, fd=False)
    check(lambda lib, t: t.abs(), x, fd=False)
    t = Tensor(x, requires_grad=True)
    (t.relu() + t.abs()).sum().backward()
    np.testing.assert_array_equal(t.grad, [-1.0, 0.0, 0.0, 2.0])


def test_kinks_relu_abs_at_nan() -> None:
    """PyTorch's relu mask is ``x <= 0 → 0``, so a NaN input passes ȳ (abs: 1 - 1 = 0, as PyTorch)."""
    x = np.array([np.nan, -1.0, 0.0, 2.0])
    check(lambda lib, t: t.relu(), x, fd=False)
    check(lambda lib, t: t.abs(), x, fd=False)
    t = Tensor(x, requires_grad=True)
    t.relu().sum().backward()
    np.testing.assert_array_equal(t.grad, [1.0, 0.0, 0.0, 1.0])


PROD_ZEROS = np.array([
    [2.0, 0.0, 3.0, 5.0],   # one zero: only it gets a gradient, the product of the others
    [0.0, 1.5, 0.0, 2.0],   # two zeros: no gradient at all (but a second derivative)
    [0.0, 0.0, 0.0, 0.0],   # all zeros
    [1.5, -2.0, 0.5, 3.0],  # none
])


@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (1, False), (-1, True), (0, True)])
def test_prod_with_zeros(dim: Any, keepdim: bool) -> None:
    kw = {} if dim is None else {"dim": dim, "keepdim": keepdim}
    check(lambda lib, t: t.prod(**kw), PROD_ZEROS, rtol=RTOL_REDUCTION)
    check(lambda lib, t: t[:1].prod(**kw), PROD_ZEROS, rtol=RTOL_REDUCTION)  # a single zero in the tensor
    t = Tensor(PROD_ZEROS, requires_grad=True)
    t.prod(1).sum().backward()
    np.testing.assert_array_equal(t.grad, [[0, 30, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [-3, 2.25, -9, -1.5]])
    # and the second derivative: Hessian-vector products against PyTorch, and against finite differences
    v = [np.random.default_rng(5).standard_normal(PROD_ZEROS.shape)]

    def f(lib: Any, x: Any) -> Any:
        y = x.prod(**kw)
        return (y * _r(lib, tuple(y.shape))).sum()

    y, gs, hs = _hvp(tg, f, [PROD_ZEROS], v)
    ty, tgs, ths = _hvp(torch, f, [PROD_ZEROS], v)
    close(gs[0], tgs[0], RTOL_REDUCTION, ATOL, "gradient")
    close(hs[0], ths[0], RTOL_REDUCTION, ATOL, "Hessian-vector product")
    def gradient(x: Any) -> Any:
        with tg.enable_grad():
            return tg.grad(f(tg, x), [x], create_graph=True)

    assert gradcheck(gradient, [Tensor(PROD_ZEROS, requires_grad=True)], eps=FD_EPS, atol=FD_ATOL, rtol=FD_RTOL)


@pytest.mark.parametrize("p", [2, "fro", 1, float("inf")])
def test_norm_at_zero(p: Any) -> None:
    """The gradient at ‖x‖ = 0 is 0 for every p (PyTorch's subgradient), not 0/0 = nan."""
    x = np.array([[0.0, 0.0, 0.0], [3.0, -4.0, 0.0]])
    check(lambda lib, t: t.norm(p, dim=1), x, fd=False, rtol=RTOL_REDUCTION)
    check(lambda lib, t: t[0].norm(p), x, fd=False, rtol=RTOL_REDUCTION)
    t = Tensor(x, requires_grad=True)
    t.norm(p, dim=1).sum().backward()
    np.testing.assert_array_equal(t.grad[0], [0.0, 0.0, 0.0])


def test_norm_inf_ties_share_the_gradient() -> None:
    check(lambda lib, t: t.norm(float("inf"), dim=1), np.array([[1.0, -3.0, 3.0], [0.0, 2.0, -2.0]]), fd=False)


def test_kinks_clamp_passes_gradient_at_the_boundary() -> None:
    x = np.array([-1.0, -0.5, 0.0, 0.7, 1.0])
    check(lambda lib, t: t.clamp(-0.5, 0.7), x, fd=False)
    check(lambda lib, t: t.clamp(min=-0.5), x, fd=False)
    check(lambda lib, t: t.clamp(max=0.7), x, fd=False)
    t = Tensor(x, requires_grad=True)
    t.clamp(-0.5, 0.7).sum().backward()
    np.testing.assert_array_equal(t.grad, [0.0, 1.0, 1.0, 1.0, 0.0])


def test_clamp_min_greater_than_max() -> None:
    """torch.clamp: 'If min is greater than max, all elements are set to max'."""
    x = np.array([-1.0, 0.5, 2.0])
    check(lambda lib, t: t.clamp(1.0, 0.0), x, fd=False)


ZERO_BASES = np.array([0.0, 0.0, 0.0, 0.0, 2.0, 0.0])
EXPONENTS = np.array([0.0, 0.5, 1.0, 2.0, 0.0, 3.0])


def test_pow_zero_base_tensor_exponent_gradient() -> None:
    # the exponent's gradient: y·ln(0) would be nan; PyTorch (and Pow's docstring) say 0
    check(lambda lib, y: _c(lib, ZERO_BASES) ** y, EXPONENTS, fd=False)
    check(lambda lib, y: 0.0**y, EXPONENTS, fd=False)  # a Python base of 0


def test_pow_zero_base_tensor_exponent_both_gradients() -> None:
    # the base's gradient too: at 0⁰ it is y·0^(y-1) = 0·0⁻¹; PyTorch gives 0 where y = 0
    check(lambda lib, x, y: x**y, ZERO_BASES, EXPONENTS, fd=False)


# 0 ** -1 = +inf and 0 ** -2 = +inf: the harness's Σ (out ⊙ R), with R of both signs, is inf - inf = nan
# in both libraries, and NumPy says so in a warning that is expected here
@pytest.mark.filterwarnings("ignore:invalid value encountered in reduce:RuntimeWarning")
def test_pow_zero_base_negative_exponent() -> None:
    check(lambda lib, x, y: x**y, np.array([0.0, 0.0]), np.array([-1.0, -2.0]), fd=False)


@pytest.mark.parametrize("exponent", [0, 1, 2, 3, 0.5, 0.0, 1.0, 2.0])
def test_pow_zero_base_scalar_exponent(exponent: float) -> None:
    check(lambda lib, t: t**exponent, np.array([0.0, 1.5, 0.25]), fd=False)


def test_sqrt_at_zero() -> None:
    check(lambda lib, t: t.sqrt(), np.array([0.0, 4.0]), fd=False)


def test_saturating_functions_at_extremes() -> None:
    x = np.array([-1000.0, -40.0, 0.0, 40.0, 1000.0])
    check(lambda lib, t: t.sigmoid(), x, fd=False)
    check(lambda lib, t: t.tanh(), x, fd=False)
    big = np.array([[1000.0, 0.0, -1000.0], [1e4, 1e4, 1e4]])
    check(lambda lib, t: t.softmax(-1), big, fd=False, rtol=RTOL_REDUCTION)
    check(lambda lib, t: t.log_softmax(-1), big, fd=False, rtol=RTOL_REDUCTION)


def test_masked_softmax_with_minus_inf() -> None:
    # attention-style masking: -inf logits get probability 0 and gradient 0
    x = np.random.default_rng(3).standard_normal((3, 4))
    mask = np.array([[False, True, False, True], [False, False, False, False], [True, True, True, False]])
    check(lambda lib, t, m: t.masked_fill(m, float("-inf")).softmax(-1), x, mask, fd=False, rtol=RTOL_REDUCTION)
    check(lambda lib, t, m: t.masked_fill(m, float("-inf")).log_softmax(-1).masked_fill(m, 0.0), x, mask,
          fd=False, rtol=RTOL_REDUCTION)


def test_where_does_not_leak_the_other_branch() -> None:
    # the unselected branch log(x) has no value at x <= 0; its zero gradient must stay zero
    x = np.array([-2.0, 0.5, 3.0])
    check(lambda lib, t: lib.where(t > 0, t.log(), t * 2), x, fd=False)


def test_repeated_gather_and_index_accumulate() -> None:
    x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    idx = np.array([[0, 0, 0], [1, 0, 1]])
    check(lambda lib, t, i: t.gather(0, i), x, idx, fd=False)
    check(lambda lib, t, i: t.gather(1, i), x, idx, fd=False)
    t = Tensor(x, requires_grad=True)
    t[np.array([1, 1, 1, 0])].sum().backward()
    np.testing.assert_array_equal(t.grad, [[1, 1, 1], [3, 3, 3]])


# ===================================================================== grad of grad (HVPs)
def _hvp(lib: Any, f: Fn, arrays: Sequence[np.ndarray], vs: Sequence[np.ndarray]) -> tuple[Any, list, list]:
    """f, ∇f and the Hessian-vector product H·v, both by reverse mode (grad of grad)."""
    xs = [leaf(lib, a) for a in arrays]
    diff = [x for x in xs if getattr(x, "requires_grad", False)]
    y = f(lib, *xs)
    if lib is torch:
        gs = torch.autograd.grad(y, diff, create_graph=True)
        s = sum((g * torch.tensor(v)).sum() for g, v in zip(gs, vs))
        hs = torch.autograd.grad(s, diff, allow_unused=True)
    else:
        gs = tg.grad(y, diff, create_graph=True)
        s = sum((g * tg.tensor(v)).sum() for g, v in zip(gs, vs))
        hs = tg.grad(s, diff, allow_unused=True)
    hs = [np.zeros(tuple(x.shape)) if h is None else numpy_of(h) for h, x in zip(hs, diff)]
    return y, [numpy_of(g) for g in gs], hs


def _r(lib: Any, shape: tuple[int, ...], seed: int = 7) -> Any:
    """A fixed random upstream weighting R as a constant of ``lib``."""
    return _c(lib, np.random.default_rng(seed).standard_normal(shape))


def _logsumexp(t: Any, d: int) -> Any:
    m = t.amax(d, keepdim=True).detach()
    return (t - m).exp().sum(d).log() + m.squeeze(d)


# name -> (f(lib, *xs) -> scalar, strategy of the input arrays)
def _sizes() -> st.SearchStrategy:
    return st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3))


HVP: dict[str, tuple[Fn, Callable[[Any], st.SearchStrategy]]] = {
    "tanh_matmul": (
        lambda lib, x, w: ((x @ w).tanh() * _r(lib, (x.shape[0], w.shape[1]))).sum(),
        lambda nkm: st.tuples(uniform((nkm[0], nkm[1])), uniform((nkm[1], nkm[2]))),
    ),
    "logsumexp_xent": (
        lambda lib, x, t: ((_logsumexp(x, 1) - x.gather(1, t.reshape(-1, 1)).squeeze(1))
                           * _r(lib, (x.shape[0],))).sum(),
        lambda nkm: st.tuples(uniform((nkm[0], nkm[1] + 1), -3, 3),
                              seeds.map(lambda s: np.random.default_rng(s).integers(0, nkm[1] + 1, size=nkm[0]))),
    ),
    "log_softmax_nll": (
        lambda lib, x, t: -(x.log_softmax(-1)[_c(lib, np.arange(x.shape[0])), t] * _r(lib, (x.shape[0],))).sum(),
        lambda nkm: st.tuples(uniform((nkm[0], nkm[1] + 1), -3, 3),
                              seeds.map(lambda s: np.random.default_rng(s).integers(0, nkm[1] + 1, size=nkm[0]))),
    ),
    "cube_sigmoid": (
        lambda lib, x: (x**3 * x.sigmoid() * _r(lib, tuple(x.shape))).sum(),
        lambda nkm: st.tuples(uniform(nkm)),
    ),
    "division": (
        lambda lib, a, b: ((a / b) * _r(lib, tuple(a.shape)) + (b / (a * a + 1.0))).sum(),
        lambda nkm: st.tuples(uniform(nkm[:2]), away_from(nkm[1:2], margin=0.3)),
    ),
    "pow_tensor_exponent": (
        lambda lib, a, b: ((a**b) * _r(lib, tuple(np.broadcast_shapes(a.shape, b.shape)))).sum(),
        lambda nkm: st.tuples(uniform(nkm[:2], 0.3, 2.0), uniform((nkm[1],), -2.0, 2.0)),
    ),
    "index_repeats": (
        lambda lib, x: ((x[_c(lib, np.array([0, 0, -1, 0]))] ** 3).tanh() * _r(lib, (4,) + tuple(x.shape[1:]))).sum()
        + (x[:, _c(lib, np.array([1, 1, 0]))].sigmoid() * _r(lib, (x.shape[0], 3), 8)).sum(),
        lambda nkm: st.tuples(uniform((nkm[0], nkm[1] + 1))),
    ),
    "cat": (
        lambda lib, x, y: (lib.cat([x.exp(), x * y, y.tanh()], 1).sigmoid()
                           * _r(lib, (x.shape[0], 2 * x.shape[1] + y.shape[1]))).sum(),
        lambda nkm: st.tuples(uniform(nkm[:2]), uniform(nkm[:2])),
    ),
    "softmax_matmul_broadcast": (
        lambda lib, a, b: ((a @ b).softmax(-1) * _r(lib, (2, a.shape[-2], b.shape[-1]))).sum(),
        lambda nkm: st.tuples(uniform((nkm[0], nkm[1])), uniform((2, nkm[1], nkm[2] + 1))),
    ),
    "var_std_mean": (
        lambda lib, x: (x.var(0) * _r(lib, (x.shape[1],))).sum() + x.std() * x.mean(1).sum(),
        lambda nkm: st.tuples(distinct((nkm[0] + 1, nkm[1] + 1))),
    ),
    "maximum_amax_where": (
        # a and b are each tie-free and never equal each other, so maximum(a, b) has no ties
        lambda lib, a, b: (a.maximum(b).amax(0) * (a * a).sum(0) * _r(lib, (a.shape[1],))).sum()
        + lib.where(a > b, a * a, b.exp()).sum(),
        lambda nkm: st.tuples(distinct(nkm[:2], offset=3.0), distinct(nkm[:2], offset=3.025)),
    ),
    "sin_cos_norm": (
        lambda lib, x, y: ((x.sin() * y.cos()).norm(dim=1) * _r(lib, (x.shape[0],))).sum() + x.norm(),
        lambda nkm: st.tuples(uniform(nkm[:2], 0.2, 1.4), uniform(nkm[:2], 0.2, 1.4)),
    ),
    "prod_with_zeros": (
        lambda lib, x: (x.prod(1) * _r(lib, (x.shape[0],))).sum() + x.prod() + x.prod(0, keepdim=True).sum(),
        lambda nkm: st.tuples(with_zeros((nkm[0] + 1, nkm[1] + 1), p_zero=0.35)),
    ),
    "remainder_repeat_unflatten": (
        lambda lib, a, b: ((a.repeat(2, 1) % b).unflatten(0, (2, -1)).tanh() * a.sum()
                           * _r(lib, (2,) + tuple(a.shape))).sum(),
        lambda nkm: remainder_operands((nkm[0], nkm[1]), (nkm[1],)),
    ),
    "stack_split_reshape": (
        lambda lib, x: sum(((p * p).exp() * _r(lib, tuple(p.shape), 3)).sum() for p in lib.stack([x, x.tanh()], 0)
                           .reshape(2, -1).split(1, 1)),
        lambda nkm: st.tuples(uniform(nkm[:2], -1, 1)),
    ),
}


@pytest.mark.parametrize("name", list(HVP))
@PROFILE
@given(data=st.data())
def test_hessian_vector_product(name: str, data: Any) -> None:
    f, inputs = HVP[name]
    arrays = data.draw(_sizes().flatmap(inputs), label="inputs")
    vseed = data.draw(seeds, label="v seed")
    rng = np.random.default_rng(vseed)
    vs = [rng.standard_normal(a.shape) for a in arrays if a.dtype.kind == "f"]
    y, gs, hs = _hvp(tg, f, arrays, vs)
    ty, tgs, ths = _hvp(torch, f, arrays, vs)
    close(numpy_of(y), numpy_of(ty), RTOL_REDUCTION, ATOL, "value")
    for k, (g, tgk) in enumerate(zip(gs, tgs)):
        close(g, tgk, RTOL_REDUCTION, ATOL, f"gradient {k}")
    for k, (h, th) in enumerate(zip(hs, ths)):
        close(h, th, RTOL_REDUCTION, ATOL, f"Hessian-vector product {k}")
    # and the gradient's own gradient against finite differences (gradgradcheck)
    leaves = [leaf(tg, a) for a in arrays]

    def gradient(*xs: Any) -> Any:
        with tg.enable_grad():
            return tg.grad(f(tg, *xs), [x for x in xs if getattr(x, "requires_grad", False)], create_graph=True)

    assert gradcheck(gradient, leaves, eps=FD_EPS, atol=FD_ATOL, rtol=FD_RTOL)


# ===================================================================== float32 smoke checks
FLOAT32_OPS: dict[str, tuple[Fn, int]] = {  # name -> (fn, number of inputs)
    "add": (lambda lib, a, b: a + b, 2),
    "mul": (lambda lib, a, b: a * b, 2),
    "div": (lambda lib, a, b: a / (b * b + 1.0), 2),
    "pow": (lambda lib, a, b: (a * a + 0.5) ** b, 2),
    "maximum": (lambda lib, a, b: a.maximum(b), 2),
    "exp_log": (lambda lib, a: (a.exp() + 1.0).log(), 1),
    "erf": (lambda lib, a: a.erf(), 1),
    "tanh_sigmoid_relu": (lambda lib, a: a.tanh() * a.sigmoid() + a.relu(), 1),
    "sum_mean": (lambda lib, a: a.sum(-1) * a.mean(), 1),
    "var": (lambda lib, a: a.var(0, correction=0), 1),
    "softmax": (lambda lib, a: a.softmax(-1), 1),
    "log_softmax": (lambda lib, a: a.log_softmax(0), 1),
    "amax": (lambda lib, a: a.amax(-1), 1),
    "max_dim": (lambda lib, a: a.max(0), 1),
    "matmul": (lambda lib, a, b: a @ b.mT, 2),
    "getitem": (lambda lib, a: a[_c(lib, np.array([0, 0, -1]))], 1),
    "cat_stack": (lambda lib, a, b: lib.stack([lib.cat([a, b], 0), lib.cat([b, a], 0)], 1), 2),
    "where": (lambda lib, a, b: lib.where(a > b, a, b * 2.0), 2),
    "scalars": (lambda lib, a: 2.0 * a - 1.5 / (a * a + 1.0) + a**2 + 0.5**a, 1),
    "sin_cos": (lambda lib, a: a.sin() * a.cos(), 1),
    "prod_norm": (lambda lib, a: a.prod(-1) + a.norm(dim=0).sum() + a.norm(1), 1),
    "remainder": (lambda lib, a, b: a % (b * b + 0.5), 2),
}


@pytest.mark.parametrize("name", list(FLOAT32_OPS))
@PROFILE
@given(shape=shapes(min_dims=2, max_dims=2), seed=seeds)
def test_float32_smoke(name: str, shape: tuple[int, ...], seed: int) -> None:
    fn, n_inputs = FLOAT32_OPS[name]
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(shape).astype(np.float32) for _ in range(n_inputs)]
    check(fn, *arrays, rtol=RTOL_FLOAT32, atol=ATOL_FLOAT32, fd=False)


# ========================================================================= dtype promotion
f32, f64 = np.float32, np.float64
PROMOTION_CASES: list[tuple[str, Fn, list[Any]]] = [
    ("float32 * python float", lambda lib, a: a * 2.5, [np.ones(3, f32)]),
    ("python float * float32", lambda lib, a: 2.5 * a, [np.ones(3, f32)]),
    ("float32 + 0-d float64", lambda lib, a, b: a + b, [np.ones(3, f32), np.array(2.0)]),
    ("0-d float64 * float32", lambda lib, a, b: b * a, [np.ones((2, 3), f32), np.array(2.0)]),
    ("int64 * python float", lambda lib, a: a * 2.5, [np.arange(3)]),
    ("int64 / int64", lambda lib, a, b: a / b, [np.arange(3), np.arange(1, 4)]),
    ("int64 + python int", lambda lib, a: a + 2, [np.arange(3)]),
    ("int64 + 0-d float64", lambda lib, a, b: a + b, [np.arange(3), np.array(0.5)]),
    ("int64 * 0-d float32", lambda lib, a, b: a * b, [np.arange(3), np.array(0.5, f32)]),
    ("int32 + 0-d int64", lambda lib, a, b: a + b, [np.arange(3, dtype=np.int32), np.array(4)]),
    ("float32 + float64", lambda lib, a, b: a + b, [np.ones(3, f32), np.ones(3)]),
    ("float64 * float32 broadcast", lambda lib, a, b: a * b, [np.ones((2, 1)), np.ones(3, f32)]),
    ("float64 * python int", lambda lib, a: a * 3, [np.ones(3)]),
    ("float16 * 0-d float32", lambda lib, a, b: a * b, [np.ones(3, np.float16), np.array(2.0, f32)]),
    ("bool + python int", lambda lib, a: a + 1, [np.array([True, False])]),
    ("float32 ** python int", lambda lib, a: a**2, [np.ones(3, f32)]),
    ("python float ** float32", lambda lib, a: 2.0**a, [np.ones(3, f32)]),
    ("where float32 / python float", lambda lib, a: lib.where(a > 0, a, 0.0), [np.ones(3, f32)]),
    ("where float32 / float64", lambda lib, a, b: lib.where(a > 0, a, b), [np.ones(3, f32), np.ones(3)]),
    ("cat float32 + float64", lambda lib, a, b: lib.cat([a, b]), [np.ones(3, f32), np.ones(2)]),
    ("maximum float32, float64", lambda lib, a, b: a.maximum(b), [np.ones(3, f32), np.full(3, 2.0)]),
]


@pytest.mark.parametrize("label,fn,arrays", PROMOTION_CASES, ids=[c[0] for c in PROMOTION_CASES])
def test_dtype_promotion(label: str, fn: Fn, arrays: list[Any]) -> None:
    # values, the result dtype, and each floating input's gradient dtype (PyTorch casts it back)
    check(fn, *arrays, rtol=RTOL_FLOAT32, atol=ATOL_FLOAT32, fd=False)


# ========================================================================= harness sanity
def test_harness_catches_a_wrong_vjp() -> None:
    """The checks must fail for a VJP that is only right under a uniform upstream gradient."""

    class Flip(tg.Function):
        @staticmethod
        def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
            return x[::-1].copy()

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            return g  # wrong: should be flipped back; out.sum() would not notice

    x = np.arange(1.0, 5.0)
    with pytest.raises(AssertionError):
        check(lambda lib, t: Flip.apply(t) if lib is tg else t.flip(0), x, fd=False)
    with pytest.raises(AssertionError):
        fd_check(lambda lib, t: Flip.apply(t), x)




WRONG_BUT_CLOSE: dict[str, tuple[Fn, str]] = {  # what differs from torch -> (program, the error it must give)
    "requires_grad": (lambda lib, t, u: (t * u).detach() if lib is tg else t * u, "requires_grad False"),
    "dtype": (lambda lib, t, u: (t * u).to(lib.float32) if lib is tg else t * u, "dtype float32, torch float64"),
    "integer value": (lambda lib, t, u: (t * u).long() + (1 if lib is tg else 0), "Arrays are not equal"),
    "gradient path": (lambda lib, t, u: t * (u * 0 + 2) if lib is tg else t * 2, r"gradient 1: .*torch None"),
}


@pytest.mark.parametrize("what", list(WRONG_BUT_CLOSE))
def test_harness_catches_a_wrong_flag_dtype_or_path(what: str) -> None:
    """The rest of `same` (tests/oracle.py): the outputs' requires_grad and dtype, integer values
    (exactly), and whether a gradient reaches an input at all must agree with torch's."""
    fn, message = WRONG_BUT_CLOSE[what]
    x = np.arange(1.0, 5.0)
    same(lambda lib, t, u: t * u, x, x)  # the program that is right
    with pytest.raises(AssertionError, match=message):
        same(fn, x, x)
