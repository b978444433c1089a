"""Gradient checkpointing: peak memory and step time of a GPT training step, with and without, by depth.

A configuration where activations dominate (a long context, a narrow model): each block's attention
keeps several (B, heads, T, T) arrays for its backward, while its parameters are a few kB. With
``GPTConfig(checkpoint=True)`` a block keeps only its input (B, T, d); the backward pass runs the
block's forward again. So without checkpointing the peak grows by a whole block's activations per
layer, with it by one (B, T, d) array per layer (plus one block's activations, once).

- peak: ``tracemalloc``'s high-water mark over one training step (forward, zero_grad, backward,
  AdamW), started before the model is built, so it includes the parameters, gradients and the
  optimizer's moments (created by a first, unmeasured step). NumPy reports its arrays to tracemalloc.
- time: the median of the step's seconds over ``repeats`` steps, timed without tracemalloc.

The two runs of each depth start from the same weights and see the same batch; their losses are
checked to be equal, bit for bit (checkpointing changes no number). This prints; it is not a test.
Run from the repo root::

    .venv/bin/python bench/checkpointing.py              # depths 2, 4, 6, 8 (~1 min on a quiet core)
    .venv/bin/python bench/checkpointing.py --quick      # depths 2 and 4, short context
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import tracemalloc
from collections.abc import Sequence
from typing import Any

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:  # run as a script from anywhere: import this checkout's tinygrad_tx
    sys.path.insert(0, ROOT)
from common import OtherLoad, engine_revision  # noqa: E402  (bench/common.py; scripts run from bench/)


def _step(model: Any, optimizer: Any, idx: np.ndarray, targets: np.ndarray) -> float:
    """One training step, as ``train`` does it; returns the loss."""
    _, loss = model(idx, targets)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return float(loss.item())


def _measure(checkpoint: bool, n_layer: int, block_size: int, n_embd: int, n_head: int, batch_size: int,
             vocab_size: int, dtype: str, repeats: int, seed: int) -> dict[str, float]:
    from tinygrad_tx import manual_seed
    from tinygrad_tx.nn import GPT, GPTConfig
    from tinygrad_tx.optim import AdamW

    config = GPTConfig(vocab_size=vocab_size, block_size=block_size, n_layer=n_layer, n_head=n_head, n_embd=n_embd,
                       checkpoint=checkpoint)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, vocab_size, (batch_size, block_size))
    targets = rng.integers(0, vocab_size, (batch_size, block_size))

    tracemalloc.start()
    try:
        manual_seed(seed)
        model = GPT(config, dtype=np.dtype(dtype))
        optimizer = AdamW(model.parameters(), lr=1e-3)
        first_loss = _step(model, optimizer, idx, targets)  # creates the gradients and the moments
        resident = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        _step(model, optimizer, idx, targets)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    seconds = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        _step(model, optimizer, idx, targets)
        seconds.append(time.perf_counter() - t0)
    return {"peak_mb": peak / 2**20, "resident_mb": resident / 2**20, "step_s": statistics.median(seconds),
            "first_loss": first_loss}


def measure_checkpointing(depths: Sequence[int] = (2, 4, 6, 8), block_size: int = 256, n_embd: int = 32,
                          n_head: int = 4, batch_size: int = 8, vocab_size: int = 65, dtype: str = "float32",
                          repeats: int = 3, seed: int = 0) -> list[dict[str, Any]]:
    """Peak memory and step time of one GPT training step without and with ``GPTConfig(checkpoint=True)``
    for each depth in ``depths``; prints a table and returns its rows."""
    from tinygrad_tx.perf import limit_blas_threads

    limit_blas_threads(1)  # as the command line does: the machine's cores are shared
    shape = dict(block_size=block_size, n_embd=n_embd, n_head=n_head, batch_size=batch_size, vocab_size=vocab_size,
                 dtype=dtype, repeats=repeats, seed=seed)
    print(f"GPT training step, T={block_size}, d={n_embd}, heads={n_head}, B={batch_size}, {dtype}; "
          f"engine {engine_revision()}")
    header = (f"{'layers':>6} | {'peak plain MB':>13} | {'peak ckpt MB':>12} | {'peak saved':>10} | "
              f"{'step plain s':>12} | {'step ckpt s':>11} | {'time ratio':>10}")
    print(header)
    print("-" * len(header))
    rows = []
    with OtherLoad() as load:
        for n_layer in depths:
            plain = _measure(False, n_layer, **shape)
            ckpt = _measure(True, n_layer, **shape)
            if plain["first_loss"] != ckpt["first_loss"]:
                raise AssertionError(f"n_layer={n_layer}: checkpointing changed the loss "
                                     f"({plain['first_loss']!r} -> {ckpt['first_loss']!r})")
            row = {"n_layer": n_layer, "plain": plain, "checkpoint": ckpt,
                   "peak_saved": 1 - ckpt["peak_mb"] / plain["peak_mb"],
                   "time_ratio": ckpt["step_s"] / plain["step_s"]}
            rows.append(row)
            print(f"{n_layer:>6} | {plain['peak_mb']:>13.1f} | {ckpt['peak_mb']:>12.1f} | {row['peak_saved']:>10.0%} | "
                  f"{plain['step_s']:>12.3f} | {ckpt['step_s']:>11.3f} | {row['time_ratio']:>10.2f}")
    print(f"(peak includes the parameters, gradients and AdamW moments: {rows[-1]['plain']['resident_mb']:.1f} MB "
          f"at {rows[-1]['n_layer']} layers; the losses with and without checkpointing are equal)")
    print(load.report())
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="depths 2 and 4, context 128, one timed step")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    args = p.parse_args(argv)
    if args.quick:
        measure_checkpointing((2, 4), block_size=128, repeats=1, dtype=args.dtype)
    else:
        measure_checkpointing(dtype=args.dtype)


if __name__ == "__main__":
    main()
