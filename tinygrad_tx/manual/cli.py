"""``python -m tinygrad_tx check``: the hand-derived gradients against the engine, on one batch.

Builds a GPT (or loads a trained one with ``--checkpoint``), runs `manual.gpt_backward` and the
engine's ``backward()`` on a random batch, prints one row per tensor (every trainable parameter and
every intermediate Δ, end to end and layer by layer), the attention invariants and where the two
paths are bit-exact, and exits with status 1 if any tensor disagrees beyond the tolerance: relative
error ≤ 1e-10 in float64, ≤ 1e-4 in float32 (see ``manual.compare``). Status 2 means bad input,
reported in one line that names the flag or the file.

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
from dataclasses import replace
from typing import Any

import numpy as np

from ..checkpoint import CheckpointError
from ..cliargs import Bound, Parser, explain, names, nonempty, one_line
from ..tensor import Tensor
from ..train import CHOICES, SEED, TrainError, load_model, lora_targets

__all__ = ["add_check_parser", "run_check", "main"]

POSITIVE = Bound(int, ge=1)
LORA_DEFAULTS = {"lora_rank": 2, "lora_alpha": 4.0, "lora_targets": ("c_attn", "c_proj")}
SIZE_OPTIONS = {
    # option: (dest, default for a fresh model, help)
    "--n-layer": ("n_layer", 2, "transformer blocks"),
    "--n-head": ("n_head", 4, "attention heads (must divide --n-embd)"),
    "--n-embd": ("n_embd", 32, "embedding width"),
    "--block-size": ("block_size", 16, "context length = the batch's sequence length; with --checkpoint at most "
                                       "the model's context"),
    "--vocab-size": ("vocab_size", 65, "vocabulary size"),
}
SIZE_DEFAULT_SHOWN = {"block_size": "16, or the checkpoint's context"}


def add_check_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``check`` command to an ``argparse`` subparsers object; returns its parser."""
    c = subparsers.add_parser(
        "check", help="check the hand-derived gradients (tinygrad_tx.manual) against the engine",
        description="Run the manual (NumPy, derived by hand) and the automatic backward of a GPT on one batch and "
                    "compare every parameter gradient and every intermediate gradient. Exit status 1 if any tensor "
                    "disagrees beyond the tolerance (relative error 1e-10 in float64, 1e-4 in float32).")
    c.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                   help="precision of the check (default float64; a checkpoint is converted)")
    c.add_argument("--checkpoint", type=nonempty, default=None,
                   help="check a trained model (a training checkpoint, ckpt.npz; default: a fresh model)")
    for opt, (dest, default, help_) in SIZE_OPTIONS.items():  # default None: a checkpoint refuses them when given
        c.add_argument(opt, dest=dest, type=POSITIVE, default=None,
                       help=explain(help_, POSITIVE, SIZE_DEFAULT_SHOWN.get(dest, default)))
    c.add_argument("--batch-size", type=POSITIVE, default=3, help=explain("sequences in the batch", POSITIVE))
    c.add_argument("--activation", choices=CHOICES["activation"], default=None,
                   help="the MLP's activation (default: gelu_tanh)")
    c.add_argument("--no-bias", action="store_true", help="no biases in the linear layers and LayerNorms")
    c.add_argument("--lora", action="store_true", help="wrap linear layers with LoRA (base weights frozen)")
    alpha = Bound(float, gt=0)  # default None below: given without --lora, they are refused, not ignored
    c.add_argument("--lora-rank", type=POSITIVE, default=None,
                   help=explain("LoRA rank, with --lora", POSITIVE, LORA_DEFAULTS["lora_rank"]))
    c.add_argument("--lora-alpha", type=alpha, default=None,
                   help=explain("LoRA alpha, with --lora: the scale is alpha/rank", alpha, LORA_DEFAULTS["lora_alpha"]))
    c.add_argument("--lora-targets", type=names, default=None,
                   help=explain("comma-separated layer names to wrap, with --lora", None,
                                ",".join(LORA_DEFAULTS["lora_targets"])))
    c.add_argument("--init", choices=("random", "model"), default=None,
                   help="random (default for a fresh model): every parameter drawn at random; model: keep the "
                        "model's own initialisation or the checkpoint's weights (default with --checkpoint)")
    c.add_argument("--seed", type=SEED, default=0, help=explain("seed of the weights and the batch", SEED))
    rtol = Bound(float, gt=0)
    c.add_argument("--rtol", type=rtol, default=None,
                   help=explain("override the relative tolerance", rtol, "1e-10 in float64, 1e-4 in float32"))
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
        p.data = Tensor(values, dtype=p.dtype)


def _build(args: argparse.Namespace) -> tuple[Any, int]:
    """The model to check and the sequence length."""
    import tinygrad_tx as tx
    from tinygrad_tx.nn import GPT, GPTConfig, apply_lora

    dtype = np.dtype(args.dtype)
    lora_given = [f"--{k.replace('_', '-')}" for k in LORA_DEFAULTS if getattr(args, k) is not None]
    if lora_given and not args.lora:
        raise _UsageError(f"{', '.join(lora_given)}: only with --lora (without it no layer gets LoRA)")
    lora = {k: LORA_DEFAULTS[k] if getattr(args, k) is None else getattr(args, k) for k in LORA_DEFAULTS}
    rng = np.random.default_rng(args.seed)
    tx.manual_seed(args.seed)
    if args.checkpoint is not None:
        given = [opt for opt, (dest, _, _) in SIZE_OPTIONS.items()
                 if dest != "block_size" and getattr(args, dest) is not None]
        given += ["--activation"] * bool(args.activation) + ["--no-bias"] * args.no_bias
        if given:
            raise _UsageError(f"{', '.join(given)}: a checkpoint brings its own model; only --block-size "
                              f"(the sequence length) applies")
        model, _, _ = load_model(args.checkpoint)
        for p in model.parameters():
            p.data = p.data.to(dtype)
        T = model.config.block_size if args.block_size is None else args.block_size
        if not 0 < T <= model.config.block_size:
            raise _UsageError(f"--block-size {T}: the checkpoint's context is {model.config.block_size}")
        if args.lora:
            apply_lora(model, lora_targets(model, lora["lora_targets"], "--lora-targets"), lora["lora_rank"],
                       lora["lora_alpha"])
            _randomise(model, rng, only_lora=True)
        if args.init == "random":
            _randomise(model, rng)
        return model, T
    size = {dest: default if getattr(args, dest) is None else getattr(args, dest)
            for opt, (dest, default, _) in SIZE_OPTIONS.items()}
    if size["n_embd"] % size["n_head"]:
        raise _UsageError(f"--n-embd {size['n_embd']} must be divisible by --n-head {size['n_head']}")
    try:
        cfg = GPTConfig(**size, activation=args.activation or "gelu_tanh", bias=not args.no_bias)
        model = GPT(cfg, dtype=dtype)
    except ValueError as e:
        raise _UsageError(str(e)) from None
    if args.lora:  # as GPTConfig(lora_rank=...) would, after checking that every target names a layer
        apply_lora(model, lora_targets(model, lora["lora_targets"], "--lora-targets"), lora["lora_rank"],
                   lora["lora_alpha"])
        model.config = replace(cfg, lora_rank=lora["lora_rank"], lora_alpha=lora["lora_alpha"],
                               lora_targets=lora["lora_targets"])
    if (args.init or "random") == "random":
        _randomise(model, rng)
    return model, size["block_size"]


def run_check(args: argparse.Namespace) -> int:
    """Run the check described by ``args`` (from `add_check_parser`); 0 if every tensor agrees, 1 if
    not, 2 on bad input."""
    from .compare import compare

    try:
        model, T = _build(args)
    except (_UsageError, CheckpointError, TrainError) as e:  # bad input; anything else is a bug
        print(f"tinygrad-tx check: error: {one_line(str(e))}", file=sys.stderr)
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
    parser = Parser(prog="tinygrad-tx")
    sub = parser.add_subparsers(dest="command")
    add_check_parser(sub)
    return run_check(parser.parse_args(["check", *(sys.argv[1:] if argv is None else argv)]))


if __name__ == "__main__":
    sys.exit(main())
