"""``einsum``: Einstein summation, composed from permute, reshape, expand, indexing, multiply, sum and
matmul, so its gradient is theirs.

``einsum("ij,jk->ik", a, b)``: each letter names a dim; the letters of the output (after ``->``) are kept
and the others summed over, out[i, k] = Σ_j a[i, j] b[j, k]. As in PyTorch:

- without ``->`` the output is the letters that occur once, in alphabetical order (``"ij,jk"`` is ``"ik"``;
  upper case before lower case);
- ``...`` stands for the dims no letter names, broadcast across the operands (first in an implicit output);
- a letter repeated within one operand takes its diagonal (``"ii->i"``; ``"ii"`` is the trace);
- a dim of size 1 broadcasts against the same letter's size in another operand;
- the sublist form ``einsum(a, [0, 1], b, [1, 2], [0, 2])`` (0-25 are A-Z, 26-51 a-z), and the operands
  given as one list, ``einsum("ij,jk", [a, b])``.

The operands are contracted left to right, two at a time: the dims that neither a later operand nor
the output needs are summed out first, then the two become one batched matrix product (dims in both
that are kept: the batch; in both and not kept: the product's inner dim).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .tensor import Tensor

__all__ = ["einsum"]

Label = str | int  # a letter, or the position of a dim within the broadcast ``...``


def einsum(*args: Any) -> Tensor:
    """``torch.einsum(equation, *operands)``: see the module docstring."""
    equation, operands = _arguments(args)
    terms, output_term = _parse(equation, len(operands))
    for k, t in enumerate(operands):
        if not isinstance(t, Tensor):
            raise TypeError(f"einsum: operand {k} must be a Tensor, got {type(t).__name__}")
    if any(t.dtype != operands[0].dtype for t in operands) or operands[0].dtype.kind == "b":
        raise TypeError(f"einsum: the operands must have one dtype, and not bool, as in PyTorch (got "
                        f"{', '.join(str(t.dtype) for t in operands)}); convert them first, e.g. b.to(a.dtype)")
    n_ellipsis = max(t.ndim - sum(s != "..." for s in term) for t, term in zip(operands, terms))
    labelled = [_diagonals(t, _dim_labels(t, term, n_ellipsis, k), k)
                for k, (t, term) in enumerate(zip(operands, terms))]
    sizes = _label_sizes(labelled)
    output = _output_labels(terms, output_term, n_ellipsis)

    t, labels = _sum_out(*labelled[0], needed=set(output).union(*(ls for _, ls in labelled[1:])))
    for k, (u, u_labels) in enumerate(labelled[1:], start=1):
        later = set(output).union(*(ls for _, ls in labelled[k + 1 :]))
        u, u_labels = _sum_out(u, u_labels, needed=later | set(labels))
        t, labels = _pair(t, labels, u, u_labels, later, sizes)
    return t.permute([labels.index(label) for label in output])


def _arguments(args: tuple[Any, ...]) -> tuple[str, list[Any]]:
    """The equation and the operands, from ``(equation, *operands)``, ``(equation, [operands])`` or the
    sublist form ``(operand, sublist, operand, sublist, ..., [output sublist])``."""
    if not args:
        raise TypeError("einsum: give an equation and the operands, e.g. einsum('ij,jk->ik', a, b)")
    if isinstance(args[0], str):
        operands = list(args[1:])
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = list(operands[0])
        return args[0], operands
    equation = ",".join(_sublist(s) for s in args[1::2])
    if len(args) % 2 == 1:
        return equation + "->" + _sublist(args[-1]), list(args[:-1:2])
    return equation, list(args[::2])


def _sublist(subscripts: Any) -> str:
    """A sublist as subscripts: 0-25 are A-Z, 26-51 a-z, ``...`` (Ellipsis) itself (PyTorch's mapping)."""
    letters = []
    for s in subscripts:
        if s is Ellipsis:
            letters.append("...")
        elif isinstance(s, (int, np.integer)) and not isinstance(s, bool) and 0 <= s < 52:
            letters.append(chr(ord("A") + s) if s < 26 else chr(ord("a") + s - 26))
        else:
            raise ValueError(f"einsum: subscript {s!r} in a sublist is not an int in [0, 52) or Ellipsis")
    return "".join(letters)


def _parse(equation: str, n_operands: int) -> tuple[list[list[str]], list[str] | None]:
    """The subscripts of each operand and of the output (None without ``->``): letters and ``"..."``."""
    lhs, arrow, rhs = equation.replace(" ", "").partition("->")
    terms = [_subscripts(term, f"operand {k}", equation) for k, term in enumerate(lhs.split(","))]
    if len(terms) != n_operands:
        raise ValueError(f"einsum: the equation {equation!r} has subscripts for {len(terms)} operand(s), "
                         f"but {n_operands} were given")
    return terms, (_subscripts(rhs, "the output", equation) if arrow else None)


def _subscripts(term: str, where: str, equation: str) -> list[str]:
    items: list[str] = []
    i = 0
    while i < len(term):
        if term.startswith("...", i):
            if "..." in items:
                raise ValueError(f"einsum: {where} has more than one '...' in {equation!r}")
            items.append("...")
            i += 3
        elif term[i].isascii() and term[i].isalpha():
            items.append(term[i])
            i += 1
        else:
            what = "a '.' that is not part of '...'" if term[i] == "." else f"the subscript {term[i]!r}"
            raise ValueError(f"einsum: {where} has {what} in {equation!r}; subscripts are letters a-z, A-Z")
    return items


def _dim_labels(t: Tensor, term: list[str], n_ellipsis: int, k: int) -> list[Label]:
    """A label per dim of ``t``: its letter, or for a dim of ``...`` its position in the broadcast ``...``
    (aligned at the right: an operand with fewer ``...`` dims takes the last positions)."""
    letters = [s for s in term if s != "..."]
    if "..." not in term:
        if len(letters) != t.ndim:
            raise ValueError(f"einsum: operand {k} of shape {t.shape} has {t.ndim} dims, but its subscripts "
                             f"{''.join(term)!r} name {len(letters)} (and there is no '...')")
        return list(letters)
    own = t.ndim - len(letters)
    if own < 0:
        raise ValueError(f"einsum: operand {k} of shape {t.shape} has fewer dims than its subscripts "
                         f"{''.join(term)!r} name")
    at = term.index("...")
    return [*letters[:at], *range(n_ellipsis - own, n_ellipsis), *letters[at:]]


def _diagonals(t: Tensor, labels: list[Label], k: int) -> tuple[Tensor, list[Label]]:
    """A letter repeated within one operand (``ii``) becomes one dim, the diagonal: the repeated dims
    are moved to the end and indexed with the same ``arange`` each (a gather; its VJP scatters back)."""
    while (repeated := next((label for label in labels if labels.count(label) > 1), None)) is not None:
        at = [i for i, label in enumerate(labels) if label == repeated]
        if len({t.shape[i] for i in at}) > 1:
            raise ValueError(f"einsum: subscript {repeated} is repeated in operand {k} but its dims have "
                             f"different sizes ({', '.join(str(t.shape[i]) for i in at)}; shape {t.shape})")
        rest = [i for i in range(t.ndim) if i not in at]
        t = t.permute(rest + at)
        t = t[(Ellipsis,) + (np.arange(t.shape[-1]),) * len(at)]
        labels = [labels[i] for i in rest] + [repeated]
    return t, labels


def _label_sizes(labelled: list[tuple[Tensor, list[Label]]]) -> dict[Label, int]:
    """The size of each label's dim: the same in every operand, or 1 (which broadcasts)."""
    sizes: dict[Label, int] = {}
    for t, labels in labelled:
        for label, n in zip(labels, t.shape):
            seen = sizes.setdefault(label, n)
            if n != seen and 1 not in (n, seen):
                what = f"subscript {label}" if isinstance(label, str) else f"dim {label} of '...'"
                raise ValueError(f"einsum: {what} has size {seen} in one operand and {n} in another, and "
                                 f"these do not broadcast")
            sizes[label] = seen if n == 1 else n
    return sizes


def _output_labels(terms: list[list[str]], output: list[str] | None, n_ellipsis: int) -> list[Label]:
    """The output's labels: as written (``...`` the broadcast dims), or, implicitly, the broadcast dims
    and then the letters that occur exactly once, in alphabetical order."""
    letters = [s for term in terms for s in term if s != "..."]
    if output is None:
        return [*range(n_ellipsis), *sorted(s for s in set(letters) if letters.count(s) == 1)]
    labels: list[Label] = []
    for s in output:
        if s == "...":
            labels.extend(range(n_ellipsis))
        elif s in labels:
            raise ValueError(f"einsum: output subscript {s} appears more than once in the output")
        elif s not in letters:
            raise ValueError(f"einsum: output subscript {s} does not appear in the subscripts of any operand")
        else:
            labels.append(s)
    return labels


def _sum_out(t: Tensor, labels: list[Label], needed: set[Label]) -> tuple[Tensor, list[Label]]:
    """``t`` summed over the dims whose labels are not ``needed``."""
    dims = tuple(i for i, label in enumerate(labels) if label not in needed)
    if not dims:
        return t, labels
    return t.sum(dims), [label for label in labels if label in needed]


def _pair(a: Tensor, a_labels: list[Label], b: Tensor, b_labels: list[Label], keep: set[Label],
          sizes: dict[Label, int]) -> tuple[Tensor, list[Label]]:
    """The contraction of two operands, keeping the labels in ``keep`` (and every label in one operand
    only, which `_sum_out` left because it is kept): result[batch, a_free, b_free] =
    Σ_summed a[batch, a_free, summed] b[batch, summed, b_free], one batched matrix product."""
    shared = [label for label in a_labels if label in b_labels]
    batch = [label for label in shared if label in keep]
    summed = [label for label in shared if label not in keep]
    a_free = [label for label in a_labels if label not in b_labels]
    b_free = [label for label in b_labels if label not in a_labels]
    a = _arranged(a, a_labels, batch + a_free + summed, shared, sizes)
    b = _arranged(b, b_labels, batch + summed + b_free, shared, sizes)
    batch_shape = tuple(sizes[label] for label in batch)
    a_shape, b_shape = a.shape[len(batch) : len(batch) + len(a_free)], b.shape[len(batch) + len(summed) :]
    if not summed:  # nothing to sum: a broadcast product
        product = a.reshape(batch_shape + a_shape + (1,) * len(b_free)) * b.reshape(
            batch_shape + (1,) * len(a_free) + b_shape)
        return product, batch + a_free + b_free
    n_batch, m, n = math.prod(batch_shape), math.prod(a_shape), math.prod(b_shape)
    inner = math.prod(sizes[label] for label in summed)
    product = a.reshape(n_batch, m, inner) @ b.reshape(n_batch, inner, n)
    return product.reshape(batch_shape + a_shape + b_shape), batch + a_free + b_free


def _arranged(t: Tensor, labels: list[Label], order: list[Label], shared: list[Label],
              sizes: dict[Label, int]) -> Tensor:
    """``t`` with its dims in ``order``, and the dims of ``shared`` labels broadcast to their full size."""
    t = t.permute([labels.index(label) for label in order])
    return t.expand(tuple(sizes[label] if label in shared else n for label, n in zip(order, t.shape)))
