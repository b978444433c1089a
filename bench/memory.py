"""Memory of a GPT training step: what the forward pass saves for backward, and the peak, against depth
and batch.

Reverse mode pays for its one backward pass with memory: every op keeps what its VJP will read (inputs,
its output, a mask) until the backward pass has used it. That is the *saved* memory, and it grows with
the number of ops (depth) and with the size of each activation (batch × time × width), while the
parameters do not depend on the batch. This measures, for one step (forward + backward) of a GPT:

- **saved**: the tensors the graph holds for backward at the end of the forward pass, counted two ways
  that must agree: through ``autograd.graph.saved_tensors_hooks`` (the pack hook sees every tensor an op
  saves) and by reading the graph itself (every node's saved values). Bytes count each array once (two
  ops that save the same activation share it); views count as the array they view.
- **peak**: the most memory allocated at any moment during the step, traced with ``tracemalloc`` (NumPy
  reports its arrays to it), above what was allocated before the step (model, optimizer-free).

Run from the repo root::

    .venv/bin/python bench/memory.py                 # n_layer 1..8 at batch 8, batch 2..32 at 2 layers
    .venv/bin/python bench/memory.py --quick         # fewer rows
    .venv/bin/python bench/memory.py --checkpoint    # also GPTConfig(checkpoint=True), if it exists

``--checkpoint`` adds a row with activation checkpointing for each one (``VARIANTS`` below: a variant
is a name and the GPTConfig options it sets). This prints a table; it is not a test (tests/test_hooks.py
checks the counting).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tracemalloc
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:  # run as a script from anywhere: import this checkout's tinygrad_tx
    sys.path.insert(0, ROOT)

from tinygrad_tx import Tensor, manual_seed  # noqa: E402
from tinygrad_tx.autograd import Function, topological_order  # noqa: E402
from tinygrad_tx.autograd.graph import saved_tensors_hooks  # noqa: E402
from tinygrad_tx.nn import GPT, GPTConfig  # noqa: E402

# (n_head, n_embd, block_size T, vocab): the shape of every model measured; depth and batch vary
SHAPE = (4, 64, 32, 65)
VARIANTS: dict[str, dict[str, Any]] = {"plain": {}}
CHECKPOINT_VARIANT = ("checkpoint", {"checkpoint": True})  # --checkpoint adds it (GPTConfig(checkpoint=True))


def _storage(a: np.ndarray) -> np.ndarray:
    """The array that owns the memory ``a`` views."""
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


class _Saved:
    """What the counting pack hook hands the graph: the tensor, in a holder that dies with the node that
    saved it (a node nothing refers to any more is dropped with what it saved)."""

    __slots__ = ("tensor", "__weakref__")

    def __init__(self, tensor: Tensor) -> None:
        self.tensor = tensor


class SavedCounter:
    """Inside ``with counter.recording():``, every tensor an op saves for backward goes through the pack
    hook, which records it. ``saves``: how many times an op saved a tensor; ``count`` and ``nbytes``: the
    saved tensors still held (by a node still alive) and the bytes of the distinct arrays among them. An op
    whose output is dropped at once (the max that softmax subtracts, detached) saved for nothing."""

    def __init__(self) -> None:
        self.held: list[weakref.ref[_Saved]] = []

    def _pack(self, t: Tensor) -> _Saved:
        saved = _Saved(t)
        self.held.append(weakref.ref(saved))
        return saved

    @contextmanager
    def recording(self) -> Iterator[None]:
        with saved_tensors_hooks(self._pack, lambda saved: saved.tensor):
            yield

    @property
    def saves(self) -> int:
        return len(self.held)

    def _alive(self) -> list[Tensor]:
        return [s.tensor for s in (ref() for ref in self.held) if s is not None]

    @property
    def count(self) -> int:
        return len(self._alive())

    def nbytes(self, leave_out: set[int] = frozenset()) -> int:  # type: ignore[assignment]
        """The bytes of the distinct arrays saved, but those whose id is in ``leave_out``."""
        return _distinct_bytes((t._data for t in self._alive()), leave_out)


def _distinct_bytes(arrays: Iterator[np.ndarray] | list[np.ndarray], leave_out: set[int]) -> int:
    storages = {id(s): s for s in map(_storage, arrays) if id(s) not in leave_out}
    return sum(s.nbytes for s in storages.values())


def graph_saved(loss: Tensor, leave_out: set[int] = frozenset()) -> tuple[int, int]:  # type: ignore[assignment]
    """(count, bytes) of what the graph of ``loss`` holds for backward, read from its nodes (the engine's
    own accounting: each node's saved inputs, output and constants; bytes as `SavedCounter.nbytes`)."""
    saved = [t for node in topological_order([loss._node()]) if isinstance(node, Function)
             for t in node.saved_tensors if t is not None]
    return len(saved), _distinct_bytes([t._data for t in saved], leave_out)


def make_model(n_layer: int, options: dict[str, Any]) -> GPT:
    n_head, n_embd, block, vocab = SHAPE
    manual_seed(0)
    return GPT(GPTConfig(vocab_size=vocab, block_size=block, n_layer=n_layer, n_head=n_head, n_embd=n_embd, **options),
               dtype=np.float32)


def batch(b: int) -> tuple[np.ndarray, np.ndarray]:
    _, _, block, vocab = SHAPE
    rng = np.random.default_rng(b)
    ids = rng.integers(0, vocab, size=(b, block + 1))
    return ids[:, :-1], ids[:, 1:]


def measure(n_layer: int, b: int, options: dict[str, Any]) -> dict[str, float]:
    """One row: saved (both ways), then, in a fresh step without hooks, the traced peak."""
    model = make_model(n_layer, options)
    x, y = batch(b)
    counter = SavedCounter()
    with counter.recording():
        _, loss = model(x, y)
    params = {id(_storage(p._data)): p._data.nbytes for p in model.parameters()}
    graph_count, graph_bytes = graph_saved(loss, set(params))
    saves, hook_count, hook_bytes = counter.saves, counter.count, counter.nbytes(set(params))
    loss.backward()
    del loss, counter
    model.zero_grad()

    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        _, loss = model(x, y)
        after_forward = tracemalloc.get_traced_memory()[0]
        loss.backward()
        del loss
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return {"saves": saves, "hook_count": hook_count, "hook_bytes": hook_bytes, "graph_count": graph_count,
            "graph_bytes": graph_bytes, "live_after_forward": after_forward - before, "peak": peak - before,
            "params": sum(params.values())}


def table(rows: list[tuple[str, int, int, dict[str, float]]]) -> list[str]:
    mb = 2**-20
    header = ["variant", "n_layer", "batch", "saves", "saved", "saved MB", "graph agrees", "live after fwd MB",
              "peak MB", "params MB"]
    lines = []
    for variant, n_layer, b, r in rows:
        agree = "yes" if (r["hook_count"], r["hook_bytes"]) == (r["graph_count"], r["graph_bytes"]) else \
            f"NO ({r['graph_count']}, {r['graph_bytes'] * mb:.2f} MB)"
        lines.append([variant, str(n_layer), str(b), str(r["saves"]), str(r["hook_count"]),
                      f"{r['hook_bytes'] * mb:.3f}", agree, f"{r['live_after_forward'] * mb:.3f}",
                      f"{r['peak'] * mb:.3f}", f"{r['params'] * mb:.3f}"])
    widths = [max(len(x) for x in col) for col in zip(header, *lines)]
    fmt = [" ".join(c.rjust(w) for c, w in zip(row, widths)) for row in [header] + lines]
    return [fmt[0], "-" * len(fmt[0])] + fmt[1:]


def slopes(rows: list[tuple[str, int, int, dict[str, float]]], variant: str, depth_batch: int,
           batch_depth: int) -> list[str]:
    """Saved bytes as a straight line in depth (at one batch) and in batch (at one depth)."""
    _, n_embd, block, _ = SHAPE
    out = []
    for what, fixed, pick in (("layer", depth_batch, lambda n, b: b == depth_batch),
                              ("sample", batch_depth, lambda n, b: n == batch_depth)):
        pts = [((n if what == "layer" else b), r["hook_bytes"]) for v, n, b, r in rows if v == variant and pick(n, b)]
        if len(pts) < 2:
            continue
        xs, ys = np.array([p[0] for p in pts], float), np.array([p[1] for p in pts], float)
        slope, intercept = np.polyfit(xs, ys, 1)
        worst = float(np.abs(ys - (slope * xs + intercept)).max() / ys.max())
        per = slope / (depth_batch if what == "layer" else batch_depth) / block / n_embd / 4
        at = f"at batch {fixed}" if what == "layer" else f"at n_layer {fixed}"
        out.append(f"{variant}: saved grows by {slope * 2**-20:.3f} MB per {what} ({at}), = {per:.1f} float32 "
                   f"values per token and channel{' per layer' if what == 'layer' else ''}; a straight line "
                   f"to {worst:.1e} of the largest")
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="depths 1, 2, 4 and batches 4, 8 only")
    parser.add_argument("--checkpoint", action="store_true",
                        help="also measure GPTConfig(checkpoint=True) (activation checkpointing)")
    args = parser.parse_args(argv)
    variants = dict(VARIANTS)
    if args.checkpoint:
        if "checkpoint" not in {f.name for f in dataclasses.fields(GPTConfig)}:
            raise SystemExit("--checkpoint: this GPTConfig has no checkpoint option (tinygrad_tx.utils.checkpoint)")
        variants[CHECKPOINT_VARIANT[0]] = CHECKPOINT_VARIANT[1]
    depths = [1, 2, 4] if args.quick else list(range(1, 9))
    batches = [4, 8] if args.quick else [2, 4, 8, 16, 32]
    depth_batch, batch_depth = 8, 2
    n_head, n_embd, block, vocab = SHAPE
    print(f"GPT n_head {n_head}, n_embd {n_embd}, T {block}, vocab {vocab}, float32; one step = forward + "
          f"cross-entropy + backward; MB = 2^20 bytes")
    print("saves = tensors the ops saved (pack hook calls); saved = those still held at the end of the forward "
          "pass, and their distinct arrays' size ('graph agrees': the graph's nodes hold the same); live after "
          "fwd / peak: tracemalloc, above the model\n")
    rows = []
    for name, options in variants.items():
        for n_layer in depths:
            rows.append((name, n_layer, depth_batch, measure(n_layer, depth_batch, options)))
            print(f"  {name} n_layer {n_layer} batch {depth_batch} done", file=sys.stderr, flush=True)
        for b in batches:
            if b != depth_batch or batch_depth not in depths:
                rows.append((name, batch_depth, b, measure(batch_depth, b, options)))
                print(f"  {name} n_layer {batch_depth} batch {b} done", file=sys.stderr, flush=True)
    rows.sort(key=lambda r: (r[0] != "plain", r[0], r[2] != depth_batch, r[1], r[2]))
    for line in table(rows):
        print(line)
    print()
    for name in variants:
        for line in slopes(rows, name, depth_batch, batch_depth):
            print(line)


if __name__ == "__main__":
    main()
