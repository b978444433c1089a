"""The torch.Tensor methods PyTorch teaching code calls (issue 11), and their module-level functions, against PyTorch.

A program is written once, ``fn(lib, *tensors)``, and run with ``lib = tinygrad_tx`` and ``lib = torch`` on the
same float64 inputs (tests/oracle.py builds the leaves and the gradients of Σ (out ⊙ R), R ~ N(0, 1), a random
upstream gradient). Values and gradients must agree to a scale-relative 1e-12 (`assert_close`: max |ours - torch|
≤ 1e-12 · max |torch|), integers, bools, dtypes, shapes and ``requires_grad`` exactly.

The new primitives (``ops_math.py``) are also checked against central finite differences (`gradcheck`), their
second derivatives against PyTorch's double backward, and their JVPs against ``torch.func.jvp``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import tinygrad_tx as tg
from tinygrad_tx import Tensor, gradcheck, ops
from tinygrad_tx.autograd import forward_ad as fwAD

from .helpers import assert_close
from .oracle import Fn, both_raise, dtype_name, numpy_of, same_results

torch = pytest.importorskip("torch")

RTOL = 1e-12  # float64, scale-relative: the same IEEE operations as PyTorch (up to the order of a few terms)
FD = {"eps": 1e-6, "atol": 1e-6, "rtol": 1e-5}  # central finite differences in float64

rng = np.random.default_rng(2025)


def randn(*shape: int) -> np.ndarray:
    return rng.standard_normal(shape)



def agree(fn: Fn, *arrays: Any) -> None:
    same_results(fn, *arrays, rtol=RTOL)


X, Y = randn(3, 4), randn(3, 4)
P = rng.uniform(0.3, 3.0, (3, 4))  # positive
U = rng.uniform(-0.9, 0.9, (3, 4))  # inside (-1, 1)
A = rng.uniform(1.1, 4.0, (3, 4))  # above 1
V, W = randn(3), randn(3)
B3 = randn(2, 3, 4)
I = rng.integers(-5, 6, (3, 4))
IDX = rng.integers(0, 3, (2, 4))  # indices into dim 0 of a (3, 4) tensor, repeats included
PERM = np.array([[2, 0, 1, 1], [0, 1, 0, 2]])  # distinct positions per column: scatter is well defined
NAN = np.array([[1.5, np.nan, -2.0, 0.5], [3.0, 1.0, -1.0, 2.0]])

# name -> (program, inputs)
PROGRAMS: dict[str, tuple[Fn, tuple[Any, ...]]] = {
    # ------------------------------------------------------------------------------------ elementwise math
    "log1p_expm1": (lambda lib, x: [x.log1p(), (x * 1e-9).log1p(), x.expm1(), (x * 1e-9).expm1()], (U,)),
    "log2_log10": (lambda lib, p: [p.log2(), p.log10()], (P,)),
    "log2_log10_exact_at_powers": (lambda lib, p: [p.log2(), p.log10()],
                                   (np.array([1.0, 2.0, 8.0, 1024.0, 10.0, 1000.0, 1e-3, 0.125]),)),
    "exp2_reciprocal_frac": (lambda lib, x: [x.exp2(), x.reciprocal(), (3 * x).frac()], (X,)),
    "trigonometric": (lambda lib, x, u: [u.tan(), x.atan(), u.asin(), u.acos(), x.arctan(), u.arcsin(),
                                         u.arccos()], (X, U)),
    "hyperbolic": (lambda lib, x, u, a: [x.sinh(), x.cosh(), x.asinh(), a.acosh(), u.atanh(), x.arcsinh(),
                                         a.arccosh(), u.arctanh()], (X, U, A)),
    "atan2_all_quadrants": (lambda lib, x, y: [x.atan2(y), x.arctan2(lib.tensor(2.0)), y.atan2(x[0])], (X, Y)),
    "atan2_at_zero": (lambda lib, x: [x.atan2(x * 0 + 1.0), (x * 0).atan2(x)], (X,)),
    "hypot": (lambda lib, x, y: [x.hypot(y), x.hypot(y[0]), (x * 1e200).hypot(y * 1e200)], (X, Y)),
    "lerp_method": (lambda lib, x, y: [x.lerp(y, 0.3), x.lerp(y, 0.75), x.lerp(y, 1.0)], (X, Y)),
    "lerp_tensor_weight": (lambda lib, x, y, w: x.lerp(y, w), (X, Y, rng.uniform(-0.5, 1.5, (3, 4)))),
    "addcmul_addcdiv": (lambda lib, x, y, p: [x.addcmul(y, p), x.addcmul(y, p[0], value=-0.5), x.addcdiv(y, p),
                                              lib.addcdiv(x, y, p, value=2.0), lib.addcmul(x, y, p, value=3)],
                        (X, Y, P)),
    # ------------------------------------------------------------------------- comparisons and logical ops
    "comparison_methods": (lambda lib, x, y: [x.eq(y), x.ne(x), x.lt(y), x.le(0.1), x.gt(y[0]), x.ge(y),
                                              x.greater(y), x.greater_equal(0.0), x.less(y), x.less_equal(y),
                                              x.not_equal(y)], (X, Y)),
    "comparisons_of_integers": (lambda lib, i: [i.eq(0), i.ne(i), i.lt(2), i.le(i.T.T), i.gt(-1), i.ge(3)], (I,)),
    "logical": (lambda lib, x, i: [x.logical_not(), (x * 0).logical_not(), x.logical_and(i), i.logical_or(x * 0),
                                   (x > 0).logical_xor(i > 0), lib.logical_not(i)], (X, I)),
    "logical_of_nan": (lambda lib, x: [x.logical_not(), x.logical_and(x * 0)], (NAN,)),
    # -------------------------------------------------------------------------------------- linear algebra
    "mm_mv_dot_outer": (lambda lib, x, y, v, w: [x.T.mm(y), x.T.mv(v), v.dot(w), v.outer(w[:2]), v.ger(w)],
                        (X, Y, V, W)),
    "bmm": (lambda lib, a, b: a.bmm(b.transpose(1, 2)), (B3, randn(2, 3, 4))),
    "addmm": (lambda lib, c, x, y: [c.addmm(x, y.T), c.addmm(x, y.T, beta=0.5, alpha=-2.0),
                                    lib.addmm(c, x, y.T, alpha=3.0)], (randn(3, 3), X, Y)),
    "addmm_broadcast_input": (lambda lib, c, x, y: [c.addmm(x, y.T), lib.addmm(c[:1], x, y.T, beta=2.0)],
                              (randn(3), X, Y)),
    "addmm_beta_zero_ignores_nan": (lambda lib, c, x, y: c.addmm(x, y.T, beta=0) + 0 * lib.tensor(0.0),
                                    (np.full((3, 3), np.nan), X, Y)),
    "addmm_beta_zero_gradient": (lambda lib, c, x, y: c.addmm(x, y.T, beta=0), (randn(3, 3), X, Y)),
    "baddbmm": (lambda lib, c, a, b: [c.baddbmm(a, b), c.baddbmm(a, b, beta=0.25, alpha=0.5),
                                      lib.baddbmm(c[0], a, b)], (randn(2, 3, 5), B3, randn(2, 4, 5))),
    "cross": (lambda lib, a, b: [a.cross(b), a.cross(b, dim=0), lib.cross(a, b, dim=-1), a[:1].cross(b)],
              (randn(3, 3), randn(3, 3))),
    "cross_first_dim_of_size_3": (lambda lib, a, b: a.cross(b), (randn(4, 3, 2), randn(4, 3, 2))),
    "trace": (lambda lib, x, i: [x.trace(), x.T.trace(), lib.trace(x[:, :3]), i.trace()], (X, I)),
    # ----------------------------------------------------------------------------------- index and scatter
    "index_select": (lambda lib, x, i: [x.index_select(0, i), x.index_select(1, i), x.index_select(-1, i[:0]),
                                        lib.index_select(x, 0, i[1])], (X, np.array([2, 0, 2]))),
    "index_select_of_0d": (lambda lib, x: [x.index_select(0, lib.tensor([0])), x.index_select(0, lib.tensor(0))],
                           (np.float64(1.5),)),
    "scatter": (lambda lib, x, s, i: [x.scatter(0, i, s), x.scatter(1, lib.tensor([[2, 0, 1], [1, 2, 0]]), s[:, :3]),
                                      x.scatter(0, i, 2.5), x.scatter(-1, i[:1], value=-1.0)], (X, randn(2, 4), PERM)),
    "scatter_src_larger_than_index": (lambda lib, x, i: x.scatter(0, i, lib.tensor(np.arange(15.0).reshape(3, 5))),
                                      (X, PERM)),
    "scatter_repeated_indices_forward": (lambda lib, x, i: x.scatter(0, i, lib.tensor(np.arange(8.0).reshape(2, 4))),
                                         (X, np.array([[1, 1, 0, 2], [1, 1, 2, 2]]))),
    "scatter_integers": (lambda lib, i, j: [i.scatter(0, j, i[:2] * 10), i.scatter(1, j % 3, 7)], (I, PERM)),
    "scatter_add": (lambda lib, x, s, i: [x.scatter_add(0, i, s), x.scatter_add(1, i % 3, s),
                                          lib.scatter_add(x, 0, i, s)], (X, randn(2, 4), IDX)),
    "scatter_add_repeats_accumulate": (lambda lib, x, s, i: x.scatter_add(0, i, s),
                                       (np.zeros((3, 2)), randn(4, 2), np.array([[1, 0], [1, 0], [1, 2], [0, 0]]))),
    "scatter_reduce_forward": (lambda lib, x, i: [x.detach().scatter(0, i, lib.tensor(np.ones((2, 4))), reduce="add"),
                                                  x.detach().scatter(0, i, 2.0, reduce="multiply")],
                               (X, IDX)),
    "index_add": (lambda lib, x, s, t, i: [x.index_add(0, i, s), x.index_add(1, i, t, alpha=-0.5),
                                           lib.index_add(x, 0, i, s, alpha=2.0)],
                  (X, randn(3, 4), randn(3, 3), np.array([2, 0, 2]))),
    "index_add_of_0d": (lambda lib, x, s: x.index_add(0, lib.tensor([0]), s), (np.float64(1.5), np.float64(2.0))),
    "index_add_integers": (lambda lib, i: i.index_add(0, lib.tensor([1, 1]), i[:2], alpha=3), (I,)),
    "masked_select_take_along_dim": (lambda lib, x, m, i: [x.masked_select(m), x.masked_select(m[0]),
                                                           lib.masked_select(x[:1], m), x.take_along_dim(i, 1),
                                                           x.take_along_dim(i[:1], dim=0), x.take_along_dim(i),
                                                           lib.take_along_dim(x, i[:, :1] % 3, 0)],
                                     (X, X > 0.3, rng.integers(0, 3, (3, 4)))),
    "nonzero": (lambda lib, i: [i.nonzero(), lib.nonzero(i > 0), i.nonzero(as_tuple=True), i.argwhere(),
                                lib.tensor(3).nonzero(), lib.tensor(0).nonzero(), lib.tensor(3).nonzero(as_tuple=True),
                                i.count_nonzero(), i.count_nonzero(dim=1), lib.count_nonzero(i, (0, 1))], (I,)),
    "unique": (lambda lib, i: [i.unique(), i.unique(return_inverse=True), i.unique(return_counts=True),
                               lib.unique(i, sorted=True, return_inverse=True, return_counts=True),
                               lib.unique(i[:, :2] > 0, dim=0, return_inverse=True, return_counts=True),
                               i.unique(dim=1)], (I,)),
    "unique_of_floats_keeps_nans_apart": (lambda lib, x: x.detach().unique(return_counts=True),
                                          (np.array([2.0, np.nan, 1.0, 2.0, np.nan]),)),
    "bincount": (lambda lib, i, w: [i.bincount(), i.bincount(minlength=9), lib.bincount(i, weights=w.detach()),
                                    i.bincount(lib.tensor(np.arange(6)), minlength=2),
                                    i.bincount(w.detach().float()),
                                    lib.tensor(np.zeros(0, np.int64)).bincount(minlength=3)],
                 (np.array([1, 3, 1, 0, 5, 1]), np.linspace(0.5, 3.0, 6))),
    "median": (lambda lib, x: [x.median(), x.median(1), x.median(dim=0, keepdim=True), lib.median(x, -1),
                               x[:, :3].median(1), x[0].median(0)], (X,)),
    "median_of_all_shares_ties": (lambda lib, x: x.median(), (np.array([[1.0, 2.0, 2.0], [3.0, 2.0, -1.0]]),)),
    "median_with_nan": (lambda lib, x: [x.median(), x.median(1), x.median(0)], (NAN,)),
    "median_of_integers": (lambda lib, i: [i.median(), i.median(0)], (I,)),
    "median_kthvalue_of_0d": (lambda lib, x: [x.median(), x.median(0), x.kthvalue(1), x.kthvalue(1, 0)],
                              (np.float64(1.5),)),
    "kthvalue": (lambda lib, x: [x.kthvalue(1), x.kthvalue(4, 1), x.kthvalue(2, dim=0, keepdim=True),
                                 lib.kthvalue(x, 3, 0)], (X,)),
    "kthvalue_nan_is_largest": (lambda lib, x: [x.kthvalue(2, 1), x.kthvalue(4, 1)], (NAN,)),
    # --------------------------------------------------------------------------------------------- layout
    "narrow_select_unbind": (lambda lib, x: [x.narrow(1, 1, 2), x.narrow(0, -2, 2), x.narrow(1, lib.tensor(3), 1),
                                             x.narrow(1, 4, 0), x.select(0, 1), x.select(1, -1), x.unbind(),
                                             x.unbind(1), lib.narrow(x, 0, 0, 1), lib.select(x, 1, 0),
                                             lib.unbind(x, dim=-1)], (X,)),
    "tensor_split": (lambda lib, x: [x.tensor_split(3, 1), x.tensor_split([1, 3], dim=1), x.tensor_split(2),
                                     x.tensor_split((0, 5, 2), 1), x.tensor_split(lib.tensor([1, 2]), 1),
                                     x.tensor_split(lib.tensor(2), 0), x.tensor_split([-1], 1),
                                     lib.tensor_split(x, 5, dim=1)], (X,)),
    "split_with_sizes": (lambda lib, x: [x.split_with_sizes([1, 3], 1), lib.split_with_sizes(x, [2, 0, 1])], (X,)),
    "flip": (lambda lib, x: [x.flip(0), x.flip(0, 1), x.flip([1]), x.flip(dims=(-1,)), lib.flip(x, [0, 1]),
                             x.fliplr(), x.flipud(), lib.fliplr(x), x.flip(())], (X,)),
    "roll": (lambda lib, x: [x.roll(1), x.roll(-2, 1), x.roll((1, 5), (0, 1)), lib.roll(x, 3, dims=0),
                             x.roll(0, 1), lib.roll(x, shifts=(2, -1), dims=(1, 0))], (X,)),
    "diagonal": (lambda lib, x, b: [x.diagonal(), x.diagonal(1), x.diagonal(-2), x.diagonal(offset=5),
                                    b.diagonal(0, 1, 2), b.diagonal(1, -1, 0), lib.diagonal(b, -1, dim1=2, dim2=1)],
                 (X, B3)),
    "movedim_swapaxes": (lambda lib, b: [b.movedim(0, 2), b.movedim((0, 1), (2, 0)), b.moveaxis(-1, 0),
                                         lib.movedim(b, 1, 1), b.swapaxes(0, 2), b.swapdims(1, -1),
                                         lib.swapaxes(b, 0, 1), lib.moveaxis(b, (0,), (1,))], (B3,)),
    "ravel_view_as_t_H": (lambda lib, x, y, b: [x.T.ravel(), lib.ravel(x), x.view_as(y.T), x.t(), lib.t(x),
                                                x[0].t(), x.H, b.mH, x.mH, x.reshape_as(y.T),
                                                x[:1].broadcast_to(2, 3, 4), lib.broadcast_to(x, (2, -1, 4))],
                          (X, Y, B3)),
    # ------------------------------------------------------------------------------------ in-place forms
    "inplace_unary": (lambda lib, x, p, u: [
        f(v.clone()) for f, v in [(lambda t: t.exp_(), x), (lambda t: t.log_(), p), (lambda t: t.sqrt_(), p),
                                  (lambda t: t.rsqrt_(), p), (lambda t: t.relu_(), x), (lambda t: t.sigmoid_(), x),
                                  (lambda t: t.tanh_(), x), (lambda t: t.abs_(), x), (lambda t: t.neg_(), x),
                                  (lambda t: t.square_(), x), (lambda t: t.sin_(), x), (lambda t: t.cos_(), x),
                                  (lambda t: t.tan_(), u), (lambda t: t.erf_(), x), (lambda t: t.log1p_(), u),
                                  (lambda t: t.expm1_(), x), (lambda t: t.log2_(), p), (lambda t: t.log10_(), p),
                                  (lambda t: t.exp2_(), x), (lambda t: t.reciprocal_(), x), (lambda t: t.frac_(), x),
                                  (lambda t: t.atan_(), x), (lambda t: t.asin_(), u), (lambda t: t.acos_(), u),
                                  (lambda t: t.sinh_(), x), (lambda t: t.cosh_(), x),
                                  (lambda t: t.atan_(), x),
                                  (lambda t: t.floor_(), x), (lambda t: t.ceil_(), x), (lambda t: t.trunc_(), x),
                                  (lambda t: t.round_(), 3 * x), (lambda t: t.sign_(), x),
                                  (lambda t: t.pow_(3), x)]], (X, P, U)),
    "inplace_clamp_fill_lerp": (lambda lib, x, y: [x.clone().clamp_(-0.5, 0.5), x.clone().clamp_(min=0.0),
                                                   x.clone().clip_(max=0.1), x.clone().clamp_min_(0.2),
                                                   x.clone().clamp_max_(-0.2), x.clone().masked_fill_(x > 0, 2.0),
                                                   x.clone().masked_fill_(lib.tensor([True, False, True, False]), -1.0),
                                                   x.clone().lerp_(y, 0.3), x.clone().addcmul_(x, y, value=0.5),
                                                   x.clone().addcdiv_(y, x * x + 1.0, value=-0.1)], (X, Y)),
    "inplace_scatter_index_add": (lambda lib, x, s, t, i: [x.clone().scatter_(0, i, s),
                                                           x.clone().scatter_(1, i % 3, 1.5),
                                                           x.clone().scatter_add_(0, i, s),
                                                           x.clone().index_add_(0, i[0, :3], t),
                                                           x.clone().index_add_(1, i[1, :3], t[:, :3], alpha=2.0)],
                                  (X, randn(2, 4), randn(3, 4), PERM)),
    "one_hot_by_scatter_": (lambda lib, i: lib.zeros(4, 5, dtype=lib.float64).scatter_(1, i[:, None], 1.0),
                            (np.array([3, 0, 4, 3]),)),
    "inplace_on_integers": (lambda lib, i: [i.clone().clamp_(-2, 2), i.clone().abs_(), i.clone().neg_(),
                                            i.clone().masked_fill_(i > 0, 9),
                                            i.clone().scatter_(0, lib.tensor([[0, 1]]), 5)],
                            (I,)),
}


@pytest.mark.parametrize("name", PROGRAMS)
def test_method_against_pytorch(name: str) -> None:
    fn, arrays = PROGRAMS[name]
    agree(fn, *arrays)


# the module-level function of each method: ``torch.name(x, ...)`` is ``x.name(...)`` in both libraries
FUNCTIONS: dict[str, tuple[tuple[Any, ...], tuple[Any, ...]]] = {
    **{n: ((U,), ()) for n in ("log1p", "expm1", "exp2", "reciprocal", "frac", "tan", "atan", "asin", "acos",
                                "sinh", "cosh", "asinh", "atanh", "arctan", "arcsin", "arccos", "arcsinh",
                                "arctanh", "logical_not", "nonzero", "argwhere", "count_nonzero", "ravel",
                                "trace", "t", "fliplr", "flipud", "median", "unbind")},
    "unique": ((I,), ()),
    **{n: ((P,), ()) for n in ("log2", "log10")},
    **{n: ((A,), ()) for n in ("acosh", "arccosh")},
    **{n: ((X, Y), ()) for n in ("atan2", "arctan2", "hypot", "eq", "ne", "lt", "le", "gt", "ge", "greater",
                                 "greater_equal", "less", "less_equal", "not_equal", "logical_and", "logical_or",
                                 "logical_xor")},
    "lerp": ((X, Y), (0.4,)), "kthvalue": ((X,), (2, 1)), "diagonal": ((X,), (1,)),
    "index_select": ((X,), (1, np.array([0, 3]))), "scatter": ((X,), (0, PERM, 1.0)),
    "scatter_add": ((X,), (0, IDX, np.ones((2, 4)))), "index_add": ((X,), (1, np.array([3, 0]), np.ones((3, 2)))),
    "select": ((X,), (1, 2)), "narrow": ((X,), (1, 1, 2)), "addmm": ((randn(4, 4), X.T, Y), ()),
    "baddbmm": ((randn(2, 3, 3), B3, B3.transpose(0, 2, 1)), ()), "cross": ((randn(2, 3), randn(2, 3)), ()),
    "mm": ((X.T, Y), ()), "bmm": ((B3, B3.transpose(0, 2, 1)), ()), "mv": ((X, randn(4)), ()),
    "dot": ((V, W), ()), "outer": ((V, W), ()), "flip": ((X,), ([0],)), "roll": ((X,), (1, 0)),
    "tensor_split": ((X,), (2,)), "split_with_sizes": ((X,), ([1, 2],)), "movedim": ((B3,), (0, -1)),
    "moveaxis": ((B3,), (2, 0)), "swapaxes": ((B3,), (0, 1)), "swapdims": ((B3,), (2, 1)),
    "bincount": ((np.array([0, 2, 2]),), ()), "addcmul": ((X, Y, P), ()), "addcdiv": ((X, Y, P), ()),
    "masked_select": ((X, X > 0), ()), "take_along_dim": ((X, np.array([[0], [2], [1]])), (1,)),
    "broadcast_to": ((X[0],), ((2, 4),)),
}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_the_function_is_the_method(name: str) -> None:
    tensors, extra = FUNCTIONS[name]
    extra_arrays = [a for a in extra if isinstance(a, np.ndarray)]

    def program(lib: Any, *ts: Any) -> Any:
        rest = iter(ts[len(tensors):])
        args = [next(rest) if isinstance(a, np.ndarray) else a for a in extra]
        return [getattr(lib, name)(*ts[: len(tensors)], *args), getattr(ts[0], name)(*ts[1: len(tensors)], *args)]

    agree(program, *tensors, *extra_arrays)
    assert name in tg.__all__


# ----------------------------------------------------------------------------------- the new primitives
# name -> (program of one input, input): each primitive alone, and a composition through it
PRIMITIVES: dict[str, tuple[Fn, np.ndarray]] = {
    "tan": (lambda lib, x: x.tan(), U), "atan": (lambda lib, x: x.atan(), X), "asin": (lambda lib, x: x.asin(), U),
    "acos": (lambda lib, x: x.acos(), U), "sinh": (lambda lib, x: x.sinh(), X), "cosh": (lambda lib, x: x.cosh(), X),
    "asinh": (lambda lib, x: x.asinh(), X), "acosh": (lambda lib, x: x.acosh(), A),
    "atanh": (lambda lib, x: x.atanh(), U), "log1p": (lambda lib, x: x.log1p(), U),
    "expm1": (lambda lib, x: x.expm1(), X), "log2": (lambda lib, x: x.log2(), P),
    "log10": (lambda lib, x: x.log10(), P), "atan2": (lambda lib, x: x.atan2(x.flip(0) + 0.5), X),
    "hypot": (lambda lib, x: x.hypot(x.flip(1) * 2.0), X),
}


@pytest.mark.parametrize("name", PRIMITIVES)
def test_new_primitive_against_finite_differences(name: str) -> None:
    fn, x = PRIMITIVES[name]
    assert gradcheck(lambda t: fn(tg, t) * fn(tg, t), [Tensor(x, requires_grad=True)], **FD)


@pytest.mark.parametrize("name", PRIMITIVES)
def test_new_primitive_second_derivative_against_pytorch(name: str) -> None:
    """The VJPs are Tensor ops, so they are differentiable again: d/dx ⟨∇f(x), v⟩ against PyTorch's double backward."""
    fn, x = PRIMITIVES[name]
    r, v = randn(*x.shape), randn(*x.shape)

    def hvp(lib: Any) -> np.ndarray:
        t = lib.tensor(x, requires_grad=True)
        (g,) = (torch.autograd.grad if lib is torch else tg.grad)((fn(lib, t) * lib.tensor(r)).sum(), [t],
                                                                  create_graph=True)
        (h,) = (torch.autograd.grad if lib is torch else tg.grad)((g * lib.tensor(v)).sum(), [t])
        return numpy_of(h)

    assert_close(hvp(tg), hvp(torch), RTOL, f"{name}: second derivative")


@pytest.mark.parametrize("name", PRIMITIVES)
def test_new_primitive_jvp_against_torch_func_jvp(name: str) -> None:
    fn, x = PRIMITIVES[name]
    tangent = randn(*x.shape)
    with fwAD.dual_level():
        out = fn(tg, fwAD.make_dual(Tensor(x), Tensor(tangent)))
        primal, ours = fwAD.unpack_dual(out)
    t_primal, theirs = torch.func.jvp(lambda t: fn(torch, t), (torch.tensor(x),), (torch.tensor(tangent),))
    assert_close(primal.numpy(), t_primal.numpy(), RTOL, f"{name}: primal")
    assert_close(ours.numpy(), theirs.numpy(), RTOL, f"{name}: tangent")


# forward mode through the compositions: their primitives' JVPs (GetItem, IndexAdd, Where, Cat, Amax, ...)
COMPOSITES: dict[str, Fn] = {
    "scatter": lambda lib, x: x.scatter(0, lib.tensor(PERM), x[:2] * x[1:]),
    "scatter_value": lambda lib, x: x.scatter(1, lib.tensor(PERM[:, :3] * 0 + 1), 2.0) * x,
    "scatter_add": lambda lib, x: x.scatter_add(0, lib.tensor(IDX), x[1:].exp()),
    "index_add": lambda lib, x: x.index_add(1, lib.tensor([3, 0, 3]), x[:, :3] * 2.0, alpha=0.5),
    "index_select": lambda lib, x: x.index_select(1, lib.tensor([2, 2, 0])),
    "flip_roll": lambda lib, x: x.flip(0) * x.roll((1, -1), (0, 1)),
    "diagonal_trace": lambda lib, x: x.diagonal(1) * x[:, :3].trace(),
    "cross": lambda lib, x: x[:, :3].cross(x[:, 1:], dim=1),
    "median_kthvalue": lambda lib, x: x.median(1).values * x.kthvalue(2, 0).values[:3] + x.median(),
    "lerp_addcdiv": lambda lib, x: x.lerp(x.flip(1), 0.7).addcdiv(x, x * x + 1.0, value=0.3),
    "addmm_outer": lambda lib, x: x[:, :3].addmm(x, x.T) + x[0, :3].outer(x[1, :3]),
    "narrow_unbind": lambda lib, x: x.narrow(1, 1, 2) * lib.stack(x.unbind(1)[:2], 1),
    "masked_select": lambda lib, x: x.masked_select(lib.tensor(X > 0)) * 2.0,
}


@pytest.mark.parametrize("name", COMPOSITES)
def test_forward_mode_through_the_compositions_against_torch_func_jvp(name: str) -> None:
    fn, tangent = COMPOSITES[name], randn(3, 4)
    with fwAD.dual_level():
        primal, ours = fwAD.unpack_dual(fn(tg, fwAD.make_dual(Tensor(X), Tensor(tangent))))
    t_primal, theirs = torch.func.jvp(lambda t: fn(torch, t), (torch.tensor(X),), (torch.tensor(tangent),))
    assert_close(primal.numpy(), t_primal.numpy(), RTOL, f"{name}: primal")
    assert_close(ours.numpy(), theirs.numpy(), RTOL, f"{name}: tangent")


@pytest.mark.parametrize("name", ["tan", "atan", "asin", "acos", "sinh", "cosh", "asinh", "acosh", "atanh",
                                  "log1p", "expm1", "log2", "log10", "atan2", "hypot"])
def test_grad_fn_names_as_torch(name: str) -> None:
    fn, x = PRIMITIVES[name]
    ours, theirs = fn(tg, Tensor(x, requires_grad=True)), fn(torch, torch.tensor(x, requires_grad=True))
    assert ours.grad_fn.name() == theirs.grad_fn.name()


def test_log1p_and_expm1_keep_the_digits_near_zero() -> None:
    x = Tensor(np.array([1e-12, -3e-15, 1e-300]))
    np.testing.assert_array_equal(x.log1p().numpy(), np.log1p(x.numpy()))
    np.testing.assert_array_equal(x.expm1().numpy(), np.expm1(x.numpy()))
    assert (Tensor(np.array([1e-12])) + 1.0).log().item() != Tensor(np.array([1e-12])).log1p().item()


def test_outside_the_domain_gives_nan_without_a_warning() -> None:
    with np.errstate(all="raise"):
        out = [Tensor(np.array([2.0])).asin(), Tensor(np.array([0.5])).acosh(), Tensor(np.array([1.0])).atanh(),
               Tensor(np.array([-1.0])).log1p()]
    assert np.isnan(out[0].item()) and np.isnan(out[1].item())
    assert out[2].item() == np.inf and out[3].item() == -np.inf


def test_math_of_integers_gives_the_default_dtype() -> None:
    """Integer tensors enter as float32 (the default dtype), as in PyTorch; float32 results agree to 2 ulp (2⁻²²
    relative: NumPy's and PyTorch's float32 kernels round differently)."""
    names = ["log1p", "expm1", "log2", "log10", "exp2", "reciprocal", "tan", "atan", "sinh", "cosh", "asinh"]
    positive = rng.integers(1, 9, (3, 4))
    for name in names:
        ours, theirs = getattr(Tensor(positive), name)(), getattr(torch.tensor(positive), name)()
        assert ours.dtype == tg.float32 and theirs.dtype == torch.float32, name
        assert_close(ours.numpy(), theirs.numpy(), 2.0**-22, name)


# ------------------------------------------------------------------------- scatter with repeated indices
def test_scatter_with_repeated_indices_keeps_the_last_write_and_differentiates_it() -> None:
    """PyTorch leaves the order of writes unspecified (its CPU kernel writes in C order: the last wins, as here).
    The gradient is the derivative of that function: an overwritten src entry gets 0 (PyTorch's gather gives it
    the position's gradient too). Checked against finite differences."""
    index = np.array([[1, 1, 0], [1, 2, 0]])
    x, src = randn(3, 3), randn(2, 3)
    out = Tensor(x).scatter(0, Tensor(index), Tensor(src))
    expected = x.copy()
    for i, j in np.ndindex(*index.shape):
        expected[index[i, j], j] = src[i, j]
    np.testing.assert_array_equal(out.numpy(), expected)
    t_out = torch.tensor(x).scatter(0, torch.tensor(index), torch.tensor(src))
    np.testing.assert_array_equal(out.numpy(), t_out.numpy())  # PyTorch's CPU kernel: the last write too
    assert gradcheck(lambda a, s: a.scatter(0, Tensor(index), s),
                     [Tensor(x, requires_grad=True), Tensor(src, requires_grad=True)], **FD)
    s = Tensor(src, requires_grad=True)
    Tensor(x).scatter(0, Tensor(index), s).sum().backward()
    np.testing.assert_array_equal(np.asarray(s.grad), [[0.0, 1.0, 0.0], [1.0, 1.0, 1.0]])  # [0, 0] and [0, 2] lost


def test_scatter_add_with_repeats_against_finite_differences() -> None:
    index = np.array([[1, 1, 0], [1, 2, 1], [1, 1, 1]])
    assert gradcheck(lambda a, s: a.scatter_add(0, Tensor(index), s),
                     [Tensor(randn(3, 3), requires_grad=True), Tensor(randn(3, 3), requires_grad=True)], **FD)
    assert gradcheck(lambda a, s: a.index_add(1, Tensor(np.array([2, 2, 0])), s, alpha=1.5),
                     [Tensor(randn(2, 3), requires_grad=True), Tensor(randn(2, 3), requires_grad=True)], **FD)


# ------------------------------------------------------------------------------ no derivative, as torch
@pytest.mark.parametrize("fn", [
    lambda lib, x: x.unique(), lambda lib, x: lib.tensor([0, 2, 2]).bincount(x[0, :3]),
    lambda lib, x: x.scatter(0, lib.tensor([[0, 1, 0, 1]]), 1.0, reduce="add"),
])
def test_ops_without_a_derivative_require_grad_and_refuse_backward(fn: Fn) -> None:
    theirs = fn(torch, torch.tensor(X, requires_grad=True))
    ours = fn(tg, Tensor(X, requires_grad=True))
    assert theirs.requires_grad and ours.requires_grad
    assert ours.grad_fn.name() == theirs.grad_fn.name()
    with pytest.raises(RuntimeError):
        theirs.sum().backward()
    with pytest.raises(RuntimeError, match=r"(unique|bincount|scatter): the derivative is not implemented"):
        ours.sum().backward()


# ---------------------------------------------------------------------------------- layout and factories
LAYOUTS: dict[str, Fn] = {
    "fresh": lambda lib, x: x, "transposed": lambda lib, x: x.t(), "sliced": lambda lib, x: x[:, 1:3],
    "stepped": lambda lib, x: x[::2], "expanded": lambda lib, x: x[:1].expand(5, 4),
    "permuted": lambda lib, x: x.reshape(2, 3, 2).permute(2, 0, 1), "row": lambda lib, x: x[1],
    "column": lambda lib, x: x[:, 2], "flipped": lambda lib, x: x.flip(0),
    "contiguous": lambda lib, x: x.t().contiguous(),
    "unsqueezed": lambda lib, x: x.unsqueeze(1), "empty": lambda lib, x: x[:0].reshape(0, 2, 6),
    "moved": lambda lib, x: x.reshape(2, 3, 2).movedim(0, -1),
}


@pytest.mark.parametrize("name", LAYOUTS)
def test_stride_and_is_contiguous_as_torch(name: str) -> None:
    ours, theirs = LAYOUTS[name](tg, Tensor(X)), LAYOUTS[name](torch, torch.tensor(X))
    assert ours.is_contiguous() == theirs.is_contiguous()
    assert ours.stride() == theirs.stride()
    assert all(ours.stride(d) == theirs.stride(d) for d in range(-ours.ndim, ours.ndim))


def test_contiguous_copies_only_when_needed_and_stays_in_the_graph() -> None:
    x = Tensor(X, requires_grad=True)
    assert x.contiguous() is x
    y = x.t().contiguous()
    assert y.is_contiguous() and y.grad_fn.name() == "CloneBackward0"
    (y * Tensor(Y.T)).sum().backward()
    np.testing.assert_array_equal(np.asarray(x.grad), Y)


@pytest.mark.parametrize("make", [
    lambda lib, t: t.new_zeros(2, 3), lambda lib, t: t.new_zeros((2,)), lambda lib, t: t.new_ones(3, dtype=lib.int32),
    lambda lib, t: t.new_full((2, 2), 3.5), lambda lib, t: t.new_full((2,), 7), lambda lib, t: t.new_tensor([1, 2]),
    lambda lib, t: t.new_tensor([[1.5, 2.0]], dtype=lib.float16), lambda lib, t: t.new_ones(2, requires_grad=True),
    lambda lib, t: t.new_tensor(t[:2]), lambda lib, t: t.new_empty(2, 3).shape,
])
@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", "bool"])
def test_new_factories_as_torch(make: Fn, dtype: str) -> None:
    data = np.array([1, 0, 3]).astype(dtype)
    try:
        theirs = make(torch, torch.tensor(data))
    except RuntimeError:  # requires_grad=True of an integer dtype
        with pytest.raises(TypeError, match="only floating-point tensors can require gradients"):
            make(tg, Tensor(data))
        return
    ours = make(tg, Tensor(data))
    if not isinstance(theirs, torch.Tensor):
        assert tuple(ours) == tuple(theirs)
        return
    assert dtype_name(ours) == dtype_name(theirs) and ours.shape == tuple(theirs.shape)
    assert ours.requires_grad == theirs.requires_grad
    np.testing.assert_array_equal(numpy_of(ours), numpy_of(theirs))


def test_format_as_torch() -> None:
    for lib in (tg, torch):
        assert f"{lib.tensor(3.14159):.3f}" == "3.142" and f"{lib.tensor(7):>4d}" == "   7"
        assert f"{lib.tensor(True)}" == "True" and format(lib.tensor(2.5), "") == "2.5"
        assert f"{lib.tensor([1.5, 2.0])}" == str(lib.tensor([1.5, 2.0]))
        for t in (lib.tensor([1.5]), lib.tensor([[1.0, 2.0]])):
            with pytest.raises(TypeError, match="unsupported format string passed to Tensor.__format__"):
                f"{t:.3f}"  # noqa: B018
    x = tg.tensor(2.0, requires_grad=True) * 1.5
    assert f"{x:.2f}" == f"{torch.tensor(2.0, requires_grad=True) * 1.5:.2f}" == "3.00"


def test_in_place_inverse_hyperbolic_functions() -> None:
    """asinh_, acosh_, atanh_ have no derivative in PyTorch ("inplace version of atanh"); ours have the
    out-of-place one's, checked against finite differences; their values are PyTorch's."""
    for name, x in (("asinh_", X), ("acosh_", A), ("atanh_", U)):
        ours, theirs = getattr(Tensor(x), name)(), getattr(torch.tensor(x), name)()
        assert_close(ours.numpy(), theirs.numpy(), RTOL, name)
        assert gradcheck(lambda t, name=name: getattr(t * 1.0, name)(), [Tensor(x, requires_grad=True)], **FD)


def test_in_place_forms_follow_the_leaf_rules() -> None:
    for lib in (tg, torch):
        leaf = lib.tensor([1.0, -2.0], requires_grad=True)
        first = lib.tensor([0])
        for update in (lambda t: t.exp_(), lambda t: t.clamp_(0.0), lambda t: t.masked_fill_(t > 0, 0.0),
                       lambda t, i=first: t.scatter_(0, i, 1.0), lambda t, i=first: t.index_add_(0, i, t[:1])):
            with pytest.raises(RuntimeError, match="leaf"):
                update(leaf)
        with lib.no_grad():
            leaf.clamp_(max=0.5).exp_()
        np.testing.assert_allclose(leaf.detach().numpy(), np.exp([0.5, -2.0]), rtol=1e-7)
    with pytest.raises(TypeError, match="exp_: the result has dtype float32, which cannot be stored in a int64"):
        tg.tensor([1, 2]).exp_()


# ------------------------------------------------------------------------------------------ refusals
@pytest.mark.parametrize(("fn", "match"), [
    (lambda lib, x: x.index_select(0, lib.tensor([3])), r"index_select: index 3 is out of bounds for dim 0 of size 3"),
    (lambda lib, x: x.index_select(0, lib.tensor([-1])), r"index_select: index -1 is out of bounds"),
    (lambda lib, x: x.index_select(0, lib.tensor([[0]])), r"index_select\(\): index must be a vector.*\(1, 1\)"),
    (lambda lib, x: x.index_select(0, lib.tensor([0.0])), r"index_select\(\): index must be an integer tensor"),
    (lambda lib, x: x.scatter(0, lib.tensor([[3, 0, 0, 0]]), 1.0), r"scatter: index 3 is out of bounds for dim 0"),
    (lambda lib, x: x.scatter(0, lib.tensor([0]), 1.0), r"scatter: index has 1 dims, the tensor 2"),
    (lambda lib, x: x.scatter(0, lib.tensor([[0, 1, 2, 0, 1]]), 1.0), r"scatter: index of shape \(1, 5\) is larger"),
    (lambda lib, x: x.scatter(0, lib.tensor([[0, 1]]), x[:1, :1]),
     r"scatter: index of shape \(1, 2\) is larger than src"),
    (lambda lib, x: x.scatter(0, lib.tensor([[0]]), x.float()[:1, :1]), r"scatter: src has dtype float32"),
    (lambda lib, x: x.scatter(0, lib.tensor([[0]]), 1.0, reduce="max"), r"scatter: reduce must be 'add' or 'multiply'"),
    (lambda lib, x: x.scatter_add(0, lib.tensor([[0, 1]]), x[:1, :1]),
     r"scatter_add: index of shape \(1, 2\) is larger"),
    (lambda lib, x: x.index_add(0, lib.tensor([0, 1]), x), r"index_add: source of shape \(3, 4\) does not fit"),
    (lambda lib, x: x.index_add(0, lib.tensor([0]), x[:1].float()), r"index_add: source has dtype float32"),
    (lambda lib, x: x.index_add(1, lib.tensor([4]), x[:, :1]), r"index_add: index 4 is out of bounds for dim 1"),
    (lambda lib, x: x.long()[0].bincount(), r"bincount: only 1-d non-negative integer tensors"),
    (lambda lib, x: x[0].bincount(), r"bincount: only 1-d non-negative integer tensors.*float64"),
    (lambda lib, x: (x[0] > 0).bincount(), r"bincount: only 1-d non-negative integer tensors.*bool"),
    (lambda lib, x: lib.tensor([0, 1]).bincount(x[0]),
     r"bincount: weights of shape \(4,\) must have the input's shape"),
    (lambda lib, x: x.kthvalue(5), r"kthvalue: k=5 is out of range for dim -1 of size 4"),
    (lambda lib, x: x.kthvalue(0, 0), r"kthvalue: k=0 is out of range"),
    (lambda lib, x: x[:, :0].median(1), r"median: cannot reduce dim 1 of size 0"),
    (lambda lib, x: x.narrow(1, 3, 2), r"narrow: start \(3\) \+ length \(2\) exceeds dim 1 of size 4"),
    (lambda lib, x: x.narrow(0, -4, 1), r"narrow: start -4 is out of range for dim 0 of size 3"),
    (lambda lib, x: x.select(0, 3), r"select: index 3 is out of range for dim 0 of size 3"),
    (lambda lib, x: x.sum().select(0, 0), r"select: a 0-d tensor has no dim 0"),
    (lambda lib, x: x.unbind(2), r"unbind: dim 2 is out of range"),
    (lambda lib, x: x.tensor_split(0), r"tensor_split: the number of sections must be positive, got 0"),
    (lambda lib, x: x.tensor_split(lib.tensor([1.0])), r"tensor_split: a tensor of indices or sections must be an int"),
    (lambda lib, x: x.split_with_sizes([1, 1]),
     r"split_with_sizes: split_sizes \[1, 1\] must be non-negative and add up to 3"),
    (lambda lib, x: x.flip(0, 0), r"flip: dim \(0, 0\) repeats a dimension"),
    (lambda lib, x: x.flip(2), r"flip: dim 2 is out of range"),
    (lambda lib, x: x.roll(1, (0, 1)), r"roll: shifts \(1,\) and dims \(0, 1\) must have the same length"),
    (lambda lib, x: x.roll((1, 2)), r"roll: 2 shifts \(1, 2\) need as many dims"),
    (lambda lib, x: x.diagonal(0, 1, 1), r"diagonal: dim1 and dim2 must differ"),
    (lambda lib, x: x[0].diagonal(), r"diagonal: needs at least 2 dims, got shape \(4,\)"),
    (lambda lib, x: x.movedim((0,), (0, 1)), r"movedim: source \(0,\) and destination \(0, 1\) must name as many"),
    (lambda lib, x: x[None].t(), r"t: expects a tensor with <= 2 dims, got shape \(1, 3, 4\)"),
    (lambda lib, x: x[0].H, r"H: only for matrices \(2 dims\), got shape \(4,\)"),
    (lambda lib, x: x[None].H, r"H: only for matrices"),
    (lambda lib, x: x[0].mH, r"mH: only for matrices or batches of matrices, got shape \(4,\)"),
    (lambda lib, x: x.trace()[None].trace(), r"trace: expects a matrix \(2 dims\), got shape \(1,\)"),
    (lambda lib, x: x[None].trace(), r"trace: expects a matrix \(2 dims\), got shape \(1, 3, 4\)"),
    (lambda lib, x: x[:2].cross(x[:2]), r"cross: no dim of size 3 in shape \(2, 4\)"),
    (lambda lib, x: x.T.cross(x.T[:, :1]), r"cross: dim 1 must have size 3 in both tensors"),
    (lambda lib, x: x.cross(x, dim=1), r"cross: dim 1 must have size 3 in both tensors, got shapes \(3, 4\)"),
    (lambda lib, x: x[:, :3].cross(x[:2, :3]), r"cross: shapes \(3, 3\) and \(2, 3\) cannot be broadcast"),
    (lambda lib, x: x.addmm(x, x), r"matmul: shapes \(3, 4\) and \(3, 4\) do not align"),
    (lambda lib, x: x.addmm(x[0], x.T), r"addmm\(\): 'mat1' must have 2 dims, got shape \(4,\)"),
    (lambda lib, x: x.addmm(x, x.T),
     r"addmm\(\): input of shape \(3, 4\) does not broadcast to the product's shape \(3, 3\)"),
    (lambda lib, x: x[None].baddbmm(x[None], x[None]), r"matmul: shapes \(1, 3, 4\) and \(1, 3, 4\) do not align"),
    (lambda lib, x: x.mm(x[0]), r"mm\(\): 'mat2' must have 2 dims"),
    (lambda lib, x: x.bmm(x), r"bmm\(\): 'input' must have 3 dims"),
    (lambda lib, x: x[0].dot(x[1, :3]), r"dot\(\): the vectors have different sizes"),
    (lambda lib, x: x.mv(x), r"mv\(\): 'vec' must have 1 dims"),
    (lambda lib, x: x.long().frac(), r"frac: not implemented for int64 tensors"),
    (lambda lib, x: x.long().hypot(x.long()), r"hypot: not implemented for int64 operands"),
    (lambda lib, x: x.lerp(1.0, 0.5), r"lerp\(\): argument 'end' must be a Tensor"),
    (lambda lib, x: x.logical_and(1), r"logical_and\(\): argument 'other' must be a Tensor, not int"),
    (lambda lib, x: x.logical_or(x[:2]), r"logical_or: shapes \(3, 4\) and \(2, 4\) cannot be broadcast"),
    (lambda lib, x: x.atan2(x[:2]), r"atan2: shapes \(3, 4\) and \(2, 4\) cannot be broadcast"),
    (lambda lib, x: x.eq(x[:2]), r"eq: shapes \(3, 4\) and \(2, 4\) cannot be broadcast"),
    (lambda lib, x: x.clone().masked_fill_(lib.ones(2, 3, 4, dtype=lib.bool), 0.0),
     r"masked_fill_: a result of shape \(2, 3, 4\) cannot be stored in place in shape \(3, 4\)"),
    (lambda lib, x: x.clone().clamp_(), r"clamp: at least one of min and max"),
    (lambda lib, x: lib.median(x, 0, axis=0), r"median.*dim"),
    (lambda lib, x: x.long().addcdiv(x.long(), x.long()), r"addcdiv: integer division is not supported"),
    (lambda lib, x: x.masked_select(x), r"masked_select: the mask must be boolean, got dtype float64"),
    (lambda lib, x: x.masked_select(x[:2] > 0), r"masked_select: shapes \(3, 4\) and \(2, 4\) cannot be broadcast"),
    (lambda lib, x: x.take_along_dim(lib.tensor([[0, 1]]), 0), r"take_along_dim: shapes \(3, 4\) and \(1, 2\)"),
    (lambda lib, x: x.take_along_dim(lib.tensor([12])), r"take_along_dim: index 12 is out of bounds"),
])
def test_refusals_name_the_op_and_shapes(fn: Fn, match: str) -> None:
    both_raise(fn, X, match=match)


def test_take_along_dim_refuses_an_index_out_of_bounds() -> None:
    """PyTorch 2.13 does not check here: take_along_dim(x, [[4]], 1) of a (3, 4) tensor reads the next row."""
    with pytest.raises(IndexError, match=r"gather: index 4 is out of bounds for dim 1 of size 4"):
        Tensor(X).take_along_dim(Tensor(np.array([[4]])), 1)


def test_primitives_are_reexported_from_ops() -> None:
    for name in ("Tan", "Atan", "Asin", "Acos", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh", "Log1p", "Expm1",
                 "Log2", "Log10", "Atan2", "Hypot", "NoDerivative"):
        assert getattr(ops, name).__module__ == "tinygrad_tx.ops_math"
