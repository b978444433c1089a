"""Edge cases of the tensor engine found by differential fuzzing against PyTorch (issue 9): each was a
silent wrong answer or a raw crash. PyTorch is the oracle wherever it defines the answer; where its
answer is an error, ours must be a clear error too.

The last part is a differential probe over dtypes x ops (reductions, arithmetic with Python numbers in
and out of a dtype's range, pow, comparisons, fill values, construction from lists holding NumPy
scalars): every case must give PyTorch's dtype and values, or fail where PyTorch fails.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tinygrad_tx as tg
from tinygrad_tx import Function, Tensor, Value, functional, grad
from tinygrad_tx.manual.fused import FusedCausalAttention, FusedCrossEntropy, FusedGELU

torch = pytest.importorskip("torch")  # PyTorch is the oracle of almost every test here: without it, the module skips


def t64(data: Any, requires_grad: bool = False) -> Tensor:
    return Tensor(np.asarray(data, dtype=np.float64), requires_grad=requires_grad)


def p64(data: Any, requires_grad: bool = False) -> torch.Tensor:
    return torch.tensor(np.asarray(data, dtype=np.float64), requires_grad=requires_grad)


# ------------------------------------------------------------------- retain_grad and in-place ops


def test_retain_grad_follows_the_tensor_through_an_in_place_op() -> None:
    def run(lib: Any, make: Callable[..., Any]) -> np.ndarray:
        x = make([1.0, 2.0], True)
        h = x * 2
        h.retain_grad()
        h *= 3
        (h * h).sum().backward()
        return np.asarray(h.grad)

    np.testing.assert_array_equal(run(tg, t64), run(torch, p64))  # [12, 24]: dL/d(the new h), not [36, 72]


def test_retain_grad_follows_the_tensor_through_setitem() -> None:
    def run(make: Callable[..., Any]) -> np.ndarray:
        x = make([1.0, 2.0], True)
        h = x * 2
        h.retain_grad()
        h[0] = 5.0
        (h * h).sum().backward()
        return np.asarray(h.grad)

    np.testing.assert_array_equal(run(t64), run(p64))  # [10, 8], not [0, 8]


# ----------------------------------------------------------------------- no detour through float32


def test_copy_of_a_python_float_into_a_float64_tensor_is_exact() -> None:
    t = Tensor(np.zeros(3))
    t.copy_(0.1)
    assert t.dtype == np.float64 and t.data.tolist() == [0.1, 0.1, 0.1]  # not 0.10000000149


@pytest.mark.parametrize("dtype,value", [("uint8", 300), ("uint8", -1), ("int64", 2.7), ("float64", [0.1, 0.2, 0.3])])
def test_copy_converts_numbers_as_pytorch(dtype: str, value: Any) -> None:
    ours = Tensor(np.zeros(3, dtype=dtype)).copy_(value)
    source = torch.tensor(value, dtype=torch.float64) if isinstance(value, list) else value
    theirs = torch.zeros(3, dtype=getattr(torch, dtype)).copy_(source)
    assert ours.data.tolist() == theirs.tolist()


class _ConstantGradient(Function):
    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        return x * 2

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return np.full(g.shape, 0.1)  # an array (a Python float for a 0-d input): made a gradient at x's dtype


class _Float32Gradient(Function):
    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        return x * 2

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return Tensor(np.full(g.shape, 0.1, dtype=np.float32))


def test_a_custom_backward_returning_a_number_keeps_the_input_dtype() -> None:
    x = Tensor(np.zeros(()), requires_grad=True)

    class Scalar(Function):
        @staticmethod
        def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
            return x * 2

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            return 0.1

    Scalar.apply(x).backward()
    assert x.grad.dtype == np.float64 and x.grad.item() == 0.1
    y = Tensor(np.zeros(2), requires_grad=True)
    _ConstantGradient.apply(y).sum().backward()
    assert y.grad.tolist() == [0.1, 0.1]


def test_a_custom_backward_of_another_dtype_is_converted_like_pytorch() -> None:
    x = Tensor(np.zeros(2), requires_grad=True)
    h = x * 1.0  # an intermediate: the gradient reaching it must already be float64
    (_Float32Gradient.apply(h) * 1.0).sum().backward()

    class Twin(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
            return x * 2

        @staticmethod
        def backward(ctx: Any, g: torch.Tensor) -> torch.Tensor:
            return torch.full(g.shape, 0.1, dtype=torch.float32)

    xt = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    (Twin.apply(xt * 1.0) * 1.0).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad, xt.grad.numpy())


# ------------------------------------------------------------------------- integers beyond int64


@pytest.mark.parametrize("data", [2**63, [2**63, 1], -(2**63) - 1, [1, 2**70], [True, 2**64]])
def test_integers_beyond_int64_are_refused(data: Any) -> None:
    with pytest.raises(ValueError):
        torch.tensor(data)
    with pytest.raises(ValueError, match="does not fit in int64"):
        tg.tensor(data)


@pytest.mark.parametrize("data", [[2**63, 1.5], 2**62, -(2**63)])
def test_integers_that_pytorch_accepts(data: Any) -> None:
    ours, theirs = tg.tensor(data), torch.tensor(data)
    assert str(ours.dtype) == str(theirs.dtype)  # (both "torch.float32" since issue 11)
    np.testing.assert_array_equal(ours.data, theirs.numpy())


# ---------------------------------------------------------------- a forward that returns its input


class _Identity(Function):
    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return x  # unchanged: the saved array is the input, not the output

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return g * x


def test_a_forward_returning_its_input_saves_the_input() -> None:
    x = t64([2.0, 3.0], True)
    (g,) = grad(_Identity.apply(x).sum(), x, create_graph=True)
    (gg,) = grad(g.sum(), x)

    class Twin(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
            ctx.save_for_backward(x)
            return x

        @staticmethod
        def backward(ctx: Any, g: torch.Tensor) -> torch.Tensor:
            (x,) = ctx.saved_tensors
            return g * x

    xt = p64([2.0, 3.0], True)
    (gt,) = torch.autograd.grad(Twin.apply(xt).sum(), xt, create_graph=True)
    (ggt,) = torch.autograd.grad(gt.sum(), xt)
    np.testing.assert_array_equal(g.data, gt.detach().numpy())
    np.testing.assert_array_equal(gg.data, ggt.numpy())  # [1, 1], not [2, 3]


# ------------------------------------------------------- a caller's arrays cannot change a gradient


def test_an_ndarray_operand_changed_through_another_view_does_not_change_the_gradient() -> None:
    x = t64(np.ones(4), True)
    base = np.ones(4)
    alias = base[:]
    y = (x * base).sum()
    alias[0] = 100.0  # the graph saved a copy: the caller may change its array
    y.backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0, 1.0, 1.0])  # not [100, 1, 1, 1]


def test_a_where_condition_changed_after_the_forward_does_not_change_the_gradient() -> None:
    x = t64(np.ones(3), True)
    mask = np.array([True, False, True])
    y = tg.where(mask, x, 0.0).sum()
    mask[1] = True
    y.backward()
    np.testing.assert_array_equal(x.grad, [1.0, 0.0, 1.0])


def test_an_index_array_changed_after_the_forward_does_not_change_the_gradient() -> None:
    x = t64(np.arange(4.0), True)
    idx = np.array([0, 0, 2])
    y = x[idx].sum()
    idx[:] = 3
    y.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 0.0, 1.0, 0.0])


def test_a_write_into_a_saved_array_says_what_is_protected_and_what_to_do() -> None:
    x = t64([1.0, 2.0, 3.0], True)
    y = (x * x).sum()
    for write in (lambda a: a.__setitem__(0, 5.0), lambda a: a.__iadd__(1.0), lambda a: np.add(a, 1, out=a),
                  lambda a: a.fill(0.0), lambda a: a.reshape(3, 1).__setitem__(0, 1.0)):
        with pytest.raises(ValueError, match=r"read-only: a live graph saved it for backward \(in 'mul'\).*backward"):
            write(x.detach().numpy())
    with pytest.raises(ValueError, match="live graph saved it"):
        x.detach().numpy()[0] = 5.0
    view = x.detach().numpy()
    y.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0, 6.0])
    view[0] = 7.0  # the graph is released: the view obtained before is writeable again
    assert x.data.tolist() == [7.0, 2.0, 3.0]
    assert type(x.detach().numpy()) is np.ndarray


def test_a_view_made_before_the_forward_is_protected_too() -> None:
    a = t64(np.arange(4.0), True)
    b = a.reshape(2, 2)  # shares a's memory
    z = (a * a).sum()
    with pytest.raises(ValueError, match="live graph saved it"):
        b.detach().numpy()[0, 0] = 100.0
    z.backward()
    np.testing.assert_array_equal(a.grad, [0.0, 2.0, 4.0, 6.0])


def test_computations_on_a_protected_array_give_plain_arrays() -> None:
    x = t64([1.0, 2.0], True)
    y = (x * x).sum()
    xa = x.detach().numpy()
    for result in (xa + 1, xa.copy(), np.zeros_like(xa), np.concatenate([xa, xa]),
                   xa.astype(np.float32), np.asarray(x.detach())):
        assert type(result) is np.ndarray
    assert xa.copy().flags.writeable
    del y


@pytest.mark.parametrize("path", ["fused", "composed"])
def test_the_fused_gelu_protects_its_input_like_the_composed_path(path: str) -> None:
    x = t64([0.5, -1.0, 2.0], True)
    y = (FusedGELU.apply(x, approximate="none") if path == "fused" else functional.gelu(x)).sum()
    try:
        x.detach().numpy()[0] = 100.0  # the fused op reads x itself in backward: refused
    except ValueError as e:
        assert "live graph saved it for backward" in str(e)
    else:
        assert path == "composed"  # its VJPs read only intermediates, which keep the forward's values
    y.backward()
    xt = p64([0.5, -1.0, 2.0], True)
    torch.nn.functional.gelu(xt).sum().backward()
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("which", [0, 1, 2])
def test_the_fused_attention_protects_q_k_v(which: int) -> None:
    rng = np.random.default_rng(0)
    qkv = [t64(rng.standard_normal((2, 3, 4)), True) for _ in range(3)]
    y = FusedCausalAttention.apply(*qkv).sum()
    with pytest.raises(ValueError, match="live graph saved it for backward"):
        qkv[which].detach().numpy()[0, 0, 0] = 1e3
    y.backward()


def test_the_fused_cross_entropy_keeps_the_targets_of_the_forward() -> None:
    logits = t64(np.zeros((2, 3)), True)
    targets = np.array([0, 1])
    loss = FusedCrossEntropy.apply(logits, targets=targets)
    targets[:] = 2
    loss.backward()
    expected = np.full((2, 3), 1 / 6)
    expected[[0, 1], [0, 1]] -= 0.5
    np.testing.assert_allclose(logits.grad, expected, rtol=1e-12)


# ---------------------------------------------------------- a Value (the scalar engine) and a Tensor

_MIXED = r"^cannot mix a Value \(the scalar engine\) and a Tensor in '{op}': use Tensor\(v.data\) for the value, " \
         r"or t.item\(\) for a one-element tensor$"


def _value_cases() -> list[tuple[str, str, Callable[[Tensor, Tensor, Value], Any]]]:
    binary = [("add", "__add__"), ("add", "__radd__"), ("sub", "__sub__"), ("sub", "__rsub__"), ("mul", "__mul__"),
              ("mul", "__rmul__"), ("div", "__truediv__"), ("div", "__rtruediv__"), ("pow", "__pow__"),
              ("pow", "__rpow__"), ("floor_divide", "__floordiv__"), ("floor_divide", "__rfloordiv__"),
              ("remainder", "__mod__"), ("remainder", "__rmod__"), ("matmul", "__matmul__"),
              ("matmul", "__rmatmul__"), ("lt", "__lt__"), ("le", "__le__"), ("gt", "__gt__"), ("ge", "__ge__"),
              ("eq", "__eq__"), ("ne", "__ne__"), ("add", "add"), ("sub", "sub"), ("mul", "mul"), ("div", "div"),
              ("pow", "pow"), ("floor_divide", "floor_divide"), ("remainder", "remainder"), ("matmul", "matmul"),
              ("maximum", "maximum"), ("minimum", "minimum"), ("max", "max"), ("min", "min")]
    cases: list[tuple[str, str, Callable[[Tensor, Tensor, Value], Any]]] = [
        (op, name, lambda t, h, v, name=name: getattr(t, name)(v)) for op, name in binary]
    in_place = [("add_", "__iadd__"), ("sub_", "__isub__"), ("mul_", "__imul__"), ("div_", "__itruediv__"),
                ("add_", "add_"), ("sub_", "sub_"), ("mul_", "mul_"), ("div_", "div_"), ("copy_", "copy_"),
                ("fill_", "fill_")]
    cases += [(op, name, lambda t, h, v, name=name: getattr(h, name)(v)) for op, name in in_place]
    bitwise = [("bitwise_and", "__and__"), ("bitwise_and", "__rand__"), ("bitwise_or", "__or__"),
               ("bitwise_or", "__ror__"), ("bitwise_xor", "__xor__"), ("bitwise_xor", "__rxor__")]
    cases += [(op, name, lambda t, h, v, name=name: getattr(Tensor([1, 2]), name)(v)) for op, name in bitwise]
    cases += [
        ("add", "add(alpha=2)", lambda t, h, v: t.add(v, alpha=2)),
        ("clamp", "clamp(min=)", lambda t, h, v: t.clamp(min=v)),
        ("clamp", "clamp(max=)", lambda t, h, v: t.clamp(max=v)),
        ("where", "where(c, v, t)", lambda t, h, v: tg.where(t > 1, v, t)),
        ("where", "where(c, t, v)", lambda t, h, v: tg.where(t > 1, t, v)),
        ("where", "where(v, t, t)", lambda t, h, v: tg.where(v, t, t)),
        ("masked_fill", "masked_fill", lambda t, h, v: t.masked_fill(t > 1, v)),
        ("setitem", "setitem", lambda t, h, v: h.__setitem__(0, v)),
        ("cat", "cat", lambda t, h, v: tg.cat([t, v])),
        ("stack", "stack", lambda t, h, v: tg.stack([t, v])),
        ("matmul", "tg.matmul", lambda t, h, v: tg.matmul(v, t)),
        ("gather", "gather", lambda t, h, v: t.gather(0, v)),
        ("tensor", "Tensor(v)", lambda t, h, v: Tensor(v)),
        ("tensor", "tensor([v, 1.0])", lambda t, h, v: tg.tensor([v, 1.0])),
    ]
    return cases


@pytest.mark.parametrize("op,name,call", _value_cases(), ids=[c[1] for c in _value_cases()])
def test_a_tensor_refuses_a_value_with_one_message(op: str, name: str, call: Callable[..., Any]) -> None:
    t = Tensor([1.0, 2.0], requires_grad=True)
    h = t * 1
    with pytest.raises(TypeError, match=_MIXED.format(op=op)):
        call(t, h, Value(1.0))


@pytest.mark.parametrize("expr", [lambda v, t: v + t, lambda v, t: v * t, lambda v, t: v - t, lambda v, t: v / t,
                                  lambda v, t: v**t], ids=["+", "*", "-", "/", "**"])
def test_a_value_on_the_left_of_a_tensor_is_refused(expr: Callable[[Value, Tensor], Any]) -> None:
    t = Tensor([1.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"^cannot mix a Value \(the scalar engine\) and a Tensor in '"):
        expr(Value(1.0), t)


# ---------------------------------------------------------- primitives save only what their VJP uses


@pytest.mark.parametrize("side", ["left", "right"])
def test_matmul_with_a_constant_does_not_save_the_other_operand(side: str) -> None:
    rng = np.random.default_rng(1)
    x0, w0 = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))

    def run(make: Callable[..., Any]) -> np.ndarray:
        x, w = make(x0, True), make(w0)
        h = x * 1
        y = h @ w if side == "left" else w @ h
        h += 1  # the VJP of h needs only w: PyTorch computes, and so must we
        y.sum().backward()
        return np.asarray(x.grad)

    np.testing.assert_allclose(run(t64), run(p64), rtol=1e-13)


@pytest.mark.parametrize("op", ["mul", "matmul", "div", "pow"])
def test_saving_less_keeps_grad_of_grad_right(op: str) -> None:
    rng = np.random.default_rng(2)
    x0, c0, v0 = rng.uniform(0.5, 1.5, (3, 3)), rng.uniform(0.5, 1.5, (3, 3)), rng.standard_normal((3, 3))
    fns = {"mul": lambda x, c: (x * c * x).sum(), "matmul": lambda x, c: ((x @ c) * x).sum(),
           "div": lambda x, c: (x / c * x).sum(), "pow": lambda x, c: (x**c).sum() + (c**x).sum()}

    x, c = t64(x0, True), t64(c0)
    (g,) = grad(fns[op](x, c), x, create_graph=True)
    (hv,) = grad((g * t64(v0)).sum(), x)
    xt, ct = p64(x0, True), p64(c0)
    (gt,) = torch.autograd.grad(fns[op](xt, ct), xt, create_graph=True)
    (hvt,) = torch.autograd.grad((gt * p64(v0)).sum(), xt)
    np.testing.assert_allclose(hv.data, hvt.numpy(), rtol=1e-12)


# ------------------------------------------------------------------------ dtypes against PyTorch

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
INTEGERS = ["uint8", "int8", "int16", "int32", "int64"]
VALUES = {"bool": [True, False, True], "uint8": [1, 2, 250], "int8": [1, -2, -128], "int16": [1, -2, 3],
          "int32": [1, -2, 3], "int64": [1, -2, 3], "float16": [1.5, -2.0, 3.0], "float32": [1.5, -2.0, 3.0],
          "float64": [1.5, -2.0, 3.0]}
NUMBERS = [True, 2, -2, 0, 300, -300, 2**40, 2**63, 2.5, -1.0]
MASK = [True, False, True]


class Lib:
    """One spelling for both libraries: ``lib.t("uint8")`` is a tensor of VALUES["uint8"], ``lib.dt`` a dtype."""

    def __init__(self, module: Any) -> None:
        self.m = module

    def dt(self, name: str) -> Any:
        return getattr(torch, name) if self.m is torch else np.dtype(name)

    def t(self, name: str, values: Any = None) -> Any:
        a = np.array(VALUES[name] if values is None else values, dtype=name)
        return torch.tensor(a) if self.m is torch else Tensor(a)


TG, PT = Lib(tg), Lib(torch)


def _outcome(case: Callable[[Lib], Any], lib: Lib) -> tuple[Any, ...]:
    try:
        r = case(lib)
    except Exception:  # noqa: BLE001  (only that it failed is compared)
        return ("error",)
    if isinstance(r, torch.Tensor):
        name, values = str(r.dtype).removeprefix("torch."), r.numpy()
    else:
        name, values = str(r.dtype).removeprefix("torch."), np.asarray(r.data)
    return ("ok", name, values.astype(np.float64) if values.dtype != bool else values)


def _dtype_cases() -> dict[str, list[tuple[str, Callable[[Lib], Any]]]]:
    """The probe's cases, grouped (one test per group: a few thousand cases run in seconds)."""
    groups: dict[str, list[tuple[str, Callable[[Lib], Any]]]] = {}
    group = ""

    def add(name: str, fn: Callable[[Lib], Any]) -> None:
        groups.setdefault(group, []).append((name, fn))

    for d in DTYPES:
        group = f"{d}: reductions and functions"
        for op in ["sum", "prod", "mean", "amax", "amin", "argmax", "any", "all", "exp", "sqrt", "relu", "tanh",
                   "abs", "neg"]:
            add(f"{op}({d})", lambda L, d=d, op=op: -L.t(d) if op == "neg" else getattr(L.t(d), op)())
        group = f"{d} with Python numbers"
        for op, s in itertools.product(["+", "-", "*", "/", "//", "%", "**", "<", "==", ">="], NUMBERS):
            add(f"{d} {op} {s!r}", lambda L, d=d, op=op, s=s: eval(f"x {op} s", {"x": L.t(d), "s": s}))
            add(f"{s!r} {op} {d}", lambda L, d=d, op=op, s=s: eval(f"s {op} x", {"x": L.t(d), "s": s}))
        group = f"{d}: fill values"
        for s in [True, 2, -1, 300, -300, 2**40, 2.5, 1e5, 1e40, math.nan, math.inf]:
            add(f"masked_fill({d}, {s!r})", lambda L, d=d, s=s: L.t(d).masked_fill(L.t("bool", MASK), s))
            add(f"where({d}, {s!r})", lambda L, d=d, s=s: L.m.where(L.t("bool", MASK), L.t(d), s))
            add(f"clamp({d}, min={s!r})", lambda L, d=d, s=s: L.t(d).clamp(min=s))
            add(f"clamp({d}, max={s!r})", lambda L, d=d, s=s: L.t(d).clamp(max=s))
            add(f"fill_({d}, {s!r})", lambda L, d=d, s=s: L.t(d).fill_(s))
            add(f"full({d}, {s!r})", lambda L, d=d, s=s: L.m.full((2,), s, dtype=L.dt(d)))
            add(f"setitem({d}, {s!r})", lambda L, d=d, s=s: (lambda x: (x.__setitem__(0, s), x)[1])(L.t(d)))
            add(f"tensor({s!r}, dtype={d})", lambda L, d=d, s=s: L.m.tensor(s, dtype=L.dt(d)))
            if d in INTEGERS + ["bool"] and not isinstance(s, float):
                for op in ["&", "|", "^"]:
                    add(f"{d} {op} {s!r}", lambda L, d=d, op=op, s=s: eval(f"x {op} s", {"x": L.t(d), "s": s}))
        group = f"{d} with other dtypes"
        for d2 in DTYPES:
            for op in ["+", "-", "*", "/", "//", "%", "**", "@"]:
                add(f"{d} {op} {d2}", lambda L, d=d, d2=d2, op=op: eval(f"a {op} b", {"a": L.t(d), "b": L.t(d2)}))
            add(f"{d} * 0-d {d2}", lambda L, d=d, d2=d2: L.t(d) * L.t(d2, VALUES[d2][1]))
            for red in ["sum", "prod", "mean"]:
                add(f"{red}({d}, dtype={d2})", lambda L, d=d, d2=d2, red=red: getattr(L.t(d), red)(dtype=L.dt(d2)))
            add(f"cat({d}, {d2})", lambda L, d=d, d2=d2: L.m.cat([L.t(d), L.t(d2)]))
            add(f"{d}.to({d2})", lambda L, d=d, d2=d2: L.t(d).to(L.dt(d2)))
    # NumPy scalars in lists keep their dtype and promote as tensors would (uint16/32/64 are left out:
    # PyTorch refuses most of their promotions; np.bool_ too, which PyTorch's list parser rejects)
    group = "tensor() of Python data"
    scalars = [np.uint8(3), np.int8(-3), np.int16(3), np.int32(3), np.int64(3), np.float16(1.5), np.float32(1.5),
               np.float64(1.5)]
    for sc in scalars:
        for others in ([], [2], [2.5], [True], [np.float16(2.0)], [np.int8(2)]):
            add(f"tensor([{sc!r}, *{others!r}])", lambda L, data=[sc, *others]: L.m.tensor(data))
        add(f"tensor({sc!r})", lambda L, sc=sc: L.m.tensor(sc))
    for data in [[True, 2], [True, 2.5], [1e40], [[1, 2], [3, 4.0]], [], 2**62, -(2**63)]:
        add(f"tensor({data!r})", lambda L, data=data: L.m.tensor(data))
    return groups


DTYPE_CASES = _dtype_cases()


def _agree(ours: tuple[Any, ...], theirs: tuple[Any, ...]) -> bool:
    if ours[:2] != theirs[:2]:
        return False
    return ours[0] == "error" or bool(np.allclose(ours[2], theirs[2], rtol=1e-3, equal_nan=True))


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("group", list(DTYPE_CASES))
def test_dtypes_match_pytorch(group: str) -> None:
    """Each case gives PyTorch's dtype and values (to 1e-3: float16 cases), or fails where PyTorch fails."""
    mismatches = []
    for name, case in DTYPE_CASES[group]:
        ours, theirs = _outcome(case, TG), _outcome(case, PT)
        if not _agree(ours, theirs):
            mismatches.append(f"{name}: ours {ours}, PyTorch {theirs}")
    assert not mismatches, f"{len(mismatches)} of {len(DTYPE_CASES[group])} cases differ:\n" + "\n".join(mismatches)


def test_the_listed_dtype_differences() -> None:
    u8 = Tensor(np.array([1, 2], dtype=np.uint8))
    assert u8.sum().dtype == np.int64 and u8.prod().dtype == np.int64
    assert (u8 - 2).data.tolist() == [255, 0] and (u8 + -2).data.tolist() == [255, 0]
    assert tg.tensor([np.float64(1.5), 2]).dtype == np.float64
    with pytest.raises(NotImplementedError, match="pow: not implemented for bool tensors"):
        Tensor([True, False]) ** Tensor([True, True])
    with pytest.raises(RuntimeError, match="integers to negative integer powers are not allowed"):
        Tensor([1, 2]) ** -1
    assert (Tensor([0, 1, -1, 2]) ** Tensor([-1, -1, -1, -1])).data.tolist() == [0, 1, -1, 0]  # computed, as PyTorch
    assert abs(Tensor(np.array([250], dtype=np.uint8))).data.tolist() == [250]  # was 0 (relu(x) + relu(-x) wrapped)


def test_a_python_float_input_of_a_custom_op_is_not_rounded_through_float32() -> None:
    class Scale(Function):
        @staticmethod
        def forward(ctx: Any, x: np.ndarray, c: np.ndarray) -> np.ndarray:
            return x * c

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            return g, None

    assert Scale.apply(t64([1.0]), 0.1).data.tolist() == [0.1]
    assert Scale.apply(Tensor(np.ones(1, np.float32)), 0.1).dtype == np.float32
