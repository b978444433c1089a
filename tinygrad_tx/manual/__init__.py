"""Gradients derived by hand, in plain NumPy, mirroring the engine's compositions one to one.

The transformer layers follow L. Boué, "Deep learning for pedestrians: backpropagation in
Transformers" (2025, arXiv:2512.23329, https://arxiv.org/abs/2512.23329): "the paper" in these modules.

- ``seeds``: the two worked examples everything grows from (the staged f(x, y), the ReLU MLP).
- ``layers``: linear, LoRA, embedding, LayerNorm, ReLU, GELU, softmax, softmax + cross-entropy, residual.
- ``attention``: one causal head (the paper's form) and multi-head ``CausalSelfAttention``.
- ``gpt``: the MLP, the block and the whole GPT (``gpt_forward``, ``gpt_backward``).
- ``read``: an ``nn.GPT``'s weights and config as arrays (``read_gpt``).
- ``compare``: the manual path against the engine, one row per tensor (``compare``), and the
  ``check`` command (``cli``).
- ``exercises``: backprop exercises that grade themselves (``exercise(name)``, ``check_exercise``): the
  learner writes a gradient, the engine's gradient judges it, and a hint names the first mistake.
- ``fused``: the derivations as engine ops, and ``fuse(model)``, which swaps them into an nn model.
- ``apply``: ``apply_gradients(model, grads)`` sets each parameter's ``.grad`` from `gpt_backward`, so an
  optimiser can train on the hand-derived gradients alone (notebook 09).

Each ``*_forward`` returns ``(output, cache)``; each ``*_backward(delta, cache)`` returns
``(delta_prev, grads)``. Only ``read``, ``compare``, ``exercises``, ``fused``, ``apply`` and ``cli`` touch the
engine: ``manual`` imports ``nn``, never the reverse.
"""

from .apply import apply_gradients
from .attention import (
    attention_head_backward,
    attention_head_forward,
    attention_invariants,
    causal_attention_backward,
    causal_attention_forward,
    causal_mask,
    causal_self_attention_backward,
    causal_self_attention_forward,
)
from .compare import Comparison, compare, compare_tensors, default_rtol, engine_gradients, rel_err
from .exercises import EXERCISES, Exercise, ExerciseResult, check_exercise, exercise
from .fused import build_gpt, fuse, unfuse
from .gpt import (
    GPTParams,
    ManualGradients,
    block_backward,
    block_forward,
    delta_names,
    gpt_backward,
    gpt_forward,
    mlp_backward,
    mlp_forward,
)
from .layers import (
    activation_backward,
    activation_forward,
    dense_backward,
    dense_forward,
    embedding_backward,
    embedding_backward_onehot,
    embedding_forward,
    gelu_backward,
    gelu_forward,
    layernorm_backward,
    layernorm_forward,
    linear_backward,
    linear_forward,
    lora_linear_backward,
    lora_linear_forward,
    relu_backward,
    relu_forward,
    residual_backward,
    residual_forward,
    softmax_backward,
    softmax_cross_entropy_backward,
    softmax_cross_entropy_forward,
    softmax_forward,
    token_position_embedding_backward,
    token_position_embedding_forward,
)
from .read import read_gpt
from .seeds import relu_mlp_backward, relu_mlp_forward, staged_f_backward

__all__ = [
    "staged_f_backward", "relu_mlp_forward", "relu_mlp_backward",
    # layers
    "linear_forward", "linear_backward", "lora_linear_forward", "lora_linear_backward", "dense_forward",
    "dense_backward", "embedding_forward", "embedding_backward", "embedding_backward_onehot",
    "token_position_embedding_forward", "token_position_embedding_backward", "layernorm_forward",
    "layernorm_backward", "relu_forward", "relu_backward", "gelu_forward", "gelu_backward", "activation_forward",
    "activation_backward", "softmax_forward", "softmax_backward", "softmax_cross_entropy_forward",
    "softmax_cross_entropy_backward", "residual_forward", "residual_backward",
    # attention
    "causal_mask", "causal_attention_forward", "causal_attention_backward", "attention_head_forward",
    "attention_head_backward", "causal_self_attention_forward", "causal_self_attention_backward",
    "attention_invariants",
    # the MLP, the block, the GPT
    "mlp_forward", "mlp_backward", "block_forward", "block_backward", "GPTParams", "read_gpt", "ManualGradients",
    "gpt_forward", "gpt_backward", "delta_names",
    # comparing with the engine
    "compare", "compare_tensors", "Comparison", "engine_gradients", "default_rtol", "rel_err",
    # exercises
    "exercise", "check_exercise", "Exercise", "ExerciseResult", "EXERCISES",
    # the derivations as engine ops
    "fuse", "unfuse", "build_gpt",
    # training on the hand-derived gradients
    "apply_gradients",
]
