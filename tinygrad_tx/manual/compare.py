"""Manual gradients against the engine's, one aligned row per tensor.

``name | kind | shape | exact | approx | max abs diff | max rel err | verdict``

- **exact**: bitwise equal (``np.array_equal``: every element equal; ``+0`` and ``−0`` count as equal).
- **approx**: ``np.allclose(manual, engine, rtol, atol = rtol · max|engine|)``.
- **max rel err**: ``max|manual − engine| / max|engine|`` (relative to the tensor's scale, so that
  entries that are 0 up to rounding, such as ``∂b_k``, do not blow it up).
- **verdict**: ``ok`` if exact or ``max rel err ≤ rtol``; ``FAIL`` otherwise, or if a tensor is
  missing on one side, has another shape, or is not finite.

Tolerances (`default_rtol`): float64 ``1e-10``. float32 ``1e-4``: its unit roundoff is 6e-8 and the
gradients of a GPT pass through long chains of reductions (LayerNorm, softmax, the matrix products)
in which errors grow with depth and width and with the cancellation inside the LayerNorm and softmax
backward. Measured: at most ~1e-6 on random models and ~4e-7 on a trained 2-layer, d=64 checkpoint
(``tests/test_manual.py`` asserts < 1e-5), so 1e-4 leaves room for larger models, while a real
mistake in a formula (a dropped term, a missing transpose) gives errors of order 1.

`engine_gradients` runs the engine model's own forward with its named points recorded (``nn.record``:
every point ``GPT.forward`` taps gets ``retain_grad()``), then ``backward()``; `compare` puts both
paths side by side, adds the attention invariants of both, and states which rows are bit-exact and why
the others differ by rounding. With ``fused`` and ``read``, this is the code of ``tinygrad_tx.manual``
that touches the engine; ``nn`` never imports ``manual``.
"""

from __future__ import annotations

import html
import math
import re
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import nn
from .fused import composed
from .gpt import ManualGradients, delta_names, gpt_backward, gradient_invariants
from .read import read_gpt

__all__ = [
    "Row", "InvariantRow", "Comparison", "EngineGradients", "default_rtol", "rel_err", "compare_tensors",
    "engine_gradients", "compare", "EXACTNESS_NOTE",
]

EXACTNESS_NOTE = (
    "Bit-exact vs rounding: given the same upstream Δ (the 'layer by layer' rows), the manual linear and LoRA "
    "layers, the embeddings (scatter-add), ReLU, the residual adds, G = Δ vᵀ, Δ_v = ρᵀ Δ and LayerNorm's ∂γ, ∂β "
    "run the engine's own NumPy operations in the same order: bit-exact. The input gradients of LayerNorm, GELU and "
    "the attention softmax (Δ_S), and softmax-cross-entropy's Δ_logits, use the paper's fused formulas while the "
    "engine differentiates their chains of primitives: equal up to rounding (~1e-16 relative in float64, ~1e-7 in "
    "float32), and so is everything computed from them (Δ_q, Δ_k, the c_attn gradients; with GELU, the c_fc "
    "gradients). End to end every gradient descends from the fused Δ_logits, so no row is bit-exact there, and "
    "every row agrees up to rounding."
)


def default_rtol(dtype: Any) -> float:
    """The tolerance on the max relative error: 1e-10 in float64, 1e-4 in float32 (see the module)."""
    return 1e-10 if np.dtype(dtype) == np.float64 else 1e-4


def rel_err(manual: np.ndarray, engine: np.ndarray) -> float:
    """``max|manual − engine| / max|engine|`` (0 if both are all zero, inf if only the engine is)."""
    manual, engine = np.asarray(manual), np.asarray(engine)  # (a Tensor's values too)
    diff = float(np.abs(manual - engine).max()) if engine.size else 0.0
    scale = float(np.abs(engine).max()) if engine.size else 0.0
    if diff == 0.0:
        return 0.0
    return diff / scale if scale > 0 else math.inf


@dataclass
class Row:
    """One tensor compared. ``section`` is ``"end to end"`` or ``"layer by layer"``."""

    name: str
    kind: str  # "param" or "Δ"
    shape: tuple[int, ...] | None
    exact: bool
    approx: bool
    max_abs: float
    max_rel: float
    ok: bool
    section: str = ""
    note: str = ""


@dataclass
class InvariantRow:
    """The attention invariants of one head, computed from ``source``'s gradients."""

    source: str  # "manual" or "engine"
    layer: str
    head: int
    rowsum: float
    masked_zero: bool
    db_k: float
    db_v: float
    ok: bool


_HEADER = ("name", "kind", "shape", "exact", "approx", "max abs diff", "max rel err", "verdict")
_INV_HEADER = ("source", "layer", "head", "|rowsum Δ_S| rel", "masked Δ_S == 0", "|∂b_k| rel",
               "|∂b_v − Σ Δ_h| rel", "verdict")


def _fmt(x: float) -> str:
    return "0" if x == 0 else f"{x:.2e}"


def _row_cells(r: Row) -> tuple[str, ...]:
    if r.shape is None:
        return (r.name, r.kind, "-", "-", "-", "-", "-", "FAIL" + (f" ({r.note})" if r.note else ""))
    verdict = ("ok" if r.ok else "FAIL") + (f" ({r.note})" if r.note else "")
    return (r.name, r.kind, str(tuple(r.shape)), "yes" if r.exact else "no", "yes" if r.approx else "no",
            _fmt(r.max_abs), _fmt(r.max_rel), verdict)


def _inv_cells(r: InvariantRow) -> tuple[str, ...]:
    return (r.source, r.layer, str(r.head), _fmt(r.rowsum), "yes" if r.masked_zero else "NO", _fmt(r.db_k),
            _fmt(r.db_v), "ok" if r.ok else "FAIL")


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(header[i]), *(len(r[i]) for r in rows)) if rows else len(header[i]) for i in range(len(header))]
    line = " | ".join(h.ljust(w) for h, w in zip(header, widths))
    out = [line, "-+-".join("-" * w for w in widths)]
    out += [" | ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    return out


@dataclass
class Comparison:
    """The result of `compare` / `compare_tensors`: ``rows``, ``ok``, ``failures`` (the names of the
    failing tensors and invariants), the invariants, and a footer. ``print(result)`` shows a table;
    in a notebook it renders as HTML."""

    rows: list[Row]
    rtol: float
    dtype: str
    invariants: list[InvariantRow] = field(default_factory=list)
    footer: list[str] = field(default_factory=list)
    title: str = "manual vs engine"

    @property
    def failures(self) -> list[str]:
        out = [r.name + (f" ({r.section})" if r.section and r.section != "end to end" else "")
               for r in self.rows if not r.ok]
        out += [f"invariant {r.layer} head {r.head} ({r.source})" for r in self.invariants if not r.ok]
        return out

    @property
    def ok(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        n_exact = sum(r.exact for r in self.rows)
        worst = max((r.max_rel for r in self.rows if r.shape is not None and math.isfinite(r.max_rel)), default=0.0)
        head = (f"{'PASS' if self.ok else 'FAIL'}: {len(self.rows) - len(self.failures_rows())} of {len(self.rows)} "
                f"tensors agree ({self.dtype}, rtol {self.rtol:g}); {n_exact} bit-exact; "
                f"largest relative error {_fmt(worst)}")
        if not self.ok:
            head += "\nfailing: " + ", ".join(self.failures)
        return head

    def failures_rows(self) -> list[Row]:
        return [r for r in self.rows if not r.ok]

    def __str__(self) -> str:
        lines = [self.title, ""]
        sections: dict[str, list[Row]] = {}
        for r in self.rows:
            sections.setdefault(r.section, []).append(r)
        for name, rows in sections.items():
            if name:
                lines.append(f"[{name}]")
            lines += _table(_HEADER, [_row_cells(r) for r in rows])
            lines.append("")
        if self.invariants:
            lines.append("[attention invariants, per head (relative to the head's scale; 0 up to rounding)]")
            lines += _table(_INV_HEADER, [_inv_cells(r) for r in self.invariants])
            lines.append("")
        lines += [textwrap.fill(line, 118, subsequent_indent="  ") for line in self.footer]
        lines.append(self.summary())
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Comparison: {self.summary().splitlines()[0]}>"

    def _repr_html_(self) -> str:
        def cells(values: tuple[str, ...], bad: bool, tag: str = "td") -> str:
            style = ' style="color:#b00020;font-weight:bold"' if bad else ""
            return "<tr>" + "".join(f"<{tag}{style if i == len(values) - 1 else ''}>{html.escape(v)}</{tag}>"
                                    for i, v in enumerate(values)) + "</tr>"

        parts = [f"<h4>{html.escape(self.title)}</h4>"]
        sections: dict[str, list[Row]] = {}
        for r in self.rows:
            sections.setdefault(r.section, []).append(r)
        for name, rows in sections.items():
            if name:
                parts.append(f"<p><b>{html.escape(name)}</b></p>")
            body = "".join(cells(_row_cells(r), not r.ok) for r in rows)
            parts.append(f"<table><thead>{cells(_HEADER, False, 'th')}</thead><tbody>{body}</tbody></table>")
        if self.invariants:
            parts.append("<p><b>attention invariants, per head</b> "
                         "(relative to the head's scale; 0 up to rounding)</p>")
            body = "".join(cells(_inv_cells(r), not r.ok) for r in self.invariants)
            parts.append(f"<table><thead>{cells(_INV_HEADER, False, 'th')}</thead><tbody>{body}</tbody></table>")
        parts += [f"<p>{html.escape(line)}</p>" for line in self.footer if line]
        color = "#1b5e20" if self.ok else "#b00020"
        parts.append(f'<p style="color:{color}"><b>{html.escape(self.summary())}</b></p>')
        return "\n".join(parts)


def _compare_one(name: str, kind: str, manual: Any, engine: Any, rtol: float, section: str) -> Row:
    if manual is None or engine is None:
        note = "missing in " + ("manual and engine" if manual is None and engine is None
                                else "manual" if manual is None else "engine")
        return Row(name, kind, None, False, False, math.nan, math.nan, False, section, note)
    m, e = np.asarray(manual), np.asarray(engine)
    if m.shape != e.shape:
        return Row(name, kind, e.shape, False, False, math.nan, math.nan, False, section,
                   f"shape {m.shape} vs engine {e.shape}")
    exact = bool(np.array_equal(m, e))
    finite = bool(np.isfinite(m).all() and np.isfinite(e).all())
    max_abs = float(np.abs(m - e).max()) if m.size else 0.0
    rel = rel_err(m, e) if finite else math.nan
    scale = float(np.abs(e).max()) if e.size and finite else 0.0
    approx = finite and bool(np.allclose(m, e, rtol=rtol, atol=rtol * scale))
    ok = finite and (exact or rel <= rtol)
    return Row(name, kind, e.shape, exact, approx, max_abs, rel, ok, section, "" if finite else "not finite")


def compare_tensors(
    manual: Mapping[str, Any], engine: Mapping[str, Any], rtol: float | None = None, kind: str = "",
    section: str = "", title: str = "manual vs engine", footer: list[str] | None = None,
    kinds: Mapping[str, str] | None = None,
) -> Comparison:
    """Compare two dicts of arrays by name (the union of the names, manual's order first). ``kind``
    labels every row (``kinds`` per name overrides it); ``rtol`` defaults to `default_rtol` of the
    first array's dtype."""
    names = list(manual) + [n for n in engine if n not in manual]
    first = next((np.asarray(v) for v in [*manual.values(), *engine.values()] if v is not None), np.zeros(0))
    dtype = first.dtype if first.dtype.kind == "f" else np.dtype(np.float64)
    rtol = default_rtol(dtype) if rtol is None else rtol
    rows = [_compare_one(n, (kinds or {}).get(n, kind), manual.get(n), engine.get(n), rtol, section) for n in names]
    if footer is None:
        footer = [f"tolerance ({dtype}): a tensor passes if bit-exact or max rel err = max|manual − engine| / "
                  f"max|engine| ≤ {rtol:g}; approx = allclose(rtol={rtol:g}, atol={rtol:g}·max|engine|)."]
    return Comparison(rows, rtol, str(dtype), footer=list(footer), title=title)


# ------------------------------------------------------------------------------ the engine side


@dataclass
class EngineGradients:
    """The engine's loss, logits, parameter gradients (trainable parameters) and intermediate Δs."""

    loss: np.ndarray
    logits: np.ndarray
    grads: dict[str, np.ndarray | None]
    deltas: dict[str, np.ndarray | None]


def engine_gradients(model: nn.GPT, idx: np.ndarray, targets: np.ndarray) -> EngineGradients:
    """Run the engine's ``nn.GPT`` forward and backward with the named points of its forward recorded
    (``nn.record``: the points ``GPT.forward``, ``Block.forward`` and ``CausalSelfAttention.forward`` tap,
    by the names of `delta_names`), and read the gradient reaching each.

    A tapped output that needs no gradient (a LoRA model: the embeddings are frozen) is recorded as a
    leaf with the same values that requires one, so the engine carries Δ through the frozen layers
    too (the values, hence the loss, are unchanged). A fused model runs as the composed one
    (`fused.composed`): the manual path is compared with the engine's own differentiation. The
    model's ``.grad`` tensors are restored afterwards.
    """
    ids, t = np.asarray(idx), np.asarray(targets)
    params = list(model.named_parameters())
    saved = {name: p.grad for name, p in params}
    try:
        model.zero_grad()
        with composed(model), nn.record() as kept:
            logits, loss = model(ids, t)
        loss.backward()
        grads = {name: _array(p.grad) for name, p in params if p.requires_grad}
        deltas = {name: (_array(kept[name].grad) if name in kept else None) for name in delta_names(len(model.h))}
        return EngineGradients(_array(loss), _array(logits), grads, deltas)
    finally:
        for name, p in params:
            p.grad = saved[name]


def _array(t: Any) -> np.ndarray | None:
    """A tensor's values as an array of its own (None stays None)."""
    return None if t is None else t.detach().numpy().copy()


# ------------------------------------------------------------------------------------- the report


def _invariant_rows(source: str, inv: Mapping[str, list[dict[str, Any]]], tol: float) -> list[InvariantRow]:
    rows = []
    for layer, heads in inv.items():
        for h in heads:
            ok = bool(h["masked_zero"]) and max(h["rowsum"], h["db_k"], h["db_v"]) <= tol
            rows.append(InvariantRow(source, layer, int(h["head"]), h["rowsum"], bool(h["masked_zero"]), h["db_k"],
                                     h["db_v"], ok))
    return rows


def _exact_summary(rows: list[Row]) -> str:
    """The bit-exact rows, with the block index collapsed: ``h.*.attn.c_proj.weight`` (or ``(1/2)``)."""
    total: dict[str, int] = {}
    exact: dict[str, int] = {}
    for r in rows:
        pattern = re.sub(r"^h\.\d+\.", "h.*.", r.name)
        total[pattern] = total.get(pattern, 0) + 1
        exact[pattern] = exact.get(pattern, 0) + r.exact
    names = [p if exact[p] == total[p] else f"{p} ({exact[p]}/{total[p]})" for p in total if exact[p]]
    return f"{sum(exact.values())} of {len(rows)} tensors: " + (", ".join(names) if names else "none")


def compare(
    model: Any, idx: np.ndarray, targets: np.ndarray, rtol: float | None = None, layer_by_layer: bool = True,
) -> Comparison:
    """The whole check of an ``nn.GPT``: `gpt_backward` against `engine_gradients` on one batch.

    Rows, end to end: every trainable parameter's gradient, then every intermediate Δ. With
    ``layer_by_layer`` a second set of rows repeats the manual backward fed the engine's upstream Δ at
    every layer boundary, which shows each layer's own exactness. Then the attention invariants of
    both paths (rows of Δ_S sum to 0 and its masked entries are exactly 0; ∂b_k = 0; ∂b_v = Σ_rows Δ,
    all "up to rounding" meaning ≤ √eps relative), and a footer stating where the paths are bit-exact.
    The model is put in eval mode (dropout off) for the check and restored afterwards.
    """
    was_training = model.training
    model.eval()
    try:
        P = read_gpt(model)
        manual: ManualGradients = gpt_backward(P, idx, targets)
        engine = engine_gradients(model, idx, targets)
        local = gpt_backward(P, idx, targets, upstream={k: v for k, v in engine.deltas.items() if v is not None}) \
            if layer_by_layer else None
    finally:
        model.train(was_training)
    dtype = P.dtype
    rtol = default_rtol(dtype) if rtol is None else rtol
    rows: list[Row] = []
    sections = [("end to end", manual)] + ([("layer by layer", local)] if local is not None else [])
    for section, result in sections:
        assert result is not None
        grads = compare_tensors(result.grads, engine.grads, rtol, "param", section)
        deltas = compare_tensors(result.deltas, engine.deltas, rtol, "Δ", section)
        rows += grads.rows + deltas.rows
    inv_tol = math.sqrt(float(np.finfo(dtype).eps))
    invariants = _invariant_rows("manual", manual.invariants(), inv_tol)
    engine_deltas = {k: v for k, v in engine.deltas.items() if v is not None}
    engine_grads = {k: v for k, v in engine.grads.items() if v is not None}
    invariants += _invariant_rows("engine", gradient_invariants(engine_deltas, engine_grads, P), inv_tol)
    loss_exact = bool(np.array_equal(manual.loss, engine.loss))
    footer = [
        f"loss: manual {float(manual.loss)!r}, engine {float(engine.loss)!r} "
        f"({'bit-identical' if loss_exact else 'DIFFERENT'}: the forwards are the same operations)",
        f"tolerance ({np.dtype(dtype).name}): a tensor passes if bit-exact or max rel err = max|manual − engine| / "
        f"max|engine| ≤ {rtol:g}; approx = allclose(rtol={rtol:g}, atol={rtol:g}·max|engine|). Invariants pass "
        f"at ≤ √eps = {inv_tol:.1e} relative, masked entries exactly 0.",
        EXACTNESS_NOTE,
    ]
    if layer_by_layer:
        footer.append("bit-exact layer by layer: " + _exact_summary([r for r in rows if r.section == "layer by layer"]))
    result = Comparison(rows, rtol, np.dtype(dtype).name, invariants, footer,
                        title=f"manual vs engine gradients: GPT n_layer={P.n_layer} n_head={P.n_head} "
                              f"activation={P.activation}, batch {tuple(np.shape(idx))}"
                              + (f", LoRA on {', '.join(P.lora)}" if P.lora else ""))
    if not loss_exact:
        result.rows.append(Row("loss", "loss", (), False, False, abs(float(manual.loss) - float(engine.loss)),
                               rel_err(np.asarray(manual.loss), np.asarray(engine.loss)), False, "end to end",
                               "forward differs"))
    return result
