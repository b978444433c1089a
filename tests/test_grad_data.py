"""``.grad`` and ``.data`` are tensors, as in PyTorch: torch-style programs run unchanged in both libraries.

Each program is written once against a module alias ``lib`` (``torch`` or ``tinygrad_tx``) and run in
both, in float64; results are compared scale-relatively (tests/helpers.py ``assert_close``, rtol 1e-12:
the same float64 arithmetic, summed in other orders). Then the rules PyTorch checks (what may be
assigned to ``.grad``), the non-leaf warning, and the protection of saved values against changes
made through ``.data`` (PyTorch's ``.data`` hides them from autograd; here a backward that needs the
old values raises instead of returning a wrong gradient).
"""

from __future__ import annotations

import copy
import pickle
import warnings
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np
import pytest

import tinygrad_tx as tx
from tinygrad_tx import Tensor, optim

from .helpers import assert_close

torch = pytest.importorskip("torch")  # the oracle: without it, this module is skipped

RTOL = 1e-12
rng = np.random.default_rng(0)
X0, W0, B0 = rng.standard_normal((5, 3)), rng.standard_normal((3, 4)), rng.standard_normal(4)


def arrays(*ts: Any) -> list[np.ndarray]:
    return [t.detach().numpy().copy() for t in ts]


def in_both(program: Callable[[ModuleType], list[Any]]) -> None:
    """Run ``program`` with lib = tinygrad_tx and lib = torch; every returned tensor must agree."""
    ours, theirs = program(tx), program(torch)
    assert len(ours) == len(theirs)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if isinstance(a, (bool, str, type(None))):
            assert a == b, f"result {i}: {a!r} vs torch {b!r}"
        else:
            assert_close(_values(a), _values(b), RTOL, f"result {i}")


def _values(x: Any) -> np.ndarray:
    return x.detach().numpy() if hasattr(x, "detach") else np.asarray(x)


def mlp(lib: ModuleType) -> tuple[Any, Any, Callable[[], Any]]:
    W = lib.tensor(W0, requires_grad=True)
    b = lib.tensor(B0, requires_grad=True)
    x = lib.tensor(X0)
    return W, b, lambda: ((x @ W + b).tanh() ** 2).mean()


# ------------------------------------------------------------------------------- .grad is a tensor


def test_grad_is_a_tensor_of_the_parameters_shape_and_dtype() -> None:
    W, b, loss = mlp(tx)
    assert W.grad is None  # before any backward
    loss().backward()
    assert isinstance(W.grad, Tensor) and W.grad.shape == W.shape and W.grad.dtype == W.dtype
    assert not W.grad.requires_grad and W.grad.is_leaf and W.grad.grad_fn is None
    assert W.grad.numpy().flags.c_contiguous  # W is used as is, but an own C-ordered copy either way


def test_torch_style_reads_of_grad() -> None:
    def program(lib: ModuleType) -> list[Any]:
        W, b, loss = mlp(lib)
        loss().backward()
        dt = W.grad * 0.5
        return [W.grad.norm(), (dt - W.grad).abs().max().item(), W.grad.data, b.grad.sum(), W.grad.data.T,
                W.grad.norm().item() > 0, b.grad.clone()]

    in_both(program)


def test_gradients_accumulate_and_zero_in_place() -> None:
    def program(lib: ModuleType) -> list[Any]:
        W, b, loss = mlp(lib)
        loss().backward()
        g = W.grad
        first = g.clone()
        loss().backward()  # added into the same tensor
        same_tensor = W.grad is g
        doubled = W.grad.clone()
        W.grad.zero_()
        zeroed = W.grad.clone()
        loss().backward()
        return [first, doubled, same_tensor, zeroed, W.grad, W.grad is g]

    in_both(program)


def test_an_assigned_grad_is_accumulated_into() -> None:
    def program(lib: ModuleType) -> list[Any]:
        W, b, loss = mlp(lib)
        start = lib.tensor(np.ones((3, 4)))
        W.grad = start
        loss().backward()
        return [W.grad is start, W.grad, start]

    in_both(program)


def test_grad_can_be_set_to_none_and_comes_back() -> None:
    def program(lib: ModuleType) -> list[Any]:
        W, b, loss = mlp(lib)
        loss().backward()
        W.grad = None
        none = W.grad is None
        loss().backward()
        return [none, W.grad]

    in_both(program)


def test_a_grad_array_taken_by_numpy_sees_the_accumulation() -> None:
    def program(lib: ModuleType) -> list[Any]:
        W, b, loss = mlp(lib)
        loss().backward()
        memory = W.grad.numpy()
        before = memory.copy()
        loss().backward()
        return [before, memory]  # the same memory: it now holds the sum, in both libraries

    in_both(program)


def test_backward_with_create_graph_leaves_a_grad_in_the_graph() -> None:
    def program(lib: ModuleType) -> list[Any]:
        x = lib.tensor(np.array([1.0, -2.0, 0.5]), requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # torch warns about the reference cycle
            (x**3).sum().backward(create_graph=True)
            first = x.grad  # 3x², differentiable
            in_graph = first.requires_grad and first.grad_fn is not None and not first.is_leaf
            (x**3).sum().backward(create_graph=True)  # out of place: a new tensor, still in the graph
            second_is_new = x.grad is not first and x.grad.grad_fn is not None
            g = x.grad  # 6x²
            x.grad = None
            (g * g).sum().backward()  # d/dx Σ 36 x⁴ = 144 x³
        return [in_graph, second_is_new, first.detach(), g.detach(), x.grad]

    in_both(program)


def test_grad_of_grad_through_backward_accumulates_into_the_grad_in_the_graph() -> None:
    def program(lib: ModuleType) -> list[Any]:
        x = lib.tensor(np.array([1.0, 2.0]), requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            (x**3).sum().backward(create_graph=True)
            x.grad.sum().backward()  # .grad += 6x, into the grad that is in the graph
        return [x.grad.detach(), x.grad.requires_grad]

    in_both(program)


# ------------------------------------------------------------------------- .data updates a tensor


@pytest.mark.parametrize("update", ["add_", "iadd", "sub_", "copy_", "assign", "setitem", "mul_then_add"])
def test_a_training_loop_that_updates_through_data(update: str) -> None:
    lr = 0.1

    def step(lib: ModuleType, p: Any) -> None:
        g = p.grad
        if update == "add_":
            p.data.add_(g, alpha=-lr)
        elif update == "iadd":
            p.data += -lr * g
        elif update == "sub_":
            p.data.sub_(lr * g)
        elif update == "copy_":
            p.data.copy_(p.data - lr * g)
        elif update == "assign":
            p.data = p.data - lr * g
        elif update == "setitem":
            p.data[...] = p.data - lr * g
        else:
            p.data.mul_(0.99).add_(-lr * g)

    def program(lib: ModuleType) -> list[Any]:
        W, b, loss = mlp(lib)
        losses = []
        for _ in range(4):
            value = loss()
            losses.append(value.item())
            value.backward()
            for p in (W, b):
                step(lib, p)
                p.grad.zero_()
        assert W.is_leaf and W.requires_grad and W.grad_fn is None
        return [*losses, W, b]

    in_both(program)


def test_data_is_a_detached_alias_that_follows_the_tensor() -> None:
    def program(lib: ModuleType) -> list[Any]:
        W, b, loss = mlp(lib)
        d = W.data
        attrs = [d.requires_grad, d.is_leaf, d.grad_fn is None, W.data.data.requires_grad]
        W.data.add_(1.0)  # through another alias: d sees it
        after_add = d.clone()
        with lib.no_grad():
            W -= 0.5  # an in-place op on W itself: d sees it
        after_sub = d.clone()
        d.zero_()  # and an in-place op on d changes W
        d[0, 1] = 7.0
        b.data.fill_(2.0)
        return [*attrs, after_add, after_sub, W, b]

    in_both(program)


def test_a_change_through_data_of_an_intermediate_leaves_the_recorded_gradient() -> None:
    """``h.data.mul_(2)`` changes h's values, not the graph: the gradient is that of the recorded
    computation, tanh's at the forward's values. (PyTorch's tanh VJP reads the output's storage,
    which the change wrote into, so its gradient here is neither.)"""
    C = np.arange(20.0).reshape(5, 4)

    def program(lib: ModuleType, change: bool) -> list[Any]:
        W, b, loss = mlp(lib)
        h = (lib.tensor(X0) @ W).tanh()
        if change:
            h.data.mul_(2.0)
        (h * lib.tensor(C)).sum().backward()
        return [h, W.grad]

    (h, g), (th, tg) = program(tx, True), program(torch, False)
    assert_close(_values(h), 2 * _values(th), RTOL, "changed values")
    assert_close(_values(g), _values(tg), RTOL, "the gradient of the recorded computation")


def test_assigning_data_changes_values_shape_and_dtype_as_in_torch() -> None:
    def program(lib: ModuleType) -> list[Any]:
        p = lib.tensor(np.ones(3), requires_grad=True)
        p.data = lib.tensor(np.arange(5.0))
        q = lib.tensor(np.ones(2))
        q.data = lib.tensor(np.array([1, 2]))  # no grad: an integer tensor is fine
        return [p, tuple(p.shape) == (5,), p.requires_grad, q, str(q.dtype).endswith("int64")]

    in_both(program)


def test_assigning_data_and_grad_refuses_what_torch_refuses() -> None:
    for lib in (tx, torch):
        p = lib.tensor(np.ones(3), requires_grad=True)
        with pytest.raises(TypeError):
            p.data = np.zeros(3)
        with pytest.raises(RuntimeError, match="floating point"):
            p.data = lib.tensor(np.array([1, 2, 3]))
        with pytest.raises(TypeError, match="assigned grad expected to be a Tensor or None"):
            p.grad = np.zeros(3)
        with pytest.raises(RuntimeError, match="dtype"):
            p.grad = lib.tensor(np.zeros(3, dtype=np.float32))
        with pytest.raises(RuntimeError, match="size|shape"):
            p.grad = lib.tensor(np.zeros(4))
        with pytest.raises(RuntimeError, match="own grad"):
            p.grad = p
        assert p.grad is None  # nothing was assigned


def test_our_messages_name_what_to_do() -> None:
    p = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(TypeError, match=r"Tensor.data: a Tensor must be assigned, got ndarray.*tensor\(array\)"):
        p.data = np.zeros(3)
    with pytest.raises(RuntimeError, match=r"gradient of shape \(4,\) to a tensor of shape \(3,\)"):
        p.grad = Tensor(np.zeros(4))
    with pytest.raises(RuntimeError, match="dtype float32 to a tensor of dtype float64"):
        p.grad = Tensor(np.zeros(3, dtype=np.float32))


def test_a_copy_of_data_is_a_tensor_of_its_own() -> None:
    p = Tensor(np.arange(3.0), requires_grad=True)
    for c in (copy.deepcopy(p.data), pickle.loads(pickle.dumps(p.data))):
        assert type(c) is Tensor and c.tolist() == [0.0, 1.0, 2.0] and not c.requires_grad
        c.add_(1.0)
        assert p.tolist() == [0.0, 1.0, 2.0]


# ------------------------------------------------------------------------------------- numpy()


def test_numpy_and_array_are_refused_while_a_tensor_requires_grad() -> None:
    for lib in (tx, torch):
        p = lib.tensor(np.ones(3), requires_grad=True)
        with pytest.raises(RuntimeError, match="numpy"):
            p.numpy()
        with pytest.raises(RuntimeError, match="numpy"):
            np.asarray(p)
        assert np.asarray(p.detach()).tolist() == p.data.numpy().tolist() == [1.0, 1.0, 1.0]


# ---------------------------------------------------------------------------- the non-leaf warning


def test_reading_the_grad_of_a_non_leaf_warns_as_torch_does() -> None:
    for lib in (tx, torch):
        x = lib.tensor(np.ones(3), requires_grad=True)
        y = x * 2
        kept = y * 3
        kept.retain_grad()
        kept.sum().backward()
        with pytest.warns(UserWarning, match=r"The \.grad attribute of a Tensor that is not a leaf Tensor is being "
                                             r"accessed.*retain_grad\(\)"):
            assert y.grad is None
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no warning for a leaf, a retained non-leaf, or a plain tensor
            assert x.grad is not None and kept.grad is not None and lib.tensor(1.0).grad is None
            assert kept.retains_grad and not y.retains_grad and not x.retains_grad


# ----------------------------------------------------------------- protection of saved values


@pytest.mark.parametrize("change", ["add_", "iadd", "copy_", "zero_", "setitem", "assign", "fill_"])
def test_a_change_through_data_after_the_forward_is_caught_at_backward(change: str) -> None:
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    y = (x * x).sum()  # mul saved x
    d = x.data
    if change == "add_":
        d.add_(1.0)
    elif change == "iadd":
        x.data += 1.0
    elif change == "copy_":
        x.data.copy_(Tensor(np.zeros(3)))
    elif change == "zero_":
        x.data.zero_()
    elif change == "setitem":
        x.data[0] = 5.0
    elif change == "assign":
        x.data = Tensor(np.zeros(3))
    else:
        x.data.fill_(4.0)
    with pytest.raises(RuntimeError, match=r"mul: saved tensor 0 \(shape \(3,\)\) was modified after the forward"):
        y.backward()
    assert x.grad is None  # nothing half-accumulated


def test_an_alias_saved_by_a_graph_is_protected_too() -> None:
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    p = Tensor(np.array([3.0, 4.0]), requires_grad=True)
    y = (w * p.data).sum()  # mul saved the alias for w's gradient
    with tx.no_grad():
        p -= 1.0  # the alias follows p: its values changed
    with pytest.raises(RuntimeError, match="was modified after the forward pass"):
        y.backward()


def test_a_change_through_data_keeps_a_graph_that_does_not_need_the_values() -> None:
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    y = (x + 1.0).sum()  # add saves nothing
    x.data.mul_(10.0)
    y.backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0, 1.0])


def test_the_saved_array_itself_is_never_written() -> None:
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    e = x.exp()  # exp saved its output
    saved = e.detach().numpy()
    with pytest.raises(ValueError, match=r"read-only: a live graph saved it for backward \(in 'exp'\)"):
        saved[0] = 0.0  # a write into the memory is refused ...
    e.data.zero_()  # ... a change through .data re-points e, and leaves that memory alone
    assert saved.tolist() == np.exp([1.0, 2.0, 3.0]).tolist() and e.tolist() == [0.0, 0.0, 0.0]
    e.sum().backward()  # exp's VJP reads the saved output: the gradient of the recorded computation
    np.testing.assert_array_equal(x.grad, np.exp([1.0, 2.0, 3.0]))


def test_accumulating_into_a_grad_that_a_graph_saved_is_caught_as_in_torch() -> None:
    for lib in (tx, torch):
        W, b, loss = mlp(lib)
        loss().backward()
        penalty = (W.grad * W).sum()  # mul saved W.grad for W's gradient
        loss().backward()  # adds into W.grad: a modification of a saved tensor
        with pytest.raises(RuntimeError, match="modified"):
            penalty.backward()


def test_a_grad_a_graph_saved_keeps_its_values() -> None:
    W, b, loss = mlp(tx)
    loss().backward()
    g = W.grad
    held = g.detach().numpy()  # the memory the graph below saves
    before = held.copy()
    penalty = (g * W).sum()
    loss().backward()  # the sum goes to a new array, and g's version ticks
    assert W.grad is g and np.array_equal(held, before)
    assert_close(g, 2 * before, RTOL, "accumulated")
    del penalty


# --------------------------------------------------------------------- optimizers and clipping


def test_zero_grad_without_none_zeroes_the_same_tensor() -> None:
    def program(lib: ModuleType) -> list[Any]:
        W, b, loss = mlp(lib)
        opt = (optim if lib is tx else torch.optim).SGD([W, b], lr=0.1)
        loss().backward()
        g = W.grad
        opt.zero_grad(set_to_none=False)
        return [W.grad is g, W.grad]

    in_both(program)


def test_clip_grad_norm_scales_the_grad_tensors_in_place() -> None:
    def program(lib: ModuleType) -> list[Any]:
        W, b, loss = mlp(lib)
        loss().backward()
        g = W.grad
        clip = optim.clip_grad_norm_ if lib is tx else torch.nn.utils.clip_grad_norm_
        total = clip([W, b], 1e-3)
        return [float(total), W.grad is g, W.grad, b.grad]

    in_both(program)


def test_an_optimizer_step_is_seen_by_a_data_alias() -> None:
    def program(lib: ModuleType) -> list[Any]:
        W, b, loss = mlp(lib)
        opt = (optim if lib is tx else torch.optim).Adam([W, b], lr=0.01)
        d = W.data
        for _ in range(3):
            opt.zero_grad()
            loss().backward()
            opt.step()
        return [d, W, b]

    in_both(program)


# ------------------------------------------------------------------- forward mode (tangents)


def _tangents(lib: ModuleType, *ts: Any) -> list[Any]:
    """Each tensor's tangent at the current dual level (None where it has none)."""
    return [lib.autograd.forward_ad.unpack_dual(t).tangent for t in ts]


def test_data_and_detach_carry_no_tangent_and_updates_through_data_keep_the_tangent_as_torch() -> None:
    """A dual's ``.data`` and ``detach()`` have no tangent; an in-place op on ``.data`` changes the values
    and leaves the tangent; a dual operand of an in-place op on ``t.data`` gives the alias a tangent, not
    ``t``; ``t.data = dual`` takes the values only; ``dual.data = t`` keeps the dual's tangent."""

    def program(lib: ModuleType) -> list[Any]:
        fwAD = lib.autograd.forward_ad
        f64 = {"dtype": lib.float64}
        with fwAD.dual_level():
            d = fwAD.make_dual(lib.tensor(X0[0], **f64), lib.tensor(X0[1], **f64))
            q = fwAD.make_dual(lib.tensor(X0[2], **f64), lib.tensor(X0[3], **f64))
            out = [t is None for t in _tangents(lib, d.data, d.detach(), (d * 2).data, (d * 2).detach())]
            d.data.add_(1.5)  # the values change, the tangent stays
            out += [fwAD.unpack_dual(d).primal, *_tangents(lib, d)]
            t = lib.zeros(3, **f64)
            alias = t.data
            alias.add_(q)
            out += [t, *_tangents(lib, alias), _tangents(lib, t)[0] is None, _tangents(lib, t.data)[0] is None]
            r = lib.zeros(3, **f64)
            r.data = q
            out += [r, _tangents(lib, r)[0] is None]
            d.data = lib.tensor(X0[4], **f64)
            out += [fwAD.unpack_dual(d).primal, *_tangents(lib, d)]
            p = lib.zeros(3, **f64)
            p.add_(q)  # on the tensor itself, the tangent comes along
            out += [p, *_tangents(lib, p)]
        return out

    in_both(program)


def test_a_grad_carries_a_tangent_only_when_backward_records() -> None:
    """``.grad`` of a dual's leaf: no tangent after a plain backward; with ``create_graph=True``
    (forward-over-reverse) its tangent is the Hessian-vector product, as in torch (here 6 w ⊙ ẇ)."""

    def program(lib: ModuleType) -> list[Any]:
        fwAD = lib.autograd.forward_ad
        w = lib.tensor(W0[0], requires_grad=True)
        with fwAD.dual_level():
            wd = fwAD.make_dual(w, lib.tensor(W0[1]))
            (wd ** 3).sum().backward()
            out = [w.grad, _tangents(lib, w.grad)[0] is None]
            w.grad = None
            (wd ** 3).sum().backward(create_graph=True)
            out += [w.grad, *_tangents(lib, w.grad)]
        w.grad = None  # (breaks the grad ↔ graph cycle, as torch's warning asks)
        return out

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Using backward\\(\\) with create_graph=True")
        in_both(program)
