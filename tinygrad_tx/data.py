"""Text data: a character-level tokenizer, the default corpus, the split, and seeded batches.

The default corpus is the Python documentation text that every CPython installation ships
(``pydoc_data.topics``, about 465 KB of English), read at run time: no download, no copied text.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

__all__ = ["DataError", "CharTokenizer", "default_corpus", "load_text", "train_val_split", "get_batch",
           "unigram_entropy"]


class DataError(ValueError):
    """Bad input data (missing or empty file, unknown characters, a corpus too short)."""


def default_corpus() -> str:
    """The pydoc topics shipped with CPython, joined in a fixed order."""
    try:
        from pydoc_data.topics import topics
    except ImportError as e:  # pragma: no cover - every CPython ships it
        raise DataError("the default corpus (pydoc_data.topics) is missing from this Python; use --data PATH") from e
    return "\n\n".join(topics[k] for k in sorted(topics))


def load_text(path: str | None) -> str:
    """The UTF-8 text of ``path``, or the default corpus when ``path`` is None."""
    if path is None:
        return default_corpus()
    if not os.path.exists(path):
        raise DataError(f"{path}: no such file")
    if os.path.isdir(path):
        raise DataError(f"{path}: is a directory, not a text file")
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    except OSError as e:
        raise DataError(f"{path}: cannot read it ({e.strerror})") from None
    if not text:
        raise DataError(f"{path}: the file is empty")
    return text


class CharTokenizer:
    """One token per character; the vocabulary is the sorted set of characters in the text."""

    def __init__(self, chars: Any) -> None:
        self.chars = sorted(set(chars))
        if not self.chars:
            raise DataError("tokenizer: empty vocabulary")
        self.stoi = {c: i for i, c in enumerate(self.chars)}

    @classmethod
    def from_text(cls, text: str) -> CharTokenizer:
        return cls(text)

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def encode(self, text: str, vocabulary: str = "the vocabulary") -> np.ndarray:
        """Token ids (int64); a character outside the vocabulary is a clear error (which calls the
        vocabulary ``vocabulary``, e.g. "the vocabulary of ckpt.npz")."""
        try:
            return np.fromiter((self.stoi[c] for c in text), dtype=np.int64, count=len(text))
        except KeyError as e:
            c = e.args[0]
            unknown = sorted({ch for ch in text if ch not in self.stoi})
            shown = ", ".join(repr(ch) for ch in unknown[:8]) + (" ..." if len(unknown) > 8 else "")
            raise DataError(
                f"{len(unknown)} character(s) are not in {vocabulary} ({self.vocab_size} characters), "
                f"e.g. {c!r} (U+{ord(c):04X}); unknown: {shown}"
            ) from None

    def decode(self, ids: Any) -> str:
        return "".join(self.chars[int(i)] for i in np.asarray(ids).reshape(-1))

    def to_dict(self) -> dict[str, Any]:
        return {"type": "char", "chars": "".join(self.chars)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CharTokenizer:
        if d.get("type") != "char" or not isinstance(d.get("chars"), str):
            raise DataError("tokenizer: not a character tokenizer description")
        return cls(d["chars"])


def train_val_split(ids: np.ndarray, val_fraction: float, block_size: int, source: str = "the corpus",
                    remedy: str = "use a longer text or a smaller block_size") -> tuple[np.ndarray, np.ndarray]:
    """The first (1 - val_fraction) of the tokens for training, the rest for validation (deterministic).

    Each part must hold at least one full example (block_size + 1 tokens); if not, `DataError` names
    ``source`` (the file) and says what to do (``remedy``, which depends on the command)."""
    n_val = int(len(ids) * val_fraction)
    train, val = ids[: len(ids) - n_val], ids[len(ids) - n_val :]
    need = block_size + 1
    if len(train) < need or len(val) < need:
        raise DataError(
            f"{source} is too short: {len(ids)} characters give {len(train)} for training and {len(val)} for "
            f"validation, and each needs at least block_size + 1 = {need}; {remedy}"
        )
    return train, val


def get_batch(
    data: np.ndarray, block_size: int, batch_size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``batch_size`` random windows: inputs x (B, T) and next-token targets y (B, T)."""
    starts = rng.integers(0, len(data) - block_size, size=batch_size)
    offsets = np.arange(block_size)
    x = data[starts[:, None] + offsets]
    y = data[starts[:, None] + offsets + 1]
    return x, y


def unigram_entropy(ids: np.ndarray, vocab_size: int) -> float:
    """The entropy (nats) of the character distribution: the loss of a model that ignores context."""
    counts = np.bincount(ids, minlength=vocab_size).astype(np.float64)
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())
