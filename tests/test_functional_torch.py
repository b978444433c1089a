"""``tinygrad_tx.nn.functional`` (and the loss modules) against ``torch.nn.functional`` in float64.

Each program is written once as ``fn(F, *tensors)`` and run with our F and with PyTorch's on the same
arrays: the value, and the gradient of ``Σ out ⊙ R`` for a random ``R`` (a non-uniform upstream
gradient) with respect to every argument listed in ``grad``, must agree to a scale-relative 1e-12
(``max|ours - torch| ≤ 1e-12 · max|torch|``, tests/helpers.py ``assert_close``; inf and nan at the
same places). The edge cases are PyTorch's rules: ignored targets, zero total weight, label
smoothing with weights, probability targets, (N, C, d) shapes, saturated probabilities.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tinygrad_tx as tx
from tinygrad_tx import Tensor
from tinygrad_tx.nn import functional as F
from tinygrad_tx.nn import loss as L

from .helpers import assert_close

torch = pytest.importorskip("torch")
TF = torch.nn.functional

REL = 1e-12
pytestmark = pytest.mark.usefixtures("float64_default")  # (tests/conftest.py)


def rn(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def check(fn: Callable[..., Any], *arrays: Any, grad: tuple[int, ...] = (0,), seed: int = 1) -> Tensor:
    """``fn(F, ...)`` with our F on Tensors and with PyTorch's on torch tensors: value and gradients agree."""
    ours = [Tensor(a, requires_grad=i in grad) for i, a in enumerate(arrays)]
    theirs = [torch.tensor(a, requires_grad=i in grad) for i, a in enumerate(arrays)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the broadcasting warning, checked on its own)
        out, tout = fn(F, *ours), fn(TF, *theirs)
    expected = tout.detach().numpy()
    assert out.dtype == expected.dtype, f"dtype {out.dtype}, torch {expected.dtype}"
    assert_close(out.data, expected, REL, "value")
    R = np.random.default_rng(seed).standard_normal(out.shape)
    (out * Tensor(R)).sum().backward()
    (tout * torch.tensor(R)).sum().backward()
    for i in grad:
        assert_close(ours[i].grad, theirs[i].grad.numpy(), REL, f"gradient of argument {i}")
    return out


# ============================================================================ cross_entropy, nll_loss

# (input shape, targets): (N, C), one sample (C,), and (N, C, d...) with the class dim 1
CLASS_CASES = {
    "NC": ((6, 4), np.array([1, -100, 3, 0, 2, -100])),
    "C": ((4,), np.array(2)),
    "NCd": ((2, 4, 3), np.array([[0, 1, -100], [3, 3, 2]])),
    "NCdd": ((2, 3, 2, 2), np.array([[[0, 2], [1, -100]], [[2, 2], [0, 1]]])),
}
CLASS_WEIGHT = {4: np.array([0.5, 2.0, 1.5, 0.25]), 3: np.array([1.5, 0.3, 2.0])}


@pytest.mark.parametrize("case", CLASS_CASES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
def test_cross_entropy_with_class_indices(case: str, reduction: str, weighted: bool, label_smoothing: float) -> None:
    shape, t = CLASS_CASES[case]
    w = CLASS_WEIGHT[shape[0 if len(shape) == 1 else 1]] if weighted else None
    check(lambda F, x, t, w=None: F.cross_entropy(x, t, weight=w, reduction=reduction,
                                                    label_smoothing=label_smoothing),
          rn(*shape) * 3, t, *([w] if weighted else []))


@pytest.mark.parametrize("case", CLASS_CASES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss(case: str, reduction: str, weighted: bool) -> None:
    shape, t = CLASS_CASES[case]
    w = CLASS_WEIGHT[shape[0 if len(shape) == 1 else 1]] if weighted else None
    check(lambda F, x, t, w=None: F.nll_loss(x, t, weight=w, reduction=reduction),
          rn(*shape), t, *([w] if weighted else []))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
def test_an_ignore_index_inside_the_classes(reduction: str, label_smoothing: float) -> None:
    check(lambda F, x, t, w: F.cross_entropy(x, t, w, ignore_index=1, reduction=reduction,
                                             label_smoothing=label_smoothing),
          rn(5, 3), np.array([1, 0, 2, 1, 2]), CLASS_WEIGHT[3])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.4])
@pytest.mark.parametrize("weighted", [False, True])
def test_all_targets_ignored(reduction: str, label_smoothing: float, weighted: bool) -> None:
    # mean: 0/0 = nan (as torch), with a zero gradient; sum: 0
    out = check(lambda F, x, t, w=None: F.cross_entropy(x, t, weight=w, reduction=reduction,
                                                          label_smoothing=label_smoothing),
                rn(3, 4), np.full(3, -100), *([CLASS_WEIGHT[4]] if weighted else []))
    if reduction == "mean":
        assert np.isnan(out.item())


def test_one_sample_with_a_target_of_shape_one() -> None:
    # (C,) input, target (1,): PyTorch's forward takes it as one sample with a 0-d loss (its backward and
    # its label smoothing refuse it); we give what the 0-d target gives
    x = rn(4)
    for kwargs in ({"reduction": "none"}, {"label_smoothing": 0.2}):
        ours = F.cross_entropy(Tensor(x), np.array([2]), **kwargs)
        assert ours.shape == ()
        assert_close(ours.data, TF.cross_entropy(torch.tensor(x), torch.tensor(2), **kwargs).numpy(), REL, "loss")
    assert_close(F.nll_loss(Tensor(x), np.array([2])).data, TF.nll_loss(torch.tensor(x), torch.tensor([2])).numpy(),
                 REL, "nll")


def test_zero_total_weight_gives_nan_as_torch() -> None:
    check(lambda F, x, t, w: F.cross_entropy(x, t, w), rn(3, 3), np.array([0, 1, 0]), np.array([0.0, 0.0, 1.0]))
    check(lambda F, x, t, w: F.nll_loss(x, t, w, reduction="sum"), rn(3, 3), np.array([0, 1, 0]),
          np.array([0.0, 0.0, 1.0]))


def test_label_smoothing_one_and_uint8_targets() -> None:
    check(lambda F, x, t: F.cross_entropy(x, t, label_smoothing=1.0), rn(4, 3), np.array([0, 1, 2, 1]))
    check(lambda F, x, t: F.cross_entropy(x, t), rn(4, 3), np.array([0, 1, 2, 1], dtype=np.uint8))


@pytest.mark.parametrize("shape", [(5, 4), (2, 4, 3), (4,)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.25])
def test_cross_entropy_with_class_probabilities(shape: tuple[int, ...], reduction: str, weighted: bool,
                                                label_smoothing: float) -> None:
    probs = np.random.default_rng(3).dirichlet(np.ones(4), size=int(np.prod(shape)) // 4)  # rows sum to 1
    probs = np.moveaxis(probs.reshape(shape[:1] + shape[2:] + (4,)) if len(shape) > 1 else probs[0], -1,
                        1 if len(shape) > 1 else 0)
    # the gradient also goes to the target, and to the weight (PyTorch differentiates both here)
    check(lambda F, x, t, w=None: F.cross_entropy(x, t, weight=w, reduction=reduction,
                                                    label_smoothing=label_smoothing),
          rn(*shape) * 2, np.ascontiguousarray(probs), *([CLASS_WEIGHT[4]] if weighted else []),
          grad=(0, 1, 2) if weighted else (0, 1))


def test_cross_entropy_keeps_large_logits_finite() -> None:
    check(lambda F, x, t: F.cross_entropy(x, t, label_smoothing=0.1),
          np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0]]), np.array([1, 0]))


def test_empty_batch_mean_is_nan() -> None:
    for fn in (lambda F, x, t: F.cross_entropy(x, t), lambda F, x, t: F.cross_entropy(x, t, reduction="sum")):
        check(fn, np.zeros((0, 3)), np.zeros(0, dtype=np.int64))
    check(lambda F, x, t: F.cross_entropy(x, t), np.zeros((0, 3)), np.zeros((0, 3)))


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda x: F.cross_entropy(x, np.array([0, 1, 2])), ValueError, r"cross_entropy: .*\(4, 3\).*\(4,\).*\(3,\)"),
    (lambda x: F.cross_entropy(x, np.array([0, 1, 3, 0])), IndexError, "target 3 is out of bounds for 3 classes"),
    (lambda x: F.nll_loss(x, np.array([0, -1, 2, 0])), IndexError, "nll_loss: target -1 is out of bounds"),
    (lambda x: F.cross_entropy(x, np.array([0.0, 1, 2, 0])), TypeError, "integer class indices.*probabilities"),
    (lambda x: F.cross_entropy(x, np.ones((4, 3), dtype=np.int64)), TypeError, "must be floating point"),
    (lambda x: F.cross_entropy(x, np.full((4, 3), 0.3), ignore_index=0), ValueError, "ignore_index=0"),
    (lambda x: F.cross_entropy(x, np.array([0, 1, 2, 0]), weight=np.ones(4)), ValueError, r"weight .*\(3,\)"),
    (lambda x: F.cross_entropy(x, np.array([0, 1, 2, 0]), label_smoothing=1.5), ValueError, "label_smoothing"),
    (lambda x: F.cross_entropy(x, np.array([0, 1, 2, 0]), label_smoothing=-0.1), ValueError, "label_smoothing"),
    (lambda x: F.cross_entropy(x, np.array([0, 1, 2, 0]), reduction="avg"), ValueError, "reduction.*'avg'"),
    (lambda x: F.cross_entropy(x.sum(), np.array(0)), ValueError, "0-d"),
    (lambda x: F.cross_entropy(x.numpy(), np.array([0, 1, 2, 0])), TypeError, "input must be a Tensor"),
    (lambda x: F.nll_loss(Tensor(np.zeros((2, 3, 4))), np.zeros((2, 5), dtype=np.int64)), ValueError,
     r"\(2, 4\), got \(2, 5\)"),
    (lambda x: F.nll_loss(x[0], np.array([1, 0])), ValueError, "one sample"),
])
def test_class_loss_errors_name_the_function_and_the_shapes(call: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        call(Tensor(rn(4, 3)))


def test_legacy_size_average_and_reduce_map_to_reduction() -> None:
    x, t = rn(4, 3), np.array([0, 1, 2, 1])
    for kwargs, reduction in (({"size_average": False}, "sum"), ({"reduce": False}, "none"),
                              ({"size_average": True, "reduce": True}, "mean")):
        with pytest.warns(UserWarning, match="deprecated"):
            ours = F.cross_entropy(Tensor(x), t, **kwargs)
        assert_close(ours.data, F.cross_entropy(Tensor(x), t, reduction=reduction).data, 0.0, reduction)
    with pytest.warns(UserWarning, match="elementwise_mean"):
        F.mse_loss(Tensor(x), np.zeros((4, 3)), reduction="elementwise_mean")


# ============================================================================ regression losses


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_losses(name: str, reduction: str) -> None:
    x, y = rn(3, 4), rn(3, 4, seed=1)
    x[0, :2] = y[0, :2]  # ties: the gradient of |d| is 0 there
    x[1, 0], x[1, 1] = y[1, 0] + 1.0, y[1, 1] - 0.5  # |d| = β, and inside β
    check(lambda F, a, b: getattr(F, name)(a, b, reduction=reduction), x, y, grad=(0, 1))


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_weighted_regression_losses(name: str, reduction: str) -> None:
    # PyTorch's rules: mse and l1 divide by Σ w, huber takes the plain mean of w ℓ
    w = np.random.default_rng(2).uniform(0.1, 2.0, (3, 4))
    check(lambda F, a, b, w: getattr(F, name)(a, b, reduction=reduction, weight=w), rn(3, 4), rn(3, 4, seed=1), w,
          grad=(0, 1, 2))


@pytest.mark.parametrize(("beta", "delta"), [(0.0, 0.5), (0.3, 2.0), (2.5, 1e-3)])
def test_smooth_l1_beta_and_huber_delta(beta: float, delta: float) -> None:
    x, y = rn(10) * 2, rn(10, seed=1)
    check(lambda F, a, b: F.smooth_l1_loss(a, b, beta=beta), x, y, grad=(0, 1))
    check(lambda F, a, b: F.huber_loss(a, b, delta=delta), x, y, grad=(0, 1))


def test_regression_target_broadcasts_with_torchs_warning() -> None:
    check(lambda F, a, b: F.mse_loss(a, b), rn(2, 3), rn(3, seed=1), grad=(0, 1))
    with pytest.warns(UserWarning, match=r"target size \(3,\) that is different to the input size \(2, 3\)"):
        F.mse_loss(Tensor(rn(2, 3)), Tensor(rn(3)))


def test_regression_loss_errors() -> None:
    x = Tensor(rn(2, 3))
    with pytest.raises(ValueError, match=r"mse_loss: input of shape \(2, 3\) and target of shape \(2,\)"), \
            pytest.warns(UserWarning):
        F.mse_loss(x, rn(2))
    with pytest.raises(ValueError, match=r"l1_loss: weight must have the input's shape \(2, 3\), got \(3,\)"):
        F.l1_loss(x, rn(2, 3), weight=np.ones(3))
    with pytest.raises(ValueError, match="smooth_l1_loss: beta"):
        F.smooth_l1_loss(x, rn(2, 3), beta=-1.0)
    with pytest.raises(ValueError, match="huber_loss: delta"):
        F.huber_loss(x, rn(2, 3), delta=0.0)
    with pytest.raises(TypeError, match="mse_loss: input must be floating point"):
        F.mse_loss(Tensor(np.array([1, 2])), np.array([1, 3]))


# ============================================================================ binary losses


def probabilities(seed: int = 0) -> np.ndarray:
    p = np.random.default_rng(seed).uniform(0.02, 0.98, (3, 4))
    return p


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weight", [None, "full", "per_class"])
def test_binary_cross_entropy(reduction: str, weight: str | None) -> None:
    w = {None: [], "full": [probabilities(5) * 2], "per_class": [np.array([0.5, 1.0, 2.0, 3.0])]}[weight]
    check(lambda F, p, y, w=None: F.binary_cross_entropy(p, y, w, reduction=reduction),
          probabilities(), probabilities(1), *w, grad=(0, 1))


def test_binary_cross_entropy_at_saturated_probabilities() -> None:
    # p = 0 and 1 exactly: log clamped at -100, and PyTorch's gradient (p - y) / max(p(1-p), 1e-12) is
    # finite (±1e12 scale), the target's ln(1-p) - ln p infinite; p(1-p) < 1e-12 also clamps
    p = np.array([0.0, 1.0, 0.0, 1.0, 1e-20, 1 - 1e-15, 0.3, 1e-50])
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 0.5, 0.6, 0.0])
    check(lambda F, p, y: F.binary_cross_entropy(p, y, reduction="none"), p, y, grad=(0, 1))


def test_binary_cross_entropy_errors() -> None:
    with pytest.raises(ValueError, match="binary_cross_entropy: all elements of input must be between 0 and 1"):
        F.binary_cross_entropy(Tensor(np.array([1.5])), np.array([1.0]))
    with pytest.raises(ValueError, match="all elements of target"):
        F.binary_cross_entropy(Tensor(np.array([0.5])), np.array([-0.5]))
    with pytest.raises(ValueError, match=r"target of shape \(3,\) must have the input's shape \(2, 3\)"):
        F.binary_cross_entropy(Tensor(probabilities()[:2, :3]), np.full(3, 0.5))
    with pytest.raises(ValueError, match=r"weight of shape \(2,\) does not broadcast to the input's shape \(2, 3\)"):
        F.binary_cross_entropy(Tensor(probabilities()[:2, :3]), probabilities()[:2, :3], np.ones(2))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("pos_weight", [None, "per_class", "full"])
def test_binary_cross_entropy_with_logits(reduction: str, weighted: bool, pos_weight: str | None) -> None:
    z = rn(3, 4) * 4
    z[0] = [0.0, -800.0, 800.0, 40.0]  # stable at any logit: no overflow, no nan
    extra, names = [], []
    if weighted:
        extra.append(probabilities(4) * 2)
        names.append("weight")
    if pos_weight is not None:
        extra.append(np.array([0.5, 1.0, 2.0, 3.0]) if pos_weight == "per_class" else probabilities(6) * 3)
        names.append("pos_weight")

    def fn(F: Any, z: Any, y: Any, *rest: Any) -> Any:
        return F.binary_cross_entropy_with_logits(z, y, reduction=reduction, **dict(zip(names, rest)))

    check(fn, z, probabilities(1), *extra, grad=(0, 1))


def test_binary_cross_entropy_with_logits_errors() -> None:
    with pytest.raises(ValueError, match=r"binary_cross_entropy_with_logits: target of shape \(3,\)"):
        F.binary_cross_entropy_with_logits(Tensor(rn(2, 3)), np.full(3, 0.5))
    with pytest.raises(ValueError, match=r"pos_weight of shape \(2,\) does not broadcast"):
        F.binary_cross_entropy_with_logits(Tensor(rn(2, 3)), np.full((2, 3), 0.5), pos_weight=np.ones(2))


# ============================================================================ softmax, activations


@pytest.mark.parametrize("dim", [0, 1, -1, 2])
def test_softmax_and_log_softmax(dim: int) -> None:
    check(lambda F, x: F.softmax(x, dim), rn(2, 3, 4) * 5)
    check(lambda F, x: F.log_softmax(x, dim=dim), rn(2, 3, 4) * 5)


@pytest.mark.parametrize("shape", [(), (4,), (2, 3), (2, 3, 4), (2, 1, 3, 2)])
def test_softmax_without_dim_picks_torchs_legacy_dim_and_warns(shape: tuple[int, ...]) -> None:
    for name in ("softmax", "log_softmax"):
        with pytest.warns(UserWarning, match=f"Implicit dimension choice for {name}"):
            ours = getattr(F, name)(Tensor(rn(*shape)))
        with pytest.warns(UserWarning):
            theirs = getattr(TF, name)(torch.tensor(rn(*shape)))
        assert_close(ours.data, theirs.numpy(), REL, name)


def test_softmax_dtype_converts_first() -> None:
    x = rn(2, 3).astype(np.float32)
    out = F.softmax(Tensor(x), 1, dtype=np.float64)
    assert out.dtype == np.float64
    assert_close(out.data, TF.softmax(torch.tensor(x), 1, dtype=torch.float64).numpy(), REL, "softmax")


ACTIVATIONS = {
    "relu": lambda F, x: F.relu(x),
    "leaky_relu": lambda F, x: F.leaky_relu(x),
    "leaky_relu_slope": lambda F, x: F.leaky_relu(x, 0.2),
    "leaky_relu_negative_slope": lambda F, x: F.leaky_relu(x, negative_slope=-1.5),
    "gelu": lambda F, x: F.gelu(x),
    "gelu_tanh": lambda F, x: F.gelu(x, approximate="tanh"),
    "silu": lambda F, x: F.silu(x),
    "tanh": lambda F, x: F.tanh(x),
    "sigmoid": lambda F, x: F.sigmoid(x),
}


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activations(name: str) -> None:
    x = rn(3, 5) * 3
    x[0, :2] = 0.0  # the kinks: PyTorch's gradient at 0
    check(ACTIVATIONS[name], x)


def test_activations_in_place() -> None:
    for name in ("relu", "leaky_relu", "silu"):
        x = Tensor(rn(3, 4), requires_grad=True)
        h = x * 1.0
        out = getattr(F, name)(h, inplace=True)
        assert out is h
        tx_x = torch.tensor(rn(3, 4), requires_grad=True)
        th = getattr(TF, name)(tx_x * 1.0, inplace=True)
        R = rn(3, 4, seed=2)
        (h * Tensor(R)).sum().backward()
        (th * torch.tensor(R)).sum().backward()
        assert_close(h.data, th.detach().numpy(), REL, f"{name} value")
        assert_close(x.grad, tx_x.grad.numpy(), REL, f"{name} gradient")
    with pytest.raises(RuntimeError, match="leaf"):
        F.relu(Tensor(rn(2), requires_grad=True), inplace=True)


# ============================================================================ layers


@pytest.mark.parametrize("normalized", [(5,), (4, 5), (3, 4, 5)])
@pytest.mark.parametrize("affine", ["none", "weight", "both"])
def test_layer_norm(normalized: tuple[int, ...], affine: str) -> None:
    params = {"none": [], "weight": [rn(*normalized, seed=3)], "both": [rn(*normalized, seed=3),
                                                                         rn(*normalized, seed=4)]}[affine]

    def fn(F: Any, x: Any, *wb: Any) -> Any:
        return F.layer_norm(x, normalized, *wb, eps=1e-5)

    check(fn, rn(2, 3, 4, 5) * 2 + 1, *params, grad=tuple(range(1 + len(params))))


def test_layer_norm_of_a_constant_row_is_finite() -> None:
    check(lambda F, x, w, b: F.layer_norm(x, (4,), w, b), np.full((2, 4), 3.0), rn(4), rn(4, seed=1), grad=(0, 1, 2))


def test_layer_norm_errors() -> None:
    x = Tensor(rn(2, 3, 4))
    with pytest.raises(ValueError, match=r"normalized_shape=\(3,\) needs an input of shape \(\*, 3\), got \(2, 3, 4\)"):
        F.layer_norm(x, (3,))
    with pytest.raises(ValueError, match=r"weight must have the shape normalized_shape=\(4,\), got \(3,\)"):
        F.layer_norm(x, (4,), Tensor(np.ones(3)))
    with pytest.raises(TypeError, match="normalized_shape must be a tuple of ints, got a Tensor"):
        F.layer_norm(x, Tensor(np.ones(4)))  # the old F.layer_norm(x, weight, bias, eps)
    with pytest.raises(TypeError, match="normalized_shape must be a tuple of ints"):
        F.layer_norm(x, 4)  # as torch: an int is refused by the functional form


@pytest.mark.parametrize("shape", [(3,), (5, 3), (2, 4, 3)])
@pytest.mark.parametrize("bias", [False, True])
def test_linear_takes_torchs_out_in_weight(shape: tuple[int, ...], bias: bool) -> None:
    check(lambda F, x, w, b=None: F.linear(x, w, b), rn(*shape), rn(6, 3, seed=1), *([rn(6, seed=2)] if bias else []),
          grad=(0, 1, 2) if bias else (0, 1))


def test_linear_with_a_vector_weight_and_a_broadcast_bias() -> None:
    check(lambda F, x, w: F.linear(x, w), rn(5, 3), rn(3, seed=1), grad=(0, 1))
    check(lambda F, x, w, b: F.linear(x, w, b), rn(5, 3), rn(4, 3, seed=1), rn(1, seed=2), grad=(0, 1, 2))


def test_linear_errors_point_at_the_layout() -> None:
    x = Tensor(rn(2, 3))
    with pytest.raises(ValueError, match=r"linear: input of shape \(2, 3\) has 3 features.*\(3, 4\).*pass weight.T"):
        F.linear(x, Tensor(rn(3, 4)))
    with pytest.raises(ValueError, match=r"bias of shape \(5,\) does not broadcast to the output's shape \(2, 4\)"):
        F.linear(x, Tensor(rn(4, 3)), Tensor(rn(5)))
    with pytest.raises(ValueError, match="at least 1-d"):
        F.linear(Tensor(np.array(1.0)), Tensor(rn(4, 1)))


def test_dropout() -> None:
    x = Tensor(rn(200, 50) + 5.0, requires_grad=True)
    assert F.dropout(x, 0.3, training=False) is x
    assert F.dropout(x, 0.0) is x
    tx.manual_seed(3)
    out = F.dropout(x, 0.3)
    kept = out.detach().numpy() != 0
    assert_close(out.detach().numpy()[kept], x.detach().numpy()[kept] / 0.7, REL, "kept elements scaled by 1/(1-p)")
    assert abs(kept.mean() - 0.7) < 0.02
    out.sum().backward()
    assert_close(x.grad, kept / 0.7, REL, "gradient: the mask over 1-p")
    tx.manual_seed(3)
    assert np.array_equal(F.dropout(x, 0.3).data, out.data)  # seeded
    assert not F.dropout(x, 1.0).data.any()
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match="dropout: probability has to be between 0 and 1"):
            F.dropout(x, p)
    h = x * 1.0
    assert F.dropout(h, 0.5, inplace=True) is h


@pytest.mark.parametrize("padding_idx", [None, 1, -1])
def test_embedding(padding_idx: int | None) -> None:
    ids = np.array([[0, 4, 1], [1, 1, 3]])
    check(lambda F, w, i: F.embedding(i, w, padding_idx=padding_idx), rn(5, 3), ids)


def test_embedding_errors() -> None:
    w = Tensor(rn(5, 3))
    with pytest.raises(IndexError, match=r"embedding: index 5 is out of range for 5 embeddings"):
        F.embedding(np.array([5]), w)
    with pytest.raises(ValueError, match="padding_idx must be within num_embeddings"):
        F.embedding(np.array([1]), w, padding_idx=5)
    with pytest.raises(ValueError, match="weight must be 2-d"):
        F.embedding(np.array([1]), Tensor(rn(5)))
    with pytest.raises(NotImplementedError, match="max_norm"):
        F.embedding(np.array([1]), w, max_norm=1.0)


def test_one_hot() -> None:
    t = np.array([[0, 2], [1, 2]])
    for args in ((), (5,)):
        ours, theirs = F.one_hot(Tensor(t), *args), TF.one_hot(torch.tensor(t), *args)
        assert ours.dtype == np.int64 and np.array_equal(ours.data, theirs.numpy())
    assert np.array_equal(F.one_hot(Tensor(np.array(2))).data, [0, 0, 1])
    assert F.one_hot(np.zeros(0, dtype=np.int64), 3).shape == (0, 3)
    for bad, n, match in (([-1, 1], -1, "non-negative"), ([0, 3], 3, "smaller than num_classes=3"),
                          ([], -1, "empty")):
        with pytest.raises(ValueError, match=f"one_hot: .*{match}"):
            F.one_hot(np.array(bad, dtype=np.int64), n)
    with pytest.raises(TypeError, match="one_hot: indices must be integers"):
        F.one_hot(Tensor(np.array([1.0])))


@pytest.mark.parametrize("p", [(1, 2), (0, 0), (-1, 2, 1, 0), (2, -3), (1, 1, -1, -1, 0, 2), (-2, -1)])
def test_pad_constant(p: tuple[int, ...]) -> None:
    check(lambda F, x: F.pad(x, p, value=0.5), rn(2, 3, 3))
    check(lambda F, x: F.pad(x, list(p)), rn(2, 3, 3))


def test_pad_errors() -> None:
    x = Tensor(rn(2, 3))
    with pytest.raises(NotImplementedError, match="pad: mode 'reflect' is not implemented"):
        F.pad(x, (1, 1), mode="reflect")
    with pytest.raises(NotImplementedError, match="'foo' is not a padding mode"):
        F.pad(x, (1, 1), mode="foo")
    with pytest.raises(ValueError, match="even length"):
        F.pad(x, (1,))
    with pytest.raises(ValueError, match=r"pad 3 dims, but the input of shape \(2, 3\) has 2"):
        F.pad(x, (1, 1, 1, 1, 1, 1))
    with pytest.raises(ValueError, match="dim 1 of size 3 padded by .-2, -2. would have a negative size"):
        F.pad(x, (-2, -2))
    with pytest.raises(TypeError, match="tuple of ints"):
        F.pad(x, (1.0, 1))


# ============================================================================ attention


def qkv(L: int = 3, S: int = 5, heads: tuple[int, int] = (2, 2)) -> tuple[np.ndarray, ...]:
    return rn(2, heads[0], L, 4), rn(2, heads[1], S, 4, seed=1), rn(2, heads[1], S, 3, seed=2)


@pytest.mark.parametrize(("L", "S"), [(4, 4), (3, 5), (5, 3)])
def test_attention_is_causal_aligns_top_left(L: int, S: int) -> None:
    check(lambda F, q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True), *qkv(L, S), grad=(0, 1, 2))


def test_attention_masks_and_scale() -> None:
    keep = np.random.default_rng(0).uniform(size=(3, 5)) > 0.3
    keep[:, 0] = True
    check(lambda F, q, k, v, m: F.scaled_dot_product_attention(q, k, v, m), *qkv(), keep, grad=(0, 1, 2))
    bias = rn(2, 1, 3, 5, seed=5)  # a float mask is added, and gets its gradient
    check(lambda F, q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m, scale=0.7), *qkv(), bias,
          grad=(0, 1, 2, 3))


def test_attention_row_with_nothing_to_attend_is_zero() -> None:
    keep = np.ones((3, 5), dtype=bool)
    keep[1] = False
    out = check(lambda F, q, k, v, m: F.scaled_dot_product_attention(q, k, v, m), *qkv(), keep, grad=(0, 1, 2))
    assert not out.data[:, :, 1].any()
    minus_inf = np.where(keep, 0.0, -np.inf)
    check(lambda F, q, k, v, m: F.scaled_dot_product_attention(q, k, v, m), *qkv(), minus_inf, grad=(0, 1, 2))


def test_attention_grouped_query_heads() -> None:
    check(lambda F, q, k, v: F.scaled_dot_product_attention(q, k, v, enable_gqa=True, is_causal=True),
          *qkv(4, 4, heads=(6, 2)), grad=(0, 1, 2))
    with pytest.raises(ValueError, match=r"key/value heads \(4"):
        F.scaled_dot_product_attention(*(Tensor(a) for a in qkv(heads=(6, 4))), enable_gqa=True)


def test_attention_on_matrices_and_broadcast_batches() -> None:
    check(lambda F, q, k, v: F.scaled_dot_product_attention(q, k, v), rn(3, 4), rn(5, 4, seed=1), rn(5, 2, seed=2),
          grad=(0, 1, 2))
    check(lambda F, q, k, v: F.scaled_dot_product_attention(q, k, v), rn(2, 3, 4), rn(1, 5, 4, seed=1),
          rn(1, 5, 2, seed=2), grad=(0, 1, 2))


def test_attention_dropout_and_errors() -> None:
    q, k, v = (Tensor(a) for a in qkv())
    assert not F.scaled_dot_product_attention(q, k, v, dropout_p=1.0).data.any()
    tx.manual_seed(1)
    a = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).data
    tx.manual_seed(1)
    assert np.array_equal(a, F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).data)
    assert not np.allclose(a, F.scaled_dot_product_attention(q, k, v).data)
    with pytest.raises(ValueError, match="attn_mask must not be given with is_causal=True"):
        F.scaled_dot_product_attention(q, k, v, np.ones((3, 5), bool), is_causal=True)
    with pytest.raises(ValueError, match=r"attn_mask of shape \(3, 4\) does not broadcast"):
        F.scaled_dot_product_attention(q, k, v, np.ones((3, 4), bool))
    with pytest.raises(TypeError, match="attn_mask must be bool or floating point, got dtype int64"):
        F.scaled_dot_product_attention(q, k, v, np.ones((3, 5), np.int64))
    with pytest.raises(ValueError, match="do not fit"):
        F.scaled_dot_product_attention(q, k, v[..., :4, :])


# ============================================================================ loss modules


MODULES = [
    ("MSELoss", {}, "regression"), ("MSELoss", {"reduction": "sum"}, "regression"),
    ("L1Loss", {"reduction": "none"}, "regression"), ("SmoothL1Loss", {"beta": 0.5}, "regression"),
    ("HuberLoss", {"delta": 0.7}, "regression"),
    ("CrossEntropyLoss", {}, "classes"),
    ("CrossEntropyLoss", {"weight": CLASS_WEIGHT[4], "label_smoothing": 0.1, "ignore_index": 2}, "classes"),
    ("CrossEntropyLoss", {"reduction": "sum"}, "probabilities"),
    ("NLLLoss", {"weight": CLASS_WEIGHT[4], "reduction": "none"}, "classes"),
    ("BCELoss", {"weight": np.array([0.5, 1.0, 2.0, 3.0])}, "binary"),
    ("BCEWithLogitsLoss", {"pos_weight": np.array([0.5, 1.0, 2.0, 3.0]), "reduction": "sum"}, "logits"),
]


@pytest.mark.parametrize(("name", "kwargs", "kind"), MODULES)
def test_loss_modules_match_torchs(name: str, kwargs: dict[str, Any], kind: str) -> None:
    x, y = {
        "regression": (rn(3, 4), rn(3, 4, seed=1)),
        "classes": (rn(3, 4), np.array([0, 2, 3])),
        "probabilities": (rn(3, 4), np.random.default_rng(0).dirichlet(np.ones(4), size=3)),
        "binary": (probabilities(), probabilities(1)),
        "logits": (rn(3, 4), probabilities(1)),
    }[kind]
    ours = getattr(L, name)(**{k: Tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()})
    theirs = getattr(torch.nn, name)(**{k: torch.tensor(v) if isinstance(v, np.ndarray) else v
                                        for k, v in kwargs.items()})
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())  # weight, pos_weight: buffers
    check(lambda F, a, b: (ours if F is globals()["F"] else theirs)(a, b), x, y)


def test_loss_modules_are_in_nn() -> None:
    assert tx.nn.CrossEntropyLoss is L.CrossEntropyLoss and tx.nn.BCEWithLogitsLoss is L.BCEWithLogitsLoss


def test_loss_module_legacy_arguments_and_bad_reduction() -> None:
    with pytest.warns(UserWarning, match="reduction='sum'"):
        assert L.MSELoss(size_average=False).reduction == "sum"
    with pytest.raises(ValueError, match="CrossEntropyLoss: reduction must be"):
        L.CrossEntropyLoss(reduction="avg")
