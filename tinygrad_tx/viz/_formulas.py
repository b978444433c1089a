"""The formulas the backward player shows, read from the ops' own docstrings (viz/player.py).

A `Value` op's docstring is ``out = ...   d out/da = ..., d out/db = ...`` (scalar.py); a tensor primitive's
``y = ...   ẏ = ...   |   x̄ = ...`` (ops*.py), the part after the bar being its VJP; a custom op's
``y = ...   VJP: x̄ = ...`` (autograd/function.py) or ``VJP (where it is derived): ...`` (manual/fused.py).
The player shows them as plain text: the engine's notes on exactness and reST quotes are left out.
"""

from __future__ import annotations

import re

from ..function import Function
from ..scalar import Value

_VALUE_METHODS = {"+": "__add__", "*": "__mul__", "/": "__truediv__", "neg": "__neg__", "exp": "exp", "log": "log",
                  "tanh": "tanh", "σ": "sigmoid", "relu": "relu", "max": "max", "min": "min", "abs": "abs"}


def _value_formulas(op: str) -> tuple[str, str]:
    """``(forward, local derivatives)`` of a `Value` op, from the first paragraph of its docstring in scalar.py
    (later paragraphs are notes for the reader of the code, not the op's formula)."""
    if op == "dual":
        return "out = a (forward mode's dual)", "d out/da = 1"
    name = "__pow__" if op.startswith("**") else _VALUE_METHODS.get(op)
    doc = getattr(getattr(Value, name, None), "__doc__", None) if name else None
    if not doc:
        return f"out = {op}(a)", ""
    parts = re.split(r"(?<=\.)\s{2,}", doc.strip().split("\n\n", 1)[0], maxsplit=1)
    forward = parts[0].rstrip(".")
    derivs = " ".join(parts[1].split()) if len(parts) > 1 else ""
    derivs = re.sub(r"\s*\((?:applied as [^)]*|see _\w+)\)", "", derivs)  # (notes on the engine's exactness)
    derivs = re.sub(r",\s*see _\w+", "", derivs).replace("``", "")  # (the same inside a note; reST quotes)
    if op.startswith("**") and op != "**":  # a constant exponent: only the base has a derivative
        derivs = derivs.split(";", 1)[0] + "."
    return forward, derivs


def _tensor_formulas(node: Function) -> tuple[str, str]:
    """``(forward, VJP)`` of a tensor op from its docstring: a primitive's ``y = ...   ẏ = ...   |   x̄ = ...`` (in
    the first paragraph, or in the second when the first is the forward alone), or a custom op's
    ``y = ...   VJP: x̄ = ...`` (as autograd/function.py writes one)."""
    def flat(text: str) -> str:
        return " ".join(text.split()).replace("``", "")

    paragraphs = (type(node).__doc__ or "").strip().split("\n\n")
    first = paragraphs[0]
    forward = re.split(r"(?<=\.)\s{2,}", first, maxsplit=1)[0].rstrip(".")
    bar = re.compile(r"\s\|\s")  # the separator: a bar between spaces (|x| is an absolute value)
    formula = next((p for p in paragraphs[:2] if bar.search(p)), None)
    if formula is not None:
        return flat(forward), flat(bar.split(formula, maxsplit=1)[1])
    vjp = re.search(r"\bVJP\s*(?:\([^)]*\))?[:,]\s*(.+)", first, re.S)  # "VJP: ...", "VJP (derived in ...): ..."
    if vjp:
        forward = re.split(r"(?<=\.)\s{2,}", first[:vjp.start()].strip(), maxsplit=1)[0].rstrip(".")
        return flat(forward), flat(vjp.group(1))
    return flat(forward) or type(node).__name__, "(its docstring gives no VJP formula)"
