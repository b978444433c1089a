"""``python -m tinygrad_tx check``: the hand-derived gradients against the engine, on one batch.

Builds a GPT (or loads a trained one with ``--checkpoint``), runs `manual.gpt_backward` and the
engine's ``backward()`` on a random batch, prints one row per tensor (every trainable parameter and
every intermediate Δ, end to end and layer by layer), the attention invariants and where the two
paths are bit-exact, and exits with status 1 if any tensor disagrees beyond the tolerance: relative
error ≤ 1e-10 in float64, ≤ 1e-4 in float32 (see ``manual.compare``). Status 2 means bad input.

A fresh model's parameters are drawn at random (LayerNorm weights around 1, biases and LoRA's ``B``
non-zero), not GPT-2's initialisation: zero biases, unit LayerNorm weights and ``B = 0`` would make
some gradients trivially zero and hide mistakes (``B = 0`` makes ``∂A = 0`` on both paths, and the
LoRA term of the input gradient vanishes). ``--init model`` keeps the model's own initialisation.
A checkpoint keeps its trained weights; LoRA layers added to it with ``--lora`` get a random ``B``.

Wiring (in ``tinygrad_tx/__main__.py``)::

    from .manual.cli import add_check_parser, run_check
    add_check_parser(sub)                       # in _parser()
    if args.command == "check": return run_check(args)

It also runs on its own: ``python -m tinygrad_tx.manual.cli --dtype float32 --lora``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["add_check_parser", "run_check", "main"]

SIZE_OPTIONS = {
    # option: (dest, default for a fresh model, help)
    "--n-layer": ("n_layer", 2, "transformer blocks (default 2)"),
    "--n-head": ("n_head", 4, "attention heads (default 4)"),
    "--n-embd": ("n_embd", 32, "embedding width (default 32)"),
    "--block-size": ("block_size", 16, "context length = the batch's sequence length (default 16; with "
                                       "--checkpoint: the sequence length, at most the model's context)"),
    "--vocab-size": ("vocab_size", 65, "vocabulary size (default 65)"),
}


def add_check_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``check`` command to an ``argparse`` subparsers object; returns its parser."""
    c = subparsers.add_parser(
        "check", help="check the hand-derived gradients (tinygrad_tx.manual) against the engine",
        description="Run the manual (NumPy, derived by hand) and the automatic backward of a GPT on one batch and "
                    "compare every parameter gradient and every intermediate gradient. Exit status 1 if any tensor "
                    "disagrees beyond the tolerance (relative error 1e-10 in float64, 1e-4 in float32).")
    c.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                   help="precision of the check (default float64; a checkpoint is converted)")
    c.add_argument("--checkpoint", default=None, help="check a trained model (a training checkpoint, ckpt.npz)")
    for opt, (dest, _, help_) in SIZE_OPTIONS.items():
        c.add_argument(opt, dest=dest, type=int, default=None, help=help_)
    c.add_argument("--batch-size", type=int, default=3, help="sequences in the batch (default 3)")
    c.add_argument("--activation", choices=("gelu_tanh", "gelu", "relu"), default=None,
                   help="the MLP's activation (default gelu_tanh)")
    c.add_argument("--no-bias", action="store_true", help="no biases in the linear layers and LayerNorms")
    c.add_argument("--lora", action="store_true", help="wrap linear layers with LoRA (base weights frozen)")
    c.add_argument("--lora-rank", type=int, default=2, help="LoRA rank (default 2)")
    c.add_argument("--lora-alpha", type=float, default=4.0, help="LoRA alpha; the scale is alpha/rank (default 4)")
    c.add_argument("--lora-targets", default="c_attn,c_proj",
                   help="comma-separated layer names to wrap (default c_attn,c_proj)")
    c.add_argument("--init", choices=("random", "model"), default=None,
                   help="random (default for a fresh model): every parameter drawn at random; model: keep the "
                        "model's own initialisation or the checkpoint's weights (default with --checkpoint)")
    c.add_argument("--seed", type=int, default=0, help="seed of the weights and the batch (default 0)")
    c.add_argument("--rtol", type=float, default=None, help="override the relative tolerance")
    c.add_argument("--end-to-end-only", action="store_true", help="skip the layer-by-layer rows")
    return c


class _UsageError(ValueError):
    pass


def _randomise(model: Any, rng: np.random.Generator, only_lora: bool = False) -> None:
    for name, p in model.named_parameters():
        if only_lora and not name.endswith(("lora_A", "lora_B")):
            continue
        values = rng.standard_normal(p.shape) * 0.3
        if name.endswith("weight") and ".ln_" in f".{name}":
            values += 1.0
        p.data = values.astype(p.dtype)


def _build(args: argparse.Namespace) -> tuple[Any, int]:
    """The model to check and the sequence length."""
    import tinygrad_tx as tx
    from tinygrad_tx.nn import GPT, GPTConfig, apply_lora

    dtype = np.dtype(args.dtype)
    targets = tuple(t.strip() for t in args.lora_targets.split(",") if t.strip())
    rng = np.random.default_rng(args.seed)
    tx.manual_seed(args.seed)
    if args.batch_size <= 0:
        raise _UsageError(f"--batch-size must be positive, got {args.batch_size}")
    if args.checkpoint is not None:
        from tinygrad_tx.train import load_model

        given = [opt for opt, (dest, _, _) in SIZE_OPTIONS.items() if dest != "block_size" and getattr(args, dest)]
        given += ["--activation"] * bool(args.activation) + ["--no-bias"] * args.no_bias
        if given:
            raise _UsageError(f"{', '.join(given)}: a checkpoint brings its own model; only --block-size "
                              f"(the sequence length) applies")
        model, _, _ = load_model(args.checkpoint)
        for p in model.parameters():
            p.data = p.data.astype(dtype)
        T = args.block_size or model.config.block_size
        if not 0 < T <= model.config.block_size:
            raise _UsageError(f"--block-size {T}: the checkpoint's context is {model.config.block_size}")
        if args.lora:
            apply_lora(model, targets, args.lora_rank, args.lora_alpha)
            _randomise(model, rng, only_lora=True)
        if args.init == "random":
            _randomise(model, rng)
        return model, T
    size = {dest: getattr(args, dest) or default for opt, (dest, default, _) in SIZE_OPTIONS.items()}
    try:
        cfg = GPTConfig(**size, activation=args.activation or "gelu_tanh", bias=not args.no_bias,
                        lora_rank=args.lora_rank if args.lora else 0, lora_alpha=args.lora_alpha, lora_targets=targets)
        model = GPT(cfg, dtype=dtype)
    except ValueError as e:
        raise _UsageError(str(e)) from None
    if (args.init or "random") == "random":
        _randomise(model, rng)
    return model, size["block_size"]


def run_check(args: argparse.Namespace) -> int:
    """Run the check described by ``args`` (from `add_check_parser`); 0 if every tensor agrees, 1 if
    not, 2 on bad input."""
    from tinygrad_tx.checkpoint import CheckpointError

    from .compare import compare

    try:
        model, T = _build(args)
    except (_UsageError, CheckpointError, ValueError, OSError) as e:
        print(f"tinygrad-tx check: error: {e}", file=sys.stderr)
        return 2
    rng = np.random.default_rng(args.seed + 1)
    V = model.config.vocab_size
    idx, targets = rng.integers(0, V, (args.batch_size, T)), rng.integers(0, V, (args.batch_size, T))
    c = model.config
    source = f"checkpoint {args.checkpoint}" if args.checkpoint else "a fresh model"
    print(f"checking {source}: n_layer={c.n_layer} n_head={c.n_head} n_embd={c.n_embd} vocab={V} "
          f"activation={c.activation} bias={c.bias}, {model.num_parameters(trainable_only=True):,} trainable "
          f"parameters, {args.dtype}, batch {args.batch_size}×{T}, seed {args.seed}\n")
    result = compare(model, idx, targets, rtol=args.rtol, layer_by_layer=not args.end_to_end_only)
    print(result)
    return 0 if result.ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tinygrad_tx.manual.cli [options]``: the check without the main command line."""
    parser = argparse.ArgumentParser(prog="tinygrad-tx")
    sub = parser.add_subparsers(dest="command")
    add_check_parser(sub)
    return run_check(parser.parse_args(["check", *(sys.argv[1:] if argv is None else argv)]))


if __name__ == "__main__":
    sys.exit(main())
