"""Activation checkpointing (``tinygrad_tx.utils.checkpoint``), against the plain call and PyTorch's.

The recomputation runs the same ops on the same values as the plain forward, so first-order gradients
are compared with exact equality. Second-order ones (create_graph) sum the same terms in another order,
so they are compared at 1e-12 relative to the largest entry (float64); against torch at 1e-12 too.
"""

from __future__ import annotations

import tracemalloc
import warnings
from collections import namedtuple

import numpy as np
import pytest

import tinygrad_tx as tx
from tests.helpers import assert_close
from tinygrad_tx import nn
from tinygrad_tx.nn import functional as F
from tinygrad_tx.utils.checkpoint import CheckpointError, checkpoint, checkpoint_sequential

try:  # the oracle: the tests that compare with torch need it, the rest run without it
    import torch
    import torch.utils.checkpoint as torch_checkpoint
except ImportError:
    torch = torch_checkpoint = None
needs_torch = pytest.mark.skipif(torch is None, reason="could not import 'torch'")


def grad_of(p: tx.Tensor) -> np.ndarray | None:
    """``p.grad`` as an array (whether ``.grad`` is an array or a Tensor)."""
    g = p.grad
    return None if g is None else np.array(g.data if isinstance(g, tx.Tensor) else g)


def leaf(a: np.ndarray) -> tx.Tensor:
    return tx.tensor(np.array(a, dtype=np.float64), requires_grad=True)


def torch_leaf(a: np.ndarray) -> torch.Tensor:
    return torch.tensor(np.array(a, dtype=np.float64), requires_grad=True)


RNG = np.random.default_rng(0)
W0, X0, V0 = RNG.standard_normal((5, 5)), RNG.standard_normal((3, 5)), RNG.standard_normal((3, 5))


# ---------------------------------------------------------------------------------------- exactness, first order


def mlp(dtype):
    tx.manual_seed(3)
    return nn.Sequential(nn.Linear(5, 16, dtype=dtype), nn.GELU(), nn.Linear(16, 5, dtype=dtype), nn.Tanh())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_an_mlp_gets_the_plain_gradients_bit_for_bit(dtype) -> None:
    results = []
    for ckpt in (False, True):
        model = mlp(dtype)
        x = tx.tensor(X0.astype(dtype), requires_grad=True)
        h = x * 2.0  # a non-leaf input: the recomputation's backward must stop at it, then go on
        y = checkpoint(model, h, use_reentrant=False) if ckpt else model(h)
        ((y * y).sum() + y.sum()).backward()
        results.append((y.detach().numpy().copy(), grad_of(x), {n: grad_of(p) for n, p in model.named_parameters()}))
    (y1, gx1, g1), (y2, gx2, g2) = results
    assert np.array_equal(y1, y2) and np.array_equal(gx1, gx2)
    assert g1.keys() == g2.keys() and all(np.array_equal(g1[k], g2[k]) for k in g1)


@needs_torch
def test_an_mlp_matches_torch_checkpoint_in_float64() -> None:
    model = mlp(np.float64)
    tmodel = torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.GELU(), torch.nn.Linear(16, 5), torch.nn.Tanh())
    tmodel = tmodel.double()
    with torch.no_grad():
        for (_, p), (_, q) in zip(model.named_parameters(), tmodel.named_parameters()):
            q.copy_(torch.from_numpy(p.detach().numpy().copy()))
    x, xt = leaf(X0), torch_leaf(X0)
    (checkpoint(model, x * 2.0, use_reentrant=False) ** 2).sum().backward()
    (torch_checkpoint.checkpoint(tmodel, xt * 2.0, use_reentrant=False) ** 2).sum().backward()
    assert_close(grad_of(x), xt.grad.numpy(), 1e-13, "x.grad")
    for (n, p), (_, q) in zip(model.named_parameters(), tmodel.named_parameters()):
        assert_close(grad_of(p), q.grad.numpy(), 1e-13, n)


def gpt(checkpointed: bool, dtype=np.float64, dropout: float = 0.0, **kw) -> nn.GPT:
    tx.manual_seed(11)
    config = nn.GPTConfig(vocab_size=13, block_size=12, n_layer=3, n_head=2, n_embd=8, dropout=dropout,
                          checkpoint=checkpointed, **kw)
    return nn.GPT(config, dtype=dtype)


IDX = np.random.default_rng(1).integers(0, 13, (2, 12))
TARGETS = np.random.default_rng(2).integers(0, 13, (2, 12))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("dropout", [0.0, 0.25])
def test_a_checkpointed_gpt_gets_the_plain_loss_and_gradients_bit_for_bit(dtype, dropout) -> None:
    """Dropout inside the blocks replays its masks (preserve_rng_state), and the random stream continues
    afterwards exactly as without checkpointing."""
    results = []
    for checkpointed in (False, True):
        model = gpt(checkpointed, dtype, dropout)
        tx.manual_seed(5)
        _, loss = model(IDX, TARGETS)
        loss.backward()
        after = tx.rand(4).data  # the stream after forward and backward
        results.append((loss.detach().numpy().copy(), {n: grad_of(p) for n, p in model.named_parameters()}, after))
    (l1, g1, r1), (l2, g2, r2) = results
    assert np.array_equal(l1, l2) and np.array_equal(r1, r2)
    assert all(np.array_equal(g1[k], g2[k]) for k in g1), [k for k in g1 if not np.array_equal(g1[k], g2[k])]


@needs_torch
def test_a_checkpointed_gpt_matches_torch_with_checkpointed_blocks() -> None:
    from tinygrad_tx.nn.torch_io import conv1d_weight_names
    from tinygrad_tx.torch_gpt import TorchGPT, copy_to_torch

    model = gpt(True)
    tmodel = TorchGPT(model.config).double()
    copy_to_torch(model, tmodel)
    _, loss = model(IDX, TARGETS)
    loss.backward()
    idx, targets = torch.from_numpy(IDX), torch.from_numpy(TARGETS)
    x = tmodel.wte(idx) + tmodel.wpe(torch.arange(IDX.shape[1]))
    for block in tmodel.h:
        x = torch_checkpoint.checkpoint(block, x, use_reentrant=False)
    logits = tmodel.lm_head(tmodel.ln_f(x))
    tloss = torch.nn.functional.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1))
    tloss.backward()
    assert_close(loss.data, tloss.detach().numpy(), 1e-13, "loss")
    named, transposed = dict(tmodel.named_parameters()), conv1d_weight_names(model)
    for n, p in model.named_parameters():
        q = named[n].grad.numpy()
        assert_close(grad_of(p), q.T if n in transposed else q, 1e-12, n)


def test_only_the_block_inputs_are_kept_so_the_peak_is_lower() -> None:
    """Activations dominate (long sequence, narrow model): the peak of forward + backward drops by more
    than half with 6 checkpointed blocks (bench/checkpointing.py measures it at several depths)."""
    peaks = []
    for checkpointed in (False, True):
        tx.manual_seed(0)
        config = nn.GPTConfig(vocab_size=13, block_size=128, n_layer=6, n_head=2, n_embd=16, checkpoint=checkpointed)
        model = nn.GPT(config, dtype=np.float32)
        idx = np.random.default_rng(0).integers(0, 13, (4, 128))
        tracemalloc.start()
        try:
            _, loss = model(idx, idx)
            loss.backward()
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    assert peaks[1] < 0.5 * peaks[0], peaks


# ------------------------------------------------------------------------------------------- grad of grad


def f_tanh(x, w):
    return (x @ w).tanh() * x


@needs_torch
@pytest.mark.parametrize("non_leaf_input", [False, True])
def test_grad_of_grad_through_a_checkpoint_matches_plain_and_torch(non_leaf_input) -> None:
    """H·v-style second derivatives reach the input (through the recomputation's stand-in) and the weight."""
    def ours(ckpt: bool):
        x, w = leaf(X0), leaf(W0)
        h = x * 2.0 if non_leaf_input else x
        y = checkpoint(f_tanh, h, w, use_reentrant=False) if ckpt else f_tanh(h, w)
        gx, gw = tx.grad((y ** 2).sum(), [x, w], create_graph=True)
        hx, hw = tx.grad((gx * tx.tensor(V0)).sum() + (gw ** 3).sum(), [x, w])
        return [gx.data, gw.data, hx.data, hw.data]

    xt, wt = torch_leaf(X0), torch_leaf(W0)
    ht = xt * 2.0 if non_leaf_input else xt
    yt = torch_checkpoint.checkpoint(f_tanh, ht, wt, use_reentrant=False)
    gxt, gwt = torch.autograd.grad((yt ** 2).sum(), [xt, wt], create_graph=True)
    hxt, hwt = torch.autograd.grad((gxt * torch.from_numpy(V0)).sum() + (gwt ** 3).sum(), [xt, wt])
    expected = [t.detach().numpy() for t in (gxt, gwt, hxt, hwt)]
    plain, checkpointed = ours(False), ours(True)
    for name, a, b, e in zip(["dx", "dw", "d2x", "d2w"], checkpointed, plain, expected):
        assert_close(a, b, 1e-12, name + " against the plain path")
        assert_close(a, e, 1e-12, name + " against torch")
    assert np.array_equal(checkpointed[0], plain[0]) and np.array_equal(checkpointed[1], plain[1])  # first order


@needs_torch
def test_grad_of_grad_through_a_checkpointed_gpt_matches_torch() -> None:
    """d/dθ of ‖∂L/∂θ_last‖² through three checkpointed blocks, float64, against torch's checkpoint."""
    from tinygrad_tx.torch_gpt import TorchGPT, copy_to_torch

    model = gpt(True, activation="gelu_tanh")
    tmodel = TorchGPT(model.config).double()
    copy_to_torch(model, tmodel)
    params = dict(model.named_parameters())
    _, loss = model(IDX, TARGETS)
    (g,) = tx.grad(loss, [params["h.0.mlp.c_fc.weight"]], create_graph=True)
    (gg,) = tx.grad((g * g).sum(), [params["h.1.attn.c_attn.weight"]])

    named = dict(tmodel.named_parameters())
    idx = torch.from_numpy(IDX)
    x = tmodel.wte(idx) + tmodel.wpe(torch.arange(IDX.shape[1]))
    for block in tmodel.h:
        x = torch_checkpoint.checkpoint(block, x, use_reentrant=False)
    logits = tmodel.lm_head(tmodel.ln_f(x))
    tloss = torch.nn.functional.cross_entropy(logits.view(-1, logits.shape[-1]), torch.from_numpy(TARGETS).view(-1))
    (gt,) = torch.autograd.grad(tloss, [named["h.0.mlp.c_fc.weight"]], create_graph=True)
    (ggt,) = torch.autograd.grad((gt * gt).sum(), [named["h.1.attn.c_attn.weight"]])
    assert_close(g.data, gt.detach().numpy().T, 1e-12, "first order")
    assert_close(gg.data, ggt.numpy().T, 1e-10, "second order")  # long sums of products: rounding grows


# ------------------------------------------------------------------------------ arguments, outputs, parameters

Pair = namedtuple("Pair", "a b")


def busy(x, scale, pair, *, bias, extra=None):
    """Tensor and non-tensor arguments, a named tuple and a dict, several outputs of several kinds."""
    h = (x @ pair.a).tanh() * scale + bias["b"]
    ints = tx.tensor(np.argmax(h.data, axis=-1))  # no gradient: passed through as it is
    return h, (h * pair.b).sum(), ints, None, "label", (h.float() * 2.0 if extra is None else extra)


def test_arguments_of_every_kind_and_several_outputs_get_the_plain_gradients() -> None:
    def run(ckpt: bool):
        x, w, v, b = leaf(X0), leaf(W0), leaf(V0), leaf(np.linspace(-1, 1, 5))
        frozen = tx.tensor(W0 * 0.5)  # does not require grad
        args = (x * 1.5, 0.7, Pair(w @ frozen, v))
        out = checkpoint(busy, *args, bias={"b": b}, use_reentrant=False) if ckpt else busy(*args, bias={"b": b})
        h, total, ints, none, label, h32 = out
        assert none is None and label == "label" and ints.dtype == np.int64 and h32.dtype == np.float32
        assert h.requires_grad and total.requires_grad and h32.requires_grad and not ints.requires_grad
        ((h ** 2).sum() + total * 3.0 + (h32 * 0.5).sum()).backward()
        return [h.detach().numpy().copy(), h32.detach().numpy().copy(), *(grad_of(t) for t in (x, w, v, b))]

    for a, b in zip(run(False), run(True)):
        assert np.array_equal(a, b)


@needs_torch
def test_keyword_arguments_and_tensors_in_a_list_match_torch() -> None:
    def f(xs, scale=1.0):
        return (xs[0] * xs[1]).sin() * scale

    x, y = leaf(X0), leaf(V0)
    checkpoint(f, [x, y * 2.0], scale=tx.tensor(3.0, dtype=np.float64), use_reentrant=False).sum().backward()
    xt, yt = torch_leaf(X0), torch_leaf(V0)
    torch_checkpoint.checkpoint(f, [xt, yt * 2.0], scale=torch.tensor(3.0, dtype=torch.float64),
                                use_reentrant=False).sum().backward()
    assert_close(grad_of(x), xt.grad.numpy(), 1e-14, "x")
    assert_close(grad_of(y), yt.grad.numpy(), 1e-14, "y")


def test_parameters_get_gradients_when_no_argument_requires_grad() -> None:
    """A closure's or a module's tensors are inputs too (a frozen embedding under LoRA feeds the blocks)."""
    w = leaf(W0)
    x = tx.tensor(X0)  # no gradient wanted
    y = checkpoint(lambda a: (a @ w).exp(), x, use_reentrant=False)
    assert y.requires_grad
    (gw,) = tx.grad(y.sum(), [w])  # grad(), not only backward()
    np.testing.assert_array_equal(gw.data, tx.grad((x @ w).exp().sum(), [w])[0].data)
    plain, lora = gpt(False, lora_rank=2), gpt(True, lora_rank=2)
    for model in (plain, lora):
        model(IDX, TARGETS)[1].backward()
    for (n, p), (_, q) in zip(plain.named_parameters(), lora.named_parameters()):
        a, b = grad_of(p), grad_of(q)
        assert (a is None and b is None) if not p.requires_grad else np.array_equal(a, b), n


def test_nothing_to_differentiate_is_the_plain_call() -> None:
    x = tx.tensor(X0)
    y = checkpoint(lambda a: a * 2.0, x, use_reentrant=False)
    assert not y.requires_grad and y.grad_fn is None
    w = leaf(W0)
    with tx.no_grad():
        z = checkpoint(lambda a: a @ w, x, use_reentrant=False)
    assert z.grad_fn is None
    np.testing.assert_array_equal(z.data, X0 @ W0)
    ints = checkpoint(lambda a: (a @ w).argmax(-1), x, use_reentrant=False)  # no floating output
    assert ints.grad_fn is None


def test_nested_checkpoints_and_checkpoint_sequential_get_the_plain_gradients() -> None:
    tx.manual_seed(4)
    layers = [nn.Linear(5, 5, dtype=np.float64) for _ in range(5)] + [nn.Tanh()]

    def run(kind: str):
        for p in (p for m in layers for p in m.parameters()):
            p.grad = None
        x = leaf(X0)
        h = x * 1.0
        if kind == "sequential":
            y = checkpoint_sequential(nn.Sequential(*layers), 3, h, use_reentrant=False)
        elif kind == "nested":
            inner = lambda a: checkpoint(lambda b: layers[1](layers[0](b)), a, use_reentrant=False)  # noqa: E731
            y = checkpoint(lambda a: layers[5](layers[4](layers[3](layers[2](inner(a))))), h, use_reentrant=False)
        else:
            y = h
            for m in layers:
                y = m(y)
        (y ** 3).sum().backward()
        return [grad_of(x)] + [grad_of(p) for m in layers for p in m.parameters()]

    plain = run("plain")
    for kind in ("sequential", "nested"):
        assert all(np.array_equal(a, b) for a, b in zip(plain, run(kind))), kind


@needs_torch
def test_checkpoint_sequential_matches_torch() -> None:
    tx.manual_seed(6)
    ours = nn.Sequential(*[nn.Linear(5, 5, dtype=np.float64) for _ in range(4)])
    theirs = torch.nn.Sequential(*[torch.nn.Linear(5, 5) for _ in range(4)]).double()
    with torch.no_grad():
        for (_, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
            q.copy_(torch.from_numpy(p.detach().numpy().copy()))
    x, xt = leaf(X0), torch_leaf(X0)
    (checkpoint_sequential(ours, 2, x, use_reentrant=False).tanh() ** 2).sum().backward()
    (torch_checkpoint.checkpoint_sequential(theirs, 2, xt, use_reentrant=False).tanh() ** 2).sum().backward()
    assert_close(grad_of(x), xt.grad.numpy(), 1e-13, "x")
    for (n, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert_close(grad_of(p), q.grad.numpy(), 1e-13, n)


def test_use_reentrant_true_computes_the_same_and_keeps_torchs_refusals() -> None:
    w = leaf(W0)
    x = leaf(X0)
    y = checkpoint(f_tanh, x, w, use_reentrant=True)
    y.sum().backward()
    np.testing.assert_array_equal(grad_of(w), tx.grad(f_tanh(x, w).sum(), [w])[0].data)
    with pytest.warns(UserWarning, match="use_reentrant parameter should be passed explicitly"):
        checkpoint(f_tanh, x, w)
    with pytest.warns(UserWarning, match="use_reentrant"):
        checkpoint_sequential([nn.Tanh()], 1, x)
    with pytest.raises(ValueError, match="Unexpected keyword arguments: bias"):
        checkpoint(lambda a, bias: a + bias, x, bias=1.0, use_reentrant=True)
    with pytest.raises(ValueError, match="only supported when use_reentrant=False"):
        checkpoint(f_tanh, x, w, use_reentrant=True, debug=True)


# ------------------------------------------------------------------------------------------ random stream


def test_dropout_replays_its_mask_only_with_preserve_rng_state() -> None:
    def f(a):
        return F.dropout(a, 0.5) * a

    def run(mode: str):
        tx.manual_seed(9)
        x = leaf(X0)
        y = f(x) if mode == "plain" else checkpoint(f, x, use_reentrant=False, preserve_rng_state=mode == "kept")
        y.sum().backward()
        return grad_of(x), tx.rand(3).data

    (g_plain, r_plain), (g_kept, r_kept), (g_lost, r_lost) = run("plain"), run("kept"), run("lost")
    assert np.array_equal(g_plain, g_kept) and np.array_equal(r_plain, r_kept)
    # without it, as in PyTorch, the recomputation draws a new mask (and advances the stream): other gradients
    assert not np.array_equal(g_plain, g_lost) and not np.array_equal(r_plain, r_lost)


# ------------------------------------------------------------------------------------------ what is refused


def test_a_non_leaf_tensor_read_from_outside_the_arguments_is_refused() -> None:
    h = leaf(W0) * 2.0
    with pytest.raises(RuntimeError, match=r"reads a tensor of shape \(5, 5\) that requires grad and is not a leaf"):
        checkpoint(lambda a: a @ h, tx.tensor(X0), use_reentrant=False)
    y = checkpoint(lambda a, m: a @ m, tx.tensor(X0), h, use_reentrant=False)  # as an argument it works
    y.sum().backward()


def test_a_recomputation_that_differs_is_a_checkpoint_error() -> None:
    calls = []
    w, v = leaf(W0), leaf(W0 * 3)

    def shape_changes(a):
        calls.append(1)
        return a * 2.0 if len(calls) == 1 else (a * 2.0)[:2]

    with pytest.raises(CheckpointError, match=r"the recomputation returned 1 tensors \(floating: float64\(2, 5\)\)"):
        checkpoint(shape_changes, leaf(X0), use_reentrant=False).sum().backward()

    def reads_another(a):
        calls.append(1)
        return a @ (w if len(calls) % 2 else v)

    calls.clear()
    with pytest.raises(CheckpointError, match=r"read a tensor that requires grad \(shape \(5, 5\), in 'matmul'\)"):
        checkpoint(reads_another, leaf(X0), use_reentrant=False).sum().backward()
    calls.clear()
    with pytest.raises(CheckpointError, match=r"ops of the forward: matmul\(3, 5\)\nops of the recomputation"):
        checkpoint(reads_another, leaf(X0), use_reentrant=False, debug=True).sum().backward()
    calls.clear()
    checkpoint(reads_another, leaf(X0), use_reentrant=False, determinism_check="none").sum().backward()  # unchecked


def test_bad_arguments_and_a_second_backward_are_clear_errors() -> None:
    x = leaf(X0)
    with pytest.raises(TypeError, match="function must be callable"):
        checkpoint(3, x, use_reentrant=False)
    with pytest.raises(ValueError, match=r"determinism_check should be one of \['default', 'none'\]"):
        checkpoint(f_tanh, x, x, use_reentrant=False, determinism_check="strict")
    with pytest.raises(TypeError, match="context_fn must return a tuple of two context managers"):
        checkpoint(f_tanh, x, x, use_reentrant=False, context_fn=lambda: None)
    with pytest.raises(ValueError, match=r"segments must be in \[1, 2\]"):
        checkpoint_sequential([nn.Tanh(), nn.Tanh()], 3, x, use_reentrant=False)
    with pytest.raises(ValueError, match="Unexpected keyword arguments: debug"):
        checkpoint_sequential([nn.Tanh()], 1, x, use_reentrant=False, debug=True)
    y = checkpoint(f_tanh, x, leaf(W0), use_reentrant=False).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()
    y = checkpoint(f_tanh, x, leaf(W0), use_reentrant=False).sum()
    x.grad = None
    y.backward(retain_graph=True)
    first = grad_of(x)
    y.backward()  # retained: recomputed again, and the gradients add
    np.testing.assert_array_equal(grad_of(x), 2 * first)


def test_an_input_changed_after_the_forward_is_refused_at_backward() -> None:
    w = leaf(W0)
    x = tx.tensor(X0)
    y = checkpoint(lambda a: a @ w, x, use_reentrant=False).sum()
    with tx.no_grad():
        w -= 0.1  # an optimizer step between forward and backward
    with pytest.raises(RuntimeError, match="was modified after the forward pass"):
        y.backward()


def test_a_constant_changed_after_the_forward_is_refused_but_a_running_statistic_is_not() -> None:
    frozen = tx.tensor(W0)  # needs no gradient: not an input of the node, but read by the recomputation
    x = leaf(X0)
    y = checkpoint(lambda a: a @ frozen, x, use_reentrant=False).sum()
    frozen.data = tx.tensor(W0 * 2.0)
    with pytest.raises(RuntimeError, match=r"a tensor the function read \(shape \(5, 5\), which needs no gradient\) "
                                           r"was modified after the forward pass"):
        y.backward()
    tx.manual_seed(0)
    bn = nn.BatchNorm1d(5, dtype=np.float64)  # updates its running statistics in place, in the forward
    y = checkpoint(bn, x * 1.0, use_reentrant=False).pow(3).sum()
    y.backward(retain_graph=True)  # the recomputation updates them again (as in PyTorch): not an error
    y.backward()
    (expected,) = tx.grad(bn(x * 1.0).pow(3).sum(), [x])
    np.testing.assert_array_equal(grad_of(x), 2 * expected.numpy())


def test_context_fn_wraps_the_forward_and_the_recomputation() -> None:
    seen = []

    class Note:
        def __init__(self, name):
            self.name = name

        def __enter__(self):
            seen.append((self.name, tx.is_grad_enabled()))

        def __exit__(self, *exc):
            return None

    checkpoint(f_tanh, leaf(X0), leaf(W0), use_reentrant=False,
               context_fn=lambda: (Note("forward"), Note("recompute"))).sum().backward()
    assert seen == [("forward", False), ("recompute", True)]


def test_forward_mode_does_not_go_through_a_checkpoint() -> None:
    import tinygrad_tx.autograd.forward_ad as fwAD

    with fwAD.dual_level():
        x = fwAD.make_dual(leaf(X0), tx.tensor(V0))
        with pytest.raises(RuntimeError, match="forward-mode AD does not go through a checkpointed function"):
            checkpoint(f_tanh, x, leaf(W0), use_reentrant=False)


def test_a_profile_around_a_checkpoint_sees_the_recomputation_in_its_backward() -> None:
    from tinygrad_tx.autograd.profiler import profile

    with profile() as prof:
        checkpoint(f_tanh, leaf(X0), leaf(W0), use_reentrant=False).sum().backward()
    assert prof.stats["Checkpoint"].forward_calls == 1 and prof.stats["Checkpoint"].backward_calls == 1
    assert prof.stats["Matmul"].forward_calls == 1  # the recomputation is counted in Checkpoint's VJP
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = leaf(X0)
        (x * 2.0).sum().backward()  # the hook is unwound: plain ops run as before
    from tinygrad_tx.autograd import profiler

    assert profiler._active is None


# ----------------------------------------------------------------------------------- the model and the CLI


def test_compare_and_fused_models_work_with_checkpointing() -> None:
    """manual.compare records the taps inside the blocks, so the blocks run unchecked then (the same
    report); a fused model checkpoints its fused ops and gets the same gradients."""
    from tinygrad_tx import manual

    plain, checkpointed = gpt(False), gpt(True)
    assert str(manual.compare(plain, IDX, TARGETS)) == str(manual.compare(checkpointed, IDX, TARGETS))
    results = []
    for checkpointed in (False, True):
        model = manual.fuse(gpt(checkpointed))
        assert model.config.fused and model.config.checkpoint == checkpointed
        model(IDX, TARGETS)[1].backward()
        results.append([grad_of(p) for p in model.parameters()])
    assert all(np.array_equal(a, b) for a, b in zip(*results))


def test_gpt_config_checkpoint_is_checked() -> None:
    with pytest.raises(TypeError, match="checkpoint must be True or False"):
        nn.GPTConfig(checkpoint="yes")


def test_the_train_flag_changes_no_number_and_resume_may_toggle_it(tmp_path, capsys) -> None:
    from tinygrad_tx.__main__ import _parser
    from tinygrad_tx.checkpoint import load_checkpoint
    from tinygrad_tx.data import default_corpus
    from tinygrad_tx.train import TrainConfig, TrainError, train

    p = _parser()
    assert p.parse_args(["train", "--checkpoint"]).checkpoint is True
    assert p.parse_args(["train", "--no-checkpoint"]).checkpoint is False
    assert p.parse_args(["train"]).checkpoint is None
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(default_corpus()[:8_000], encoding="utf-8")

    def config(out: str, **kw) -> TrainConfig:
        return TrainConfig(data=str(corpus), out_dir=str(tmp_path / out), block_size=16, n_layer=2, n_head=2,
                           n_embd=8, batch_size=2, max_steps=4, warmup_steps=1, eval_interval=2, eval_iters=1,
                           compare_torch=False, progress=False, sample_length=0, dropout=0.1, dtype="float64", **kw)

    full = train(config("full"))
    part = train(config("part", checkpoint=True, stop_after=2))
    assert "gradient checkpointing of every block" in capsys.readouterr().out
    state = load_checkpoint(str(tmp_path / "part" / "ckpt.npz"))
    assert state["train_config"]["checkpoint"] is True and state["model_config"]["checkpoint"] is True
    resumed = train(config("part", checkpoint=False), resume=True, explicit={"checkpoint"})
    assert part["step"] == 2 and resumed["history"]["loss"] == full["history"]["loss"]  # bit for bit
    assert "--checkpoint False (checkpoint: True)" in capsys.readouterr().out
    with pytest.raises(TrainError, match="--checkpoint must be True or False"):
        config("bad", checkpoint=1).validate()
