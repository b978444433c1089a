"""The scalar engine: the staged example bit-exact, gates, reuse, IEEE behaviour, deep graphs."""

from __future__ import annotations

import math

import pytest

from tinygrad_tx import Value
from tinygrad_tx.manual.seeds import staged_f_backward


def staged_value(x: float, y: float) -> tuple[Value, Value, Value]:
    xv, yv = Value(x, label="x"), Value(y, label="y")
    f = (xv + yv.sigmoid()) / (xv.sigmoid() + (xv + yv) ** 2)
    f.backward()
    return f, xv, yv


def test_staged_example_is_bit_exact_against_hand_staged_code() -> None:
    f, x, y = staged_value(3.0, -4.0)
    hand = staged_f_backward(3.0, -4.0)
    assert f.data == hand["f"]
    assert x.grad == hand["dx"]  # bit for bit, not approximately
    assert y.grad == hand["dy"]


def test_staged_example_matches_torch(torch) -> None:
    f, x, y = staged_value(3.0, -4.0)
    tx = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    ty = torch.tensor(-4.0, dtype=torch.float64, requires_grad=True)
    tf = (tx + ty.sigmoid()) / (tx.sigmoid() + (tx + ty) ** 2)
    tf.backward()
    assert f.data == pytest.approx(tf.item(), rel=1e-15)
    assert x.grad == pytest.approx(tx.grad.item(), rel=1e-14)
    assert y.grad == pytest.approx(ty.grad.item(), rel=1e-14)


def test_gates() -> None:
    a, b = Value(2.0), Value(-3.0)
    (a + b).backward()
    assert (a.grad, b.grad) == (1.0, 1.0)  # add distributes
    a, b = Value(2.0), Value(-3.0)
    (a * b).backward()
    assert (a.grad, b.grad) == (-3.0, 2.0)  # mul swaps
    a = Value(-1.0)
    a.relu().backward()
    assert a.grad == 0.0  # max routes nothing to the loser
    a = Value(2.5)
    n = a.neg()
    n.backward()
    assert (n.data, a.grad, n._op) == (-2.5, -1.0, "neg")  # neg flips the sign of the gradient


def test_reuse_accumulates() -> None:
    a = Value(3.0)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad == 4.0 and b.grad == 2.0
    a = Value(3.0)
    d = a * a  # d/da a² = 2a
    d.backward()
    assert a.grad == 6.0


def test_diamond() -> None:
    x = Value(0.5)
    u, v = x.tanh(), x.exp()
    out = u * v
    out.backward()
    expected = (1 - math.tanh(0.5) ** 2) * math.exp(0.5) + math.tanh(0.5) * math.exp(0.5)
    assert x.grad == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize(
    "fn",
    [
        lambda a, b: a - b,
        lambda a, b: a / b,
        lambda a, b: a**b,
        lambda a, b: 2.0 * a + 1.5 - b / 3.0,
        lambda a, b: 1.0 / a + 2.0**b - (3.0 - a),
        lambda a, b: (a * b).exp().log() + (-a).tanh() * b.sigmoid(),
        lambda a, b: (a**3.0).relu() + (b**-2).tanh(),
    ],
)
def test_ops_match_torch(fn, torch) -> None:
    for x0, y0 in [(1.3, 0.7), (2.1, -0.4), (0.4, 1.9)]:
        a, b = Value(x0), Value(y0)
        out = fn(a, b)
        out.backward()
        ta = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
        tb = torch.tensor(y0, dtype=torch.float64, requires_grad=True)
        tout = fn(ta, tb)
        tout.backward()
        assert out.data == pytest.approx(tout.item(), rel=1e-14)
        assert a.grad == pytest.approx(ta.grad.item(), rel=1e-13, abs=1e-15)
        assert b.grad == pytest.approx(tb.grad.item(), rel=1e-13, abs=1e-15)


def test_ieee_semantics_instead_of_python_exceptions() -> None:
    assert Value(0.0).log().data == -math.inf
    assert math.isnan(Value(-1.0).log().data)
    assert Value(0.0).__pow__(-1).data == math.inf
    assert math.isnan((Value(-8.0) ** (1 / 3)).data)  # never a complex number
    assert Value(1000.0).exp().data == math.inf
    assert Value(-1000.0).sigmoid().data == 0.0
    assert Value(1000.0).sigmoid().data == 1.0
    x = Value(-1000.0)
    x.sigmoid().backward()
    assert x.grad == 0.0  # not nan


def test_pow_with_value_exponent_at_zero_base() -> None:
    a, b = Value(0.0), Value(2.0)
    (a**b).backward()
    assert a.grad == 0.0 and b.grad == 0.0  # PyTorch's convention: no nan from 0·log 0


@pytest.mark.slow
def test_deep_chain_of_a_million_nodes() -> None:
    x = Value(1.0)
    y = x
    for _ in range(1_000_000):
        y = -y  # one new node per step
    y.backward()
    assert x.grad == 1.0


def test_backward_twice_is_a_clear_error_and_retain_graph_allows_it() -> None:
    x = Value(2.0)
    y = x * x
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()
    x = Value(2.0)
    y = x * x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad == 8.0  # accumulated over both calls


def test_no_grad_records_nothing() -> None:
    from tinygrad_tx import no_grad

    x = Value(2.0)
    with no_grad():
        y = x * 3
    assert y._prev == ()


def test_value_graph_holds_no_reference_cycles() -> None:
    import gc
    import weakref

    gc.disable()
    try:
        x = Value(1.0)
        y = (x * 2).tanh()
        ref = weakref.ref(y)
        del y
        assert ref() is None  # freed by reference counting alone
    finally:
        gc.enable()


def test_a_node_is_one_object_holding_its_parents_and_local_derivatives() -> None:
    import gc

    a, b = Value(2.0, label="a"), Value(5.0)
    c = a * b
    assert c._prev == (a, b) and c.local_derivatives == (5.0, 2.0) and c._op == "*"
    assert (-a)._prev == (a,) and (-a).local_derivatives == (-1.0,)
    assert a._prev == () and a.local_derivatives == ()
    assert a.label == "a" and b.label == "" and c.label == ""
    c.label = "c"
    assert c.label == "c"
    # The parents sit in the node itself, not in a tuple: one GC-tracked object per node, which
    # is what keeps the garbage collector's scans of a live graph cheap (bench/scalar.py).
    referents = gc.get_referents(c)
    assert any(r is a for r in referents) and any(r is b for r in referents)
    assert not any(type(r) is tuple for r in referents)


def test_backward_releases_the_local_derivatives_and_leaves_no_gradient_in_flight() -> None:
    x, y = Value(3.0), Value(-4.0)
    h = x * y
    f = h.tanh() + h
    f.backward()
    assert h._freed and f._freed and not x._freed  # leaves save nothing
    assert all(n._g is None for n in (x, y, h, f))
    assert h.grad == pytest.approx(1.0 + (1.0 - math.tanh(-12.0) ** 2))
    with pytest.raises(RuntimeError, match=r"second time \(at '\+'\)"):
        f.backward()
