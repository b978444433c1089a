"""The command line: ``python -m tinygrad_tx {train,sample,finetune,check,graph}`` (also ``tinygrad-tx``).

Bad input (a missing or empty file, a corpus shorter than the block size, characters outside a
checkpoint's vocabulary, a checkpoint from another config, a corrupted checkpoint) gets one clear
line on stderr and exit status 2; nothing existing is overwritten.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .checkpoint import CheckpointError
from .data import DataError

TRAIN_OPTIONS = {
    # option: (field, type, help)
    "--data": ("data", str, "UTF-8 text file to train on (default: the Python docs shipped with CPython)"),
    "--out-dir": ("out_dir", str, "where the checkpoint, loss.png go (default runs/default)"),
    "--steps": ("max_steps", int, "optimizer steps (default 1500)"),
    "--batch-size": ("batch_size", int, "sequences per step (default 16)"),
    "--block-size": ("block_size", int, "context length in characters (default 64)"),
    "--n-layer": ("n_layer", int, "transformer blocks (default 2)"),
    "--n-head": ("n_head", int, "attention heads (default 4)"),
    "--n-embd": ("n_embd", int, "embedding width (default 64)"),
    "--dropout": ("dropout", float, "dropout probability (default 0)"),
    "--activation": ("activation", str, "gelu_tanh (default), gelu or relu"),
    "--lr": ("lr", float, "peak learning rate (default 3e-3)"),
    "--min-lr": ("min_lr", float, "final learning rate of the cosine schedule (default 3e-4)"),
    "--warmup-steps": ("warmup_steps", int, "linear warmup steps (default 100)"),
    "--weight-decay": ("weight_decay", float, "AdamW weight decay on matrices (default 0.1)"),
    "--grad-clip": ("grad_clip", float, "clip the gradient norm to this (default 1.0)"),
    "--eval-interval": ("eval_interval", int, "validate and checkpoint every N steps (default 250)"),
    "--eval-iters": ("eval_iters", int, "batches per validation estimate (default 20)"),
    "--seed": ("seed", int, "seed of weights, batches and dropout (default 1337)"),
    "--dtype": ("dtype", str, "float32 (default) or float64"),
    "--sample-length": ("sample_length", int, "characters to sample at the end (default 300; 0 for none)"),
    "--stop-after": ("stop_after", int, "checkpoint and stop after this step (continue later with --resume)"),
}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tinygrad-tx", description="Train, sample and fine-tune a char-level GPT "
                                "built on tinygrad_tx's autodiff engine.")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a GPT (default: a small one on the Python docs, a few minutes)")
    for opt, (dest, typ, help_) in TRAIN_OPTIONS.items():
        t.add_argument(opt, dest=dest, type=typ, default=None, help=help_)
    t.add_argument("--resume", action="store_true", help="continue the checkpoint in --out-dir exactly")
    t.add_argument("--overwrite", action="store_true", help="replace an existing checkpoint in --out-dir")
    t.add_argument("--no-torch", action="store_true", help="skip the PyTorch run of the same recipe")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")
    t.add_argument("--fused", action="store_true", default=None,
                   help="use the hand-derived fused ops (LayerNorm, GELU, attention, loss): faster, first-order")

    s = sub.add_parser("sample", help="generate text from a checkpoint")
    s.add_argument("--checkpoint", default="runs/default/ckpt.npz")
    s.add_argument("--prompt", default="\n")
    s.add_argument("--length", type=int, default=300)
    s.add_argument("--temperature", type=float, default=0.8, help="0 = greedy")
    s.add_argument("--top-k", type=int, default=None)
    s.add_argument("--seed", type=int, default=0)

    f = sub.add_parser("finetune", help="LoRA fine-tuning of a checkpoint on another text")
    f.add_argument("--checkpoint", default="runs/default/ckpt.npz")
    f.add_argument("--data", required=True, help="UTF-8 text file (its characters must be in the vocabulary)")
    f.add_argument("--out-dir", default="runs/finetune")
    f.add_argument("--rank", type=int, default=4)
    f.add_argument("--alpha", type=float, default=8.0)
    f.add_argument("--targets", default="c_attn,c_proj", help="comma-separated layer names (default c_attn,c_proj)")
    f.add_argument("--steps", type=int, default=300)
    f.add_argument("--lr", type=float, default=3e-3)
    f.add_argument("--batch-size", type=int, default=16)
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("--overwrite", action="store_true")
    f.add_argument("--no-progress", action="store_true")

    from .manual.cli import add_check_parser
    from .viz.cli import add_graph_parser

    add_check_parser(sub)
    add_graph_parser(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from .perf import limit_blas_threads, tune_allocator
    from .train import TrainConfig, TrainError, finetune, sample, train

    tune_allocator()  # see perf.py: fewer page faults for NumPy's many temporaries
    limit_blas_threads(1)  # see perf.py: spinning BLAS threads collapse when the CPU is shared

    try:
        if args.command == "train":
            cfg = TrainConfig()
            explicit = set()
            for dest, _, _ in TRAIN_OPTIONS.values():
                value = getattr(args, dest)
                if value is not None:
                    setattr(cfg, dest, value)
                    explicit.add(dest)
            if args.fused:
                cfg.fused = True
                explicit.add("fused")
            cfg.compare_torch = not args.no_torch
            cfg.progress = not args.no_progress
            summary = train(cfg, resume=args.resume, overwrite=args.overwrite, explicit=explicit)
            stopped_on_purpose = cfg.stop_after is not None and summary.get("step") == cfg.stop_after
            return 130 if summary.get("interrupted") and not stopped_on_purpose else 0
        if args.command == "sample":
            print(sample(args.checkpoint, args.prompt, args.length, args.temperature, args.top_k, args.seed))
            return 0
        if args.command == "graph":
            from .viz.cli import run_graph

            return run_graph(args)
        if args.command == "check":
            from .manual.cli import run_check

            return run_check(args)
        if args.command == "finetune":
            targets = tuple(t.strip() for t in args.targets.split(",") if t.strip())
            finetune(args.checkpoint, args.data, args.out_dir, args.rank, args.alpha, targets, args.steps, args.lr,
                     args.batch_size, seed=args.seed, overwrite=args.overwrite, progress=not args.no_progress)
            return 0
    except (DataError, CheckpointError, TrainError) as e:
        print(f"tinygrad-tx {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"tinygrad-tx {args.command}: interrupted", file=sys.stderr)
        return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
