"""Anomaly mode (``tinygrad_tx.autograd.detect_anomaly``): the op that made the first nan or inf, in the
forward pass (which PyTorch's anomaly mode does not check) and in the backward pass (which it does, for nan),
with the op, its module path, shapes and the user's source line; off, nothing changes."""

from __future__ import annotations

import re
import threading
import warnings

import numpy as np
import pytest

import tinygrad_tx as tx
from tinygrad_tx import Function, Tensor, nn
from tinygrad_tx.autograd import (
    detect_anomaly,
    forward_ad,
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    profiler,
    set_detect_anomaly,
)

pytestmark = [
    pytest.mark.filterwarnings("ignore:Anomaly Detection has been enabled"),  # both libraries warn so
    pytest.mark.filterwarnings("ignore:Error detected in"),  # PyTorch's anomaly mode on a backward error
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),  # NumPy's on overflow and 0/0: what the tests make
]

HERE = __file__


def line_of(marker: str) -> tuple[int, str]:
    """(line number, stripped text) of the one line of this file that ends with ``marker``."""
    with open(HERE) as f:
        found = [(n, line.strip()) for n, line in enumerate(f, 1) if line.rstrip().endswith(marker)]
    assert len(found) == 1, marker
    return found[0]


def assert_names_line(message: str, marker: str) -> None:
    n, text = line_of(marker)
    assert f"{HERE}:{n}," in message, message
    assert text in message, message


@pytest.fixture(autouse=True)
def anomaly_off_after() -> None:
    yield
    assert not is_anomaly_enabled(), "a test left anomaly mode on"
    assert is_anomaly_check_nan_enabled()


# ----------------------------------------------------------------------------------- the switches
def test_default_off_and_the_context_manager_restores_state() -> None:
    assert not is_anomaly_enabled() and is_anomaly_check_nan_enabled()
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):  # as PyTorch warns
        block = detect_anomaly()
    assert not is_anomaly_enabled()  # constructing it changes nothing; entering does
    with block:
        assert is_anomaly_enabled() and is_anomaly_check_nan_enabled()
        with detect_anomaly(check_nan=False):
            assert is_anomaly_enabled() and not is_anomaly_check_nan_enabled()
        assert is_anomaly_enabled() and is_anomaly_check_nan_enabled()
    assert not is_anomaly_enabled()
    with pytest.raises(KeyError):  # restored on an exception too
        with detect_anomaly(check_nan=False):
            raise KeyError("inside")
    assert not is_anomaly_enabled() and is_anomaly_check_nan_enabled()


def test_set_detect_anomaly_as_a_function_and_a_context_manager() -> None:
    set_detect_anomaly(True)
    try:
        assert is_anomaly_enabled() and is_anomaly_check_nan_enabled()
        with set_detect_anomaly(False):
            assert not is_anomaly_enabled()
        assert is_anomaly_enabled()
        with set_detect_anomaly(True, check_nan=False):
            assert is_anomaly_enabled() and not is_anomaly_check_nan_enabled()
        assert is_anomaly_check_nan_enabled()
    finally:
        set_detect_anomaly(False)
    assert not is_anomaly_enabled()
    with pytest.raises(TypeError, match="set_detect_anomaly: mode must be True or False, got 'yes'"):
        set_detect_anomaly("yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="detect_anomaly: check_nan must be True or False, got None"):
        detect_anomaly(check_nan=None)  # type: ignore[arg-type]


def test_the_switches_match_pytorch(torch) -> None:
    """The same sequence of switches reads the same in both libraries (both global, not per thread)."""
    def trace(lib_set, lib_detect, enabled, check_nan) -> list[tuple[bool, bool]]:
        seen = [(enabled(), check_nan())]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with lib_detect(check_nan=False):
                seen.append((enabled(), check_nan()))
                other: list[bool] = []
                t = threading.Thread(target=lambda: other.append(enabled()))
                t.start()
                t.join()
                seen.append((other[0], check_nan()))
            seen.append((enabled(), check_nan()))
        lib_set(True, check_nan=False)
        seen.append((enabled(), check_nan()))
        with lib_set(False):
            seen.append((enabled(), check_nan()))
        seen.append((enabled(), check_nan()))
        lib_set(False)
        seen.append((enabled(), check_nan()))
        return seen

    ours = trace(set_detect_anomaly, detect_anomaly, is_anomaly_enabled, is_anomaly_check_nan_enabled)
    theirs = trace(torch.autograd.set_detect_anomaly, torch.autograd.detect_anomaly, torch.is_anomaly_enabled,
                   torch.is_anomaly_check_nan_enabled)
    assert ours == theirs


def test_detect_anomaly_decorates() -> None:
    @detect_anomaly()
    def f(x: Tensor) -> Tensor:
        assert is_anomaly_enabled()
        return (x - 3.0).log()

    assert not is_anomaly_enabled()  # decorating turns nothing on
    with pytest.raises(RuntimeError, match="'log' made nan values from finite inputs"):
        f(Tensor([1.0, 2.0]))
    assert not is_anomaly_enabled()
    assert np.allclose(f(Tensor([4.0])).data, 0.0)


# ----------------------------------------------------------------------------------- forward
def test_forward_nan_log_of_a_negative_made_inside_a_module() -> None:
    class Shifted(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = nn.Linear(3, 2)

        def forward(self, x: Tensor) -> Tensor:
            return (self.lin(x) - 100.0).log()  # ← LOG

    model = nn.Sequential(nn.Linear(4, 3), Shifted())
    x = Tensor(np.ones((5, 4), np.float32))
    with detect_anomaly():
        with pytest.raises(RuntimeError) as info:
            model(x)
    message = str(info.value)
    assert message.startswith("anomaly mode: 'log' made nan values from finite inputs, in the forward pass")
    assert "module:     1\n" in message  # the Shifted layer is model[1]
    assert "input 0:    (5, 2) float32 in [" in message
    assert "output:     (5, 2) float32: 10 nan of 10, first at index (0, 0)" in message
    assert_names_line(message, "# ← LOG")


def test_forward_nan_zero_over_zero() -> None:
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    with detect_anomaly():
        d = x - x.detach()  # zeros, made from finite values
        with pytest.raises(RuntimeError) as info:
            d / d  # ← DIV
    message = str(info.value)
    assert "'div' made nan values from finite inputs" in message
    assert "input 0:    (3,) float32 in [0, 0]\n  input 1:    (3,) float32 in [0, 0]" in message
    assert "(3,) float32: 3 nan of 3, first at index (0,)" in message
    assert "module:     (none: not inside an nn.Module)" in message
    assert_names_line(message, "# ← DIV")


def test_forward_inf_exp_overflow_in_float32_and_cast() -> None:
    x = Tensor([1.0, 50.0, 100.0])
    with detect_anomaly():
        with pytest.raises(RuntimeError) as info:
            x.exp()  # ← EXP
        message = str(info.value)
        assert "'exp' made inf values from finite inputs" in message
        assert "input 0:    (3,) float32 in [1, 100]" in message
        assert "output:     (3,) float32: 1 +inf of 3, first at index (2,)" in message
        assert_names_line(message, "# ← EXP")
        assert np.isfinite(Tensor([1.0, 50.0], dtype=np.float64).exp().data).all()
        with pytest.raises(RuntimeError, match="'cast' made inf values from finite inputs"):
            Tensor([1e300], dtype=np.float64).to(np.float32)  # out of float32's range


def test_the_source_line_is_the_innermost_user_frame() -> None:
    def helper(t: Tensor) -> Tensor:
        return t.sqrt()  # ← HELPER

    with detect_anomaly():
        with pytest.raises(RuntimeError) as info:
            helper(Tensor([-1.0]))
    assert_names_line(str(info.value), "# ← HELPER")
    assert "in helper" in str(info.value)


def test_nan_or_inf_already_in_the_inputs_is_not_blamed() -> None:
    """Like PyTorch: only creation from finite values is blamed. Results are those of the mode off."""
    x = np.array([1.0, np.nan, np.inf, -np.inf, 2.0])
    mask = np.where(np.arange(5) < 3, 0.0, -np.inf)  # an additive mask, as attention's

    def program(t: Tensor) -> list[Tensor]:
        return [t.exp(), t * 0.0, (t - t), (t + mask).softmax(-1), t.log(), tx.where(t.data > 1.5, t, 0.0),
                Tensor(mask).exp()]

    off = program(Tensor(x, requires_grad=True))
    with detect_anomaly():
        on = program(Tensor(x, requires_grad=True))
        (Tensor(x) * 2.0).sum()
    for a, b in zip(off, on):
        np.testing.assert_array_equal(a.data, b.data)


def test_a_vjp_may_make_an_inf_it_masks() -> None:
    """Pow's VJP at a zero base computes 0 · inf and masks it; only the VJP's result is checked."""
    x = Tensor([0.0, 2.0], dtype=np.float64, requires_grad=True)
    with detect_anomaly():
        (x ** 0.0).sum().backward()  # d/dx x⁰ = 0·x⁻¹, masked to 0 where x = 0
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])


# ----------------------------------------------------------------------------------- backward
def test_backward_nan_sqrt_at_zero_times_zero(torch) -> None:
    """√x at 0 has an infinite derivative; ȳ = 0 there gives inf · 0 = nan. Both libraries raise at sqrt."""
    x_np, c = np.array([0.0, 4.0]), np.array([0.0, 1.0])
    xt = torch.tensor(x_np, requires_grad=True)
    with torch.autograd.detect_anomaly():
        with pytest.raises(RuntimeError, match="Function 'SqrtBackward0' returned nan values in its 0th output"):
            (torch.sqrt(xt) * torch.tensor(c)).sum().backward()

    x = Tensor(x_np, requires_grad=True)
    with detect_anomaly():
        y = x.sqrt()  # ← SQRT
        loss = (y * c).sum()
        with pytest.raises(RuntimeError) as info:
            loss.backward()
    message = str(info.value)
    assert message.startswith("anomaly mode: the backward of 'pow' returned nan values in the gradient of its "
                              "input 0, from a finite upstream gradient")  # (sqrt is x ** 0.5)
    assert "input 0:    a leaf tensor that requires grad, (2,); its gradient: (2,) float64: 1 nan of 2, first at " \
           "index (0,)" in message
    assert "upstream gradient: (2,) float64 in [0, 1]" in message
    assert_names_line(message, "# ← SQRT")
    assert x.grad is None  # the walk stopped: nothing half-accumulated
    assert y._ctx._g is None


def test_backward_norm_at_zero_is_blamed_on_sqrt_not_on_the_square(torch) -> None:
    """‖x‖ = √(Σ x²) at x = 0: √'s VJP makes inf from ȳ = 1. PyTorch checks for nan only, so it raises one
    step later, at x·x (inf · 0 = nan); anomaly mode here checks inf as well and names the square root."""
    xt = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    with torch.autograd.detect_anomaly():
        with pytest.raises(RuntimeError, match="Function 'MulBackward0' returned nan values in its 0th output"):
            torch.sqrt((xt * xt).sum()).backward()

    x = Tensor(np.zeros(3), requires_grad=True)
    with detect_anomaly():
        norm = (x * x).sum().sqrt()  # ← NORM
        with pytest.raises(RuntimeError) as info:
            norm.backward()
    message = str(info.value)
    assert message.startswith("anomaly mode: the backward of 'pow' returned inf values")
    assert "input 0:    the output of 'sum', (); its gradient: () float64: 1 +inf of 1" in message
    assert "upstream gradient: () float64 = 1" in message
    assert_names_line(message, "# ← NORM")


def test_log_at_zero_torch_misses_the_forward_and_catches_the_backward(torch) -> None:
    """where(x > 0, log x, 0) at x = 0: log(0) = -inf in the forward pass (discarded by where), and in the
    backward ȳ = 0 reaches log, whose VJP 0/0 = nan. PyTorch catches the backward only; anomaly mode here
    raises at the forward op already, and at the backward too if the forward ran with the mode off."""
    x_np = np.array([0.0, 1.0, 4.0])
    xt = torch.tensor(x_np, requires_grad=True)
    with torch.autograd.detect_anomaly():
        yt = torch.where(xt > 0, torch.log(xt), torch.zeros_like(xt))  # no error in the forward
        with pytest.raises(RuntimeError, match="Function 'LogBackward0' returned nan values in its 0th output"):
            yt.sum().backward()

    x = Tensor(x_np, requires_grad=True)
    with detect_anomaly():
        with pytest.raises(RuntimeError) as info:
            tx.where(x.data > 0, x.log(), 0.0)  # ← WHERE-LOG
    assert str(info.value).startswith("anomaly mode: 'log' made inf values from finite inputs")
    assert "output:     (3,) float64: 1 -inf of 3, first at index (0,)" in str(info.value)
    assert_names_line(str(info.value), "# ← WHERE-LOG")

    y = tx.where(x.data > 0, x.log(), 0.0)  # the forward with the mode off
    with detect_anomaly():
        with pytest.raises(RuntimeError) as info:
            y.sum().backward()
    message = str(info.value)
    assert message.startswith("anomaly mode: the backward of 'log' returned nan values in the gradient of its "
                              "input 0, from a finite upstream gradient")
    assert "created at: unknown: the forward pass ran with anomaly mode off" in message
    assert "upstream gradient: (3,) float64 in [0, 1]" in message

    with detect_anomaly(check_nan=False):  # lines kept, nothing checked
        y = tx.where(x.data > 0, x.log(), 0.0)  # ← KEPT
    with detect_anomaly():
        with pytest.raises(RuntimeError) as info:
            y.sum().backward()
    assert_names_line(str(info.value), "# ← KEPT")


def test_a_non_finite_upstream_gradient_is_not_blamed() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    with detect_anomaly():
        y = x.exp()
        y.backward(np.array([np.nan, 1.0], np.float32))  # the seed holds the nan
    assert np.isnan(x.grad[0]) and x.grad[1] == pytest.approx(np.exp(2.0))


def test_an_overflowing_sum_of_gradients_is_caught() -> None:
    """x reaches the loss along two paths; each brings 3e38, their float32 sum is inf."""
    x = Tensor([1e-38], requires_grad=True)
    with detect_anomaly():
        loss = (x * 3e38).sum() + (x * 3e38).sum()
        with pytest.raises(RuntimeError) as info:
            loss.backward()
    message = str(info.value)
    assert message.startswith("anomaly mode: adding up the gradients that reach a leaf tensor that requires grad "
                              "(from the backward of 'mul' in (the outermost module, or none)) made inf from finite "
                              "gradients (an overflow), in the backward pass")
    assert "input 0:    (1,) float32 = 3e+38\n  input 1:    (1,) float32 = 3e+38" in message


def test_a_tangent_made_non_finite_is_caught() -> None:
    x = Tensor([0.0, 4.0], dtype=np.float64)
    with detect_anomaly(), forward_ad.dual_level():
        dual = forward_ad.make_dual(x, Tensor(np.ones(2)))
        with pytest.raises(RuntimeError, match="the JVP of 'pow' \\(forward-mode AD\\) made inf values in a "
                                               "tangent from finite values"):
            dual.sqrt()


def test_an_error_raised_in_a_backward_gets_a_note_with_the_forward_line() -> None:
    class Broken(Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2.0

        @staticmethod
        def backward(ctx, g):
            raise ValueError("broken backward")

    x = Tensor([1.0], requires_grad=True)
    with detect_anomaly(check_nan=False):
        y = Broken.apply(x)  # ← BROKEN
        with pytest.raises(ValueError, match="broken backward") as info:
            y.sum().backward()
    notes = "\n".join(getattr(info.value, "__notes__", []))
    assert "anomaly mode: raised in the backward of 'broken'" in notes
    assert_names_line(notes, "# ← BROKEN")


def test_check_nan_false_checks_nothing() -> None:
    x = Tensor([0.0, -1.0], dtype=np.float64, requires_grad=True)
    with detect_anomaly(check_nan=False):
        y = x.sqrt()
        y.sum().backward()
    assert np.isnan(y.data[1]) and x.grad[0] == np.inf and np.isnan(x.grad[1])


def test_anomaly_mode_with_the_profiler() -> None:
    x = Tensor([-1.0])
    with profiler.profile(), detect_anomaly():
        with pytest.raises(RuntimeError, match="'log' made nan values"):
            x.log()


# ----------------------------------------------------------------------------------- in a GPT
def _gpt() -> tuple[nn.GPT, np.ndarray, np.ndarray]:
    tx.manual_seed(0)
    model = nn.GPT(nn.GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=16))
    idx = np.random.default_rng(0).integers(0, 11, (2, 8))
    return model, idx, np.roll(idx, -1, 1)


def test_gpt_a_large_layernorm_weight_overflows_in_attention() -> None:
    model, idx, targets = _gpt()
    model.h[1].ln_1.weight.data = Tensor(np.full(16, 1e20, np.float32))  # finite, but q kᵀ overflows float32
    with detect_anomaly():
        with pytest.raises(RuntimeError) as info:
            model(idx, targets)  # ← GPT-BIG
    message = str(info.value)
    # inf, and nan where the BLAS kernel's sums meet +inf and -inf: which one depends on its summation order
    assert re.match(r"anomaly mode: 'matmul' made (nan and )?inf values from finite inputs", message), message
    assert "module:     h.1.attn\n" in message
    assert "input 0:    (2, 2, 8, 8) float32" in message and "output:     (2, 2, 8, 8) float32" in message
    assert_names_line(message, "# ← GPT-BIG")


def test_gpt_an_inf_layernorm_weight_is_found_from_the_backward() -> None:
    """An inf weight is a value from outside the graph: no op made it, so the forward raises nothing (the
    loss is nan, as with the mode off). The first VJP that reads it makes a nan from a finite ȳ, and its
    error says where the inf entered the graph: the LayerNorm of block 1, the parameter first."""
    model, idx, targets = _gpt()
    model.h[1].ln_1.weight.data = Tensor(np.full(16, np.inf, np.float32))
    with detect_anomaly():
        loss = model(idx, targets)[1]
        assert np.isnan(loss.item())
        with pytest.raises(RuntimeError) as info:
            loss.backward()
    message = str(info.value)
    assert "from a finite upstream gradient" in message
    assert "note:       its saved forward values already hold nan or inf" in message
    entries = message.split("entered at:")[1].splitlines()
    assert entries[1].startswith("    'expand' in h.1.ln_1, created at ")
    assert "a leaf tensor that requires grad (16,) float32: 16 +inf of 16" in entries[1]


def test_gpt_a_module_injected_into_block_0_names_its_path() -> None:
    class Poison(nn.Module):
        """Wraps a module and takes the log of its output shifted negative: nan from finite values."""

        def __init__(self, inner: nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, x: Tensor) -> Tensor:
            return (self.inner(x) - 1e3).log()  # ← POISON

    model, idx, targets = _gpt()
    model.h[0].mlp = Poison(model.h[0].mlp)
    with detect_anomaly():
        with pytest.raises(RuntimeError) as info:
            model(idx, targets)
    message = str(info.value)
    assert "'log' made nan values from finite inputs" in message and "module:     h.0.mlp\n" in message
    assert_names_line(message, "# ← POISON")


def test_gpt_step_is_the_same_with_the_mode_on_and_off() -> None:
    """A finite GPT step (its -inf mask included) raises nothing and gives the same loss and gradients."""
    results = []
    for on in (False, True):
        model, idx, targets = _gpt()
        with set_detect_anomaly(on):
            loss = model(idx, targets)[1]
            loss.backward()
        results.append((loss.item(), [p.grad.numpy().copy() for p in model.parameters()]))
    assert results[0][0] == results[1][0]
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_array_equal(a, b)


# ----------------------------------------------------------------------------------- off
def test_off_the_arithmetic_is_ieee() -> None:
    """Off (the default), nan and inf propagate silently, forward and backward, as before."""
    assert not is_anomaly_enabled()
    x = Tensor([-1.0, 0.0, 1.0, 100.0], requires_grad=True)
    y = x.log() + (x * 100.0).exp() + x / x.detach()
    np.testing.assert_array_equal(np.isnan(y.data), [True, True, False, False])
    assert np.isinf(y.data[3])
    z = Tensor([0.0, 4.0], dtype=np.float64, requires_grad=True)
    (z.sqrt() * np.array([0.0, 1.0])).sum().backward()
    assert np.isnan(z.grad[0]) and z.grad[1] == 0.25
    assert not hasattr(y._ctx, "_anomaly_source")  # nothing noted on the nodes
