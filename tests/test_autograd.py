"""The backward algorithm on Tensors: seed examples, reuse, deep graphs, errors, memory, grad mode."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import tinygrad_tx as tx
from tinygrad_tx import Function, Tensor
from tinygrad_tx.manual.seeds import relu_mlp_backward, relu_mlp_forward, staged_f_backward

f64 = np.float64


def t64(a, requires_grad: bool = False) -> Tensor:
    return Tensor(np.asarray(a, dtype=f64), requires_grad=requires_grad)


# ------------------------------------------------------------------------------ the seed examples


def test_staged_example_tensor_is_bit_exact_against_hand_staged_code() -> None:
    x, y = t64(3.0, True), t64(-4.0, True)
    f = (x + y.sigmoid()) / (x.sigmoid() + (x + y) ** 2)
    f.backward()
    hand = staged_f_backward(3.0, -4.0)
    assert f.item() == pytest.approx(hand["f"], rel=1e-15)
    # The Tensor engine's division passes b̄ = -ȳ a / b² back, the Value engine's (and the hand-staged
    # code's) -(a / b) / b · ȳ, as PyTorch's does; both are checked against torch to the last couple of bits.
    assert x.grad.item() == pytest.approx(hand["dx"], rel=1e-14)
    assert y.grad.item() == pytest.approx(hand["dy"], rel=1e-14)


def test_staged_example_tensor_bit_exact_when_written_with_the_same_stages() -> None:
    """Written with ``num * den**-1`` stages, the engine agrees with the hand-staged code to the bit here."""
    x, y = t64(3.0, True), t64(-4.0, True)
    f = (x + y.sigmoid()) * (x.sigmoid() + (x + y) ** 2.0) ** -1.0
    f.backward()
    hand = staged_f_backward(3.0, -4.0)
    assert f.item() == hand["f"]
    assert x.grad.item() == hand["dx"]
    assert y.grad.item() == hand["dy"]


def test_relu_mlp_matrix_recursion_matches_engine() -> None:
    rng = np.random.default_rng(0)
    sizes = [4, 8, 6, 3]
    Ws = [rng.standard_normal((o, i)) for i, o in zip(sizes[:-1], sizes[1:])]
    bs = [rng.standard_normal((o, 1)) for o in sizes[1:]]
    x = rng.standard_normal((4, 5))
    R = rng.standard_normal((3, 5))  # L = Σ z_M ⊙ R, so dL/dz_M = R
    zM, cache = relu_mlp_forward(x, Ws, bs)
    dW, db, dx = relu_mlp_backward(R, Ws, cache)

    tW = [t64(W, True) for W in Ws]
    tb = [t64(b, True) for b in bs]
    tx_in = t64(x, True)
    a = tx_in
    for layer, (W, b) in enumerate(zip(tW, tb)):
        z = b + W @ a
        a = z.relu() if layer < len(tW) - 1 else z
    (a * t64(R)).sum().backward()
    np.testing.assert_allclose(a.data, zM, rtol=1e-14)
    for l in range(len(Ws)):
        np.testing.assert_allclose(tW[l].grad, dW[l], rtol=1e-13, atol=1e-14)
        np.testing.assert_allclose(tb[l].grad, db[l], rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(tx_in.grad, dx, rtol=1e-13, atol=1e-14)


# ---------------------------------------------------------------------------------- accumulation


def test_reuse_accumulates() -> None:
    a = t64([1.0, 2.0], True)
    b = a + a
    c = b + b
    b.retain_grad()
    c.sum().backward()
    np.testing.assert_array_equal(a.grad, [4.0, 4.0])
    np.testing.assert_array_equal(b.grad, [2.0, 2.0])


def test_diamond_matches_torch(torch) -> None:
    x0 = np.array([0.3, -1.2, 2.0])
    x = t64(x0, True)
    u, v = x.tanh(), x.exp()
    ((u * v) + u).sum().backward()
    tx_ = torch.tensor(x0, requires_grad=True)
    tu, tv = tx_.tanh(), tx_.exp()
    ((tu * tv) + tu).sum().backward()
    np.testing.assert_allclose(x.grad, tx_.grad.numpy(), rtol=1e-15)


def test_gradients_accumulate_across_backward_calls_until_zeroed() -> None:
    x = t64([1.0, 2.0], True)
    (x * x).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [4.0, 8.0])


def test_leaf_grads_are_independent_arrays() -> None:
    a, b = t64([1.0], True), t64([2.0], True)
    (a + b).backward(np.array([1.0]))
    a.grad.numpy()[...] *= 10  # a write into a.grad's memory must not touch b.grad's
    assert b.grad[0] == 1.0


def test_retain_grad_on_intermediate() -> None:
    x = t64([1.0, -2.0, 3.0], True)
    h = x * 2
    h.retain_grad()
    y = (h * h).sum()
    y.backward()
    np.testing.assert_array_equal(h.grad, 2 * h.data)
    with pytest.warns(UserWarning, match="not a leaf Tensor"):
        assert y.grad is None  # not retained


# ------------------------------------------------------------------------------------ deep graphs


@pytest.mark.slow
def test_deep_chain_of_a_million_tensor_nodes() -> None:
    x = t64([1.0, 2.0], True)
    y = x
    for _ in range(1_000_000):
        y = -y
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])


# ---------------------------------------------------------------------------------- clear errors


def test_backward_twice_raises_and_leaves_grads_untouched() -> None:
    x = t64([1.0, 2.0], True)
    y = (x * x).sum()
    y.backward()
    before = x.grad.clone()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()
    np.testing.assert_array_equal(x.grad, before)


def test_backward_twice_with_retain_graph() -> None:
    x = t64([1.0, 2.0], True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad, [4.0, 8.0])


def test_shared_subgraph_freed_by_first_backward() -> None:
    x = t64([1.0, 2.0], True)
    h = x.exp()
    a, b = h.sum(), (h * 3).sum()
    a.backward()
    with pytest.raises(RuntimeError, match="second time \\(at 'exp'\\)"):
        b.backward()


def test_non_scalar_backward_needs_a_gradient() -> None:
    x = t64(np.ones((2, 3)), True)
    y = x * 2
    with pytest.raises(RuntimeError, match=r"one-element output.*shape \(2, 3\).*gradient="):
        y.backward()
    y.backward(np.full((2, 3), 0.5))
    np.testing.assert_array_equal(x.grad, np.ones((2, 3)))
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\) but the output has shape \(2, 3\)"):
        (x * 2).backward(np.ones(3))


def test_backward_on_tensor_without_graph() -> None:
    with pytest.raises(RuntimeError, match="does not require grad"):
        t64([1.0]).sum().backward()


def test_int_tensors_cannot_require_grad() -> None:
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients.*int64"):
        Tensor([1, 2, 3], requires_grad=True)
    with pytest.raises(TypeError, match="int64"):
        Tensor(np.arange(3)).requires_grad_()


def test_a_one_element_integer_tensor_is_an_index() -> None:
    assert list(range(tx.tensor(3))) == [0, 1, 2]
    assert [5, 6, 7][tx.tensor(-1)] == 7
    with pytest.raises(TypeError, match="integer tensor"):
        [5, 6, 7][tx.tensor(1.0)]


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: t64(np.ones((3, 4))) @ t64(np.ones((5, 2))), r"matmul: shapes \(3, 4\) and \(5, 2\) do not align"),
        (lambda: t64(np.ones(3)) + t64(np.ones(4)), r"add: shapes \(3,\) and \(4,\) cannot be broadcast"),
        (lambda: t64(np.ones((2, 3))) * t64(np.ones((3, 2))), r"mul: shapes \(2, 3\) and \(3, 2\)"),
        (lambda: t64(np.ones(6)).reshape(4, 2), r"reshape: cannot reshape \(6,\).*to \(4, 2\)"),
        (lambda: t64(np.ones(3)).expand(2, 4), r"expand: cannot expand shape \(3,\) to \(2, 4\)"),
        (lambda: tx.cat([t64(np.ones((2, 3))), t64(np.ones((2, 4)))]), r"cat: shapes \(2, 3\), \(2, 4\)"),
        (lambda: t64(np.ones((2, 3))).sum(dim=2), r"sum: dim 2 is out of range"),
        (lambda: t64(np.ones((2, 3, 4))) @ t64(np.ones((5, 4, 2))), r"matmul: batch dims of shapes"),
        (lambda: t64(np.ones(3))[5], r"getitem: .*index 5 is out of bounds.*\(3,\)"),
        (lambda: tx.where(t64(np.ones(2)) > 0, t64(np.ones(3)), 0.0), r"where: condition of shape \(2,\)"),
    ],
)
def test_shape_errors_name_the_op_and_the_shapes(make, message) -> None:
    with pytest.raises((ValueError, IndexError, RuntimeError), match=message):
        make()


def test_mutating_a_saved_array_raises() -> None:
    x = t64([1.0, 2.0, 3.0], True)
    y = (x * x).sum()
    with pytest.raises(ValueError, match="read-only"):
        x.detach().numpy()[0] = 5.0  # the array mul saved for backward is protected
    e = x.exp()
    out = e.detach().numpy()
    with pytest.raises(ValueError, match="read-only"):
        out += 1.0  # exp saved its output
    y.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0, 6.0])


def test_replacing_the_data_of_a_saved_tensor_is_caught_at_backward() -> None:
    x = t64([1.0, 2.0, 3.0], True)
    y = (x * x).sum()
    x.data = t64([9.0, 9.0, 9.0])  # a new array: the saved tensor's version changed
    with pytest.raises(RuntimeError, match=r"mul: saved tensor 0 \(shape \(3,\)\) was modified"):
        y.backward()


def test_setitem_on_a_tensor_that_requires_grad_is_refused() -> None:
    x = t64([1.0, 2.0], True)
    with pytest.raises(RuntimeError, match="in-place assignment"):
        x[0] = 3.0
    c = t64([1.0, 2.0])
    s = x * c
    c[0] = 7.0  # allowed (c needs no gradient), but mul saved c for x's gradient: caught at backward
    with pytest.raises(RuntimeError, match="mul: saved tensor 1 .* was modified"):
        s.sum().backward()


def test_custom_function_with_a_wrong_gradient_shape_is_named() -> None:
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g.sum()

    x = t64([1.0, 2.0], True)
    message = r"bad.backward returned a gradient of shape \(\) for input 0 of shape \(2,\)"
    with pytest.raises(RuntimeError, match=message):
        Bad.apply(x).sum().backward()


# ------------------------------------------------------------------------------------ memory


def test_graph_is_freed_after_backward() -> None:
    x = t64(np.ones(1000), True)
    h = x * 2
    y = (h * h).sum()
    ref = weakref.ref(h)
    del h
    assert ref() is not None  # mul saved it for backward
    y.backward()
    assert ref() is None  # released by backward, without the garbage collector
    assert y.grad_fn._prev[0]._freed  # the Mul that saved h (Sum saved nothing, so it is not freed)


def test_graph_is_freed_when_output_is_dropped_without_backward() -> None:
    gc.disable()
    try:
        x = t64(np.ones(10), True)
        y = (x.exp() * 2).sum()
        ref = weakref.ref(y.grad_fn)
        del y
        assert ref() is None  # no reference cycles: reference counting frees it
    finally:
        gc.enable()


# -------------------------------------------------------------------------------- grad mode, grad()


def test_no_grad_context_and_decorator() -> None:
    x = t64([1.0], True)
    with tx.no_grad():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None

    @tx.no_grad()
    def f(t):
        return t * 3

    assert not f(x).requires_grad
    assert (x * 2).requires_grad
    with tx.no_grad():
        with tx.enable_grad():
            assert (x * 2).requires_grad


def test_grad_does_not_touch_dot_grad_and_reports_unused_inputs() -> None:
    x, z = t64([1.0, 2.0], True), t64([3.0], True)
    (gx,) = tx.grad((x * x).sum(), x)
    np.testing.assert_array_equal(gx.data, [2.0, 4.0])
    assert x.grad is None
    with pytest.raises(RuntimeError, match="was not used"):
        tx.grad((x * x).sum(), [x, z])
    gx, gz = tx.grad((x * x).sum(), [x, z], allow_unused=True)
    assert gz is None


def test_hessian_vector_product_matches_torch(torch) -> None:
    rng = np.random.default_rng(1)
    x0, W0, v0 = rng.standard_normal(4), rng.standard_normal((4, 4)), rng.standard_normal(4)

    def f(x, W, lib):
        h = (W @ x).tanh()
        return (h * h).sum() + (x**3).sum() * lib.sigmoid(x[0])

    x, W, v = t64(x0, True), t64(W0, True), t64(v0)
    (g,) = tx.grad(f(x, W, _TxLib), x, create_graph=True)
    hv_x, hv_W = tx.grad((g * v).sum(), [x, W])

    tx_, tW = torch.tensor(x0, requires_grad=True), torch.tensor(W0, requires_grad=True)
    (tg,) = torch.autograd.grad(f(tx_, tW, torch), tx_, create_graph=True)
    thx, thW = torch.autograd.grad((tg * torch.tensor(v0)).sum(), [tx_, tW])
    np.testing.assert_allclose(g.data, tg.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(hv_x.data, thx.numpy(), rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(hv_W.data, thW.numpy(), rtol=1e-11, atol=1e-13)


class _TxLib:
    @staticmethod
    def sigmoid(t):
        return t.sigmoid()


def test_create_graph_false_records_nothing() -> None:
    x = t64([1.0, 2.0], True)
    (g,) = tx.grad((x * x).sum(), x)
    assert not g.requires_grad and g.grad_fn is None


def test_prod_hessian_with_one_and_two_zeros() -> None:
    """∂²(Π x)/∂xᵢ∂xⱼ = Π_{k≠i,j} xₖ, written out, for a vector with one zero and with two."""
    for x, expected in [
        ([2.0, 0.0, 3.0, 5.0], [[0, 15, 0, 0], [15, 0, 10, 6], [0, 10, 0, 0], [0, 6, 0, 0]]),
        ([2.0, 0.0, 0.0, 5.0], [[0, 0, 0, 0], [0, 0, 10, 0], [0, 10, 0, 0], [0, 0, 0, 0]]),
    ]:
        t = Tensor(np.array(x), requires_grad=True)
        (g,) = tx.grad(t.prod(), [t], create_graph=True)
        rows = [tx.grad(g[i], [t], retain_graph=True, materialize_grads=True)[0].data for i in range(4)]
        np.testing.assert_array_equal(np.stack(rows), expected)


def test_grad_materialize_grads() -> None:
    x0 = np.random.default_rng(7).standard_normal(3)
    x, y = Tensor(x0, requires_grad=True), Tensor(x0, requires_grad=True)
    gx, gy = tx.grad((x * 2).sum(), [x, y], materialize_grads=True)
    np.testing.assert_array_equal(gx.data, 2.0)
    np.testing.assert_array_equal(gy.data, 0.0)
    with pytest.raises(ValueError, match="materialize_grads"):
        tx.grad((x * 2).sum(), [x, y], allow_unused=False, materialize_grads=True)


def test_dtypes_flow_end_to_end() -> None:
    x32 = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    (x32 * 2.5).sum().backward()
    assert x32.grad.dtype == np.float32
    x64 = Tensor(np.ones(3), requires_grad=True)
    (x64.to(np.float32) * 2).sum().backward()
    assert x64.grad.dtype == np.float64
    np.testing.assert_array_equal(x64.grad, [2.0, 2.0, 2.0])
    assert Tensor([1.0]).dtype == np.float32
    tx.set_default_dtype(np.float64)
    try:
        assert Tensor([1.0]).dtype == np.float64
    finally:
        tx.set_default_dtype(np.float32)


def test_dtype_promotion_explicit() -> None:
    x32 = Tensor(np.ones(3, np.float32))
    assert (x32 * 2.5).dtype == np.float32
    assert (x32 + Tensor(np.array(2.0))).dtype == np.float32
    assert (Tensor(np.arange(3)) * 2.5).dtype == tx.get_default_dtype() == np.float32
    assert (x32 + Tensor(np.ones(3))).dtype == np.float64


# ------------------------------------------------------------------------------- in-place updates


def test_sgd_step_in_place_under_no_grad_keeps_the_parameter() -> None:
    p = t64([1.0, 2.0], True)
    (p * p).sum().backward()
    with tx.no_grad():
        p -= 0.1 * p.grad
    assert p.requires_grad and p.is_leaf
    np.testing.assert_allclose(p.data, [0.8, 1.6])
    p.data -= 0.1 * np.ones(2)  # after backward released the graph, the array is writeable again
    np.testing.assert_allclose(p.data, [0.7, 1.5])


def test_in_place_on_a_leaf_that_requires_grad_is_refused_in_grad_mode() -> None:
    p = t64([1.0], True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        p += 1.0


def test_in_place_on_an_intermediate_is_recorded() -> None:
    x = t64([1.0, 2.0], True)
    h = x * 2
    h *= 3  # h now stands for (x * 2) * 3
    h.sum().backward()
    np.testing.assert_array_equal(x.grad, [6.0, 6.0])


def test_arrays_become_writeable_when_the_graph_is_dropped() -> None:
    x = t64([1.0, 2.0], True)
    y = (x * x).sum()
    assert not x.detach().numpy().flags.writeable
    del y  # never backpropagated, just dropped
    assert x.detach().numpy().flags.writeable
    a = (x * x).sum()
    w = t64([3.0, 4.0], True)
    b = (x * w).sum()  # two graphs hold x (w's gradient needs it)
    a.backward()
    assert not x.detach().numpy().flags.writeable  # b still needs it
    b.backward()
    assert x.detach().numpy().flags.writeable


# ------------------------------------------------------------------ the walk: nesting, errors, threads


class RecomputingSquare(Function):
    """y = x², whose backward recomputes x² with the engine and differentiates it (as activation
    checkpointing does): a backward that runs inside another backward, over the same leaf."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        inner = Tensor(x.data, requires_grad=True)
        with tx.enable_grad():  # VJPs run under no_grad unless create_graph=True
            (inner * inner * Tensor(g.data)).sum().backward()
        return Tensor(inner.grad)


def test_a_backward_inside_a_vjp_does_not_disturb_the_outer_one() -> None:
    w = t64([1.5, -2.0], True)
    # w reaches the loss twice: through the custom op and directly, so while the inner backward
    # runs, w already has a gradient in flight from the outer one.
    loss = (RecomputingSquare.apply(w) * 3.0 + w * w.detach() * 5.0).sum()
    loss.backward()
    np.testing.assert_array_equal(w.grad, 6.0 * w.data + 5.0 * w.data)
    (gw,) = tx.grad((RecomputingSquare.apply(w) + w * 7.0).sum(), [w])
    np.testing.assert_array_equal(gw.data, 2.0 * w.data + 7.0)


def test_an_error_in_a_vjp_leaves_no_gradient_in_flight() -> None:
    class Fails(Function):
        @staticmethod
        def forward(ctx, x):
            return x.copy()

        @staticmethod
        def backward(ctx, g):
            raise ValueError("planted")

    x = t64([1.0, 2.0], True)
    h = x * 2.0
    y = (Fails.apply(h) + h).sum()
    with pytest.raises(ValueError, match="planted"):
        y.backward(retain_graph=True)
    from tinygrad_tx.autograd import topological_order

    assert all(node._g is None for node in topological_order([y.grad_fn]))
    z = (h * 3.0).sum()  # the part of the graph that did not fail still backpropagates correctly
    z.backward()
    np.testing.assert_array_equal(x.grad, [6.0, 6.0])


def test_backward_from_two_threads_on_shared_parameters() -> None:
    import threading

    w = t64(np.linspace(-1.0, 1.0, 64), True)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(200):
                ((w * w).sum() + (w.exp() * 0.5).sum()).backward()
        except BaseException as e:  # noqa: BLE001 (reported below)
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    wa = w.detach().numpy()
    expected = 400 * (2.0 * wa + 0.5 * np.exp(wa))
    np.testing.assert_allclose(w.grad, expected, rtol=1e-12)


def test_set_grad_enabled_as_a_function_a_context_and_a_decorator() -> None:
    x = t64([1.0], True)
    tx.set_grad_enabled(False)  # takes effect at once, as torch.set_grad_enabled
    try:
        assert not tx.is_grad_enabled() and not (x * 2).requires_grad
    finally:
        tx.set_grad_enabled(True)
    assert (x * 2).requires_grad
    with tx.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert tx.is_grad_enabled()

    @tx.set_grad_enabled(False)
    def f(t):
        return t * 3

    assert tx.is_grad_enabled()  # decorating does not switch the mode
    assert not f(x).requires_grad and (x * 3).requires_grad


def test_grad_mode_is_per_thread() -> None:
    import threading

    from tinygrad_tx import Value

    inside, release = threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def other_thread() -> None:
        with tx.no_grad():
            seen["other records Tensor"] = (t64([1.0], True) * 2).requires_grad
            seen["other records Value"] = bool((Value(1.0) * 2)._prev)
            inside.set()
            release.wait(10)

    th = threading.Thread(target=other_thread)
    th.start()
    try:
        assert inside.wait(10)
        # while the other thread sits in no_grad, this one still records, in both engines
        assert tx.is_grad_enabled()
        assert (t64([1.0], True) * 2).requires_grad
        assert (Value(1.0) * 2)._prev
    finally:
        release.set()
        th.join()
    assert seen == {"other records Tensor": False, "other records Value": False}


def test_backward_twice_through_nodes_that_saved_nothing_works_as_in_torch(torch) -> None:
    x = t64([1.0, 2.0], True)
    y = (x + 1.0).reshape(2, 1).sum()  # add, reshape and sum save no values
    y.backward()
    y.backward()
    xt = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    yt = (xt + 1.0).reshape(2, 1).sum()
    yt.backward()
    yt.backward()
    np.testing.assert_array_equal(x.grad, xt.grad.numpy())  # both accumulate twice: [2, 2]
    z = (x.exp() + 1.0).sum()  # exp saved its output: that one is released
    z.backward()
    with pytest.raises(RuntimeError, match=r"second time \(at 'exp'\)"):
        z.backward()
