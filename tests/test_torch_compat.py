"""Regression tests for differences from PyTorch found by differential probing.

Each program is written once against a module alias ``lib`` (``torch`` or ``tinygrad_tx``, which
spell the API the same way) and run in both libraries by the oracle harness (tests/oracle.py):
values, dtypes, shapes, and the gradients of ``Σ (out ⊙ R)`` for a random non-uniform ``R`` must
agree, and where PyTorch raises we must raise too, with an error that names the op. Every test here
failed before its fix.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import tinygrad_tx as tg
import tinygrad_tx.functional as F
from tinygrad_tx import Tensor

from .oracle import RTOL_REDUCTION, Fn, both_raise, same

torch = pytest.importorskip("torch")  # the oracle (tests/oracle.py): without it, this module is skipped


def rn(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed + 7 * len(shape)).standard_normal(shape)


X = rn(2, 3, 4)
INTS = np.array([[4, -5, 6], [1, 2, 3]])


# ============================================================================= dtypes


@pytest.mark.parametrize("op", ["exp", "log", "tanh", "sigmoid", "erf"])
@pytest.mark.parametrize("dt", [np.int64, np.int32, np.bool_])
def test_floating_functions_of_integer_tensors_give_the_default_dtype(op: str, dt: Any) -> None:
    # was: NumPy's promotion (int64 -> float64, bool -> float16)
    a = (np.abs(INTS) + 1).astype(dt)
    same(lambda lib, t: getattr(t, op)(), a, rtol=1e-6)


@pytest.mark.parametrize("expr", ["a & b", "a | b", "a ^ b", "~a", "a & 3", "True & a", "1 | a", "a ^ True"])
def test_bitwise_ops_are_bitwise_on_integers_and_logical_on_bools(expr: str) -> None:
    # was: logical_and/or/not on every dtype (~3 gave False, 4 & 6 gave True), no ^, no True & t
    for dt in (np.int64, np.int32, np.bool_):
        a, b = INTS.astype(dt), (INTS[::-1] + 1).astype(dt)
        same(lambda lib, x, y: eval(expr, {}, {"a": x, "b": y}), a, b)


def test_bitwise_ops_refuse_floats() -> None:
    both_raise(lambda lib, x: x & x, X, match="bitwise_and: .*integer and bool")
    both_raise(lambda lib, x: ~x, X, match="bitwise_not")


@pytest.mark.parametrize("dim", [None, 0, -1, (0, 1), ()])
@pytest.mark.parametrize("keepdim", [False, True])
def test_any_all_return_bool_tensors_and_take_dim(dim: Any, keepdim: bool) -> None:
    # was: a Python bool, and no dim
    m = X > 0.5
    kw = {} if dim is None else {"dim": dim, "keepdim": keepdim}
    same(lambda lib, t: (t.any(**kw), t.all(**kw), (t | True).all(**kw)), m)


def test_numpy_scalars_keep_their_dtype_and_full_follows_its_value() -> None:
    # was: tensor(np.float64(x)) -> float32; full(shape, 7) and full(shape, True) -> float32
    same(lambda lib: (lib.tensor(np.float64(2.5)), lib.tensor(np.int32(3)), lib.tensor(np.bool_(True))))
    same(lambda lib: (lib.full((2, 3), 7), lib.full((2,), True), lib.full((2,), 1.5),
                      lib.full((2,), 7, dtype=lib.float64)))


@pytest.mark.parametrize("op", ["mean", "var", "std", "softmax", "log_softmax"])
def test_floating_only_reductions_refuse_integer_tensors(op: str) -> None:
    # was: a float32 answer where PyTorch refuses
    both_raise(lambda lib, t: getattr(t, op)(0), INTS, match=f"{op}: needs a floating-point tensor")


# ========================================================================= reductions


@pytest.mark.parametrize("op", ["sum", "mean", "amax", "amin", "var", "std"])
@pytest.mark.parametrize("dim", [(), []])
def test_an_empty_dim_list_reduces_every_dim(op: str, dim: Any) -> None:
    # was: no reduction at all (NumPy's axis=()); PyTorch reduces every dim
    if op in ("var", "std"):  # values only: PyTorch's own var backward divides by 0 for dim=()
        same(lambda lib, t: (getattr(t.detach(), op)(dim), getattr(t.detach(), op)(dim, keepdim=True)), X,
             rtol=RTOL_REDUCTION)
    else:
        same(lambda lib, t: (getattr(t, op)(dim), getattr(t, op)(dim, keepdim=True)), X, rtol=RTOL_REDUCTION)


@pytest.mark.parametrize("fn", [
    lambda lib, t: t.amax(0), lambda lib, t: t.amin(0, keepdim=True), lambda lib, t: t.softmax(0),
    lambda lib, t: t.log_softmax(1), lambda lib, t: t.softmax(-1) * 2,
])
def test_reductions_over_nonempty_dims_of_empty_tensors(fn: Fn) -> None:
    # was: "amax of an empty tensor has no identity" for any tensor with a size-0 dim
    same(fn, np.zeros((2, 0)))


def test_reducing_a_dim_of_size_zero_is_refused_by_name() -> None:
    both_raise(lambda lib, t: t.amax(1), np.zeros((2, 0)), match=r"amax: .*dim 1 of size 0")
    both_raise(lambda lib, t: t.max(-1), np.zeros((2, 0)), match=r"max: cannot reduce dim -1 of size 0")
    both_raise(lambda lib, t: t.argmax(), np.zeros((2, 0)), match=r"argmax: .*empty")


@pytest.mark.parametrize("fn", [
    lambda lib, t: t.var(False), lambda lib, t: t.std(True), lambda lib, t: t.var(0, False),
    lambda lib, t: t.var(1, True, True), lambda lib, t: t.std(-1, False, True),
])
def test_var_std_positional_arguments_follow_pytorch(fn: Fn) -> None:
    # was: var(False) reduced dim 0 (False == 0), and var(dim, True) meant keepdim=True
    same(fn, X, rtol=RTOL_REDUCTION)


def test_std_of_a_constant_has_a_zero_gradient() -> None:
    # was: nan (0 · ∞ from √ at 0); PyTorch gives 0
    z = np.array([[1.0, 1.0, 1.0], [0.5, -1.0, 2.0]])
    same(lambda lib, t: (t.std(1), t.std(0, keepdim=True), t[:, :1].std(1, correction=0)), z, rtol=RTOL_REDUCTION)
    t = Tensor(z, requires_grad=True)
    t.std(1).sum().backward()
    assert np.isfinite(t.grad.numpy()).all() and (t.grad[0] == 0).all()


def test_max_min_argmax_take_one_int_dim_or_a_tensor() -> None:
    # was: a tuple dim was silently accepted; max(other) crashed; argmax(keepdim=True) lost the dims
    for op in ("max", "min", "argmax", "argmin"):
        both_raise(lambda lib, t, op=op: getattr(t, op)((0,)), X, match=f"{op}: dim must be an int")
    same(lambda lib, t, u: (t.max(u), t.min(u)), X, rn(4, seed=1))
    same(lambda lib, t: (t.argmax(keepdim=True), t.argmin(keepdim=True)), X)


def test_amin_of_bool_and_integer_tensors() -> None:
    # was: -(-x).amax(): refused for bool
    same(lambda lib, t: (t.amin(), t.amin(0), t.min()), INTS > 1)
    same(lambda lib, t: (t.amin(1, keepdim=True), t.min()), INTS)


# ============================================================================== shapes


@pytest.mark.parametrize("shape", [(-2, 12), (-1, -1), (-3, -8)])
def test_reshape_refuses_negative_sizes_other_than_one_minus_one(shape: tuple[int, ...]) -> None:
    # was: NumPy reads any negative size as -1
    both_raise(lambda lib, t: t.reshape(shape), X, match=r"reshape: invalid shape")


@pytest.mark.parametrize("start,end", [(2, 1), (5, -1), (0, 3), (-4, 0)])
def test_flatten_refuses_bad_dims(start: int, end: int) -> None:
    # was: a silently wrong shape ((2, 3, 4).flatten(2, 1) gave (2, 3, 1, 4)), out-of-range dims wrapped
    both_raise(lambda lib, t: t.flatten(start, end), X, match="flatten")


def test_flatten_with_empty_dims() -> None:
    # was: reshape(..., -1, ...) cannot infer a size next to a 0
    same(lambda lib, t: (t.flatten(1), t.flatten(0, 1)), np.zeros((0, 3, 4)))


def test_out_of_range_dims_are_named() -> None:
    both_raise(lambda lib, t: t.transpose(0, 3), X, match=r"transpose: dim 3 is out of range")
    both_raise(lambda lib, t: t.size(3), X, match=r"size: dim 3 is out of range")
    both_raise(lambda lib, t: t.size(0), np.array(1.0), match=r"size: .*no dims")
    both_raise(lambda lib, t: t.chunk(0), X, match=r"chunk: chunks must be positive")
    both_raise(lambda lib, t: t < t[:, :2], X, match=r"lt: shapes \(2, 3, 4\) and \(2, 2, 4\)")
    both_raise(lambda lib, t: lib.cat([t[0, 0, 0], t[0, 0, 0]]), X, match=r"cat: .*0-d tensor")


def test_gather_refuses_indices_out_of_range() -> None:
    # was: a negative index wrapped around
    both_raise(lambda lib, t: t.gather(1, lib.tensor(np.array([[-1, 0]]))), rn(2, 3), match="gather: index -1 is out")
    same(lambda lib, t: t[0, 0].gather(0, lib.tensor(0)), rn(2, 3))


# ========================================================================== elementwise


@pytest.mark.parametrize("fn", [
    lambda lib, t, lo, hi: t.clamp(lo, hi), lambda lib, t, lo, hi: t.clamp(min=lo),
    lambda lib, t, lo, hi: t.clamp(max=hi), lambda lib, t, lo, hi: t.clip(hi + 1.0, lo - 1.0),
])
def test_clamp_with_tensor_bounds(fn: Fn) -> None:
    # was: float(min) on a tensor bound: "item: only one-element tensors can be converted"
    same(fn, rn(3, 4), rn(4, seed=1) - 0.5, rn(3, 1, seed=2) + 0.5)


def test_clamp_keeps_integer_dtype_propagates_nan_and_needs_a_bound() -> None:
    # was: float32 for an int tensor with int bounds, 0 for NaN, and clamp() a silent no-op
    same(lambda lib, t: (t.clamp(0, 3), t.clamp(min=2), t.clamp(0.5, 2.5)), INTS)
    same(lambda lib, t: t.clamp(0.0, 1.0), np.array([np.nan, -1.0, 0.5, 2.0]))
    both_raise(lambda lib, t: t.clamp(), X, match="clamp: at least one of min and max")


def test_masked_fill_keeps_dtype_and_wants_a_0d_value() -> None:
    # was: int64.masked_fill(mask, 2.7) became float32; a 1-d value tensor was accepted
    same(lambda lib, t: (t.long().masked_fill(t > 0, 2.7), (t > 0).masked_fill(t > 1, False)), X * 10)
    same(lambda lib, t: t.float().masked_fill(t > 0, lib.tensor(2.0, dtype=lib.float64)), X, rtol=1e-6)
    both_raise(lambda lib, t: t.masked_fill(t > 0, lib.tensor([1.0])), X, match="masked_fill: value must be")
    both_raise(lambda lib, t: t.masked_fill(t.long(), 0.0), X, match="masked_fill: the mask must be boolean")


def test_operator_and_method_spellings() -> None:
    # were missing: +t, abs(t), t.neg(), t.add/sub(..., alpha), t.mul, t.div, t.matmul, t.dim()
    same(lambda lib, t: (+t, abs(t), t.neg(), t.add(t * 2, alpha=-0.5), t.sub(2, alpha=3), t.mul(t), t.div(t + 9),
                         t.matmul(t.mT), t.dim()), X)


# ============================================================================ indexing


@pytest.mark.parametrize("index", [slice(None, None, -1), (slice(None), slice(2, None, -2))])
def test_negative_slice_steps_are_refused(index: Any) -> None:
    # was: NumPy's reversed view; PyTorch refuses (getitem and setitem)
    both_raise(lambda lib, t: t[index], X, match="getitem: slice step must be positive")

    def assign(lib: Any, t: Any) -> None:
        t.detach()[index] = 0.0

    both_raise(assign, X, match="setitem: slice step must be positive")


@pytest.mark.parametrize("index", [
    lambda lib: [], lambda lib: ([], slice(None)), lambda lib: (1, []), lambda lib: slice(lib.tensor(1), lib.tensor(3)),
    lambda lib: (slice(None), slice(lib.tensor(0), None, lib.tensor(2))),
])
def test_empty_index_lists_and_tensor_slice_bounds(index: Fn) -> None:
    # was: [] became a float array (refused); tensors as slice bounds were refused (no __index__)
    same(lambda lib, t: t[index(lib)], X)


# ======================================================================== in place


@pytest.mark.parametrize("fn", [
    lambda lib, t, u: (lambda y: (y.zero_(), y + t)[1])(t * 2),
    lambda lib, t, u: (lambda y: (y.fill_(3.0), y * t)[1])(t * 2),
    lambda lib, t, u: (lambda y: (y.copy_(u.detach()), y * t)[1])(t * 2),
    lambda lib, t, u: (lambda y: (y.copy_(u), y * t)[1])(t * 2),
    lambda lib, t, u: (lambda y: (y.zero_(), y.add_(u), y * t)[2])(t * 2),
])
def test_overwriting_in_place_cuts_the_old_gradient_path(fn: Fn) -> None:
    # was: after y.zero_() / y.fill_(c) / y.copy_(c) y still passed its gradient to what it had
    # been computed from (t got twice its gradient), and y.copy_(u) never passed one to u
    same(fn, rn(2, 3), rn(2, 3, seed=1))


SETITEM_CASES = [  # (index, the value: a piece of v of the selection's shape, or one that broadcasts)
    (lambda lib: 1, lambda v: v[0]),
    (lambda lib: 1, lambda v: v.sum()),
    (lambda lib: (slice(0, 2), slice(None), 3), lambda v: v[:2, :, 0]),
    (lambda lib: (Ellipsis, 2), lambda v: v[..., 0]),
    (lambda lib: lib.tensor(np.array([True, False, True])), lambda v: v[:2]),
    (lambda lib: lib.tensor(np.array([2, 0])), lambda v: v[1:, :1]),
    (lambda lib: (1, slice(None), lib.tensor(np.array([0, 3]))), lambda v: v[0, :, :2]),
    (lambda lib: (None, -1), lambda v: v[:1]),
]


@pytest.mark.parametrize("case", range(len(SETITEM_CASES)))
@pytest.mark.parametrize("target_needs_grad", [True, False])
def test_setitem_is_differentiable(case: int, target_needs_grad: bool) -> None:
    # was: refused on any tensor that requires grad; and a value that requires grad, written into a
    # plain tensor, silently lost its gradient
    index, value = SETITEM_CASES[case]

    def fn(lib: Any, t: Any, v: Any) -> Any:
        y = t * 1.5 if target_needs_grad else t.detach().clone()
        y[index(lib)] = value(v)
        return y * y

    same(fn, rn(3, 4, 5), rn(3, 4, 5, seed=1))


def test_setitem_with_a_repeated_index_assigns_instead_of_adding() -> None:
    # the value PyTorch (and NumPy) keep is the last; which duplicate gets a gradient PyTorch leaves
    # undefined: here only the kept one, the exact derivative of what was computed
    def fn(lib: Any, t: Any, v: Any) -> Any:
        y = t * 1.0
        y[lib.tensor(np.array([0, 2, 0]))] = v
        return y.detach()

    same(fn, rn(3, 2), rn(3, 2, seed=1))
    t, v = Tensor(rn(3, 2), requires_grad=True), Tensor(rn(3, 2, seed=1), requires_grad=True)
    y = t * 1.0
    y[np.array([0, 2, 0])] = v
    y.sum().backward()
    np.testing.assert_array_equal(v.grad, [[0.0, 0.0], [1.0, 1.0], [1.0, 1.0]])
    np.testing.assert_array_equal(t.grad, [[0.0, 0.0], [1.0, 1.0], [0.0, 0.0]])


def test_setitem_on_a_leaf_that_requires_grad_is_still_refused() -> None:
    both_raise(lambda lib, t: t.__setitem__(0, 1.0), X, match="setitem: in-place assignment into a leaf")


# ============================================================================ autograd


def test_grad_with_an_input_listed_twice() -> None:
    # was: "input 0 was not used" (the second listing took the captured gradient)
    def fn(lib: Any, t: Any, u: Any) -> Any:
        g = torch.autograd.grad if lib is torch else tg.grad
        return g((t * t * u).sum(), [t, u, t])

    same(fn, rn(2, 3), rn(2, 3, seed=1))


# ========================================================================== functional


def test_scaled_dot_product_attention_uses_pytorchs_arguments() -> None:
    # was: (q, k, v, is_causal=True, attn_mask=None, ...): a positional mask turned causal masking on
    q, k, v = rn(2, 3, 4), rn(2, 5, 4, seed=1), rn(2, 5, 4, seed=2)
    mask = np.tril(np.ones((3, 5), bool))
    same(lambda lib, a, b, c: (F if lib is tg else torch.nn.functional).scaled_dot_product_attention(
        a, b, c, lib.tensor(mask)), q, k, v, rtol=RTOL_REDUCTION)
    same(lambda lib, a, b, c: (F if lib is tg else torch.nn.functional).scaled_dot_product_attention(
        a, b, c, scale=0.3), q, k, v, rtol=RTOL_REDUCTION)
    same(lambda lib, a, b, c: (F if lib is tg else torch.nn.functional).scaled_dot_product_attention(
        a, b[:, :3], c[:, :3]), q, k, v, rtol=RTOL_REDUCTION)


# ================================================================== added ops: errors and edges


def test_relu_passes_the_gradient_at_nan() -> None:
    # was: 0 (mask x > 0); PyTorch's mask is x <= 0 → 0, and NaN <= 0 is False
    same(lambda lib, t: (t.relu(), t.abs(), t.norm(1)), np.array([np.nan, -1.0, 0.0, 2.0]))


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan"), 1e30])
def test_masked_fill_of_an_integer_tensor_refuses_values_that_do_not_fit(value: float) -> None:
    # was: -9223372036854775808 (NumPy's cast of inf/nan); PyTorch raises
    both_raise(lambda lib, t: t.masked_fill(t > 2, value), INTS, match="masked_fill: value .* int64 without overflow")
    both_raise(lambda lib, t: t.masked_fill(t > 2, lib.tensor(value)), INTS, match="masked_fill: value")


def test_masked_fill_value_conversions_follow_pytorch() -> None:
    both_raise(lambda lib, t: t.int().masked_fill(t > 2, 1e10) if lib is torch else t.to(lib.int32).masked_fill(
        t > 2, 1e10), INTS, match="masked_fill: value .* int32")
    both_raise(lambda lib, t: t.float().masked_fill(t > 0, 1e40), X, match="masked_fill: value .* float32")
    big = INTS + 2**40 + 1  # no round trip through float32: the unfilled values stay exact
    same(lambda lib, t: (t.masked_fill(t > 2**40 + 3, 2.7), t.masked_fill(t < 2**40, -2.5),
                         t.masked_fill(t > 2**40, 3)), big)
    same(lambda lib, t: ((t > 2).masked_fill(t > 3, float("nan")), t.float().masked_fill(t > 2, float("-inf"))), INTS,
         rtol=1e-6)
    # unsigned: PyTorch wraps a negative value (two's complement) and refuses one beyond the range
    u8 = Tensor(np.array([1, 2, 3], dtype=np.uint8))
    assert u8.masked_fill(u8 > 1, -1).tolist() == torch.tensor([1, 2, 3], dtype=torch.uint8).masked_fill(
        torch.tensor([False, True, True]), -1).tolist() == [1, 255, 255]
    with pytest.raises(RuntimeError, match="masked_fill: value 300 cannot be converted to uint8"):
        u8.masked_fill(u8 > 1, 300)


@pytest.mark.parametrize("expr", ["t - True", "True - t", "t - False", "t - (t > 0)", "(t > 0) - t", "(t > 0) - 1",
                                  "1 - (t > 0)", "t.sub(True)", "t.long() - True", "(t > 0) - (t > 1)"])
def test_subtraction_with_a_bool_is_refused(expr: str) -> None:
    # was: True counted as 1; PyTorch refuses `-` with any bool operand
    both_raise(lambda lib, t: eval(expr, {}, {"t": t}), X, match="sub: subtraction with a bool operand")


def test_addition_with_a_bool_is_allowed() -> None:
    same(lambda lib, t: (t + True, True + t, t.add(True), t + (t > 0), (t > 0) + True, t.long() + True), X)


def test_floor_divide_and_remainder_errors() -> None:
    for op in (lambda a, b: a // b, lambda a, b: a % b):
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            op(torch.tensor(INTS), torch.tensor([1, 0, 2]))
        with pytest.raises(ZeroDivisionError, match=r"(floor_divide|remainder): integer division by zero"):
            op(Tensor(INTS), Tensor(np.array([1, 0, 2])))
        with pytest.raises(ZeroDivisionError, match="integer division by zero"):
            op(Tensor(INTS), 0)
    # floats divide by zero as IEEE does
    same(lambda lib, t: (t.detach() // 0.0, t.detach() % 0.0, t.detach() % float("inf"), t.detach() // float("-inf")),
         np.array([-7.5, 0.0, 7.5]))
    both_raise(lambda lib, t: (t > 0) // (t > 1), X, match="floor_divide: not supported for bool")
    both_raise(lambda lib, t: (t > 0) % (t > 1), X, match="remainder: not supported for bool")
    same(lambda lib, t: ((t > 0) // 2, (t > 0) % 2, t.detach() // True, t % True, t.long() % True), X)
    # the derivative of // is not implemented in PyTorch: the result requires grad, backward raises
    both_raise(lambda lib, t: (t // 0.5).sum().backward(), X, match="floor_divide: the derivative is not implemented")


def test_prod_takes_one_int_dim() -> None:
    both_raise(lambda lib, t: t.prod((0, 1)), X, match="prod: dim must be an int")
    both_raise(lambda lib, t: t.prod(3), X, match="prod: dim 3 is out of range")
    same(lambda lib, t: (t.prod(0), t.prod(-1, keepdim=True), t.long().prod(), (t > 0).prod(1), t[0, 0, 0].prod(0)), X)
    same(lambda lib, t: (t[:, :0].prod(), t[:, :0].prod(1), t[:, :0].prod(2)), X)  # empty: 1, and an empty gradient


def test_sum_mean_dtype_errors() -> None:
    both_raise(lambda lib, t: t.sum(dtype=lib.int64), X, match="sum: dtype int64 cannot carry a gradient")
    both_raise(lambda lib, t: t.detach().mean(dtype=lib.int64), X, match="mean: dtype must be a floating-point dtype")
    both_raise(lambda lib, t: t.sum(0, True, lib.float64), X, match="sum")  # dtype is keyword-only
    same(lambda lib, t: (t.detach().sum(dtype=lib.int64), (t.detach() * 3).prod(1, dtype=lib.int64)), X)


def test_norm_errors() -> None:
    both_raise(lambda lib, t: t.norm(), INTS, match="norm: needs a floating-point tensor")
    both_raise(lambda lib, t: t.norm("fro", dim=(0, 1, 2)), X, match="norm: p='fro' takes at most 2 dims")
    both_raise(lambda lib, t: t[:, :0].norm(float("inf")), X, match="norm: .*size 0")
    both_raise(lambda lib, t: t[:, :0].norm(float("inf"), dim=1), X, match="norm: .*size 0")
    same(lambda lib, t: (t[:, :0].norm(), t[:, :0].norm(1, dim=1), t[:, :0].norm(float("inf"), dim=2)), X)
    same(lambda lib, t: (t.norm(dim=()), t.norm("fro", dim=()), t.norm(None, 1, True), t[0, 0, 0].norm(dim=0)), X,
         rtol=RTOL_REDUCTION)
    for p in (3, 0, float("-inf"), "nuc"):  # PyTorch has them; not added here
        with pytest.raises(ValueError, match=f"norm: p={p!r} is not supported"):
            Tensor(X).norm(p)


@pytest.mark.parametrize("fn,match", [
    (lambda lib, t: t.repeat(2), "repeat: 1 repeats"),
    (lambda lib, t: t.repeat(2, -1, 1), "repeat: repeats must be non-negative"),
    (lambda lib, t: t.repeat(), "repeat: missing the repeats"),
    (lambda lib, t: t.unflatten(1, (2, 2)), r"unflatten: sizes \(2, 2\) do not multiply up to 3"),
    (lambda lib, t: t.unflatten(1, ()), "unflatten: sizes must be non-empty"),
    (lambda lib, t: t.unflatten(1, (-1, -1)), "unflatten: invalid sizes"),
    (lambda lib, t: t.unflatten(1, (-2, -3)), "unflatten: invalid sizes"),
    (lambda lib, t: t.unflatten(3, (3,)), "unflatten: dim 3 is out of range"),
    (lambda lib, t: t.unflatten(1, 3), "unflatten: sizes must be a tuple"),
    (lambda lib, t: t[0, 0, 0].unflatten(0, (1,)), "unflatten: .*no dims"),
    (lambda lib, t: t[:, :0].unflatten(1, (-1, 0)), "unflatten: the -1 .* ambiguous"),
    (lambda lib, t: t.split(split_size_or_sections=2), "split"),  # Tensor.split's keyword is split_size
    (lambda lib, t: lib.where(t > 0, t), "where"),
])
def test_shape_op_errors(fn: Fn, match: str) -> None:
    both_raise(fn, X, match=match)


def test_shape_ops_edges() -> None:
    same(lambda lib, t: (t.repeat(1, 0, 2), t[0, 0, 0].repeat(3), t[0, 0, 0].repeat(2, 1), t.repeat([2, 1, 1]),
                         t.long().repeat(2, 1, 1), t.expand_as(t.repeat(2, 1, 1, 1))), X)
    same(lambda lib, t: (t[:, :0].unflatten(1, (0, 5)), t.unflatten(-1, [2, -1]), t.unflatten(0, (1, 2, 1))), X)
    same(lambda lib, t: (t.split(split_size=[1, 2], dim=1), t.split(split_size=3, dim=-1)), X)


def test_where_with_the_condition_only() -> None:
    # torch.where(condition) is nonzero(condition, as_tuple=True); any dtype, NaN counts as nonzero
    same(lambda lib, t: (lib.where(t > 0), lib.where(t.long()), lib.where(t[0, 0, 0] > 0),
                         lib.where(t[0, 0, 0] * 0)), X)
    same(lambda lib, t: lib.where(t), np.array([[0.0, np.nan], [-0.0, 2.0]]))
    same(lambda lib, t: lib.where(t[:, :0]), X)
