"""Training on the hand-derived gradients alone (``manual.gpt_backward`` + ``manual.apply_gradients``)
follows the engine-trained run step for step.

The same GPT, from the same initial weights, on the same batches, with the same AdamW, schedule and
clipping: once with ``loss.backward()``, once with the gradients derived by hand. In float64.

Tolerances. The forward passes are bit-identical (the manual forward is the engine's sequence of
operations), so at step 1 the losses are equal exactly; the backward passes agree to rounding (a
relative error of ~1e-15 per gradient, ``manual.default_rtol`` allows 1e-10), and those differences
move the weights by about lr x 1e-15 per step. After 20 steps both the losses and the weights still agree
to a few ulps of their scale: the tests ask ``|Δloss| ≤ 1e-13`` at every step (a loss of ~2.4 has an ulp
of 4.4e-16; measured 4.4e-16) and ``max|Δp| / max|p| ≤ 1e-13`` for every parameter at the end (measured
3e-15). One exception: the key third of ``c_attn.bias``, whose true gradient is exactly 0, is moved by
rounding noise in both runs; it is checked to stay at the noise level (≤ 1e-11) instead. A gradient with a wrong
term or a wrong sign moves the runs apart by orders of magnitude more within one step (checked below
with a planted factor of 1 + 1e-6 on one gradient).
"""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_tx import Tensor, manual, manual_seed, nn
from tinygrad_tx.optim import AdamW, clip_grad_norm_, lr_at

STEPS = 20
LOSS_TOL = 1e-13  # absolute, per step
PARAM_REL_TOL = 1e-13  # max|Δp| / max|p|, per parameter, after STEPS steps (measured: 3e-15)
KEY_BIAS_NOISE = 1e-11  # max|b_k| in either run (measured: 8e-14; see assert_runs_agree)


def tiny_gpt(seed: int = 0) -> nn.GPT:
    config = nn.GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=16)
    manual_seed(seed)
    return nn.GPT(config, dtype="float64")


def batches(n: int, seed: int = 1) -> list[tuple[np.ndarray, np.ndarray]]:
    """Windows of a sequence that counts up by 1 or by 3 (mod 11), so there is something to learn."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        starts, strides = rng.integers(0, 11, size=(4, 1)), rng.choice([1, 3], size=(4, 1))
        ids = (starts + strides * np.arange(9)) % 11
        out.append((ids[:, :-1], ids[:, 1:]))
    return out


def train(model: nn.GPT, data: list[tuple[np.ndarray, np.ndarray]], by_hand: bool, corrupt: str | None = None):
    """The recipe of ``tinygrad_tx.train`` (AdamW with decay on matrices, warmup + cosine, clipping at
    1.0); the gradients from the engine or from ``manual``. Returns the loss of every step."""
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = AdamW([{"params": [p for p in trainable if p.ndim >= 2], "weight_decay": 0.1},
                       {"params": [p for p in trainable if p.ndim < 2], "weight_decay": 0.0}],
                      lr=1e-2, betas=(0.9, 0.99), eps=1e-8)
    losses = []
    for step, (x, y) in enumerate(data):
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, 1e-2, 5, len(data), 1e-3)
        optimizer.zero_grad()
        if by_hand:
            result = manual.gpt_backward(model, x, y)
            if corrupt is not None:
                result.grads[corrupt] = result.grads[corrupt] * (1 + 1e-6)
            manual.apply_gradients(model, result)
            losses.append(float(result.loss))
        else:
            _, loss = model(x, y)
            loss.backward()
            losses.append(loss.item())
        clip_grad_norm_(trainable, 1.0)
        optimizer.step()
    return np.array(losses)


def weights(model: nn.GPT) -> dict[str, np.ndarray]:
    return {name: p.detach().numpy().copy() for name, p in model.named_parameters()}


def two_runs(lora: bool = False, corrupt: str | None = None):
    data = batches(STEPS)
    runs = []
    for by_hand in (False, True):
        model = tiny_gpt()
        if lora:
            nn.apply_lora(model, ("c_attn", "c_proj"), rank=2, alpha=4.0)
            for name, p in model.named_parameters():  # B = 0 at init; make the LoRA path matter from step 1
                if name.endswith("lora_B"):
                    p.data = Tensor(np.random.default_rng(2).standard_normal(p.shape) * 0.02)
        before = weights(model)
        runs.append((train(model, data, by_hand, corrupt), before, weights(model), model))
    return runs


def assert_runs_agree(engine, hand) -> None:
    (loss_e, _, w_e, _), (loss_h, _, w_h, _) = engine, hand
    assert loss_e[0] == loss_h[0]  # the same weights, the same forward: the first loss is bit-identical
    worst_step = int(np.argmax(np.abs(loss_e - loss_h)))
    assert np.abs(loss_e - loss_h).max() <= LOSS_TOL, (
        f"step {worst_step + 1}: {loss_e[worst_step]!r} vs {loss_h[worst_step]!r}")
    assert w_e.keys() == w_h.keys()
    for name in w_e:
        p_e, p_h = w_e[name], w_h[name]
        if name.endswith("attn.c_attn.bias"):
            # the key bias b_k: its true gradient is exactly 0 (softmax ignores a shift of a row of
            # scores), so both runs move it by rounding noise alone; it must stay at that level
            (q_e, k_e, v_e), (q_h, k_h, v_h) = np.split(p_e, 3), np.split(p_h, 3)
            assert max(np.abs(k_e).max(), np.abs(k_h).max()) <= KEY_BIAS_NOISE, f"{name}: b_k moved"
            p_e, p_h = np.concatenate([q_e, v_e]), np.concatenate([q_h, v_h])
        err = manual.rel_err(p_h, p_e)
        assert err <= PARAM_REL_TOL, f"{name}: relative difference {err:.3g} after {STEPS} steps"


def test_training_by_hand_follows_the_engine_step_by_step() -> None:
    engine, hand = two_runs()
    assert_runs_agree(engine, hand)
    assert engine[0][-1] < engine[0][0] - 0.1  # and it did train


def test_lora_training_by_hand_follows_the_engine_and_leaves_the_base_weights() -> None:
    engine, hand = two_runs(lora=True)
    assert_runs_agree(engine, hand)
    _, before, after, model = hand
    frozen = [name for name, p in model.named_parameters() if not p.requires_grad]
    assert frozen and all(np.array_equal(before[n], after[n]) for n in frozen)
    assert all(not np.array_equal(before[n], after[n]) for n in before if n.endswith("lora_A"))


def test_a_slightly_wrong_gradient_is_caught() -> None:
    """A relative error of 1e-6 in one gradient (far below what a plot of two loss curves shows) is
    100x over both tolerances."""
    (loss_e, _, w_e, _), (loss_h, _, w_h, _) = two_runs(corrupt="h.0.mlp.c_fc.weight")
    assert np.abs(loss_e - loss_h).max() > 100 * LOSS_TOL
    assert manual.rel_err(w_h["h.0.mlp.c_fc.weight"], w_e["h.0.mlp.c_fc.weight"]) > 100 * PARAM_REL_TOL


def test_apply_gradients_sets_copies_of_the_arrays() -> None:
    model = tiny_gpt()
    x, y = batches(1)[0]
    result = manual.gpt_backward(model, x, y)
    manual.apply_gradients(model, result.grads)  # a plain mapping works too
    for name, p in model.named_parameters():
        assert np.array_equal(p.grad.numpy(), result.grads[name])
        assert not np.shares_memory(p.grad.numpy(), result.grads[name])


@pytest.mark.parametrize("problem, message", [
    ("missing", r"no gradient for trainable parameter\(s\) wte.weight"),
    ("extra", "nope.weight: the model has no such parameter"),
    ("frozen", "h.0.attn.c_attn.weight: the parameter is frozen"),
    ("shape", r"ln_f.bias: gradient of shape \(3,\) for a parameter of shape \(16,\)"),
    ("dtype", "ln_f.weight: gradient of dtype float32 for a parameter of dtype"),
    # not arrays of numbers (None and a str were reported as "a gradient of shape ()")
    ("none", "ln_f.bias: the gradient is None, not an array of numbers"),
    ("str", "ln_f.bias: the gradient is a str, not an array of numbers"),
    ("ragged", "ln_f.bias: the gradient is a list, not an array of numbers"),
])
def test_apply_gradients_refuses_a_mismatch_and_changes_nothing(problem: str, message: str) -> None:
    model = tiny_gpt()
    x, y = batches(1)[0]
    if problem == "frozen":
        nn.apply_lora(model, ("c_attn",), rank=2)
    grads = dict(manual.gpt_backward(model, x, y).grads)
    if problem == "missing":
        del grads["wte.weight"]
    elif problem == "extra":
        grads["nope.weight"] = np.zeros(3)
    elif problem == "frozen":
        grads["h.0.attn.c_attn.weight"] = np.zeros((16, 48))
    elif problem == "shape":
        grads["ln_f.bias"] = np.zeros(3)
    elif problem in ("none", "str", "ragged"):
        grads["ln_f.bias"] = {"none": None, "str": "0.5", "ragged": [[1.0], [2.0, 3.0]]}[problem]
    else:
        grads["ln_f.weight"] = grads["ln_f.weight"].astype(np.float32)
    with pytest.raises(ValueError, match=message):
        manual.apply_gradients(model, grads)
    assert all(p.grad is None for p in model.parameters())


def test_apply_gradients_names_the_first_name_of_a_tied_parameter() -> None:
    """A parameter shared under two names is trained under its first (``named_parameters()``, as PyTorch's): a
    gradient under the second name is refused as the alias it is, not as a parameter the model lacks."""
    model = tiny_gpt()
    model.lm_head.weight = model.wte.weight
    grads = {name: np.zeros(tuple(p.shape)) for name, p in model.named_parameters()}
    assert "lm_head.weight" not in grads
    with pytest.raises(ValueError, match=r"lm_head.weight: the same parameter as wte.weight \(shared\); give its "
                                         r"gradient once, under wte.weight"):
        manual.apply_gradients(model, grads | {"lm_head.weight": np.zeros((11, 16))})
    manual.apply_gradients(model, grads)
    assert model.lm_head.weight.grad is model.wte.weight.grad


def test_apply_gradients_refuses_what_is_not_a_mapping() -> None:
    with pytest.raises(TypeError, match="apply_gradients: grads must be"):
        manual.apply_gradients(tiny_gpt(), [np.zeros(3)])
