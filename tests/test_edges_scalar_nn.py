"""Edge cases of the scalar engine and of ``nn``: IEEE answers instead of Python exceptions, a
differential probe of every `Value` op against PyTorch, and clear errors for bad input.

The probe runs each `Value` op, and its backward with several upstream gradients, on special
values (signed zeros, ±1, a subnormal, ±1e308, ±inf, nan, small negatives with fractional
exponents) and compares value and gradients with the same op on float64 0-d torch tensors (the
tests that do take the `torch` fixture, tests/conftest.py: they are skipped without torch). A
match is: both nan, or equal, or both finite within 4·2⁻⁵² relative (the last-bit differences of
a different but correct evaluation order). The sign of a zero is compared for values, not for
gradients: ``Value.grad`` starts at 0.0 and accumulates (0.0 + -0.0 = 0.0), while PyTorch stores a
leaf's first gradient as it is.
"""

from __future__ import annotations

import copy
import math
import pickle
import re
from collections.abc import Callable
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np
import pytest

import tinygrad_tx as tx
from tinygrad_tx import Tensor, Value, nn

if TYPE_CHECKING:
    import torch

INF, NAN = math.inf, math.nan
SPECIAL = [0.0, -0.0, 1.0, -1.0, 1e-320, -1e-320, 1e308, -1e308, INF, -INF, NAN, -0.003, 0.5, -2.5, 3.0]
EXPONENTS = [0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 3.0, 0.5, -0.5, 1 / 3, -797.6, 1e-320, 1e308, -1e308, INF, -INF, NAN]
SEEDS = [1.0, 0.0, -1.0, INF, NAN]  # upstream gradients: 0, inf and nan show how 0·inf is masked
REL = 4 * 2.0**-52


def same(a: float, b: float, signed_zero: bool = True) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if a == b:
        return not signed_zero or math.copysign(1.0, a) == math.copysign(1.0, b)
    return math.isfinite(a) and math.isfinite(b) and abs(a - b) <= REL * max(abs(a), abs(b))


def t64(x: float) -> torch.Tensor:
    """A float64 0-d torch tensor that requires grad."""
    import torch

    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


def mismatches(fn: Callable, torch_fn: Callable, args: tuple[float, ...], case: str = "") -> list[str]:
    """Run ``fn`` on Values and ``torch_fn`` on tensors; describe every value/gradient that differs."""
    case = f"{case} args={args}".strip()
    found = []
    for seed in SEEDS:
        vs = [Value(x) for x in args]
        try:
            out = fn(*vs)
            out.backward(seed)
        except Exception as e:  # noqa: BLE001  (an exception is a mismatch too: torch gives a number)
            return [f"{case} seed={seed}: raised {type(e).__name__}: {e}"]
        ts = [t64(x) for x in args]
        tout = torch_fn(*ts)
        tout.backward(_const(seed))
        got = [out.data] + [v.grad for v in vs]
        want = [tout.item()] + [0.0 if t.grad is None else t.grad.item() for t in ts]
        names = ["value"] + [f"grad{i}" for i in range(len(args))]
        for name, g, w in zip(names, got, want):
            if name == "value" and seed != 1.0:
                continue
            if not same(g, w, signed_zero=name == "value"):
                found.append(f"{case} seed={seed}: {name} {g!r}, torch {w!r}")
    return found


# Each program runs as it is on Values and on torch tensors: on tensors, `a.exp()` is `torch.exp(a)`,
# `a / b` is `torch.div(a, b)` and `a**b` is `torch.pow(a, b)`.
UNARY = {
    "neg": lambda a: -a,
    "neg()": lambda a: a.neg(),
    "exp": lambda a: a.exp(),
    "log": lambda a: a.log(),
    "tanh": lambda a: a.tanh(),
    "sigmoid": lambda a: a.sigmoid(),
    "relu": lambda a: a.relu(),
    "abs": lambda a: a.abs(),
    "abs()": lambda a: abs(a),
}

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "truediv": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
    "maximum": lambda a, b: a.maximum(b),  # (torch's tensor.max(other) is the same elementwise op)
    "max": lambda a, b: a.max(b),
    "minimum": lambda a, b: a.minimum(b),
    "min": lambda a, b: a.min(b),
}


def _const(c: float) -> torch.Tensor:
    """A float64 0-d torch tensor, a constant."""
    import torch

    return torch.tensor(c, dtype=torch.float64)


# Value op a Python number, and a Python number op Value (the reflected methods). The torch side is
# the same op with the number as a constant tensor: torch's own `c / t` is `t.reciprocal() * c`,
# which overflows where the quotient does not, and `t ** 0.5` is `sqrt` (sqrt(-0) = -0,
# sqrt(-inf) = nan), not the C `pow` that `torch.pow` and Python's `**` are.
WITH_NUMBER = {
    "add": (lambda a, c: a + c, lambda a, c: a + _const(c)),
    "radd": (lambda a, c: c + a, lambda a, c: _const(c) + a),
    "sub": (lambda a, c: a - c, lambda a, c: a - _const(c)),
    "rsub": (lambda a, c: c - a, lambda a, c: _const(c) - a),
    "mul": (lambda a, c: a * c, lambda a, c: a * _const(c)),
    "rmul": (lambda a, c: c * a, lambda a, c: _const(c) * a),
    "truediv": (lambda a, c: a / c, lambda a, c: a / _const(c)),
    "rtruediv": (lambda a, c: c / a, lambda a, c: _const(c) / a),
    "pow": (lambda a, c: a**c, lambda a, c: a ** _const(c)),
    "rpow": (lambda a, c: c**a, lambda a, c: _const(c) ** a),
    "max": (lambda a, c: a.max(c), lambda a, c: a.maximum(_const(c))),
    "min": (lambda a, c: a.min(c), lambda a, c: a.minimum(_const(c))),
}


@pytest.mark.parametrize("name", UNARY)
def test_unary_ops_match_torch_on_special_values(name: str, torch) -> None:
    fn = UNARY[name]
    found = [m for x in SPECIAL for m in mismatches(fn, fn, (x,))]
    assert not found, f"{name}: {len(found)} mismatches, e.g.\n" + "\n".join(found[:12])


@pytest.mark.parametrize("name", BINARY)
def test_binary_ops_match_torch_on_special_values(name: str, torch) -> None:
    fn = BINARY[name]
    right = EXPONENTS if name == "pow" else SPECIAL
    found = [m for x in SPECIAL for y in right for m in mismatches(fn, fn, (x, y))]
    assert not found, f"{name}: {len(found)} mismatches, e.g.\n" + "\n".join(found[:12])


@pytest.mark.parametrize("name", WITH_NUMBER)
def test_ops_with_a_number_match_torch_on_special_values(name: str, torch) -> None:
    fn, torch_fn = WITH_NUMBER[name]
    numbers = EXPONENTS if "pow" in name else SPECIAL
    found = []
    for x in SPECIAL:
        for c in numbers:
            found += mismatches(lambda a, c=c: fn(a, c), lambda a, c=c: torch_fn(a, c), (x,), f"c={c!r}")
    assert not found, f"{name}: {len(found)} mismatches, e.g.\n" + "\n".join(found[:12])


def test_comparisons_return_plain_booleans_and_builtin_max_returns_the_winner() -> None:
    a, b = Value(2.0), Value(-1.0)
    for got, want in [(a > b, True), (a < b, False), (a >= 2.0, True), (a <= -1, False), (b < 0, True),
                      (a > Value(NAN), False), (2.5 > a, True)]:
        assert type(got) is bool and got is want
    assert a == a and a != Value(2.0)  # == stays identity: Values are graph nodes, kept in sets and dicts
    assert max(a, b) is a and min(a, b) is b  # Python's max returns the winning Value itself
    out = max(a, b) * 3.0
    out.backward()
    assert (a.grad, b.grad) == (3.0, 0.0)
    with pytest.raises(TypeError, match="'<'"):
        _ = a < "1"
    with pytest.raises(TypeError, match="cannot mix"):
        _ = a < Tensor(1.0)


def test_a_tie_in_max_splits_the_gradient_as_torch_does(torch) -> None:
    a, b = Value(1.5), Value(1.5)
    (a.max(b) * 4.0).backward()
    _, want = torch_grads(lambda x, y: x.maximum(y) * 4.0, (1.5, 1.5))
    assert [a.grad, b.grad] == want == [2.0, 2.0]


def torch_grads(fn: Callable, args: tuple[float, ...], seed: float = 1.0) -> tuple[float, list[float]]:
    ts = [t64(x) for x in args]
    out = fn(*ts)
    out.backward(_const(seed))
    return out.item(), [t.grad.item() for t in ts]


def test_the_listed_ieee_cases_match_torch(torch) -> None:
    x = Value(NAN)
    y = x.relu()
    y.backward()
    assert math.isnan(y.data) and x.grad == 1.0  # as the Tensor engine and PyTorch: nan passes through
    x = Value(0.0)
    (x**0).backward()
    assert x.grad == torch_grads(lambda a: a**0, (0.0,))[1][0] == 0.0  # not 0 · 0**-1 = nan
    assert math.isnan((Value(-0.003) ** -797.6).data)  # a negative base, a fractional exponent: nan, not -inf
    assert (Value(1.0) / 0).data == INF and (Value(-1.0) / 0).data == -INF and math.isnan((Value(0.0) / 0).data)
    assert (Value(1.0) / 1e-320).data == INF  # no ZeroDivisionError, no OverflowError
    assert (Value(1e-320) / 1e-320).data == 1.0  # a quotient, not 1e-320 · (1e-320)**-1 = inf
    assert (1 / Value(0.0)).data == INF and (0 / Value(-1.0)).data == -0.0


def test_a_zero_local_derivative_masks_an_inf_or_nan_upstream_gradient_as_torch_does(torch) -> None:
    for seed in (INF, NAN):
        x = Value(-2.0)
        x.relu().backward(seed)  # PyTorch's relu backward is where(out <= 0, 0, g)
        assert x.grad == 0.0
        x = Value(3.0)
        (x**0.0).backward(seed)  # and pow's is where(exponent == 0, 0, ...)
        assert x.grad == 0.0
    # in a chain: relu(x) * inf sends inf back into the relu, which stops it at a dead unit
    x = Value(-1.0)
    (x.relu() * INF).backward()
    assert x.grad == torch_grads(lambda a: a.relu() * INF, (-1.0,))[1][0] == 0.0


def test_a_reciprocal_derivative_divides_the_upstream_gradient_as_torch_does(torch) -> None:
    # 1 / 1e-310 overflows, 1e-10 / 1e-310 does not: PyTorch computes g / b, and so does Value
    for fn in (lambda a: a / 1e-310, lambda a: (a * 1e-310).log()):
        x = Value(1.0)
        fn(x).backward(1e-10)
        want = torch_grads(fn, (1.0,), seed=1e-10)[1][0]
        assert math.isfinite(want) and x.grad == pytest.approx(want, rel=REL)
    x = Value(1.0)
    (x / 1e-320).backward(0.0)
    assert x.grad == 0.0  # 0 / 1e-320, not 0 · inf


def test_division_and_log_report_their_local_derivatives() -> None:
    a, b = Value(3.0), Value(-4.0)
    q = a / b
    assert q._op == "/" and q._prev == (a, b) and q.local_derivatives == (1 / -4.0, -(3.0 / -4.0) / -4.0)
    assert Value(0.5).log().local_derivatives == (2.0,)
    q.backward()
    assert q.local_derivatives == (None, None) and q._freed


@pytest.mark.parametrize("clone", [copy.deepcopy, lambda v: pickle.loads(pickle.dumps(v))], ids=["deepcopy", "pickle"])
def test_a_copied_graph_keeps_its_exact_local_derivatives(clone) -> None:
    # 1 / 1e-320 is inf, but the gradient through a / 1e-320 is g / 1e-320: a copy must still divide
    q = clone(Value(1.0) / 1e-320)
    assert q.local_derivatives[0] == math.inf
    q.backward(0.0)
    assert q._prev[0].grad == 0.0  # 0 / 1e-320, not 0 · inf = nan
    r = clone(Value(-1.0).relu())  # a dead relu still stops an inf gradient
    r.backward(math.inf)
    assert r._prev[0].grad == 0.0


# -- what a Value accepts -------------------------------------------------------------------------
MIX = ("cannot mix a Value (the scalar engine) and a Tensor in '{op}': use Tensor(v.data) for the value, "
       "or t.item() for a one-element tensor")
OPERATORS = {
    "+": ("__add__", "__radd__"), "-": ("__sub__", "__rsub__"), "*": ("__mul__", "__rmul__"),
    "/": ("__truediv__", "__rtruediv__"), "**": ("__pow__", "__rpow__"),
}


@pytest.mark.parametrize("op", OPERATORS)
def test_a_value_and_a_tensor_never_mix(op: str) -> None:
    for t in (Tensor([1.0], requires_grad=True), Tensor(2.0, requires_grad=True), Tensor([3.0])):
        for method in OPERATORS[op]:  # the reflected one is what Python calls for `t op v` if Tensor declines
            with pytest.raises(TypeError) as err:
                getattr(Value(1.0), method)(t)
            assert str(err.value) == MIX.format(op=op)
        assert t.grad is None


def test_a_tensor_is_refused_by_the_constructor_and_by_backward() -> None:
    t = Tensor(2.0, requires_grad=True)
    with pytest.raises(TypeError) as err:
        Value(t)
    assert str(err.value) == MIX.format(op="Value(data)")
    with pytest.raises(TypeError) as err:
        (Value(1.0) * 2).backward(t)
    assert str(err.value) == MIX.format(op="backward(gradient)")


NOT_REAL = [("3", "str"), (None, "NoneType"), ([1.0], "list"), ((1.0,), "tuple"), (1j, "complex"),
            (np.ones(2), r"numpy.ndarray of shape \(2,\)"), (np.ones(1), r"numpy.ndarray of shape \(1,\)"),
            (np.array(1 + 0j), "numpy.ndarray of shape \\(\\) and dtype complex128"),
            (np.complex64(1), "numpy.complex64"), (Value, "type")]


NOT_REAL_IDS = ["str", "None", "list", "tuple", "complex", "array(2,)", "array(1,)", "complex-0d-array", "np.complex64",
                "class"]


@pytest.mark.parametrize(("bad", "name"), NOT_REAL, ids=NOT_REAL_IDS)
def test_a_value_refuses_what_is_not_a_real_number(bad: object, name: str) -> None:
    refused_as_not_a_real_number(bad, name)


def test_a_value_refuses_a_torch_tensor(torch) -> None:
    refused_as_not_a_real_number(torch.tensor(2.0, requires_grad=True), r"torch.Tensor of shape \(\)")


def refused_as_not_a_real_number(bad: object, name: str) -> None:
    with pytest.raises(TypeError, match=rf"^Value\(data\): expected a real number .*got {name}"):
        Value(bad)
    for op, methods in OPERATORS.items():
        for method in methods:
            with pytest.raises(TypeError, match=rf"^Value '{re.escape(op)}': expected a Value or a real number .*"
                                                rf"got {name}"):
                getattr(Value(2.0), method)(bad)
    with pytest.raises(TypeError, match=rf"^backward\(gradient\): expected a real number .*got {name}"):
        (Value(2.0) * 3).backward(bad)


def test_numpy_arrays_defer_to_value_and_are_refused() -> None:
    with pytest.raises(TypeError, match=r"Value '\*'.*numpy.ndarray of shape \(2,\)"):
        np.ones(2) * Value(2.0)  # not a silent object array of Values
    with pytest.raises(TypeError, match=r"Value '\+'.*numpy.ndarray of shape \(2, 2\)"):
        np.ones((2, 2)) + Value(2.0)


REAL = [True, False, 3, -7, 2.5, np.float32(2.5), np.float16(-1.5), np.int64(-3), np.uint8(200), np.bool_(True),
        np.array(4.0), np.array(5, dtype=np.int32), np.array(True), Fraction(1, 3)]


@pytest.mark.parametrize("x", REAL, ids=[f"{type(x).__name__}-{x}" for x in REAL])
def test_a_value_takes_real_numbers_as_torch_takes_them_next_to_a_tensor(x: object, torch) -> None:
    assert Value(x).data == float(x) and type(Value(x).data) is float
    torch_takes_it = not isinstance(x, (Fraction, np.ndarray))  # (Fraction: not at all; a 0-d array: with a warning)
    want = (torch.tensor(1.5, dtype=torch.float64) * x).item() if torch_takes_it else 1.5 * float(x)
    for v in (Value(1.5) * x, x * Value(1.5)):
        assert v.data == want and type(v.data) is float
    v = Value(1.5)
    (v * 2).backward(x)
    assert v.grad == 2 * float(x)


def test_an_int_beyond_the_float_range_is_an_overflow_error_as_in_torch(torch) -> None:
    with pytest.raises(OverflowError):
        t64(1.0) + 10**400
    with pytest.raises(OverflowError, match=r"^Value '\+': an int of 401 digits is too large for a float$"):
        Value(1.0) + 10**400
    with pytest.raises(OverflowError, match=r"^Value\(data\): an int of 401 digits"):
        Value(-(10**400))


# -- nn ------------------------------------------------------------------------------------------
TINY = dict(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=8)


def tiny_gpt(**overrides: object) -> nn.GPT:
    tx.manual_seed(0)
    return nn.GPT(nn.GPTConfig(**{**TINY, **overrides}))


def test_linear_on_a_0d_tensor_is_a_shape_error_as_in_torch(torch) -> None:
    with pytest.raises(RuntimeError, match="at least 1D"):
        torch.nn.Linear(3, 2)(torch.tensor(1.0))
    with pytest.raises(ValueError, match=r"^Linear\(3, 2\): input is 0-d \(shape \(\)\), expected at least 1-d"):
        nn.Linear(3, 2)(Tensor(1.0))


class TwoOutputs(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(3, 2)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return self.lin(x), self.lin(x) * 2


class NoOutput(nn.Module):
    def forward(self, x: Tensor) -> None:
        return None


def test_a_module_returns_what_its_forward_returns_as_torch_does() -> None:
    x = Tensor(np.ones((4, 3), dtype=np.float32))
    out = TwoOutputs()(x)
    assert type(out) is tuple and len(out) == 2 and out[0].shape == out[1].shape == (4, 2)
    assert NoOutput()(x) is None


@pytest.mark.parametrize("layer", [nn.Linear(3, 2), nn.LayerNorm(3), nn.ReLU(), nn.GELU(), nn.Dropout(0.5),
                                   nn.CausalSelfAttention(4, 2)], ids=lambda m: type(m).__name__)
def test_a_layer_given_a_tuple_or_none_names_itself_and_what_it_got(layer: nn.Module) -> None:
    name = type(layer).__name__
    x = Tensor(np.ones((1, 2, 3), dtype=np.float32))
    with pytest.raises(TypeError, match=rf"^{name}\b.*: expected a Tensor as input, got tuple of 2 \(a forward that "
                                        "returns several outputs gives a tuple"):
        layer((x, x))
    with pytest.raises(TypeError, match=rf"^{name}\b.*: expected a Tensor as input, got NoneType \(did the module"):
        layer(None)
    with pytest.raises(TypeError, match=rf"^{name}\b.*got numpy.ndarray of shape \(1, 2, 3\) \(wrap it: Tensor\(x\)\)"):
        layer(np.ones((1, 2, 3)))


def test_token_ids_from_a_tuple_of_tensors_or_none_are_refused_not_stacked() -> None:
    emb, gpt = nn.Embedding(11, 4), tiny_gpt()
    ids = Tensor(np.array([1, 2]))
    with pytest.raises(TypeError, match=r"^Embedding: indices must be a Tensor, a NumPy array or a \(nested\) list "
                                        r"of ints, got tuple of 2$"):
        emb((ids, ids))  # was stacked into one (2, 2) array of ids
    with pytest.raises(TypeError, match=r"^Embedding: indices must be .*got NoneType$"):
        emb(None)  # was "indices must be integers, got dtype object"
    with pytest.raises(TypeError, match=r"^GPT: indices must be .*got tuple of 2$"):
        gpt((ids, ids))
    with pytest.raises(TypeError, match=r"^GPT targets: indices must be integers, got a list holding NoneType$"):
        gpt(np.array([[1, 2]]), targets=[None, None])
    with pytest.raises(TypeError, match=r"^Embedding: indices must be integers, got a list holding NoneType, int$"):
        emb([1, None])
    with pytest.raises(TypeError, match=r"^Embedding: indices must be integers, got dtype float32$"):
        emb(Tensor(np.array([1.0, 2.0], dtype=np.float32)))
    with pytest.raises(TypeError, match=r"^Embedding: indices must be integers, got dtype bool$"):
        emb(np.array([True, False]))  # as torch: ids are integers, not masks
    with pytest.raises(ValueError, match=r"^Embedding: indices must be a rectangular"):
        emb([[1, 2], [3]])
    assert emb([]).shape == (0, 4) and emb(3).shape == (4,) and emb([[1], [2]]).shape == (2, 1, 4)


def test_load_state_dict_takes_parameters_and_tensors_and_torch_tensors_and_refuses_junk(torch) -> None:
    src, dst = nn.Linear(3, 2), nn.Linear(3, 2)
    dst.load_state_dict(dict(src.named_parameters()))  # Parameters that require grad: was a numpy() error
    assert np.array_equal(dst.weight.data, src.weight.data) and np.array_equal(dst.bias.data, src.bias.data)
    dst.load_state_dict({k: Tensor(v * 2) for k, v in src.state_dict().items()})
    assert np.array_equal(dst.weight.data, 2 * src.weight.data)
    before = {k: v.clone() for k, v in dst.state_dict().items()}  # a snapshot: the values follow the model
    square = nn.Linear(3, 3)
    torch_sd = {k: torch.from_numpy(v.numpy() * 3) for k, v in square.state_dict().items()}
    square.load_state_dict(torch_sd)  # torch tensors load as they are (PyTorch's own state dict)
    assert all(np.array_equal(p.data, torch_sd[k].numpy()) for k, p in square.named_parameters())
    with pytest.raises(ValueError, match=r"(?s)nothing was loaded.*weight: is a NoneType, not an array.*"
                                         r"bias: holds <U1 values, not real numbers"):
        dst.load_state_dict({"weight": None, "bias": np.array(["a", "b"])})
    with pytest.raises(TypeError, match=r"^load_state_dict: expected a mapping of names to arrays, got list$"):
        dst.load_state_dict(list(src.state_dict().items()))
    assert all(np.array_equal(before[k], v) for k, v in dst.state_dict().items())  # nothing was loaded
    with pytest.raises(TypeError, match=r"^from_torch_state_dict: weight is a ndarray, not a torch tensor"):
        nn.from_torch_state_dict(dst, {k: v.numpy() for k, v in src.state_dict().items()})


def test_generate_checks_its_arguments() -> None:
    gpt, idx = tiny_gpt(), np.array([[1, 2]])
    bad = [
        (dict(max_new_tokens=-3), ValueError, r"^generate: max_new_tokens must be >= 0, got -3$"),
        (dict(max_new_tokens=2.5), TypeError, r"^generate: max_new_tokens must be an int, got 2.5$"),
        (dict(max_new_tokens=True), TypeError, r"max_new_tokens must be an int, got True"),
        (dict(temperature=NAN), ValueError, r"^generate: temperature must be in \[0, ∞\), got nan$"),
        (dict(temperature=INF), ValueError, r"temperature must be in \[0, ∞\), got inf"),
        (dict(temperature=-0.5), ValueError, r"temperature must be in \[0, ∞\), got -0.5"),
        (dict(temperature="hot"), TypeError, r"^generate: temperature must be a real number, got 'hot'"),
        (dict(top_k=0), ValueError, r"^generate: top_k must be positive, got 0$"),
        (dict(top_k=2.5), TypeError, r"^generate: top_k must be an int, got 2.5"),
        (dict(idx=np.array([[1.0, 2.0]])), TypeError, r"^generate: indices must be integers, got dtype float64$"),
        (dict(idx=np.array([[1, 11]])), IndexError, r"^generate: token id 11 in idx is out of range for vocab_size"),
        (dict(idx=np.array([[-1, 2]])), IndexError, r"^generate: token id -1 in idx is out of range"),
        (dict(idx=np.zeros((1, 0), dtype=np.int64)), ValueError, r"time >= 1, got shape \(1, 0\)"),
        (dict(idx=np.zeros((1, 1, 2), dtype=np.int64)), ValueError, r"of shape \(batch, time\) or \(time,\)"),
        (dict(idx=None), TypeError, r"^generate: indices must be a Tensor, .*got NoneType"),
    ]
    for kwargs, err, message in bad:
        args = {"idx": idx, "max_new_tokens": 2, **kwargs}
        with pytest.raises(err, match=message):
            gpt.generate(**args)
    assert gpt.generate(idx, 0).tolist() == [[1, 2]]
    assert gpt.generate([1, 2], 1).shape == (1, 3)


def test_generate_with_a_tiny_temperature_is_greedy_not_a_numpy_error() -> None:
    gpt, idx = tiny_gpt(), np.array([[1, 2], [3, 4]])
    greedy = gpt.generate(idx, 5, temperature=0)
    assert np.array_equal(gpt.generate(idx, 5, temperature=5e-324, seed=0), greedy)  # logits / T overflowed


def test_generate_refuses_nan_logits_with_a_clear_message() -> None:
    gpt = tiny_gpt()
    gpt.lm_head.weight.data.fill_(np.nan)
    with pytest.raises(RuntimeError, match=r"^generate: the logits for new token 0 are nan or infinite"):
        gpt.generate(np.array([[1, 2]]), 3)  # was "Probabilities contain NaN" from inside NumPy
    assert gpt.training  # the mode is restored


GPT_CONFIG_BAD = [
    (dict(vocab_size=0), ValueError, r"^GPTConfig: vocab_size must be positive, got 0$"),
    (dict(block_size=-4), ValueError, r"^GPTConfig: block_size must be positive, got -4$"),
    (dict(n_layer=2.5), TypeError, r"^GPTConfig: n_layer must be an int, got 2.5"),
    (dict(n_head=True), TypeError, r"^GPTConfig: n_head must be an int, got True"),
    (dict(n_embd="64"), TypeError, r"^GPTConfig: n_embd must be an int, got '64'"),
    (dict(n_embd=10, n_head=4), ValueError, r"^GPTConfig: n_embd=10 is not divisible by n_head=4$"),
    (dict(dropout=1.0), ValueError, r"^GPTConfig: dropout must be in \[0, 1\), got 1.0$"),
    (dict(dropout=-0.1), ValueError, r"dropout must be in \[0, 1\), got -0.1"),
    (dict(dropout=NAN), ValueError, r"dropout must be in \[0, 1\), got nan"),
    (dict(bias="yes"), TypeError, r"^GPTConfig: bias must be True or False, got 'yes'$"),
    (dict(fused=1), TypeError, r"^GPTConfig: fused must be True or False, got 1$"),
    (dict(activation=None), TypeError, r"^GPTConfig: activation must be a str, got None$"),
    (dict(activation="swish"), ValueError, r"unknown activation 'swish'"),
    (dict(lora_rank=-2), ValueError, r"^GPTConfig: lora_rank must be >= 0, got -2$"),
    (dict(lora_rank=1.5), TypeError, r"^GPTConfig: lora_rank must be an int, got 1.5"),
    (dict(lora_alpha=NAN), ValueError, r"^GPTConfig: lora_alpha must be finite, got nan$"),
    (dict(lora_alpha=INF), ValueError, r"^GPTConfig: lora_alpha must be finite, got inf$"),
    (dict(lora_alpha="1"), TypeError, r"^GPTConfig: lora_alpha must be a real number, got '1'"),
    (dict(lora_targets=(1,)), TypeError, r"^GPTConfig: lora_targets must be layer names"),
    (dict(lora_rank=2, lora_targets=()), ValueError, r"^GPTConfig: lora_rank=2 needs at least one name"),
]


@pytest.mark.parametrize(("fields", "err", "message"), GPT_CONFIG_BAD, ids=[str(f) for f, _, _ in GPT_CONFIG_BAD])
def test_gpt_config_checks_every_field(fields: dict, err: type, message: str) -> None:
    with pytest.raises(err, match=message):
        nn.GPTConfig(**{**TINY, **fields})


def test_gpt_config_normalises_its_fields() -> None:
    c = nn.GPTConfig(**{**TINY, "n_embd": np.int64(8)}, dropout=0, lora_rank=2, lora_targets="c_attn")
    assert type(c.n_embd) is int and type(c.dropout) is float
    assert c.lora_targets == ("c_attn",)  # one name, not the characters of "c_attn"
    names = [n for n, _ in nn.GPT(c).named_parameters() if "lora" in n]
    assert names == ["h.0.attn.c_attn.lora_A", "h.0.attn.c_attn.lora_B"]


SIBLINGS = [
    (lambda: nn.Linear(-1, 2), ValueError, r"^Linear: in_features must be >= 0, got -1$"),
    (lambda: nn.Linear(3, 2.5), TypeError, r"^Linear: out_features must be an int, got 2.5"),
    (lambda: nn.Embedding(-3, 2), ValueError, r"^Embedding: num_embeddings must be >= 0, got -3$"),
    (lambda: nn.Embedding(3, None), TypeError, r"^Embedding: embedding_dim must be an int, got None"),
    (lambda: nn.LayerNorm(3, eps=NAN), ValueError, r"^LayerNorm: eps must be in \[0, ∞\], got nan$"),
    (lambda: nn.LayerNorm(3)(Tensor(np.ones((2, 4)))), ValueError, r"LayerNorm\(\(3,\)\): input of shape \(2, 4\)"),
    (lambda: nn.Dropout(1.5), ValueError, r"^Dropout: p must be in \[0, 1\], got 1.5$"),
    (lambda: nn.Dropout(NAN), ValueError, r"^Dropout: p must be in \[0, 1\], got nan$"),
    (lambda: nn.Dropout("0.5"), TypeError, r"^Dropout: p must be a real number, got '0.5'"),
    (lambda: nn.CausalSelfAttention(8, 0), ValueError, r"^CausalSelfAttention: n_head must be positive, got 0$"),
    (lambda: nn.MLP(-8), ValueError, r"^MLP: n_embd must be positive, got -8$"),
    (lambda: nn.LoRALinear(nn.Linear(3, 2), rank=-1), ValueError, r"^LoRALinear: rank must be positive, got -1$"),
    (lambda: nn.LoRALinear(nn.Linear(3, 2), rank=2, alpha=NAN), ValueError, r"^LoRALinear: alpha must be finite"),
    (lambda: nn.LoRALinear(nn.ReLU(), rank=2), TypeError, r"^LoRALinear: base must be an nn.Linear"),
    (lambda: nn.apply_lora(tiny_gpt(), rank=0), ValueError, r"^apply_lora: rank must be positive, got 0$"),
    (lambda: nn.apply_lora(tiny_gpt(), targets=[None]), TypeError, r"^apply_lora: targets must be layer names"),
    (lambda: nn.ModuleList([nn.ReLU(), 3]), TypeError, r"^ModuleList.append: expected an nn.Module, got int$"),
]


@pytest.mark.parametrize(("make", "err", "message"), SIBLINGS, ids=[m for _, _, m in SIBLINGS])
def test_nn_modules_check_their_arguments(make: Callable, err: type, message: str) -> None:
    with pytest.raises(err, match=message):
        make()
