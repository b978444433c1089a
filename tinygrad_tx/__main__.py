"""The command line: ``python -m tinygrad_tx {train,sample,finetune,check,graph}`` (also ``tinygrad-tx``).

Every mistake (a value out of range, a missing or empty file, a corpus shorter than the block size,
characters outside a checkpoint's vocabulary, a checkpoint from another config, a corrupted
checkpoint, an --out-dir that cannot be written) gets one line on stderr that names the flag or the
file, and exit status 2; nothing existing is overwritten. Values are checked while parsing where one
flag decides (the ranges are `train.LIMITS`, `train.SAMPLE_LIMITS`, `train.FINETUNE_LIMITS`), the rest
before any training starts.

``train --resume`` continues the checkpoint in --out-dir: the model, --batch-size, --dtype and
--seed come from it (giving another value is an error), and every other flag given on the command
line (--lr, --steps, --eval-interval, ...) is used instead of the checkpoint's value, as one printed
line says. ``--checkpoint`` (gradient checkpointing) changes no number, only memory and time, so a
resumed run may turn it on or off (``--no-checkpoint``); left out, the checkpoint's setting is kept.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .checkpoint import CheckpointError
from .cliargs import Parser, explain, names, nonempty, one_line
from .data import DataError
from .train import CHOICES, FINETUNE_LIMITS, LIMITS, SAMPLE_LIMITS, TrainConfig, TrainError

TRAIN_OPTIONS = {
    # option: (TrainConfig field, help); the type and range come from train.LIMITS or train.CHOICES,
    # the default from TrainConfig
    "--data": ("data", "UTF-8 text file to train on"),
    "--out-dir": ("out_dir", "folder for ckpt.npz and loss.png (checked for writing before training starts)"),
    "--steps": ("max_steps", "optimizer steps, the end of the cosine schedule"),
    "--batch-size": ("batch_size", "sequences per step"),
    "--block-size": ("block_size", "context length in characters"),
    "--n-layer": ("n_layer", "transformer blocks"),
    "--n-head": ("n_head", "attention heads (must divide --n-embd)"),
    "--n-embd": ("n_embd", "embedding width"),
    "--dropout": ("dropout", "dropout probability"),
    "--activation": ("activation", "the MLP's activation"),
    "--lr": ("lr", "peak learning rate"),
    "--min-lr": ("min_lr", "final learning rate of the cosine schedule, at most --lr"),
    "--warmup-steps": ("warmup_steps", "linear warmup steps"),
    "--weight-decay": ("weight_decay", "AdamW weight decay on matrices (--lr times it must be < 1)"),
    "--grad-clip": ("grad_clip", "clip the gradients' total norm to this; 0 turns clipping off"),
    "--eval-interval": ("eval_interval", "validate and checkpoint every N steps"),
    "--eval-iters": ("eval_iters", "batches per validation estimate"),
    "--seed": ("seed", "seed of the weights, batches and dropout"),
    "--dtype": ("dtype", "floating-point precision"),
    "--sample-length": ("sample_length", "characters to sample at the end; 0 for none"),
    "--stop-after": ("stop_after", "checkpoint and stop after this step, to continue later with --resume"),
}
DEFAULT_SHOWN = {"data": "the Python docs shipped with CPython", "stop_after": "run to --steps"}


def _parser() -> argparse.ArgumentParser:
    p = Parser(prog="tinygrad-tx", description="Train, sample and fine-tune a char-level GPT built on "
               "tinygrad_tx's autodiff engine.")
    sub = p.add_subparsers(dest="command", required=True, metavar="command")

    t = sub.add_parser("train", help="train a GPT (default: a small one on the Python docs, a few minutes)",
                       description="Train a char-level GPT. Every value is checked before training starts.")
    for opt, (dest, help_) in TRAIN_OPTIONS.items():
        kind = LIMITS.get(dest, nonempty)
        metavar = None if dest in CHOICES else opt[2:].upper().replace("-", "_")
        # default None: so that train() knows which flags were given (see --resume)
        t.add_argument(opt, dest=dest, type=kind, choices=CHOICES.get(dest), default=None, metavar=metavar,
                       help=explain(help_, LIMITS.get(dest), DEFAULT_SHOWN.get(dest, getattr(TrainConfig, dest))))
    again = t.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true",
                       help="continue the checkpoint in --out-dir exactly; its model, --batch-size, --dtype and "
                            "--seed cannot change, other flags given replace its settings")
    again.add_argument("--overwrite", action="store_true", help="replace an existing checkpoint in --out-dir")
    t.add_argument("--no-torch", action="store_true", help="skip the PyTorch run of the same recipe")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")
    t.add_argument("--fused", action="store_true", default=None,
                   help="use the hand-derived fused ops (LayerNorm, GELU, attention, loss): faster, first-order")
    t.add_argument("--checkpoint", action=argparse.BooleanOptionalAction, default=None,
                   help="gradient (activation) checkpointing: keep only each block's input for backward and run "
                        "the block's forward again there; less memory, about one more forward per step, the same "
                        "numbers (default: off; with --resume, the checkpoint's setting, which this may change)")

    s = sub.add_parser("sample", help="generate text from a checkpoint",
                       description="Generate text from a checkpoint (deterministic for a given seed).")
    s.add_argument("--checkpoint", type=nonempty, default="runs/default/ckpt.npz",
                   help="a checkpoint written by train (ckpt.npz) or finetune (merged.npz)")
    s.add_argument("--prompt", type=nonempty, default="\n",
                   help="text to continue; its characters must be in the checkpoint's vocabulary (default: a newline)")
    s.add_argument("--length", type=SAMPLE_LIMITS["length"], default=300,
                   help=explain("characters to generate", SAMPLE_LIMITS["length"]))
    s.add_argument("--temperature", type=SAMPLE_LIMITS["temperature"], default=0.8,
                   help=explain("divides the logits, 0 is greedy", SAMPLE_LIMITS["temperature"]))
    s.add_argument("--top-k", type=SAMPLE_LIMITS["top_k"], default=None,
                   help=explain("sample among the k likeliest characters only", SAMPLE_LIMITS["top_k"],
                                "all of them"))
    s.add_argument("--seed", type=SAMPLE_LIMITS["seed"], default=0,
                   help=explain("seed of the sampling", SAMPLE_LIMITS["seed"]))

    f = sub.add_parser("finetune", help="LoRA fine-tuning of a checkpoint on another text",
                       description="LoRA fine-tuning: only the low-rank matrices train, the base weights stay "
                                   "bit-identical. Writes lora.npz and merged.npz to --out-dir.")
    f.add_argument("--checkpoint", type=nonempty, default="runs/default/ckpt.npz",
                   help="the checkpoint to adapt (ckpt.npz, written by train)")
    f.add_argument("--data", type=nonempty, required=True,
                   help="UTF-8 text file; its characters must be in the checkpoint's vocabulary")
    f.add_argument("--out-dir", type=nonempty, default="runs/finetune",
                   help="folder for lora.npz (the LoRA weights alone) and merged.npz (a checkpoint with them "
                        "merged)")
    limits = FINETUNE_LIMITS
    f.add_argument("--rank", type=limits["rank"], default=4, help=explain("LoRA rank r", limits["rank"]))
    f.add_argument("--alpha", type=limits["alpha"], default=8.0,
                   help=explain("LoRA alpha: the update is scaled by alpha / rank", limits["alpha"]))
    f.add_argument("--targets", type=names, default="c_attn,c_proj",
                   help="comma-separated linear layers to adapt: c_attn, c_proj, c_fc, lm_head, or the end of a "
                        "full name such as mlp.c_proj")
    f.add_argument("--steps", type=limits["steps"], default=300,
                   help=explain("optimizer steps", limits["steps"]))
    f.add_argument("--lr", type=limits["lr"], default=3e-3,
                   help=explain("AdamW learning rate (constant)", limits["lr"]))
    f.add_argument("--batch-size", type=limits["batch_size"], default=16,
                   help=explain("sequences per step", limits["batch_size"]))
    f.add_argument("--seed", type=limits["seed"], default=0,
                   help=explain("seed of the LoRA initialisation and the batches", limits["seed"]))
    f.add_argument("--overwrite", action="store_true", help="replace lora.npz and merged.npz in --out-dir")
    f.add_argument("--no-progress", action="store_true", help="no progress bar")

    from .manual.cli import add_check_parser
    from .viz.cli import add_graph_parser

    add_check_parser(sub)
    add_graph_parser(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from .perf import limit_blas_threads, tune_allocator
    from .train import finetune, sample, train

    tune_allocator()  # see perf.py: fewer page faults for NumPy's many temporaries
    limit_blas_threads(1)  # see perf.py: spinning BLAS threads collapse when the CPU is shared

    try:
        if args.command == "train":
            cfg = TrainConfig()
            explicit = set()
            for dest, _ in TRAIN_OPTIONS.values():
                value = getattr(args, dest)
                if value is not None:
                    setattr(cfg, dest, value)
                    explicit.add(dest)
            if args.fused:
                cfg.fused = True
                explicit.add("fused")
            if args.checkpoint is not None:
                cfg.checkpoint = args.checkpoint
                explicit.add("checkpoint")
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
            finetune(args.checkpoint, args.data, args.out_dir, args.rank, args.alpha, args.targets, args.steps, args.lr,
                     args.batch_size, seed=args.seed, overwrite=args.overwrite, progress=not args.no_progress)
            return 0
    except (DataError, CheckpointError, TrainError) as e:  # the documented errors; anything else is a bug
        print(f"tinygrad-tx {args.command}: error: {one_line(str(e))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"tinygrad-tx {args.command}: interrupted", file=sys.stderr)
        return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
