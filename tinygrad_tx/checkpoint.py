"""Checkpoints: one ``.npz`` file (arrays + JSON metadata), written atomically, verified on load.

- No pickle: arrays are stored as ``.npy`` members, everything else as JSON, so loading a file
  never runs code. A state holds dicts with string keys, lists (tuples come back as lists),
  None, bools, numbers, strings, ndarrays of numbers or strings, and tensors (a ``model.state_dict()``
  as it is), which are stored as their arrays and come back as ndarrays; anything else (an array of
  Python objects, a set, a custom class) is refused with `CheckpointError` before anything is
  written, so a save never replaces a good checkpoint with one that cannot be loaded.
- Atomic: the file is written to a temporary name in the same folder, flushed to disk, then
  renamed over the old one. A crash or a kill during a save leaves the previous checkpoint intact.
  The new file gets the mode any new file gets (0666 less the user's umask).
- Verified: a SHA-256 of every array and of the metadata is stored and checked on load; a
  truncated, corrupted or foreign file is refused whole with `CheckpointError`.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import zipfile
from typing import Any

import numpy as np

from .tensor import Tensor

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


def _flatten(tree: Any, prefix: str, arrays: dict[str, np.ndarray], path: str) -> Any:
    """Replace every ndarray in a nested dict/list by a reference, collecting the arrays; refuse
    whatever JSON and ``.npy`` cannot hold without pickle."""
    where = repr(prefix.lstrip("/")) if prefix else "the state"
    if isinstance(tree, Tensor):  # (a parameter too): its values, without a copy (they are written out now)
        tree = np.asarray(tree.detach())
    if isinstance(tree, np.ndarray):
        if tree.dtype.hasobject:
            raise CheckpointError(f"{path}: not saved: {where} is an array of Python objects (dtype {tree.dtype}), "
                                  f"which only pickle can store")
        if prefix in arrays:
            raise CheckpointError(f"{path}: not saved: two arrays would be stored under the name {where}")
        arrays[prefix] = tree
        return {"__array__": prefix}
    if isinstance(tree, dict):
        bad = [k for k in tree if not isinstance(k, str)]
        if bad:
            raise CheckpointError(f"{path}: not saved: {where} has a key that is not a string: {bad[0]!r}")
        if set(tree) == {"__array__"}:
            raise CheckpointError(f"{path}: not saved: {where} is a dict with the reserved key '__array__' alone")
        return {k: _flatten(v, f"{prefix}/{k}", arrays, path) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return [_flatten(v, f"{prefix}/{i}", arrays, path) for i, v in enumerate(tree)]
    kind = type(tree).__name__
    if isinstance(tree, np.generic):
        tree = tree.item()
    if tree is None or isinstance(tree, (bool, int, float, str)):
        return tree
    raise CheckpointError(f"{path}: not saved: {where} is of type {kind}; a checkpoint holds dicts, "
                          f"lists, numbers, strings, arrays and tensors")


def _unflatten(tree: Any, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(tree, dict):
        if set(tree) == {"__array__"}:
            return arrays[tree["__array__"]]
        return {k: _unflatten(v, arrays) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_unflatten(v, arrays) for v in tree]
    return tree


def save_checkpoint(path: str, state: dict[str, Any]) -> None:
    """Write ``state`` (a nested dict of JSON values, ndarrays and tensors) to ``path`` atomically.

    Anything a checkpoint cannot hold raises `CheckpointError` naming it, and ``path`` is untouched."""
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: not saved: the state must be a dict, not a {type(state).__name__}")
    arrays: dict[str, np.ndarray] = {}
    skeleton = _flatten(state, "", arrays, path)
    meta_json = json.dumps({"format": FORMAT, "state": skeleton}, sort_keys=True)
    digest = _digest(arrays, meta_json)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = _new_file(folder)
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


def _new_file(folder: str) -> tuple[int, str]:
    """A new, empty temporary file in ``folder``, opened for writing. Created with mode 0666, so the
    user's umask decides its permissions as for any new file (``tempfile.mkstemp`` would make it 0600)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = os.path.join(folder, f".tmp-{secrets.token_hex(8)}.npz")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:  # pragma: no cover - a 64-bit random name already taken
            continue


def load_checkpoint(path: str) -> dict[str, Any]:
    """Read a checkpoint written by `save_checkpoint`; anything wrong raises `CheckpointError`."""
    if not os.path.exists(path):
        raise CheckpointError(f"{path}: no such checkpoint")
    if os.path.isdir(path):
        raise CheckpointError(f"{path}: is a directory, not a checkpoint")
    foreign = f"{path}: corrupted or not a tinygrad_tx checkpoint"
    try:
        with open(path, "rb") as f:
            if not zipfile.is_zipfile(f):
                raise CheckpointError(f"{foreign} (not an .npz archive)")
            f.seek(0)
            z = np.load(f, allow_pickle=False)
            if not isinstance(z, np.lib.npyio.NpzFile):  # pragma: no cover - a zip np.load does not read as .npz
                raise CheckpointError(f"{foreign} (not an .npz archive)")
            with z:
                meta_json = str(z["__meta__"])
                digest = str(z["__digest__"])
                members = {k: z[k] for k in z.files if k.startswith("a")}
    except CheckpointError:
        raise
    except (PermissionError, IsADirectoryError) as e:
        raise CheckpointError(f"{path}: cannot read it ({e.strerror})") from None
    except (zipfile.BadZipFile, ValueError, KeyError, OSError, EOFError) as e:
        raise CheckpointError(f"{foreign} ({type(e).__name__}: {e})") from None
    try:
        meta = json.loads(meta_json)
    except json.JSONDecodeError:
        raise CheckpointError(f"{path}: corrupted metadata") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path}: not a tinygrad_tx checkpoint (its metadata is a JSON {type(meta).__name__}, "
                              f"not an object)")
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: unknown format {meta.get('format')!r} (expected {FORMAT})")
    if "state" not in meta:
        raise CheckpointError(f"{path}: corrupted (its metadata has no 'state')")
    keys: list[str] = []
    _collect_keys(meta["state"], keys, path)
    if len(keys) != len(members):
        raise CheckpointError(f"{path}: corrupted (it holds {len(members)} arrays, its metadata names {len(keys)})")
    if len(set(keys)) != len(keys) or set(members) != {f"a{i}" for i in range(len(keys))}:
        raise CheckpointError(f"{path}: corrupted (its array names do not match its metadata)")
    arrays = {k: members[f"a{i}"] for i, k in enumerate(sorted(keys))}
    if _digest(arrays, meta_json) != digest:
        raise CheckpointError(f"{path}: corrupted (its contents do not match the stored SHA-256)")
    state = _unflatten(meta["state"], arrays)
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: not a tinygrad_tx checkpoint (its state is a {type(state).__name__}, "
                              f"not a dict)")
    return state


def _collect_keys(tree: Any, out: list[str], path: str) -> None:
    if isinstance(tree, dict):
        if set(tree) == {"__array__"}:
            if not isinstance(tree["__array__"], str):
                raise CheckpointError(f"{path}: corrupted (an array reference is not a name)")
            out.append(tree["__array__"])
        else:
            for v in tree.values():
                _collect_keys(v, out, path)
    elif isinstance(tree, list):
        for v in tree:
            _collect_keys(v, out, path)
