"""PyTorch's module-level functions (``torch.tanh(x)``, ``torch.sum(x, axis=0)``, ``torch.einsum``, ...), the
methods they brought (sort, topk, cumsum, logsumexp, tril, rounding, ...), NumPy's keywords ``axis``/``keepdims``
and the named result tuples, each against PyTorch.

A program is written once, ``fn(lib, *tensors)``, and run with ``lib = tinygrad_tx`` and ``lib = torch`` on the
same float64 inputs (tests/oracle.py builds the leaves and the gradients of Σ (out ⊙ R), R ~ N(0, 1)). Values
and gradients must agree to a scale-relative 1e-12 (`assert_close`: max |ours - torch| ≤ 1e-12 · max |torch|),
integers and bools exactly. The new primitive `Cumsum` is also checked against finite differences.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import tinygrad_tx as tg
from tinygrad_tx import Tensor, gradcheck, ops

from .helpers import assert_close
from .oracle import Fn, both_raise, numpy_of, same_results

torch = pytest.importorskip("torch")

RTOL = 1e-12  # float64, scale-relative: the same IEEE operations as PyTorch, or sums of a few terms
FD = {"eps": 1e-6, "atol": 1e-6, "rtol": 1e-5}  # central finite differences in float64

rng = np.random.default_rng(11)


def randn(*shape: int) -> np.ndarray:
    return rng.standard_normal(shape)


def positive(*shape: int) -> np.ndarray:
    return rng.uniform(0.3, 2.0, shape)


def call(name: str) -> Fn:
    """The program ``lib.name(x)``."""
    return lambda lib, x: getattr(lib, name)(x)



def agree(fn: Fn, *arrays: Any, torch_fn: Fn | None = None) -> None:
    same_results(fn, *arrays, torch_fn=torch_fn, rtol=RTOL)


X, Y = randn(3, 4), randn(3, 4)
P, Q = positive(3, 4), positive(3, 4)
V, W = randn(4), randn(4)
I, J = rng.integers(-9, 10, (3, 4)), rng.integers(1, 5, (3, 4)) * rng.choice([-1, 1], (3, 4))
NONFINITE = np.array([[1.5, np.nan, np.inf], [-np.inf, -0.5, 2.0]])

# name -> (program, inputs)
PROGRAMS: dict[str, tuple[Fn, tuple[Any, ...]]] = {
    **{name: (call(name), (X,)) for name in ["tanh", "exp", "sigmoid", "relu", "abs", "absolute", "sin", "cos", "erf",
                                             "neg", "negative", "square", "sign", "floor", "ceil", "round", "trunc",
                                             "clone"]},
    **{name: (call(name), (P,)) for name in ["log", "sqrt", "rsqrt"]},
    "rounding_of_larger_values": (lambda lib, x: [f(3.7 * x) for f in (lib.floor, lib.ceil, lib.round, lib.trunc)],
                                  (X,)),
    "round_decimals": (lambda lib, x: lib.round(x, decimals=2), (X * 10,)),
    "round_negative_decimals": (lambda lib, x: lib.round(x, decimals=-1), (X * 300,)),
    "rounding_integers": (lambda lib, i: [lib.floor(i), lib.ceil(i), lib.round(i), lib.trunc(i), lib.sign(i)], (I,)),
    "pow": (lambda lib, x: lib.pow(x, 3), (X,)),
    "pow_of_a_number": (lambda lib, x: lib.pow(2, x), (X,)),
    "pow_of_tensors": (lambda lib, p, y: lib.pow(p, y), (P, Y)),
    "add_alpha": (lambda lib, x, y: lib.add(x, y, alpha=2.5), (X, Y)),
    "add_number_first": (lambda lib, x: lib.add(2, x), (X,)),
    "sub_alpha": (lambda lib, x, y: lib.sub(x, y, alpha=-0.5), (X, Y)),
    "subtract": (lambda lib, x, y: lib.subtract(x, y), (X, Y)),
    "mul": (lambda lib, x, y: [lib.mul(x, y), lib.multiply(x, 3.0), lib.mul(2, x)], (X, Y)),
    "div": (lambda lib, x, q: [lib.div(x, q), lib.divide(x, q), lib.true_divide(x, 2)], (X, Q)),
    "div_rounding": (lambda lib, x, q: [lib.div(3 * x, q, rounding_mode=m) for m in ("floor", "trunc")], (X, Q)),
    "div_rounding_integers": (lambda lib, i, j: [lib.div(i, j, rounding_mode=m) for m in (None, "floor", "trunc")],
                              (I, J)),
    "add_integers_alpha": (lambda lib, i, j: lib.add(i, j, alpha=3), (I, J)),
    "maximum_minimum": (lambda lib, x, y: [lib.maximum(x, y), lib.minimum(x, y), lib.max(x, y), lib.min(x, y)], (X, Y)),
    "clamp": (lambda lib, x: [lib.clamp(x, -0.5, 0.5), lib.clip(x, min=0.1), lib.clamp(x, max=0.2)], (X,)),
    "lerp": (lambda lib, x, y: [lib.lerp(x, y, 0.3), lib.lerp(x, y, 0.8), lib.lerp(x, y, 1.0)], (X, Y)),
    "lerp_tensor_weight": (lambda lib, x, y, w: lib.lerp(x, y, w), (X, Y, rng.uniform(-0.5, 1.5, (3, 4)))),
    "nan_to_num": (lambda lib, x: [lib.nan_to_num(x), lib.nan_to_num(x, nan=2.0, posinf=3.0, neginf=-4.0)],
                   (NONFINITE,)),
    "nan_to_num_integers": (lambda lib, i: lib.nan_to_num(i), (I,)),
    "tests_of_values": (lambda lib, x: [lib.isnan(x), lib.isinf(x), lib.isfinite(x)], (NONFINITE,)),
    "tests_of_integers": (lambda lib, i: [lib.isnan(i), lib.isinf(i), lib.isfinite(i)], (I,)),
    "sum": (lambda lib, x: [lib.sum(x), lib.sum(x, 1), lib.sum(x, dim=(0, 1)), lib.sum(x, 0, True)], (X,)),
    "mean": (lambda lib, x: [lib.mean(x), lib.mean(x, dim=1), lib.mean(x, (0, 1), keepdim=True)], (X,)),
    "prod": (lambda lib, x: [lib.prod(x), lib.prod(x, 1), lib.prod(x, dim=0, keepdim=True)], (X,)),
    "std_var": (lambda lib, x: [lib.std(x), lib.std(x, 0), lib.var(x, 1, True), lib.var(x, unbiased=False),
                                lib.std(x, dim=1, correction=0, keepdim=True)], (X,)),
    "var_mean_std_mean": (lambda lib, x: [lib.var_mean(x), lib.var_mean(x, 1, unbiased=False),
                                          lib.std_mean(x, dim=0, keepdim=True), lib.std_mean(x, correction=0)], (X,)),
    "amax_amin": (lambda lib, x: [lib.amax(x), lib.amax(x, 1), lib.amin(x, (0, 1)), lib.amin(x, 0, True)], (X,)),
    "max_min": (lambda lib, x: [lib.max(x), lib.max(x, 1), lib.min(x, dim=0, keepdim=True), lib.min(x)], (X,)),
    "argmax_argmin": (lambda lib, x: [lib.argmax(x), lib.argmax(x, 1), lib.argmin(x, dim=0, keepdim=True)], (X,)),
    "logsumexp": (lambda lib, x: [lib.logsumexp(x, 1), lib.logsumexp(x, (0, 1)), lib.logsumexp(x, 0, True)], (X * 30,)),
    "logsumexp_integers": (lambda lib, i: lib.logsumexp(i, 1), (I,)),
    "cumsum": (lambda lib, x: [lib.cumsum(x, 1), lib.cumsum(x, dim=0), x.cumsum(-1)], (X,)),
    "cumsum_dtypes": (lambda lib, i: [lib.cumsum(i, 0), lib.cumsum(i > 0, 1), lib.cumsum(i, 1, dtype=lib.float64)],
                      (I,)),
    "cumprod": (lambda lib, x: [lib.cumprod(x, 1), lib.cumprod(x, dim=0), x.cumprod(-1)], (X,)),
    "cumprod_long": (lambda lib, x: lib.cumprod(x, 0), (rng.uniform(0.5, 1.5, (37, 2)),)),
    "cumprod_integers": (lambda lib, i: [lib.cumprod(i, 1), lib.cumprod(i > 0, 0)], (I,)),
    "scans_of_0d": (lambda lib, x: [lib.cumsum(x, 0), lib.cumprod(x, -1)], (np.float64(1.5),)),
    "norm": (lambda lib, x: [lib.norm(x), lib.norm(x, dim=1), lib.norm(x, p=1), lib.norm(x, 2, 0, True)], (X,)),
    "all_any": (lambda lib, x: [lib.all(x > -2), lib.any(x > 1, 1), lib.all(x > 0, dim=0, keepdim=True)], (X,)),
    "softmax": (lambda lib, x: [lib.softmax(x, 1), lib.log_softmax(x, dim=0),
                                lib.softmax(x.float(), -1, dtype=lib.float64)], (X,)),
    "allclose_isclose_equal": (lambda lib, x: [lib.allclose(x, x + 1e-9), lib.allclose(x, x + 1e-3),
                                               lib.isclose(x, x * (1 + 1e-6), rtol=1e-7), lib.equal(x, x * 1.0),
                                               lib.equal(x, x[0]), x.allclose(x), x.isclose(x), x.equal(x + 1)], (X,)),
    "isclose_nonfinite": (lambda lib, x, y: [lib.isclose(x, y), lib.isclose(x, y, equal_nan=True), lib.equal(x, x)],
                          (NONFINITE, np.array([[1.5, np.nan, np.inf], [np.inf, -0.5, 2.0 + 1e-7]]))),
    "isclose_integers": (lambda lib, i, j: [lib.isclose(i, j, atol=2), lib.allclose(i, i), lib.equal(i, i)], (I, J)),
    "sort": (lambda lib, x: [lib.sort(x), lib.sort(x, 0, descending=True), lib.sort(x, dim=1, stable=True)], (X,)),
    "argsort": (lambda lib, x: [lib.argsort(x), lib.argsort(x, 0, descending=True), lib.argsort(x, stable=True)],
                (X,)),
    "sort_nan": (lambda lib, x: [lib.sort(x, 1), lib.sort(x, 1, descending=True), lib.topk(x, 2),
                                 lib.topk(x, 2, largest=False)], (NONFINITE,)),
    "sort_integers_and_bools": (lambda lib, i: [lib.sort(i, dim=1, stable=True), lib.topk(i, 2, dim=0),
                                                lib.sort(i > 0, dim=0, descending=True, stable=True)], (I,)),
    "topk": (lambda lib, x: [lib.topk(x, 2), lib.topk(x, 3, 0), lib.topk(x, 1, dim=1, largest=False),
                             lib.topk(x, 0)], (X,)),
    "sort_topk_of_0d": (lambda lib, x: [lib.sort(x), lib.argsort(x), lib.topk(x, 1)], (np.float64(1.5),)),
    "gather_masked_fill": (lambda lib, x, i: [lib.gather(x, 1, i), lib.masked_fill(x, x > 0, 0.5)],
                           (X, rng.integers(0, 4, (3, 2)))),
    "tril_triu": (lambda lib, x: [lib.tril(x), lib.tril(x, diagonal=-1), lib.triu(x, 1), x.triu(-1), x.tril(5)],
                  (randn(2, 3, 4),)),
    "tril_triu_integers": (lambda lib, i: [lib.tril(i), lib.triu(i > 0)], (I,)),
    "diag_of_a_vector": (lambda lib, v: [lib.diag(v), lib.diag(v, 1), lib.diag(v, diagonal=-2), v.diag()], (V,)),
    "diag_of_a_matrix": (lambda lib, x: [lib.diag(x), lib.diag(x, 1), lib.diag(x, -2), lib.diag(x, 4)], (X,)),
    "matmul_mm_mv": (lambda lib, x, y, v: [lib.matmul(x, y.T), lib.mm(x, y.T), lib.mv(x, v)], (X, Y, V)),
    "bmm": (lambda lib, a, b: lib.bmm(a, b), (randn(2, 3, 4), randn(2, 4, 5))),
    "dot_outer": (lambda lib, v, w: [lib.dot(v, w), lib.outer(v, w[:3])], (V, W)),
    "cat_stack": (lambda lib, x, y: [lib.cat([x, y]), lib.concat([x, y], 1), lib.concatenate((x, y), axis=1),
                                     lib.stack([x, y], axis=1), lib.cat([x, y], axis=-1)], (X, Y)),
    "where": (lambda lib, x, y: [lib.where(x > 0, x, y), lib.where(x > y, x, 0.0)], (X, Y)),
    "shapes": (lambda lib, x: [lib.reshape(x, (4, 3)), lib.flatten(x), lib.transpose(x, 0, 1), lib.permute(x, (1, 0)),
                               lib.squeeze(x[None]), lib.unsqueeze(x, 1), lib.split(x, 2, 1), lib.split(x, [1, 2]),
                               lib.chunk(x, 2, dim=1), lib.numel(x)], (X,)),
}


@pytest.mark.parametrize("name", PROGRAMS)
def test_function_against_pytorch(name: str) -> None:
    fn, arrays = PROGRAMS[name]
    agree(fn, *arrays)


# ------------------------------------------------------------------------ NumPy's keywords, as torch
ALIASES: dict[str, Fn] = {
    "sum": lambda lib, x: [lib.sum(x, axis=0), x.sum(axis=1, keepdims=True), lib.sum(x, dim=0, keepdims=True)],
    "mean": lambda lib, x: [lib.mean(x, axis=(0, 1), keepdims=True), x.mean(axis=1)],
    "prod": lambda lib, x: [lib.prod(x, axis=1, keepdims=True), x.prod(axis=0)],
    "std_var": lambda lib, x: [lib.std(x, axis=0, keepdims=True), x.var(axis=1),
                               lib.var_mean(x, axis=1, keepdims=True)],
    "amax_amin": lambda lib, x: [lib.amax(x, axis=0, keepdims=True), x.amin(axis=1)],
    "max_min": lambda lib, x: [lib.max(x, axis=0, keepdims=True), x.min(axis=1), x.max(axis=1, keepdim=True)],
    "argmax_argmin": lambda lib, x: [lib.argmax(x, axis=0, keepdims=True), x.argmin(axis=1)],
    "logsumexp": lambda lib, x: [lib.logsumexp(x, axis=0, keepdims=True), x.logsumexp(axis=1)],
    "scans": lambda lib, x: [lib.cumsum(x, axis=0), x.cumprod(axis=1)],
    "all_any": lambda lib, x: [lib.all(x > 0, axis=0, keepdims=True), (x > 0).any(axis=1)],
    "softmax": lambda lib, x: [lib.softmax(x, axis=0), x.log_softmax(axis=1)],
    "shapes": lambda lib, x: [lib.squeeze(x[None], axis=0), x.unsqueeze(axis=0), lib.chunk(x, 2, axis=1),
                              lib.cat([x, x], axis=1), lib.stack([x, x], axis=1)],
    "selection": lambda lib, x: [lib.sort(x, axis=0), x.argsort(axis=0), lib.topk(x, 2, axis=0),
                                 lib.gather(x, axis=1, index=lib.tensor([[0], [1], [0]]))],
}


@pytest.mark.parametrize("name", ALIASES)
def test_axis_and_keepdims_are_accepted_where_pytorch_accepts_them(name: str) -> None:
    agree(ALIASES[name], X)


@pytest.mark.parametrize(("fn", "match"), [
    (lambda lib, x: x.sum(dim=0, axis=0), "sum: got both dim= and axis="),
    (lambda lib, x: lib.amax(x, 0, keepdim=True, keepdims=True), "amax: got both keepdim= and keepdims="),
    (lambda lib, x: x.cumsum(0, keepdims=True), "cumsum.*keepdims"),  # a scan has no keepdim, so no keepdims
    (lambda lib, x: x.softmax(0, keepdims=True), "softmax.*keepdims"),
])
def test_a_keyword_given_twice_or_where_pytorch_has_none_is_refused(fn: Fn, match: str) -> None:
    both_raise(fn, X, match=match)


# ------------------------------------------------------------------------------- named result tuples
@pytest.mark.parametrize("call", ["max(x, 1)", "min(x, dim=0)", "sort(x)", "topk(x, 2)", "x.max(1, keepdim=True)",
                                  "x.sort(0, descending=True)", "x.topk(1, largest=False)"])
def test_two_results_come_as_a_named_tuple_like_torch_return_types(call: str) -> None:
    ours = eval(call if call.startswith("x.") else "tg." + call, {"tg": tg, "x": Tensor(X)})
    theirs = eval(call if call.startswith("x.") else "torch." + call, {"torch": torch, "x": torch.tensor(X)})
    assert type(ours).__name__ == type(theirs).__name__
    assert type(ours).__module__ == "tinygrad_tx.return_types" and type(theirs).__module__ == "torch.return_types"
    assert isinstance(ours, tuple) and len(ours) == 2
    values, indices = ours
    assert values is ours[0] is ours.values and indices is ours[1] is ours.indices
    np.testing.assert_array_equal(values.numpy(), theirs.values.numpy())
    np.testing.assert_array_equal(indices.numpy(), theirs.indices.numpy())
    assert repr(ours).startswith(f"tinygrad_tx.return_types.{type(ours).__name__}(\nvalues=")
    assert "\nindices=" in repr(ours)


def test_argmax_and_the_reductions_without_dim_return_tensors() -> None:
    x = Tensor(X)
    assert all(type(r) is Tensor for r in (tg.max(x), x.min(), x.argmax(), tg.argmin(x, 1), x.amax(0)))


# ------------------------------------------------------------------------------------- ties
TIES = rng.integers(0, 3, (4, 40)).astype(np.float64)
TIED_PROGRAMS = {
    "sort": lambda lib, x: lib.sort(x, 1),
    "sort_descending": lambda lib, x: lib.sort(x, 1, descending=True),
    "sort_columns": lambda lib, x: lib.sort(x, 0),
    "topk": lambda lib, x: lib.topk(x, 17, 1),
    "topk_smallest": lambda lib, x: lib.topk(x, 25, largest=False),
}


@pytest.mark.parametrize("name", TIED_PROGRAMS)
def test_at_ties_the_gradient_goes_to_the_selected_element(name: str) -> None:
    """Among equal values PyTorch's unstable sort and its topk pick an order of their own (not reproducible
    in general). What must agree: the values; the gradient going to the element each value came from
    (``x̄ = R`` scattered at ``indices``, in both libraries), so each group of ties gets the same total."""
    fn = TIED_PROGRAMS[name]
    upstream = None
    grads = []
    for lib in (tg, torch):
        x = lib.tensor(TIES, requires_grad=True)
        out = fn(lib, x)
        upstream = np.random.default_rng(0).standard_normal(tuple(out.values.shape))
        (g,) = lib.autograd.grad((out.values * lib.tensor(upstream)).sum(), [x])
        expected = np.zeros_like(TIES)
        np.put_along_axis(expected, numpy_of(out.indices), upstream, 0 if name == "sort_columns" else 1)
        np.testing.assert_array_equal(numpy_of(g), expected)  # exactly: each value's gradient lands once, at its index
        grads.append((numpy_of(out.values), numpy_of(g)))
    (ours, g_ours), (theirs, g_theirs) = grads
    np.testing.assert_array_equal(ours, theirs)
    dim = 0 if name == "sort_columns" else 1
    for v in (0.0, 1.0, 2.0):  # the total gradient of each group of equal values along dim
        assert_close((g_ours * (TIES == v)).sum(dim), (g_theirs * (TIES == v)).sum(dim), RTOL, f"ties at {v}")


@pytest.mark.parametrize("descending", [False, True])
def test_stable_sort_at_ties_matches_pytorch_exactly(descending: bool) -> None:
    agree(lambda lib, x: lib.sort(x, dim=1, descending=descending, stable=True), TIES)
    agree(lambda lib, x: x.argsort(dim=0, descending=descending, stable=True), TIES)


def test_sorted_false_gives_the_same_selection() -> None:
    ours = tg.topk(Tensor(X), 3, sorted=False)
    theirs = torch.topk(torch.tensor(X), 3, sorted=False)
    np.testing.assert_array_equal(np.sort(ours.values.numpy(), 1), np.sort(theirs.values.numpy(), 1))
    np.testing.assert_array_equal(np.take_along_axis(X, ours.indices.numpy(), 1), ours.values.numpy())


def test_max_min_at_ties_take_the_first_like_pytorch() -> None:
    agree(lambda lib, x: [lib.max(x, 1), lib.min(x, 0), lib.argmax(x, 1), lib.argmin(x, dim=0)], TIES)


# ------------------------------------------------------------------------------------- einsum
EINSUM: list[tuple[str, tuple[tuple[int, ...], ...]]] = [
    ("ij,jk->ik", ((3, 4), (4, 5))),
    ("ij,jk", ((3, 4), (4, 5))),  # implicit output: ik
    ("ba,ab", ((3, 4), (4, 3))),  # implicit output: no letter occurs once, so everything is summed
    ("bij,bjk->bik", ((2, 3, 4), (2, 4, 5))),
    ("bhqd,bhkd->bhqk", ((2, 3, 4, 5), (2, 3, 6, 5))),  # attention scores
    ("i,i->", ((5,), (5,))),
    ("i,j->ij", ((3,), (4,))),
    ("ij,ij->ij", ((3, 4), (3, 4))),
    ("ij->ji", ((3, 4),)),
    ("ij->", ((3, 4),)),
    ("ij->j", ((3, 4),)),
    ("ii->i", ((4, 4),)),  # the diagonal
    ("ii", ((4, 4),)),  # the trace
    ("iji->ij", ((3, 4, 3),)),
    ("ijk,jil->kl", ((2, 3, 4), (3, 2, 5))),
    ("i,ij,j->", ((3,), (3, 4), (4,))),  # three operands, left to right
    ("bn,anm,bm->ba", ((2, 3), (4, 3, 5), (2, 5))),  # a bilinear form
    ("Ab,ab->A", ((2, 3), (2, 3))),
    ("bA,ab", ((2, 3), (3, 2))),  # implicit: upper case before lower case
    ("...ij,...jk->...ik", ((2, 3, 4), (2, 4, 5))),
    ("...ij,...jk", ((2, 1, 3, 4), (5, 4, 6))),  # the ... dims broadcast, and come first
    ("i...->...", ((2, 3, 4),)),
    ("...", ((2, 3),)),
    ("...ii->...i", ((2, 3, 3),)),
    ("i...j,...j->...", ((2, 3, 4, 5), (3, 1, 5))),
    ("ij,jk", ((2, 1), (3, 4))),  # a dim of size 1 broadcasts against the same letter's
    ("i,i->i", ((1,), (3,))),
    ("ij,jk->ik", ((0, 3), (3, 2))),  # empty
    (" i j , j k -> i k ", ((3, 4), (4, 5))),  # spaces are ignored
    ("", ((),)),
]


@pytest.mark.parametrize(("equation", "shapes"), EINSUM, ids=[e or "empty" for e, _ in EINSUM])
def test_einsum_against_pytorch(equation: str, shapes: tuple[tuple[int, ...], ...]) -> None:
    agree(lambda lib, *xs: lib.einsum(equation, *xs), *[randn(*s) for s in shapes])


def test_einsum_operands_as_a_list_and_the_sublist_form() -> None:
    a, b = randn(3, 4), randn(4, 5)
    agree(lambda lib, a, b: [lib.einsum("ij,jk", [a, b]), lib.einsum(a, [0, 27], b, [27, 30], [0, 30]),
                             lib.einsum(a, [Ellipsis, 27], [27]), lib.einsum(a, [1, 0])], a, b)


def test_einsum_keeps_the_dtype_of_float32_operands() -> None:
    a, b = randn(3, 4).astype(np.float32), randn(4, 5).astype(np.float32)
    out = tg.einsum("ij,jk->ik", Tensor(a), Tensor(b))
    assert out.dtype == np.float32
    assert_close(out.numpy(), torch.einsum("ij,jk->ik", torch.tensor(a), torch.tensor(b)).numpy(), 1e-6, "float32")


@pytest.mark.parametrize(("equation", "shapes", "match"), [
    ("ij,jk", ((3, 4),), "subscripts for 2 operand"),
    ("ij", ((3, 4), (4, 5)), "subscripts for 1 operand"),
    ("ij", ((3, 4, 5),), "has 3 dims, but its subscripts 'ij' name 2"),
    ("ijk...", ((3, 4),), "fewer dims than its subscripts"),
    ("ij->ii", ((3, 3),), "output subscript i appears more than once"),
    ("ij->k", ((3, 3),), "output subscript k does not appear"),
    ("ii->i", ((3, 4),), "subscript i is repeated in operand 0 but its dims have different sizes"),
    ("ij,jk", ((3, 4), (5, 6)), "subscript j has size 4 in one operand and 5 in another"),
    ("i1", ((2, 2),), "the subscript '1'"),
    ("..i", ((2, 2),), "'.' that is not part of '...'"),
    ("...i...", ((2, 2),), "more than one '...'"),
])
def test_einsum_errors_name_the_problem(equation: str, shapes: tuple[tuple[int, ...], ...], match: str) -> None:
    both_raise(lambda lib, *xs: lib.einsum(equation, *xs), *[randn(*s) for s in shapes], match=match)


def test_einsum_refuses_mixed_dtypes_and_non_tensors() -> None:
    both_raise(lambda lib, a, b: lib.einsum("ij,jk", a, b), randn(2, 3), randn(3, 4).astype(np.float32),
               match="einsum: the operands must have one dtype")
    both_raise(lambda lib, a: lib.einsum("i,i", a, 3.0), randn(2), match="einsum: operand 1 must be a Tensor")
    with pytest.raises(ValueError, match="not an int in"):
        tg.einsum(Tensor(randn(2)), [52])


# --------------------------------------------------------------------- the new primitive, and scans
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("dim", [0, 1])
def test_cumsum_primitive_against_finite_differences(dim: int, reverse: bool) -> None:
    fn = lambda x: ops.Cumsum.apply(x, dim=dim, reverse=reverse)  # noqa: E731
    assert gradcheck(fn, [Tensor(randn(3, 5), requires_grad=True)], **FD)


def test_cumsum_second_derivative_against_finite_differences() -> None:
    w = Tensor(randn(3, 5))

    def gradient(x: Tensor) -> Tensor:  # d/dx Σ w ⊙ cumsum(x)²: its own VJP is a Hessian-vector product
        with tg.enable_grad():
            (g,) = tg.grad(((x.cumsum(1) ** 2) * w).sum(), [x], create_graph=True)
        return g

    assert gradcheck(gradient, [Tensor(randn(3, 5), requires_grad=True)], **FD)


def test_cumprod_with_zeros_against_pytorch_and_finite_differences() -> None:
    x = randn(4, 6)
    x[0, 2] = 0.0
    x[1, 1] = x[1, 4] = 0.0
    x[2, 0] = 0.0
    agree(lambda lib, x: [lib.cumprod(x, 1), lib.cumprod(x, 0)], x)
    assert gradcheck(lambda x: x.cumprod(1), [Tensor(x, requires_grad=True)], **FD)


@pytest.mark.filterwarnings("ignore:.*encountered:RuntimeWarning")  # (the VJP of log at 0, exp at -inf)
def test_logsumexp_with_infinities_against_pytorch() -> None:
    x = np.array([[-np.inf, -np.inf, -np.inf], [np.inf, 1.0, -2.0], [-np.inf, 0.5, 1.0], [800.0, 799.0, -1.0]])
    agree(lambda lib, x: [lib.logsumexp(x, 1), lib.logsumexp(x, 1, keepdim=True)], x)
    agree(lambda lib, x: lib.logsumexp(x, 0), np.zeros((0, 3)))  # log of an empty sum: -inf


# ----------------------------------------------------------------------------------- refusals
@pytest.mark.parametrize("fn", [
    lambda lib, x, y: lib.tanh(x, out=y), lambda lib, x, y: lib.sum(x, 0, out=y),
    lambda lib, x, y: lib.add(x, x, out=y), lambda lib, x, y: lib.mm(x, x.T, out=y),
    lambda lib, x, y: lib.cumsum(x, 0, out=y),
    lambda lib, x, y: lib.tril(x, out=y), lambda lib, x, y: lib.topk(x, 2, out=(y, y.long())),
])
def test_out_is_refused(fn: Fn) -> None:
    with pytest.raises(TypeError, match=r"\(\): out= is not supported"):
        fn(tg, Tensor(X), Tensor(X))
    fn(torch, torch.tensor(X), torch.empty(0, dtype=torch.float64))  # (PyTorch writes into out)


@pytest.mark.parametrize(("fn", "match"), [
    (lambda lib, x: lib.tanh([1.0, 2.0]), "tanh\\(\\): argument 'input' must be a Tensor, not list"),
    (lambda lib, x: lib.sum(3.0), "sum\\(\\): argument 'input' must be a Tensor"),
    (lambda lib, x: lib.logsumexp(x), "logsumexp.*dim"),
    (lambda lib, x: lib.cumsum(x), "cumsum.*dim"),
    (lambda lib, x: lib.cumsum(x, (0, 1)), "cumsum: dim must be an int"),
    (lambda lib, x: lib.mm(x, x[0]), "mm\\(\\): 'mat2' must have 2 dims"),
    (lambda lib, x: lib.bmm(x, x), "bmm\\(\\): 'input' must have 3 dims"),
    (lambda lib, x: lib.bmm(x[None], x.T[None].expand(2, 4, 3)), "bmm\\(\\): the batch sizes differ"),
    (lambda lib, x: lib.dot(x[0], x[0, :3]), "dot\\(\\): the vectors have different sizes"),
    (lambda lib, x: lib.dot(x, x), "dot\\(\\): 'input' must have 1 dims"),
    (lambda lib, x: lib.outer(x, x[0]), "outer\\(\\): 'input' must have 1 dims"),
    (lambda lib, x: lib.topk(x, 5), "topk: k=5 is out of range for dim -1 of size 4"),
    (lambda lib, x: lib.topk(x, -1), "topk: k=-1 is out of range"),
    (lambda lib, x: lib.topk(x > 0, 1), "topk: bool tensors are not supported"),
    (lambda lib, x: lib.tril(x[0]), "tril: needs a tensor with at least 2 dims"),
    (lambda lib, x: lib.diag(x[None]), "diag: needs a 1-D or 2-D tensor"),
    (lambda lib, x: lib.div(x, x, rounding_mode="round"), "div\\(\\): rounding_mode must be None, 'trunc' or 'floor'"),
    (lambda lib, x: lib.add(x.long(), x.long(), alpha=0.5), "add\\(\\): alpha=0.5 is a float"),
    (lambda lib, x: lib.isclose(x, x.float()), "isclose: the tensors must have one dtype"),
    (lambda lib, x: lib.allclose(x, 1.0), "isclose: other must be a Tensor"),
    (lambda lib, x: lib.isclose(x, x[:2]), "isclose: shapes"),
    (lambda lib, x: lib.lerp(x.long(), x.long(), 0.5), "lerp\\(\\): needs floating-point tensors"),
    (lambda lib, x: lib.lerp(x, 1.0, 0.5), "lerp\\(\\): argument 'end' must be a Tensor"),
    (lambda lib, x: lib.round(x.long(), decimals=1), "round: decimals=1 needs a floating-point tensor"),
    (lambda lib, x: lib.floor(x > 0), "floor: not implemented for bool tensors"),
    (lambda lib, x: lib.max(x, 0, axis=0), "max.*dim"),
    (lambda lib, x: lib.max(x, dim=0, axis=0), "max: got both dim= and axis="),
])
def test_refusals_name_the_op(fn: Fn, match: str) -> None:
    both_raise(fn, X, match=match)


def test_isclose_refuses_negative_tolerances() -> None:
    both_raise(lambda lib, x: lib.isclose(x, x, rtol=-1.0), X, match="isclose: rtol and atol must be non-negative")
