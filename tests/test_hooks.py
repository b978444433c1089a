"""Hooks against PyTorch 2.x in float64: tensor hooks (``register_hook``, post-accumulate), module hooks
(forward, forward pre-, full backward, backward pre-), saved-tensor hooks, and what a forward pass saves.

Most programs are written once against ``lib`` (tinygrad_tx or torch) and log what every hook sees; the
two logs must be equal: the same calls, in the same order, with the same values. Values are compared
exactly (``==`` on lists of floats): each is a handful of float64 products and sums that both libraries
compute with the same IEEE operations in the same order.
"""

from __future__ import annotations

import gc
import warnings
import weakref
from typing import Any

import numpy as np
import pytest

import tinygrad_tx as tx
from tinygrad_tx import nn
from tinygrad_tx.autograd import Function, topological_order
from tinygrad_tx.autograd import hooks as _hooks
from tinygrad_tx.autograd.graph import saved_tensors_hooks
from tinygrad_tx.utils.hooks import RemovableHandle


def vals(t: Any) -> Any:
    """The values of a tensor or array of either library (or None), as a list."""
    if t is None:
        return None
    if hasattr(t, "detach") and not isinstance(t, tx.Tensor):  # a torch tensor
        return t.detach().numpy().tolist()
    return np.asarray(t.data if isinstance(t, tx.Tensor) else t).tolist()


def leaf(lib: Any, data: Any, requires_grad: bool = True) -> Any:
    return lib.tensor(data, dtype=lib.float64, requires_grad=requires_grad)


def both(program: Any, torch: Any) -> tuple[Any, Any]:
    """``program(lib)`` in both libraries; returns (ours, torch's), asserted equal."""
    ours, theirs = program(tx), program(torch)
    assert ours == theirs, f"\n ours  {ours}\n torch {theirs}"
    return ours, theirs


def logging_hook(log: list[Any], name: str, result: Any = None) -> Any:
    """A tensor hook that logs (name, gradient) and returns ``result(g)`` (None: keep the gradient)."""

    def hook(g: Any) -> Any:
        log.append((name, vals(g)))
        return None if result is None else result(g)

    return hook


# ------------------------------------------------------------------------------------------ tensor hooks
def test_tensor_hooks_run_in_order_and_replace_the_gradient_as_torch(torch) -> None:
    """Leaf: hooks in registration order, each on the previous result, before .grad. Intermediate: before
    the gradient flows on, and retain_grad stores what the hooks returned."""

    def program(lib: Any) -> Any:
        log: list[Any] = []
        x = leaf(lib, [1.0, 2.0, 3.0])
        x.register_hook(logging_hook(log, "x1", lambda g: g * 2))
        x.register_hook(logging_hook(log, "x2"))
        y = x * x
        y.retain_grad()
        y.register_hook(logging_hook(log, "y1", lambda g: g * 10))
        ((y * y).sum() + y.sum()).backward()
        return log, vals(x.grad), vals(y.grad)

    (log, x_grad, y_grad), _ = both(program, torch)
    assert [name for name, _ in log] == ["y1", "x1", "x2"] and y_grad == [30.0, 90.0, 190.0]


def test_retain_grad_sees_every_hook_whenever_registered(torch) -> None:
    def program(lib: Any) -> Any:
        p = leaf(lib, [1.0, 2.0])
        q = p * 2
        q.register_hook(lambda g: g * 7)
        q.retain_grad()
        q.register_hook(lambda g: g + 1)  # registered after retain_grad: .grad still shows it (torch >= 2.0)
        q.sum().backward()
        return vals(q.grad), vals(p.grad)

    assert both(program, torch)[0] == ([8.0, 8.0], [16.0, 16.0])


def test_retain_grad_is_a_hook(torch) -> None:
    """What ``retain_grad`` stores is what a hook that keeps its argument sees."""
    x = tx.tensor([1.0, -2.0, 3.0], dtype=tx.float64, requires_grad=True)
    h = x * x
    h.retain_grad()
    kept: list[Any] = []
    h.register_hook(kept.append)
    (h * h.exp()).sum().backward()
    np.testing.assert_array_equal(vals(h.grad), vals(kept[0]))
    np.testing.assert_array_equal(vals(h.grad), vals((h * h.exp() + h.exp()).detach()))


def test_a_hook_sees_the_sum_of_all_contributions_once(torch) -> None:
    def program(lib: Any) -> Any:
        log: list[Any] = []
        u = leaf(lib, [1.0, 2.0])
        u.register_hook(logging_hook(log, "u"))
        (u * u * u).sum().backward()
        r = leaf(lib, [1.0, 2.0])
        s = r * 2
        s.register_hook(logging_hook(log, "root", lambda g: g * 3))  # the root's own seed goes through it
        s.backward(lib.ones(2, dtype=lib.float64))
        return log, vals(u.grad), vals(r.grad)

    both(program, torch)


def test_hooks_stay_with_the_value_across_an_in_place_op(torch) -> None:
    def program(lib: Any) -> Any:
        log: list[Any] = []
        x = leaf(lib, [1.0, 2.0])
        h = x * 2
        h.register_hook(logging_hook(log, "before"))  # dL/d(h before *= 3)
        h *= 3
        h.register_hook(logging_hook(log, "after"))
        (h * h).sum().backward()
        return log, vals(x.grad)

    both(program, torch)


def test_a_hook_outlives_its_tensor_object_but_not_its_node(torch) -> None:
    log: list[Any] = []
    x = tx.tensor([1.0, 2.0], dtype=tx.float64, requires_grad=True)
    y = x * 2
    y.register_hook(logging_hook(log, "y"))
    z = y * 3
    del y  # the hook is on y's node (its grad_fn), which z's graph keeps
    z.sum().backward()
    assert log == [("y", [3.0, 3.0])]
    t = tx.tensor([1.0], dtype=tx.float64, requires_grad=True)
    t.register_hook(lambda g: None)
    key = id(t)
    assert key in _hooks._tensor_hooks
    del t, z
    gc.collect()
    assert key not in _hooks._tensor_hooks  # dropped with the node: a new object with that id has no hooks


def test_handles_remove_and_work_as_context_managers(torch) -> None:
    def program(lib: Any) -> Any:
        u = leaf(lib, [1.0, 2.0])
        h = u.register_hook(lambda g: g * 100)
        ids = [h.id]
        h.remove()
        h.remove()  # twice is harmless
        (u * 1).sum().backward()
        with u.register_hook(lambda g: g * 10) as h2:
            ids.append(h2.id)
            (u * 1).sum().backward()
        (u * 1).sum().backward()
        return vals(u.grad), ids[1] > ids[0], type(h2).__name__

    assert both(program, torch)[0][0] == [12.0, 12.0]


def test_a_hook_may_remove_itself() -> None:
    x = tx.tensor([1.0, 2.0], dtype=tx.float64, requires_grad=True)
    calls: list[int] = []

    def once(g: Any) -> None:
        calls.append(1)
        handle.remove()

    handle = x.register_hook(once)
    (x * 2).sum().backward()
    (x * 2).sum().backward()
    assert calls == [1]


def test_post_accumulate_grad_hook_runs_after_grad_is_updated(torch) -> None:
    def program(lib: Any) -> Any:
        log: list[Any] = []
        b = leaf(lib, [1.0, 2.0])
        b.register_post_accumulate_grad_hook(lambda t: log.append(("post", vals(t.grad))))
        b.register_hook(logging_hook(log, "pre"))
        (b * 3).sum().backward()
        (b * 2).sum().backward()
        lib.autograd.grad((b * 5).sum(), b)  # grad() touches no .grad: no post-accumulate hook
        return log

    assert both(program, torch)[0] == [("pre", [3.0, 3.0]), ("post", [3.0, 3.0]), ("pre", [2.0, 2.0]),
                                       ("post", [5.0, 5.0]), ("pre", [5.0, 5.0])]  # (grad() runs the hook)


def test_tensor_hook_errors_as_torch(torch) -> None:
    def refusals(lib: Any) -> list[Any]:
        out = []
        for register in ("register_hook", "register_post_accumulate_grad_hook"):
            with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't require gradient"):
                getattr(lib.tensor([1.0]), register)(lambda g: g)
        with pytest.raises(RuntimeError, match="post accumulate grad hooks cannot be registered on non-leaf"):
            (leaf(lib, [1.0]) * 2).register_post_accumulate_grad_hook(lambda t: None)

        def returned(result: Any, post: bool = False) -> str:
            a = leaf(lib, [1.0, 2.0])
            if post:
                a.register_post_accumulate_grad_hook(lambda t: result(t))
            else:
                a.register_hook(lambda g: result(g))
            with pytest.raises((RuntimeError, TypeError)) as e:
                (a * 2).sum().backward()
            return e.type.__name__

        out.append(returned(lambda g: g.sum()))
        out.append(returned(lambda g: g.float()))
        out.append(returned(lambda g: 3))
        out.append(returned(lambda t: t * 2, post=True))
        out.append(returned(lambda t: 5, post=True))
        return out

    both(refusals, torch)
    a = tx.tensor([1.0, 2.0], dtype=tx.float64, requires_grad=True)

    def wrong_shape(g: Any) -> Any:
        return g.sum()

    a.register_hook(wrong_shape)
    with pytest.raises(RuntimeError, match=r"hook 'wrong_shape' has changed the size of value .*\(2,\).*\(\)"):
        (a * 2).sum().backward()
    b = tx.tensor([1.0, 2.0], dtype=tx.float64, requires_grad=True)
    b.register_hook(lambda g: g.float())
    with pytest.raises(RuntimeError, match="has changed the type of value \\(was float64 got float32\\)"):
        (b * 2).sum().backward()


# ------------------------------------------------------------------------------- hooks in grad()
def test_grad_runs_the_hooks_torch_runs_and_captures_what_torch_captures(torch) -> None:
    """grad() runs only the nodes on a path to an input. An input whose node goes no further is captured
    after its hooks; one whose node runs on (to reach another input) is captured before them, as
    PyTorch's engine does. Hooks off every path are not called; retain_grad on the path stores."""

    def program(lib: Any) -> Any:
        log: list[Any] = []
        x = leaf(lib, [1.0, 2.0])
        x.register_hook(logging_hook(log, "x", lambda g: g * 2))
        x.register_post_accumulate_grad_hook(lambda t: log.append("x post"))
        w = leaf(lib, [3.0, 4.0])
        w.register_hook(logging_hook(log, "w"))
        y = x * 3
        y.register_hook(logging_hook(log, "y", lambda g: g * 5))
        v = w * 2
        v.retain_grad()
        z = (y * y).sum() + (y * v).sum()
        out = []
        for inputs in ([x], [y], [y, x]):
            grads = lib.autograd.grad(z, inputs, retain_graph=True)
            out.append(([vals(g) for g in grads], log[:]))
            log.clear()
        y.retain_grad()
        out.append((vals(lib.autograd.grad(z, [x])[0]), vals(y.grad), vals(v.grad), vals(x.grad), log))
        return out

    both(program, torch)


# ------------------------------------------------------------------------------- create_graph
def test_a_hook_is_differentiated_through_with_create_graph(torch) -> None:
    def program(lib: Any) -> Any:
        x = leaf(lib, [1.0, 2.0])
        x.register_hook(lambda g: g * x)  # runs in both passes: dL/dx · x
        (gx,) = lib.autograd.grad((x**2).sum(), x, create_graph=True)
        gx.sum().backward()
        return vals(gx), gx.requires_grad, vals(x.grad)

    assert both(program, torch)[0] == ([2.0, 8.0], True, [4.0, 16.0])


# ------------------------------------------------------------------------------------ module hooks
class Scale(nn.Module):
    def __init__(self, lib: Any, name: str, log: list[Any]) -> None:
        super().__init__()
        self.name, self.log = name, log

    def forward(self, x: Any, k: float = 1.0) -> Any:
        self.log.append((self.name, "forward", vals(x), k))
        return x * 2 * k


def _module_classes(lib: Any) -> tuple[type, type]:
    base = nn.Module if lib is tx else lib.nn.Module

    class ScaleM(base):  # type: ignore[valid-type, misc]
        def __init__(self, log: list[Any]) -> None:
            super().__init__()
            self.log = log

        def forward(self, x: Any, k: float = 1.0) -> Any:
            self.log.append(("forward", vals(x), k))
            return x * 2 * k

    class Two(base):  # type: ignore[valid-type, misc]
        def forward(self, a: Any, b: Any, k: float = 1.0) -> Any:
            return a * 2 * k, b * 3

    return ScaleM, Two


def test_forward_hooks_order_prepend_kwargs_and_returns_as_torch(torch) -> None:
    def program(lib: Any) -> Any:
        ScaleM, _ = _module_classes(lib)
        log: list[Any] = []
        m = ScaleM(log)
        m.register_forward_pre_hook(lambda mod, args: log.append(("pre A", vals(args[0]))))
        m.register_forward_pre_hook(lambda mod, args: (args[0] + 1,))  # new args (a tuple)
        m.register_forward_pre_hook(lambda mod, args: args[0] * 10)  # a non-tuple is the one argument
        m.register_forward_pre_hook(lambda mod, args: log.append(("pre first", vals(args[0]))), prepend=True)
        m.register_forward_pre_hook(lambda mod, args, kwargs: (args, {**kwargs, "k": 0.5}), with_kwargs=True)
        m.register_forward_hook(lambda mod, args, out: log.append(("fwd", vals(args[0]), vals(out))))
        m.register_forward_hook(lambda mod, args, kwargs, out: out + kwargs["k"], with_kwargs=True)
        m.register_forward_hook(lambda mod, args, out: log.append(("fwd first", vals(out))), prepend=True)
        out = m(leaf(lib, [1.0, 2.0]), k=3.0)
        return log, vals(out)

    both(program, torch)


def test_forward_hook_handles_remove_their_options_too(torch) -> None:
    def program(lib: Any) -> Any:
        ScaleM, _ = _module_classes(lib)
        log: list[Any] = []
        m = ScaleM(log)
        h1 = m.register_forward_hook(lambda mod, args, kwargs, out: out * 0, with_kwargs=True, always_call=True)
        h2 = m.register_forward_pre_hook(lambda mod, args, kwargs: None, with_kwargs=True)
        with m.register_forward_hook(lambda mod, args, out: out + 100):
            first = vals(m(leaf(lib, [1.0])))
        h1.remove()
        h2.remove()
        left = [len(m._forward_hooks), len(m._forward_hooks_with_kwargs), len(m._forward_hooks_always_called),
                len(m._forward_pre_hooks), len(m._forward_pre_hooks_with_kwargs)]
        return first, vals(m(leaf(lib, [1.0]))), left

    assert both(program, torch)[0] == ([100.0], [2.0], [0, 0, 0, 0, 0])


def test_always_call_forward_hooks_run_when_forward_raises(torch) -> None:
    def program(lib: Any) -> Any:
        base = nn.Module if lib is tx else lib.nn.Module
        log: list[Any] = []

        class Fails(base):  # type: ignore[valid-type, misc]
            def forward(self, x: Any) -> Any:
                raise ValueError("boom")

        m = Fails()
        m.register_forward_hook(lambda mod, args, out: log.append(("not always", out)))
        m.register_forward_hook(lambda mod, args, out: log.append(("always", out)), always_call=True)

        def broken(mod: Any, args: Any, kwargs: Any, out: Any) -> None:
            raise KeyError("hook")

        m.register_forward_hook(broken, with_kwargs=True, always_call=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pytest.raises(ValueError, match="boom"):
                m(leaf(lib, [1.0]))
        return log, [str(w.message).split(":")[0] for w in caught]

    both(program, torch)
    bad = nn.Module()
    bad.forward = lambda x: x  # type: ignore[method-assign]
    bad.register_forward_pre_hook(lambda mod, args, kwargs: 3, with_kwargs=True)
    with pytest.raises(RuntimeError, match=r"forward pre-hook must return None or a tuple of \(new_args, new_kwargs\)"):
        bad(1)


def _backward_hook_log(lib: Any) -> list[Any]:
    """The full backward hooks of PyTorch's documentation, case by case."""
    _, Two = _module_classes(lib)
    log: list[Any] = []

    def pre(mod: Any, go: Any) -> None:
        log.append(("pre", [vals(g) for g in go]))

    def full(mod: Any, gi: Any, go: Any) -> None:
        log.append(("full", [vals(g) for g in gi], [vals(g) for g in go]))

    m = Two()
    m.register_full_backward_pre_hook(pre)
    m.register_full_backward_hook(full)
    a, b = leaf(lib, [1.0, 2.0]), leaf(lib, [1.0, 2.0])
    oa, ob = m(a, b)
    oa.sum().backward()  # an output no gradient reaches: None; an input none reaches: zeros
    log.append(("grads", vals(a.grad), vals(b.grad)))
    c = leaf(lib, [1.0, 2.0], requires_grad=False)
    oa, ob = m(c, b, k=2.0)  # an input that needs no gradient: zeros too (an output of it: None)
    (oa.sum() + ob.sum()).backward()
    lin = lib.nn.Linear(2, 2).double()
    lin.register_full_backward_hook(full)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lin(c).sum().backward()  # no input requires grad: fires at the outputs, grad_input (None,)
    log.append([(str(w.message)[:60], w.filename == __file__) for w in caught])
    return log


def test_full_backward_hooks_see_what_torch_shows(torch) -> None:
    both(_backward_hook_log, torch)


def test_backward_hooks_replace_gradients_as_torch(torch) -> None:
    def program(lib: Any) -> Any:
        ScaleM, _ = _module_classes(lib)
        log: list[Any] = []
        s = ScaleM(log)
        s.register_full_backward_pre_hook(lambda mod, go: (go[0] + 1,))
        s.register_full_backward_hook(lambda mod, gi, go: log.append(("full 1", vals(gi[0]), vals(go[0]))))
        s.register_full_backward_hook(lambda mod, gi, go: (gi[0] * 10,))
        s.register_full_backward_hook(lambda mod, gi, go: log.append(("full first", vals(gi[0]))), prepend=True)
        x = leaf(lib, [1.0, 2.0])
        (s(x) * s(x)).sum().backward()  # two calls: two firings
        out = [log, vals(x.grad)]
        for bad in (lambda m, go: (go[0], go[0]), lambda m, go: go[0] + 1):
            m = ScaleM([])
            m.register_full_backward_pre_hook(bad)
            with pytest.raises(RuntimeError) as e:
                m(x).sum().backward()
            out.append(str(e.value))
        m = ScaleM([])
        m.register_full_backward_hook(lambda mod, gi, go: (gi[0], gi[0]))
        with pytest.raises(RuntimeError) as e:
            m(x).sum().backward()
        out.append(str(e.value))
        return out

    both(program, torch)


def test_backward_hooks_of_a_network_as_torch(torch) -> None:
    """Every layer of an MLP logs grad_input and grad_output; parameters' gradients are unchanged."""
    rng = np.random.default_rng(0)
    w1, b1 = rng.standard_normal((3, 4)), rng.standard_normal(3)
    w2, b2 = rng.standard_normal((2, 3)), rng.standard_normal(2)
    x0 = rng.standard_normal((5, 4))

    def program(lib: Any) -> Any:
        net = lib.nn.Sequential(lib.nn.Linear(4, 3), lib.nn.Tanh(), lib.nn.Linear(3, 2)).double()
        for lin, w, b in ((net[0], w1, b1), (net[2], w2, b2)):
            with lib.no_grad():
                lin.weight.copy_(lib.tensor(w)), lin.bias.copy_(lib.tensor(b))
        log: list[Any] = []
        for name, m in net.named_children():
            m.register_full_backward_hook(lambda mod, gi, go, name=name: log.append(
                (name, [vals(g) for g in gi], [vals(g) for g in go])))
        x = leaf(lib, x0)
        (net(x) ** 2).sum().backward()
        return log, vals(x.grad), [vals(p.grad) for p in net.parameters()]

    ours, theirs = program(tx), program(torch)
    for a, b in zip(ours[0], theirs[0]):
        assert a[0] == b[0]
        for ga, gb in zip(a[1] + a[2], b[1] + b[2]):
            np.testing.assert_allclose(ga, gb, rtol=1e-13, atol=1e-15)
    for ga, gb in zip([ours[1], *ours[2]], [theirs[1], *theirs[2]]):
        np.testing.assert_allclose(ga, gb, rtol=1e-13, atol=1e-15)


def test_backward_hooks_keep_second_derivatives_and_forward_mode() -> None:
    x = tx.tensor([0.5, -1.0], dtype=tx.float64, requires_grad=True)
    plain, hooked = nn.Tanh(), nn.Tanh()
    hooked.register_full_backward_hook(lambda m, gi, go: None)
    hooked.register_full_backward_pre_hook(lambda m, go: None)
    second = []
    for m in (plain, hooked):
        (g,) = tx.autograd.grad(m(x).sum(), x, create_graph=True)
        second.append(vals(tx.autograd.grad(g.sum(), x)[0]))
    assert second[0] == second[1]
    from tinygrad_tx.autograd import forward_ad as fwAD

    with fwAD.dual_level():
        dual = fwAD.make_dual(x, tx.ones(2, dtype=tx.float64))
        tangents = [fwAD.unpack_dual(m(dual)).tangent for m in (plain, hooked)]
    assert vals(tangents[0]) == vals(tangents[1])


def test_a_module_without_hooks_takes_the_direct_path(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any) -> None:
        raise AssertionError("_call_with_hooks called for a module without hooks")

    monkeypatch.setattr(nn.Module, "_call_with_hooks", refuse)
    lin = nn.Linear(2, 2)
    lin(tx.ones(1, 2))
    handle = lin.register_forward_hook(lambda m, a, o: None)
    with pytest.raises(AssertionError, match="_call_with_hooks called"):
        lin(tx.ones(1, 2))
    handle.remove()
    lin(tx.ones(1, 2))
    assert isinstance(handle, RemovableHandle)


# ------------------------------------------------------------------------------ saved-tensor hooks
def test_pack_and_unpack_see_what_torch_shows(torch) -> None:
    def program(lib: Any) -> Any:
        log: list[Any] = []

        def pack(t: Any) -> Any:
            log.append(("pack", tuple(t.shape), t.requires_grad, t.grad_fn is not None, lib.is_grad_enabled()))
            return t

        def unpack(t: Any) -> Any:
            log.append(("unpack", tuple(t.shape), lib.is_grad_enabled()))
            return t

        x = leaf(lib, [1.0, 2.0])
        with lib.autograd.graph.saved_tensors_hooks(pack, unpack):
            y = x.exp()  # saves its output
            w = (y * x).sum()  # saves both inputs
            with lib.no_grad():
                x * x  # records nothing, saves nothing
        w.backward()
        return log[0], sorted(log), vals(x.grad)  # (the order in which one op saves its tensors is its own)

    both(program, torch)


def test_saved_tensor_hooks_nest_and_unpack_on_every_read(torch) -> None:
    def program(lib: Any) -> Any:
        log: list[Any] = []

        def hooks(name: str) -> Any:
            return lib.autograd.graph.saved_tensors_hooks(lambda t: (log.append(name), t)[1],
                                                          lambda t: (log.append("unpack " + name), t)[1])

        x = leaf(lib, [1.0, 2.0])
        with hooks("outer"):
            with hooks("inner"):
                a = (x * x).sum()
            b = (x * x).sum()
        Base = lib.autograd.Function

        class Twice(Base):  # type: ignore[valid-type, misc]
            @staticmethod
            def forward(ctx: Any, t: Any) -> Any:
                ctx.save_for_backward(t)
                return t * 2

            @staticmethod
            def backward(ctx: Any, g: Any) -> Any:
                ctx.saved_tensors  # noqa: B018  (a first read: unpacks too)
                (t,) = ctx.saved_tensors
                return g * 2

        with hooks("custom"):
            c = Twice.apply(x).sum()
        (a + b + c).backward()
        packs = [e for e in log if not e.startswith("unpack")]
        unpacks = [e for e in log if e.startswith("unpack")]
        return packs, sorted(unpacks), unpacks[unpacks.index("unpack custom") + 1], vals(x.grad)

    # (the order between independent branches of the graph is each engine's: PyTorch's follows creation)
    assert both(program, torch)[0][2] == "unpack custom"


def test_what_pack_returns_is_all_the_graph_keeps(torch) -> None:
    """A pack hook that copies: the graph no longer holds the tensor's array, and changing the tensor
    afterwards cannot change the gradient (as PyTorch). Unpacked values are connected to the graph: a
    second derivative through them is right."""

    def program(lib: Any) -> Any:
        copy = lib.autograd.graph.saved_tensors_hooks(lambda t: t.detach().clone(), lambda t: t)
        x = leaf(lib, [1.0, 2.0])
        with copy:
            a = x * 2
            b = a * a
        with lib.no_grad():
            a.add_(1)
        b.sum().backward()
        x2 = leaf(lib, [1.0, 2.0])
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t.detach().numpy().copy(), lambda a: lib.tensor(a)):
            s = (x2.exp() * x2 * x2).sum()
        (g,) = lib.autograd.grad(s, x2, create_graph=True)
        g.sum().backward()
        return vals(x.grad), vals(g), vals(x2.grad)

    ours, theirs = program(tx), program(torch)
    assert ours[0] == theirs[0] == [8.0, 16.0]
    for a, b in zip(ours[1:], theirs[1:]):
        np.testing.assert_allclose(a, b, rtol=1e-15)

    x = tx.tensor([1.0, 2.0], dtype=tx.float64, requires_grad=True)
    with saved_tensors_hooks(lambda t: t.detach().numpy().copy(), lambda a: tx.Tensor(a)):
        h = x * 2
        loss = (h * h).sum()  # saves h, as a copy
    array = weakref.ref(h._data)
    del h
    gc.collect()
    assert array() is None  # without the hooks the graph would keep h's array alive
    loss.backward()
    np.testing.assert_array_equal(vals(x.grad), [8.0, 16.0])


def test_a_pack_hook_that_keeps_the_tensor_keeps_the_checks() -> None:
    """Returning the tensor itself: it is saved as without hooks, read-only while saved, and a change
    made anyway is an error at backward. (PyTorch computes a wrong gradient silently here.)"""
    x = tx.tensor([1.0, 2.0], dtype=tx.float64, requires_grad=True)
    with saved_tensors_hooks(lambda t: t, lambda t: t):
        a = x * 2
        b = (a * a).sum()
    with pytest.raises(ValueError, match="read-only: a live graph saved it"):
        a.detach().numpy()[0] = 5.0
    with tx.no_grad():
        a.add_(1)
    with pytest.raises(RuntimeError, match="mul: saved tensor 0 .* was modified after the forward pass"):
        b.backward()


def test_saved_tensor_hook_errors(torch) -> None:
    x = tx.tensor([1.0, 2.0], dtype=tx.float64, requires_grad=True)
    with saved_tensors_hooks(lambda t: t, lambda t: 3):
        q = (x * x).sum()
    with pytest.raises(TypeError, match="Output of saved tensor unpack_hook expected to be a Tensor but got result "
                                        "of type int"):
        q.backward()
    t = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    with torch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: 3):
        q = (t * t).sum()
    with pytest.raises(TypeError, match="Output of saved tensor unpack_hook expected to be a Tensor but got result "
                                        "of type int"):
        q.backward()
    with pytest.raises(TypeError, match="must be callable"):
        saved_tensors_hooks(None, lambda t: t)  # type: ignore[arg-type]


# --------------------------------------------------------------------- what a forward pass saves
class Saves:
    """A pack hook that records every saved tensor (the tensor goes on to the graph unchanged)."""

    def __init__(self, lib: Any) -> None:
        self.lib, self.tensors = lib, []

    def __enter__(self) -> Saves:
        self.block = self.lib.autograd.graph.saved_tensors_hooks(self.pack, lambda t: t)
        self.block.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.block.__exit__(*exc)

    def pack(self, t: Any) -> Any:
        self.tensors.append(t)
        return t

    def nbytes(self) -> int:
        """Bytes of the distinct storages saved (a storage two ops saved counts once)."""
        if self.lib is tx:
            storages = {}
            for t in self.tensors:
                a = t._data
                while isinstance(a.base, np.ndarray):
                    a = a.base
                storages[id(a)] = a.nbytes
        else:
            storages = {t.untyped_storage().data_ptr(): t.untyped_storage().nbytes() for t in self.tensors}
        return sum(storages.values())


def _mlp_saves(lib: Any, batch: int, depth: int, width: int = 8) -> tuple[int, int]:
    rng = np.random.default_rng(0)
    x = leaf(lib, rng.standard_normal((batch, width)), requires_grad=False)
    layers = [(leaf(lib, rng.standard_normal((width, width))), leaf(lib, rng.standard_normal(width)))
              for _ in range(depth)]
    with Saves(lib) as saves:
        h = x
        for w, b in layers:
            h = (h @ w + b).relu()
        h.sum()
    return len(saves.tensors), saves.nbytes()


def test_an_mlp_saves_three_tensors_a_layer_in_both_libraries(torch) -> None:
    """``relu(h @ W + b)``, depth L, batch B, width H, float64. Both save 3 tensors a layer but the first
    (whose input needs no gradient, so W is not saved for it): 3L - 1. The bytes are affine in B and in L
    in both, with the same H·H·8 per layer for W; per sample and layer PyTorch keeps ReLU's output
    (which the next matmul saves too: one storage), tinygrad_tx keeps ReLU's mask (1 byte an entry) and
    the next matmul's input:

        tinygrad_tx: 8H·B (x) + (8H + H)·B·L - 8H·B (the last ReLU output is not saved) + 8H²·(L - 1)
        torch:       8H·B (x) + 8H·B·L (ReLU outputs) + 8H²·(L - 1)
    """
    H = 8
    for lib, per_sample_layer in ((tx, 9 * H), (torch, 8 * H)):
        for B in (1, 2, 3):
            for L in (1, 2, 3):
                count, nbytes = _mlp_saves(lib, B, L, H)
                assert count == 3 * L - 1, (lib.__name__, B, L, count)
                first = 8 * H * B * (0 if lib is tx else 1)
                assert nbytes == first + per_sample_layer * B * L + 8 * H * H * (L - 1), (lib.__name__, B, L, nbytes)


def _graph_saved(loss: Any, leave_out: set[int]) -> tuple[int, int]:
    """(count, bytes of the distinct arrays not in ``leave_out``) the graph's nodes hold for backward."""
    saved = [t for node in topological_order([loss._node()]) if isinstance(node, Function)
             for t in node.saved_tensors if t is not None]
    storages = {}
    for t in saved:
        a = t._data
        while isinstance(a.base, np.ndarray):
            a = a.base
        if id(a) not in leave_out:
            storages[id(a)] = a.nbytes
    return len(saved), sum(storages.values())


def _gpt_saves(n_layer: int, batch: int) -> tuple[int, int, int, int]:
    """(saves, saves still held, activation bytes held, the graph's own count) of one GPT forward pass."""
    tx.manual_seed(0)
    model = nn.GPT(nn.GPTConfig(vocab_size=17, block_size=8, n_layer=n_layer, n_head=2, n_embd=16), dtype=np.float64)
    ids = np.random.default_rng(batch).integers(0, 17, size=(batch, 9))
    params = set()
    for p in model.parameters():
        a = p._data
        while isinstance(a.base, np.ndarray):
            a = a.base
        params.add(id(a))
    held: list[Any] = []

    class Holder:
        __slots__ = ("t", "__weakref__")

    def pack(t: Any) -> Holder:
        h = Holder()
        h.t = t
        held.append(weakref.ref(h))
        return h

    with saved_tensors_hooks(pack, lambda h: h.t):
        _, loss = model(ids[:, :-1], ids[:, 1:])
    alive = [r() for r in held if r() is not None]
    graph_count, graph_bytes = _graph_saved(loss, params)
    storages = {}
    for h in alive:
        a = h.t._data
        while isinstance(a.base, np.ndarray):
            a = a.base
        if id(a) not in params:
            storages[id(a)] = a.nbytes
    assert (len(alive), sum(storages.values())) == (graph_count, graph_bytes)  # the hook and the graph agree
    loss.backward()
    return len(held), len(alive), graph_bytes, graph_count


def test_a_gpt_step_saves_linearly_in_depth_and_batch() -> None:
    """Counted through the pack hook and read from the graph, the same. Each block adds the same number of
    saved tensors and bytes; the bytes grow with the batch by the same amount per sample. The max that softmax subtracts
    (in each block's attention, and in the loss) is computed by an op whose output is detached at once: its
    node saved its input for nothing and is dropped, so n_layer + 1 saves are not held."""
    rows = {(L, B): _gpt_saves(L, B) for L, B in ((1, 2), (2, 2), (3, 2), (2, 1), (2, 3))}
    for (L, _), (saves, held, _, _) in rows.items():
        assert saves == held + L + 1
    per_layer = rows[(2, 2)][1] - rows[(1, 2)][1]
    assert rows[(3, 2)][1] - rows[(2, 2)][1] == per_layer > 0
    assert rows[(2, 1)][1] == rows[(2, 2)][1] == rows[(2, 3)][1]  # the count does not depend on the batch
    bytes_per_layer = rows[(2, 2)][2] - rows[(1, 2)][2]
    assert rows[(3, 2)][2] - rows[(2, 2)][2] == bytes_per_layer
    per_sample = rows[(2, 2)][2] - rows[(2, 1)][2]
    assert rows[(2, 3)][2] - rows[(2, 2)][2] == per_sample
    assert 0 <= rows[(2, 1)][2] - per_sample < 0.01 * per_sample  # ~ ∝ batch: a few constants (the mask) do not grow
