"""Forward mode: each primitive's JVP against PyTorch's forward AD and against central differences.

Every program below is written once against ``lib`` (tinygrad_tx or torch) and run on float64 inputs, each
input made dual with a random tangent. The output tangent J ẋ must equal PyTorch's to a scale-relative
1e-12 (the same arithmetic, up to summation order) and the central difference (f(x + hẋ) - f(x - hẋ)) / 2h
to 1e-6 (its truncation error, h² · f''', is about 1e-10 here, its rounding about 1e-10 / h = 1e-5 ·
eps ≈ 1e-11; 1e-6 leaves room for the curvature of exp and pow without hiding a wrong rule, which is off
by O(1)). Inputs stay away from the kinks of relu, max and abs, where one-sided derivatives differ.
"""

from __future__ import annotations

import unicodedata

import numpy as np
import pytest

import tinygrad_tx as tx
from tests.helpers import assert_close
from tinygrad_tx.autograd import forward_ad as fwAD

torch = pytest.importorskip("torch")
import torch.autograd.forward_ad as torch_fwAD  # noqa: E402

RTOL_TORCH = 1e-12
RTOL_FD = 1e-6

W = np.random.default_rng(99).standard_normal((4, 5))

PROGRAMS = {
    "add_mul_sub": lambda lib, x, y: x * y + x - 2.5 * y,
    "div": lambda lib, x, y: x / (y * y + 1.0),
    "pow_tensor_exponent": lambda lib, x, y: (x * x + 1.0) ** (y * 0.5),
    "pow_number": lambda lib, x, y: x ** 3 + (y * y + 0.5) ** -0.5,
    "exp_log": lambda lib, x, y: (x.exp() + 1.0).log() * y,
    "tanh_sigmoid": lambda lib, x, y: x.tanh() * y.sigmoid(),
    "sin_cos": lambda lib, x, y: x.sin() + y.cos() * x,
    "erf": lambda lib, x, y: x.erf() * y,
    "relu": lambda lib, x, y: (x + 0.1).relu() * y,
    "maximum": lambda lib, x, y: x.maximum(y + 0.05),
    "where": lambda lib, x, y: lib.where(x > 0, x * y, y.exp()),
    "remainder": lambda lib, x, y: (x * 3.0) % (y * y + 0.7),
    "sum_mean": lambda lib, x, y: x.sum(0) * y.mean(1).sum(),
    "prod": lambda lib, x, y: x.prod(1) + y.prod(),
    "amax": lambda lib, x, y: x.amax(1) + y.amax(),
    "matmul": lambda lib, x, y: x @ y.T,
    "shapes": lambda lib, x, y: x.reshape(2, 6).permute(1, 0)[1:5] * y.T.reshape(6, 2)[2:6],
    "broadcast": lambda lib, x, y: x[:, :1] * y[:1, :] + x.sum(),
    "getitem_repeats": lambda lib, x, y: x[[0, 0, 2]] + y[[1, 1, 1]],
    "index_add": lambda lib, x, y: lib.zeros(5, 4, dtype=x.dtype).index_add(0, lib.tensor([0, 2, 0]), x) * 1.0
    if lib is torch else _index_add(x),
    "cat_stack": lambda lib, x, y: lib.cat([x, y * 2.0], 1) + lib.stack([x, y], 0).sum(0).repeat(1, 2),
    "softmax_logsoftmax": lambda lib, x, y: x.softmax(-1) * y.log_softmax(0),
    "var_std_norm": lambda lib, x, y: x.var(1) + y.std(0).sum() + x.norm(),
    "clamp_abs": lambda lib, x, y: x.clamp(-0.5, 0.5) * y.abs(),
    "mlp": lambda lib, x, y: ((x @ lib.tensor(W)).tanh() @ lib.tensor(W).T * y).sum(-1),
    "cumsum": lambda lib, x, y: x.cumsum(1) * y.cumsum(0),
    "bce": lambda lib, x, y: lib.nn.functional.binary_cross_entropy(x.sigmoid(), y.sigmoid(), reduction="none"),
    "cast_float32_roundtrip": lambda lib, x, y: x.to(lib.float32).to(lib.float64) * y,
}

# a float32 round trip rounds x + hẋ to 2⁻²⁴ relative: a central difference there measures the rounding
NO_DIFFERENCES = {"cast_float32_roundtrip"}


def _index_add(x):  # the scatter-add primitive, which tinygrad_tx reaches through the VJP of indexing
    from tinygrad_tx import ops

    return ops.IndexAdd.apply(x, shape=(5, 4), index=np.array([0, 2, 0]))


def _inputs(seed: int):
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    x[np.abs(x) < 0.2] += 0.5  # away from the kinks
    y[np.abs(y) < 0.2] += 0.5
    return x, y, rng.standard_normal((3, 4)), rng.standard_normal((3, 4))


def _ours(fn, x, y, tx_, ty):
    with fwAD.dual_level():
        out = fn(tx, fwAD.make_dual(tx.tensor(x), tx.tensor(tx_)), fwAD.make_dual(tx.tensor(y), tx.tensor(ty)))
        primal, tangent = fwAD.unpack_dual(out)
        return np.array(primal.detach().numpy()), np.array(tangent.detach().numpy())


def _torch(fn, x, y, tx_, ty):
    with torch_fwAD.dual_level():
        out = fn(torch, torch_fwAD.make_dual(torch.tensor(x), torch.tensor(tx_)),
                 torch_fwAD.make_dual(torch.tensor(y), torch.tensor(ty)))
        primal, tangent = torch_fwAD.unpack_dual(out)
        return primal.detach().numpy(), tangent.detach().numpy()


@pytest.mark.parametrize("name", sorted(PROGRAMS))
@pytest.mark.parametrize("seed", [0, 1])
def test_jvp_equals_torch_and_finite_differences(name: str, seed: int) -> None:
    fn = PROGRAMS[name]
    x, y, tx_, ty = _inputs(seed)
    primal, tangent = _ours(fn, x, y, tx_, ty)
    t_primal, t_tangent = _torch(fn, x, y, tx_, ty)
    assert_close(primal, t_primal, RTOL_TORCH, f"{name}: primal")
    assert_close(tangent, t_tangent, RTOL_TORCH, f"{name}: tangent against torch")
    if name in NO_DIFFERENCES:
        return
    h = 1e-5

    def value(s: float) -> np.ndarray:
        with tx.no_grad():
            return fn(tx, tx.tensor(x + s * tx_), tx.tensor(y + s * ty)).detach().numpy()

    assert_close(tangent, (value(h) - value(-h)) / (2 * h), RTOL_FD, f"{name}: tangent against differences")


def test_a_missing_tangent_is_skipped_not_multiplied_by_zero() -> None:
    """b carries no tangent: ẏ = ȧ b aᵇ⁻¹ alone. Multiplying a zero tangent by y ln a would give 0 · nan
    for negative a (and PyTorch gives the finite value)."""
    a = np.array([-2.0, -0.5, 3.0])
    with fwAD.dual_level():
        d = fwAD.make_dual(tx.tensor(a), tx.tensor(np.ones(3)))
        tangent = fwAD.unpack_dual(d ** tx.tensor(np.array([2.0, 3.0, 0.5]))).tangent
    assert_close(tangent.numpy(), np.array([2 * -2.0, 3 * 0.25, 0.5 / np.sqrt(3.0)]), 1e-15, "d/da a^b")


def test_forward_over_reverse_is_a_hessian_vector_product() -> None:
    """The JVP of a gradient: H v in one forward-with-tangents pass and one backward, as torch's hvp."""
    rng = np.random.default_rng(3)
    x, v = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))

    def f(lib, x):
        h = (x @ lib.tensor(W)).tanh()
        return ((h.softmax(-1) * h.exp()).sum(-1).log() / (x.sum(-1) ** 2 + 1)).sum() + (x.amax(-1) * x.prod(-1)).sum()

    with fwAD.dual_level():
        d = fwAD.make_dual(tx.tensor(x, requires_grad=True), tx.tensor(v))
        (g,) = tx.grad(f(tx, d), [d], create_graph=True)
        hv = fwAD.unpack_dual(g).tangent.detach().numpy()
    _, expected = torch.autograd.functional.hvp(lambda t: f(torch, t), torch.tensor(x), torch.tensor(v))
    assert_close(hv, expected.numpy(), 1e-10, "H v")


def test_the_level_scopes_the_tangents() -> None:
    with fwAD.dual_level():
        d = fwAD.make_dual(tx.tensor([1.0, 2.0]), tx.tensor([1.0, 0.0]))
        y = d * 3.0
        assert fwAD.unpack_dual(y).tangent is not None
    assert fwAD.unpack_dual(y).tangent is None and fwAD.unpack_dual(d).tangent is None
    with fwAD.dual_level():  # a tensor without a tangent unpacks to (itself, None)
        t = tx.tensor([1.0])
        assert fwAD.unpack_dual(t) == (t, None)


def test_forward_mode_mistakes_raise_clearly() -> None:
    with pytest.raises(RuntimeError, match="inside `with forward_ad.dual_level"):
        fwAD.make_dual(tx.tensor([1.0]), tx.tensor([1.0]))
    with fwAD.dual_level():
        with pytest.raises(RuntimeError, match="nested"):
            fwAD.enter_dual_level()
        with pytest.raises(ValueError, match=r"tangent has shape \(2,\), the primal \(3,\)"):
            fwAD.make_dual(tx.tensor([1.0, 2.0, 3.0]), tx.tensor([1.0, 2.0]))
        with pytest.raises(TypeError, match="floating point"):
            fwAD.make_dual(tx.tensor([1, 2]), tx.tensor([1.0, 2.0]))

        class Square(tx.Function):
            @staticmethod
            def forward(ctx, x):
                return x * x

            @staticmethod
            def backward(ctx, g):
                return g

        with pytest.raises(RuntimeError, match="square: this Function has no jvp"):
            Square.apply(fwAD.make_dual(tx.tensor([1.0]), tx.tensor([1.0])))
        with pytest.raises(RuntimeError, match="floor_divide: the derivative is not implemented"):
            fwAD.make_dual(tx.tensor([3.0]), tx.tensor([1.0])) // 2.0


def test_a_custom_function_with_a_jvp() -> None:
    class Cube(tx.Function):
        """y = x³.   ẏ = 3x² ẋ   |   x̄ = 3x² ȳ"""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x * x * g

        @staticmethod
        def jvp(ctx, tx_):
            (x,) = ctx.inputs
            return 3 * x * x * tx_

    with fwAD.dual_level():
        y = Cube.apply(fwAD.make_dual(tx.tensor([1.0, -2.0]), tx.tensor([1.0, 0.5])))
        assert fwAD.unpack_dual(y).tangent.tolist() == [3.0, 6.0]


def test_in_place_updates_carry_the_tangent() -> None:
    with fwAD.dual_level():
        d = fwAD.make_dual(tx.tensor([1.0, 2.0]), tx.tensor([1.0, 1.0]))
        y = d * 2.0
        y += d * d
        assert fwAD.unpack_dual(y).tangent.tolist() == [4.0, 6.0]  # 2 + 2x


def test_every_primitive_has_a_jvp_and_states_it() -> None:
    """A new primitive cannot skip forward mode: each has a ``jvp`` and its docstring gives ẏ beside x̄."""
    from tinygrad_tx import ops

    primitives = [c for c in vars(ops).values() if isinstance(c, type) and issubclass(c, tx.Function)
                  and c is not tx.Function]
    assert len(primitives) >= 30
    for c in primitives:
        assert "jvp" in vars(c), f"{c.__name__} has no jvp"
        first = unicodedata.normalize("NFD", "\n".join(c.__doc__.split("\n\n")[:2]))  # ẏ: y + a combining dot
        assert "|" in first and "\u0307" in first, f"{c.__name__}'s docstring lacks 'ẏ = ...   |   x̄ = ...': {first!r}"


def test_the_scalar_engine_carries_tangents_too() -> None:
    """A `Value` in forward mode: ẏ = da · ȧ + db · ḃ with the same local derivatives the backward multiplies
    by. On the staged f(x, y) of notebook 01, the tangent along (1, 0) is ∂f/∂x and along (0, 1) is ∂f/∂y,
    equal to the reverse mode's gradient and to the tensor engine's forward mode, bit for bit."""
    def f(x, y):  # (CS231n's staged example: sigmoid and a quotient)
        num = x + (1 / (1 + (-y).exp()))
        den = (1 / (1 + (-x).exp())) + (x + y) ** 2
        return num / den + x.relu() * (y.tanh() - x.log() if hasattr(x, "log") else 0)

    x0, y0 = 3.0, -4.0
    xv, yv = tx.Value(x0), tx.Value(y0)
    out = f(xv, yv)
    out.backward()
    for seed, reverse in (((1.0, 0.0), xv.grad), ((0.0, 1.0), yv.grad)):
        with fwAD.dual_level():
            fx, fy = fwAD.make_dual(tx.Value(x0), seed[0]), fwAD.make_dual(tx.Value(y0), seed[1])
            value, tangent = fwAD.unpack_dual(f(fx, fy))
            assert value.data == out.data and tangent == pytest.approx(reverse, rel=1e-15)
            tt = [fwAD.make_dual(tx.tensor(v, dtype=tx.float64), tx.tensor(s, dtype=tx.float64))
                  for v, s in ((x0, seed[0]), (y0, seed[1]))]
            assert fwAD.unpack_dual(f(*tt)).tangent.item() == pytest.approx(tangent, rel=1e-15)
    assert tx.Value(1.0).tangent is None
    with fwAD.dual_level():
        d = fwAD.make_dual(tx.Value(2.0), 1.0)
        assert (d * d).tangent == 4.0 and (d - d).tangent == 0.0
    assert d.tangent is None  # the level is over


@pytest.mark.parametrize("x0, y0", [(3.0, -4.0), (-1.5, 2.0), (2.0, 2.0), (0.0, 1.0)])
def test_value_max_min_abs_carry_tangents_equal_to_their_gradients(x0: float, y0: float) -> None:
    """The new gates of `Value` (max routes, a tie splits, abs signs) in forward mode: along (1, 0) and (0, 1)
    the tangent is the reverse mode's gradient, exactly (both multiply the same local derivatives)."""
    def f(x, y):
        return x.max(y) * 2.0 + x.min(y * 0.5) + (x - y).abs() * x

    xv, yv = tx.Value(x0), tx.Value(y0)
    f(xv, yv).backward()
    for seed, reverse in (((1.0, 0.0), xv.grad), ((0.0, 1.0), yv.grad)):
        with fwAD.dual_level():
            fx, fy = fwAD.make_dual(tx.Value(x0), seed[0]), fwAD.make_dual(tx.Value(y0), seed[1])
            assert fwAD.unpack_dual(f(fx, fy)).tangent == reverse
