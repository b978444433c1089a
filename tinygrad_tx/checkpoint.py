"""Checkpoints: one ``.npz`` file (arrays + JSON metadata), written atomically, verified on load.

- No pickle: arrays are stored as ``.npy`` members, everything else as JSON, so loading a file
  never runs code.
- Atomic: the file is written to a temporary name in the same folder, flushed to disk, then
  renamed over the old one. A crash or a kill during a save leaves the previous checkpoint intact.
- Verified: a SHA-256 of every array and of the metadata is stored and checked on load; a
  truncated, corrupted or foreign file is refused whole with `CheckpointError`.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from typing import Any

import numpy as np

__all__ = ["CheckpointError", "save_checkpoint", "load_checkpoint", "FORMAT"]

FORMAT = "tinygrad_tx-checkpoint-1"


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: missing, corrupted, or for another model."""


def _digest(arrays: dict[str, np.ndarray], meta_json: str) -> str:
    h = hashlib.sha256(meta_json.encode())
    for key in sorted(arrays):
        a = np.ascontiguousarray(arrays[key])
        h.update(key.encode())
        h.update(str(a.dtype).encode() + str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _flatten(tree: Any, prefix: str, arrays: dict[str, np.ndarray]) -> Any:
    """Replace every ndarray in a nested dict/list by a reference, collecting the arrays."""
    if isinstance(tree, np.ndarray):
        key = f"{prefix}"
        arrays[key] = tree
        return {"__array__": key}
    if isinstance(tree, dict):
        return {str(k): _flatten(v, f"{prefix}/{k}", arrays) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return [_flatten(v, f"{prefix}/{i}", arrays) for i, v in enumerate(tree)]
    if isinstance(tree, np.generic):
        return tree.item()
    return tree


def _unflatten(tree: Any, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(tree, dict):
        if set(tree) == {"__array__"}:
            return arrays[tree["__array__"]]
        return {k: _unflatten(v, arrays) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_unflatten(v, arrays) for v in tree]
    return tree


def save_checkpoint(path: str, state: dict[str, Any]) -> None:
    """Write ``state`` (a nested dict of JSON values and ndarrays) to ``path`` atomically."""
    arrays: dict[str, np.ndarray] = {}
    skeleton = _flatten(state, "", arrays)
    meta_json = json.dumps({"format": FORMAT, "state": skeleton}, sort_keys=True)
    digest = _digest(arrays, meta_json)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, __meta__=np.array(meta_json), __digest__=np.array(digest),
                     **{f"a{i}": arrays[k] for i, k in enumerate(sorted(arrays))})
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    try:  # make the rename itself durable
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def load_checkpoint(path: str) -> dict[str, Any]:
    """Read a checkpoint written by `save_checkpoint`; anything wrong raises `CheckpointError`."""
    if not os.path.exists(path):
        raise CheckpointError(f"{path}: no such checkpoint")
    try:
        with np.load(path, allow_pickle=False) as z:
            meta_json = str(z["__meta__"])
            digest = str(z["__digest__"])
            members = {k: z[k] for k in z.files if k.startswith("a")}
    except (zipfile.BadZipFile, ValueError, KeyError, OSError, EOFError) as e:
        raise CheckpointError(f"{path}: corrupted or not a tinygrad_tx checkpoint ({type(e).__name__}: {e})") from None
    try:
        meta = json.loads(meta_json)
    except json.JSONDecodeError:
        raise CheckpointError(f"{path}: corrupted metadata") from None
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: unknown format {meta.get('format')!r} (expected {FORMAT})")
    keys: list[str] = []
    _collect_keys(meta["state"], keys)
    if len(keys) != len(members):
        raise CheckpointError(f"{path}: corrupted (it holds {len(members)} arrays, its metadata names {len(keys)})")
    arrays = {k: members[f"a{i}"] for i, k in enumerate(sorted(keys))}
    if _digest(arrays, meta_json) != digest:
        raise CheckpointError(f"{path}: corrupted (its contents do not match the stored SHA-256)")
    return _unflatten(meta["state"], arrays)


def _collect_keys(tree: Any, out: list[str]) -> None:
    if isinstance(tree, dict):
        if set(tree) == {"__array__"}:
            out.append(tree["__array__"])
        else:
            for v in tree.values():
                _collect_keys(v, out)
    elif isinstance(tree, list):
        for v in tree:
            _collect_keys(v, out)
