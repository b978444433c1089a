"""Backprop exercises that grade themselves: the learner writes a gradient, the engine checks it.

In the style of makemore's "backprop ninja": each exercise fixes its inputs (seeded, float64) and runs
the forward; the learner derives the backward by hand in NumPy, and the grader compares every answer
with the *engine's* gradient (the same forward built from tinygrad_tx `Value` s or `Tensor` s, with
``retain_grad()`` on the intermediates, then ``backward()``)::

    ex = manual.exercise("mlp")          # the given arrays: ex.W1, ex.z0, ...; print(ex) lists them
    dz2 = ex.z2 - ex.y                   # ... the learner's derivation ...
    manual.check_exercise("mlp", dz2=dz2, dW2=dW2, ...)    # or ex.check(dz2=dz2, ...)

Exercises (`EXERCISES`): ``gates`` (add distributes, mul swaps, max routes; a tie splits ½ / ½),
``staged_f`` (CS231n's f(x, y) stage by stage), ``mlp`` (the ReLU-MLP matrix recursion),
``softmax_ce`` (softmax + cross-entropy in one step), ``layernorm``, ``attention`` (one causal head),
``lora`` (``nn.LoRALinear``'s two factors; the frozen W₀ gets no gradient).

Verdicts, one row per answer (`VERDICTS`):

- ``exact``: bit-identical to the engine's gradient (``np.array_equal``, the same shape; ``+0`` and
  ``−0`` count as equal).
- ``approximate``: the same shape and ``max|answer − engine| ≤ APPROX_TOL · (1 + max|engine|)`` with
  ``APPROX_TOL = 1e-10``: float64 rounding of another (correct) order of operations is ~1e-16
  relative, a real mistake is of order 1. The ``1 +`` keeps the test meaningful for a gradient that
  is 0 or tiny (it is then an absolute 1e-10), where a purely relative test would demand bits.
- ``wrong``: anything else: another shape, a value off by more than the tolerance, nan/inf, not a
  number.
- ``missing``: ``None`` or ``...`` (what the blank notebooks start from), or not passed at all.

A gradient that does not exist (the frozen ``W₀`` of ``lora``: ``requires_grad=False``, so the engine's
``.grad`` is None) is answered with ``None``: that row is ``exact`` for ``None``, ``missing`` for ``...``,
and ``wrong`` for an array.

Every wrong answer gets a hint (`hint`; the table shows the first wrong one's: the rows are in the
order of the backward pass, so the first wrong answer is the one to fix, and the later ones may only
inherit its mistake). The grader tries, in order:

1. nan or inf in the answer;
2. a shape mismatch (both shapes are named) that is a transpose, a kept or dropped singleton dim, a sum
   still to be taken over a broadcast axis, a sum over the wrong axis, or a sum over an axis that the
   gradient keeps;
3. for the right shape: transposed (``answer.T`` matches); right to float32 precision only; close
   to the truth (at ``HINT_TOL``) but outside ``APPROX_TOL``; one of
   the exercise's known mistakes (a forgotten ReLU mask, the softmax of the unmasked scores, ...); a
   missing term (the answer is some of the contributions to a gradient that has several, e.g. the
   staged f's ``dx`` through ``xpy`` alone, or the frozen path of LoRA's ``dx`` alone) or a term
   counted twice; off by a factor ``c``
   (``answer ≈ c · truth``; ``c = −1`` is the wrong sign; ``c`` is named when it is one of the
   exercise's constants, such as ``N`` or ``√d_h``; for a scalar, where every answer is a multiple, only
   −1, a constant or a small fraction counts; an answer of all zeros is said to be one); a sum over the
   wrong axis.

The hints compare at ``HINT_TOL = 1e-8`` in the same ``(1 + max|·|)`` form: looser than ``APPROX_TOL``
because a factor is estimated by least squares and a planted mistake rounds differently. An answer in a
lower precision is compared at 100 units of its last place instead (float32: 1.2e-5), or its rounding
would hide the mistake it makes.

`check_exercise` returns an `ExerciseResult`: truthy iff every row passes (exact or approximate), with
``.rows`` (`AnswerRow` s), ``.first_wrong`` and ``.passed``; ``print(result)`` shows a text table, and in
Jupyter it renders as an HTML table.
"""

from __future__ import annotations

import functools
import html
import itertools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from .. import nn
from .._random import get_rng_state, set_rng_state
from ..scalar import Value
from ..tensor import Tensor

__all__ = [
    "APPROX_TOL", "HINT_TOL", "VERDICTS", "EXERCISES", "Exercise", "Answer", "AnswerRow", "ExerciseResult",
    "exercise", "check_exercise", "hint",
]

APPROX_TOL = 1e-10
HINT_TOL = 1e-8
VERDICTS = ("exact", "approximate", "wrong", "missing")


@dataclass(frozen=True)
class Answer:
    """One gradient the learner writes: its name, what it is, and the exercise's knowledge of its mistakes.

    ``terms``: the contributions that sum to it (one per path, for a tensor with several consumers).
    ``why_terms`` says why all of them belong (shown with a missing term).
    ``mistakes``: ``(description, value)`` of known wrong answers. ``reduced_from``: ``(array, axes,
    keepdims)`` when the gradient is a sum of ``array`` over ``axes`` (a broadcast input's gradient).
    """

    name: str
    what: str
    truth: np.ndarray | None
    terms: Mapping[str, np.ndarray] = field(default_factory=dict)
    mistakes: tuple[tuple[str, np.ndarray], ...] = ()
    reduced_from: tuple[np.ndarray, tuple[int, ...], bool] | None = None
    why_terms: str = "a variable used more than once gets the sum of its paths' gradients, +="

    @property
    def shape(self) -> tuple[int, ...] | None:
        return None if self.truth is None else tuple(self.truth.shape)


@dataclass
class AnswerRow:
    """One graded answer: ``verdict`` is one of `VERDICTS`; ``max_abs`` is ``max|answer − engine|``
    (nan when it cannot be computed); ``hint`` names the mistake of a wrong answer."""

    name: str
    shape: tuple[int, ...] | None
    verdict: str
    max_abs: float
    hint: str = ""

    @property
    def passed(self) -> bool:
        return self.verdict in ("exact", "approximate")


def _fmt(x: float) -> str:
    return "-" if math.isnan(x) else "0" if x == 0 else f"{x:.2e}"


@dataclass
class ExerciseResult:
    """What `check_exercise` returns: truthy iff every answer passed."""

    exercise: str
    rows: list[AnswerRow]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.rows)

    def __bool__(self) -> bool:
        return self.passed

    @property
    def first_wrong(self) -> AnswerRow | None:
        """The first row (in the order of the backward pass) that is wrong; missing rows are skipped."""
        return next((r for r in self.rows if r.verdict == "wrong"), None)

    def summary(self) -> str:
        counts = {v: sum(r.verdict == v for r in self.rows) for v in VERDICTS}
        n = len(self.rows)
        if self.passed:
            return (f"all passed: {n} of {n} answers agree with the engine "
                    f"({counts['exact']} exact, {counts['approximate']} approximate)")
        parts = [f"not yet: {counts['exact'] + counts['approximate']} of {n} passed"]
        for verdict in ("wrong", "missing"):
            names = [r.name for r in self.rows if r.verdict == verdict]
            if names:
                parts.append(f"{verdict}: {', '.join(names)}")
        return "; ".join(parts)

    def _cells(self) -> list[tuple[str, str, str, str, str]]:
        first = self.first_wrong
        return [(r.name, "-" if r.shape is None else str(r.shape), r.verdict, _fmt(r.max_abs),
                 r.hint if r is first else "") for r in self.rows]

    def __str__(self) -> str:
        header = ("answer", "shape", "verdict", "max |Δ|", "hint")
        cells = self._cells()
        widths = [max(len(header[i]), *(len(c[i]) for c in cells)) for i in range(4)]
        lines = [f"exercise {self.exercise!r}: your gradients vs the engine's",
                 " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " | hint",
                 "-+-".join("-" * w for w in widths) + "-+-----"]
        lines += [" | ".join(c[i].ljust(widths[i]) for i in range(4)) + (f" | {c[4]}" if c[4] else " |")
                  for c in cells]
        lines += [_TOLERANCE_NOTE, self.summary()]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        colors = {"exact": "#1b5e20", "approximate": "#2e7d32", "wrong": "#b00020", "missing": "#9e6a00"}
        head = "".join(f'<th style="text-align:left">{h}</th>' for h in ("answer", "shape", "verdict", "max |Δ|",
                                                                         "hint"))
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cell[:2])
            + f'<td style="color:{colors[row.verdict]};font-weight:bold">{row.verdict}</td>'
            + "".join(f"<td>{html.escape(c)}</td>" for c in cell[3:]) + "</tr>"
            for row, cell in zip(self.rows, self._cells()))
        color = "#1b5e20" if self.passed else "#b00020"
        return (f"<p><b>exercise {html.escape(repr(self.exercise))}</b>: your gradients vs the engine's</p>"
                f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
                f"<p>{html.escape(_TOLERANCE_NOTE)}</p>"
                f'<p style="color:{color}"><b>{html.escape(self.summary())}</b></p>')


_TOLERANCE_NOTE = (f"exact = bit-identical; approximate = max |answer − engine| ≤ {APPROX_TOL:g} · (1 + max |engine|) "
                   "(float64)")


# ----------------------------------------------------------------------------------------- hints


def _close(a: np.ndarray, b: np.ndarray, tol: float = HINT_TOL) -> bool:
    """``max|a − b| ≤ tol · (1 + max|b|)``, for the same shape, all finite."""
    if a.shape != b.shape or not (np.isfinite(a).all() and np.isfinite(b).all()):
        return False
    if a.size == 0:
        return True
    return float(np.abs(a - b).max()) <= tol * (1.0 + float(np.abs(b).max()))


def _hint_tol(dtype: np.dtype) -> float:
    """The tolerance the hints compare an answer of ``dtype`` at: `HINT_TOL`, or 100 units of its last place for
    a lower precision (float32: 1.2e-5), so that a float32 answer that is scaled or transposed is still
    recognised as such (at 1e-8 its rounding hid every relation, and the hint said there was none)."""
    return max(HINT_TOL, 100 * float(np.finfo(dtype).eps)) if np.dtype(dtype).kind == "f" else HINT_TOL


def _describe_factor(c: float, constants: Mapping[str, float]) -> str:
    for label, value in constants.items():
        if math.isclose(c, value, rel_tol=1e-6):
            return f"{c:.6g} (= {label})"
    frac = Fraction(c).limit_denominator(64)
    if math.isclose(c, float(frac), rel_tol=1e-6) and frac.denominator > 1:
        return f"{c:.6g} (= {frac})"
    return f"{c:.6g}"


def _recognisable(c: float, constants: Mapping[str, float]) -> bool:
    """``c`` is −1, one of the exercise's constants, or a small fraction p/q (|p| ≤ 8, q ≤ 4)."""
    if any(math.isclose(c, value, rel_tol=1e-6) for value in constants.values()):
        return True
    frac = Fraction(c).limit_denominator(4)
    return abs(frac.numerator) <= 8 and math.isclose(c, float(frac), rel_tol=1e-6)


def _sum_candidates(a: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """Every sum of ``a`` over one axis (keepdims or not) and over all axes."""
    out = []
    for axis in range(a.ndim):
        out.append((f"axis={axis}", a.sum(axis=axis)))
        out.append((f"axis={axis}, keepdims=True", a.sum(axis=axis, keepdims=True)))
    if a.ndim > 1:
        out.append(("all axes", np.asarray(a.sum())))
    return out


def _axes_text(axes: tuple[int, ...], keepdims: bool) -> str:
    ax = axes[0] if len(axes) == 1 else axes
    return f".sum(axis={ax}" + (", keepdims=True)" if keepdims else ")")


def hint(answer: np.ndarray, spec: Answer, constants: Mapping[str, float] | None = None) -> str:
    """Name the mistake in a wrong ``answer`` to ``spec`` (its truth not None), or say that none was found."""
    constants = constants or {}
    tol = _hint_tol(answer.dtype)
    truth = spec.truth
    assert truth is not None
    name = spec.name
    if not np.isfinite(answer).all():
        return "contains nan or inf"
    if answer.shape != truth.shape:
        return _shape_hint(answer, spec, tol)
    if truth.ndim >= 2 and not _close(truth.T, truth, tol) and _close(answer.T, truth, tol):
        return f"transposed: {name}.T matches; a gradient has the shape of its variable, {truth.shape}"
    if answer.dtype.itemsize < 8 and _close(answer.astype(np.float64), truth, tol):
        return f"right to {answer.dtype} precision only: compute in float64"
    if _close(answer, truth, tol):  # (not within APPROX_TOL, or it would not be wrong: a factor c would read "c = 1")
        gap = float(np.abs(answer - truth).max())
        bound = APPROX_TOL * (1.0 + float(np.abs(truth).max()))
        return (f"close, but outside the tolerance: max|answer − engine| = {gap:.3g} > APPROX_TOL · (1 + "
                f"max|engine|) = {bound:.3g}; a correct formula in float64 is off by ~1e-16 relative, so look for "
                "a step in lower precision or an approximation (a finite difference?)")
    for description, value in spec.mistakes:
        if _close(answer, value, tol):
            return description
    terms = list(spec.terms.items())
    for size in range(1, len(terms)):
        for subset in itertools.combinations(terms, size):
            if _close(answer, sum((v for _, v in subset), np.zeros_like(truth))):
                have = ", ".join(label for label, _ in subset)
                missing = ", ".join(label for label, _ in terms if all(label != s for s, _ in subset))
                return f"missing a term: the answer is the contribution {have} only; add {missing} ({spec.why_terms})"
    for label, value in terms:
        if _close(answer, truth + value, tol):
            return f"a term counted twice: the answer is the truth plus the contribution {label} again"
    tt = float(np.vdot(truth, truth))
    if tt == 0.0:
        return "the gradient is exactly 0 here, but the answer is not"
    if not answer.any():  # (0 · truth: "not scaled" below would be false)
        where = " everywhere" if truth.ndim else ""
        return (f"the answer is 0{where}, but the gradient is not: is the upstream gradient reaching it (a path "
                "left out, a mask that removes everything)?")
    c = float(np.vdot(answer, truth)) / tt
    # every number is a multiple of a scalar truth: there a factor is named only if it is a recognisable one
    if c != 0.0 and _close(answer, c * truth, tol) and (truth.size > 1 or _recognisable(c, constants)):
        if math.isclose(c, -1.0, rel_tol=1e-6):
            return "wrong sign: −answer matches"
        return f"off by a factor: answer ≈ c · truth with c = {_describe_factor(c, constants)}"
    if spec.reduced_from is not None:
        wrong_axis = _wrong_axis(answer, spec, tol)
        if wrong_axis:
            return wrong_axis
    worst = np.unravel_index(int(np.abs(answer - truth).argmax()), truth.shape) if truth.ndim else ()
    where = f" (largest difference at index {tuple(int(i) for i in worst)})" if truth.ndim else ""
    return ("no simple relation found: not transposed, scaled, negated or a partial sum of the paths; "
            f"re-derive it{where}")


def _wrong_axis(answer: np.ndarray, spec: Answer, tol: float) -> str:
    assert spec.reduced_from is not None
    unreduced, axes, keepdims = spec.reduced_from
    for label, value in _sum_candidates(unreduced):
        if _close(answer, value, tol):
            return (f"summed over the wrong axis: the answer is the sum over {label}; the gradient of a "
                    f"broadcast variable is the sum over the axes it was broadcast along: {_axes_text(axes, keepdims)}")
    return ""


def _shape_hint(answer: np.ndarray, spec: Answer, tol: float) -> str:
    truth = spec.truth
    assert truth is not None
    name = spec.name
    mismatch = f"shape mismatch: the answer is {answer.shape}, the gradient {truth.shape}"
    if answer.T.shape == truth.shape and _close(answer.T, truth, tol):
        return f"transposed: {name}.T matches ({mismatch})"
    if answer.size == truth.size and _close(answer.reshape(truth.shape), truth, tol):
        if [d for d in answer.shape if d != 1] == [d for d in truth.shape if d != 1]:
            return f"{mismatch}, but the numbers are right: a singleton dim kept or dropped (keepdims / reshape)"
        return f"{mismatch}, but the numbers are right in another layout: reshaped instead of transposed?"
    if spec.reduced_from is not None:
        unreduced, axes, keepdims = spec.reduced_from
        if answer.shape == unreduced.shape and _close(answer, unreduced, tol):
            ax = axes[0] if len(axes) == 1 else axes
            return (f"{mismatch}: not summed yet; the variable was broadcast along axis {ax}, so its gradient is "
                    f"the sum of the upstream gradient over it: {_axes_text(axes, keepdims)}")
        wrong = _wrong_axis(answer, spec, tol)
        if wrong:
            return f"{mismatch}; {wrong}"
    for label, value in _sum_candidates(answer):
        if _close(value, truth, tol):
            return (f"{mismatch}: the answer summed over {label} matches: the variable was broadcast along "
                    "that axis, so sum its gradient over it")
    for label, value in _sum_candidates(truth):
        if _close(answer, value, tol):
            kept = "those axes" if label == "all axes" else "that axis"
            return f"{mismatch}: the answer is the gradient summed over {label}: {kept} must be kept"
    return f"{mismatch} (a gradient has the shape of its variable)"


# ------------------------------------------------------------------------------------- exercises


@dataclass
class Exercise:
    """One exercise: the ``given`` values (read them as ``ex.name`` too), the ``answers`` to write, in the
    order of the backward pass, and `check`."""

    name: str
    title: str
    given: dict[str, Any]
    answers: list[Answer]
    constants: dict[str, float] = field(default_factory=dict)

    def __getattr__(self, key: str) -> Any:
        given = self.__dict__.get("given", {})
        if key in given:
            value = given[key]
            return value.copy() if isinstance(value, np.ndarray) else value
        raise AttributeError(f"exercise {self.__dict__.get('name')!r} gives no {key!r}; it gives: "
                             f"{', '.join(given)}")

    @property
    def answer_names(self) -> list[str]:
        return [a.name for a in self.answers]

    def check(self, **answers: Any) -> ExerciseResult:
        """Grade ``answers`` (by name; a name not passed is missing). Unknown names raise ValueError."""
        unknown = [k for k in answers if k not in self.answer_names]
        if unknown:
            raise ValueError(f"exercise {self.name!r}: unknown answer(s) {', '.join(map(repr, unknown))}; "
                             f"the answers are: {', '.join(self.answer_names)}")
        rows = [_grade(spec, answers.get(spec.name, ...), self.constants) for spec in self.answers]
        return ExerciseResult(self.name, rows)

    def _lines(self) -> tuple[list[str], list[str]]:
        given = [f"{k}: {_describe_value(v)}" for k, v in self.given.items()]
        todo = [f"{a.name}: {a.what}, shape {a.shape if a.shape is not None else '- (None: no gradient)'}"
                for a in self.answers]
        return given, todo

    def __repr__(self) -> str:
        given, todo = self._lines()
        return "\n".join([f"exercise {self.name!r}: {self.title}", "given:"] + [f"  {g}" for g in given]
                         + ["compute:"] + [f"  {t}" for t in todo])

    def _repr_html_(self) -> str:
        given, todo = self._lines()
        items = "".join(f"<li><code>{html.escape(g)}</code></li>" for g in given)
        todos = "".join(f"<li><code>{html.escape(t)}</code></li>" for t in todo)
        return (f"<p><b>exercise {html.escape(repr(self.name))}</b>: {html.escape(self.title)}</p>"
                f"<p>given:</p><ul>{items}</ul><p>compute:</p><ul>{todos}</ul>")


def _describe_value(v: Any) -> str:
    if isinstance(v, np.ndarray):
        return f"array {v.shape} {v.dtype}"
    if isinstance(v, float):
        return f"{v!r}"
    return repr(v)


def _as_array(answer: Any) -> np.ndarray | str:
    """The answer as a float array, or the reason it cannot be one. A number, a list, a NumPy array or scalar,
    a tinygrad_tx `Tensor` or a torch tensor (one that requires grad too) is read as its numbers."""
    if isinstance(answer, Value):
        return f"a Value ({answer!r}): answer with a number (its gradient, not the node)"
    if isinstance(answer, Tensor):
        answer = answer.detach().numpy()
    elif type(answer).__module__.startswith("torch") and callable(getattr(answer, "detach", None)):
        answer = answer.detach().cpu()  # (NumPy cannot read a torch tensor that requires grad)
    try:
        arr = np.asarray(answer)
    except Exception as e:  # noqa: BLE001 (any object: report it, never crash the notebook)
        return f"not an array ({type(answer).__name__}: {e})"
    if arr.dtype.kind not in "biuf":
        return f"not a number or an array of numbers (got {type(answer).__name__}, dtype {arr.dtype})"
    return arr if arr.dtype.kind == "f" else arr.astype(np.float64)


def _grade(spec: Answer, answer: Any, constants: Mapping[str, float]) -> AnswerRow:
    is_blank = answer is None or answer is ...
    if spec.truth is None:  # no gradient exists: the answer is None
        if answer is None:
            return AnswerRow(spec.name, None, "exact", 0.0)
        if answer is ...:
            return AnswerRow(spec.name, None, "missing", math.nan)
        return AnswerRow(spec.name, None, "wrong", math.nan,
                         f"{spec.name} gets no gradient: {spec.what}; answer None")
    if is_blank:
        return AnswerRow(spec.name, spec.shape, "missing", math.nan)
    arr = _as_array(answer)
    if isinstance(arr, str):
        return AnswerRow(spec.name, spec.shape, "wrong", math.nan, arr)
    truth = spec.truth
    if arr.shape == truth.shape and np.array_equal(arr, truth):
        return AnswerRow(spec.name, spec.shape, "exact", 0.0)
    max_abs = float(np.abs(arr - truth).max()) if arr.shape == truth.shape and arr.size else math.nan
    if arr.shape == truth.shape and _close(arr, truth, APPROX_TOL):
        return AnswerRow(spec.name, spec.shape, "approximate", max_abs)
    return AnswerRow(spec.name, spec.shape, "wrong", max_abs, hint(arr, spec, constants))


# -------------------------------------------------------------------------------- the exercises


def _grad(t: Tensor) -> np.ndarray:
    assert t.grad is not None
    return t.grad.detach().numpy().copy()


def _leaf(a: np.ndarray) -> Tensor:
    return Tensor(np.array(a, dtype=np.float64), requires_grad=True)


def _gates() -> Exercise:
    x, y, z, w, u, v = (Value(d) for d in (3.0, -4.0, 2.0, -1.0, 1.5, 1.5))
    q = x * y  # mul
    m = z.max(w)  # max, z wins
    s = q + m  # add
    t = u.max(v)  # max at a tie
    L = s * 2.0 + t
    L.backward()
    g = {n: np.asarray(val.grad) for n, val in dict(s=s, q=q, m=m, t=t, x=x, y=y, z=z, w=w, u=u, v=v).items()}
    given = dict(x=x.data, y=y.data, z=z.data, w=w.data, u=u.data, v=v.data, q=q.data, m=m.data, s=s.data,
                 t=t.data, L=L.data)
    tie = (("at a tie the gradient is split, ½ to each input (Value.max), not given whole to both", g["t"]),
           ("u == v is a tie: neither input wins, and each gets ½ of the gradient (Value.max)", np.asarray(0.0)))
    swap = "mul swaps: ∂(x·y)/∂x = y, so dx = y · dq (the other input times the upstream gradient)"
    answers = [
        Answer("ds", "dL/ds (L = 2·s + t)", g["s"]),
        Answer("dt", "dL/dt", g["t"]),
        Answer("dq", "dL/dq: add distributes (s = q + m)", g["q"],
               mistakes=(("add distributes the upstream gradient unchanged: dq = ds, not ds / 2", g["s"] / 2),)),
        Answer("dm", "dL/dm: add distributes", g["m"]),
        Answer("dx", "dL/dx: mul swaps (q = x·y)", g["x"], mistakes=((swap, g["q"] * x.data),)),
        Answer("dy", "dL/dy: mul swaps", g["y"], mistakes=((swap.replace("∂x = y", "∂y = x").replace(
            "dx = y", "dy = x"), g["q"] * y.data),)),
        Answer("dz", "dL/dz: max routes to the winner (m = max(z, w), z > w)", g["z"],
               mistakes=(("max routes the whole gradient to the winner, and z > w: dz = dm", np.asarray(0.0)),)),
        Answer("dw", "dL/dw: the loser of the max", g["w"],
               mistakes=(("max routes the whole gradient to the winner (z); the loser w gets exactly 0", g["m"]),)),
        Answer("du", "dL/du: a tie (t = max(u, v), u == v) splits the gradient", g["u"], mistakes=tie),
        Answer("dv", "dL/dv: the other side of the tie", g["v"], mistakes=tie),
    ]
    return Exercise("gates", "L = 2·(x·y + max(z, w)) + max(u, v) on Values: add, mul, max", given, answers)


def _staged_f() -> Exercise:
    x, y = Value(3.0), Value(-4.0)
    sigy = y.sigmoid()
    num = x + sigy
    sigx = x.sigmoid()
    xpy = x + y
    xpysqr = xpy**2.0
    den = sigx + xpysqr
    f = num / den
    f.backward()
    stages = dict(sigy=sigy, num=num, sigx=sigx, xpy=xpy, xpysqr=xpysqr, den=den)
    given: dict[str, Any] = {"x": x.data, "y": y.data} | {k: v.data for k, v in stages.items()} | {"f": f.data}
    g = {k: np.asarray(v.grad) for k, v in (stages | {"x": x, "y": y}).items()}
    dsig_x = np.asarray((1.0 - sigx.data) * sigx.data * g["sigx"])
    dsig_y = np.asarray((1.0 - sigy.data) * sigy.data * g["sigy"])
    answers = [
        Answer("dnum", "df/dnum (f = num / den)", g["num"]),
        Answer("dden", "df/dden", g["den"],
               mistakes=(("d(num/den)/dden = −num/den² = −f/den: the numerator is missing (−1/den²)",
                          np.asarray(-1.0 / den.data**2)),)),
        Answer("dsigx", "df/dsigx (den = sigx + xpysqr)", g["sigx"]),
        Answer("dxpysqr", "df/dxpysqr", g["xpysqr"]),
        Answer("dxpy", "df/dxpy (xpysqr = xpy²)", g["xpy"]),
        Answer("dsigy", "df/dsigy (num = x + sigy)", g["sigy"]),
        Answer("dx", "df/dx: x feeds num, sigx and xpy (three contributions, +=)", g["x"],
               terms={"through xpy": g["xpy"], "through σ(x)": dsig_x, "through num": g["num"]}),
        Answer("dy", "df/dy: y feeds sigy and xpy (two contributions, +=)", g["y"],
               terms={"through xpy": g["xpy"], "through σ(y)": dsig_y}),
    ]
    return Exercise("staged_f", "f(x, y) = (x + σ(y)) / (σ(x) + (x + y)²) at (3, −4), stage by stage", given, answers)


def _mlp() -> Exercise:
    rng = np.random.default_rng(3)
    sizes, N = [4, 6, 5, 3], 8
    W = [rng.standard_normal((n_out, n_in)) / np.sqrt(n_in) for n_in, n_out in zip(sizes, sizes[1:])]
    b = [rng.standard_normal((n_out, 1)) * 0.5 for n_out in sizes[1:]]
    x, y = rng.standard_normal((sizes[0], N)), rng.standard_normal((sizes[-1], N))
    Wt, bt, xt = [_leaf(w) for w in W], [_leaf(v) for v in b], _leaf(x)
    h, z = [xt], []
    for layer in range(3):
        z.append(bt[layer] + Wt[layer] @ h[-1])
        z[-1].retain_grad()
        if layer < 2:
            h.append(z[-1].relu())
            h[-1].retain_grad()
    diff = z[-1] - Tensor(y)
    (0.5 * (diff * diff).sum()).backward()
    zs = [t.detach().numpy() for t in z]
    hs = [x] + [t.detach().numpy() for t in h[1:]]
    given: dict[str, Any] = {"x": x, "y": y}
    for layer in range(3):
        given |= {f"W{layer}": W[layer], f"b{layer}": b[layer]}
    for layer in range(3):
        given[f"z{layer}"] = zs[layer]
        if layer < 2:
            given[f"h{layer + 1}"] = hs[layer + 1]
    dz = [_grad(t) for t in z]
    dh = [None] + [_grad(t) for t in h[1:]]
    answers = [Answer("dz2", "dL/dz2 for L = ½ Σ (z2 − y)²", dz[2],
                      mistakes=(("the loss is ½ Σ (z2 − y)²: dz2 = z2 − y (the sign: y − z2 is −dz2)", y - zs[2]),))]
    for layer in (2, 1, 0):
        answers.append(Answer(f"dW{layer}", f"dL/dW{layer}",
                              _grad(Wt[layer])))
        answers.append(Answer(f"db{layer}", f"dL/db{layer}: b{layer} is broadcast over the N columns",
                              _grad(bt[layer]), reduced_from=(dz[layer], (1,), True)))
        if layer > 0:
            upstream = W[layer].T @ dz[layer]
            answers.append(Answer(f"dh{layer}", f"dL/dh{layer}", dh[layer]))
            answers.append(Answer(f"dz{layer - 1}", f"dL/dz{layer - 1}: back through the ReLU",
                                  dz[layer - 1],
                                  mistakes=((f"the ReLU mask is missing: dz{layer - 1} = dh{layer} ⊙ "
                                             f"1[z{layer - 1} > 0]", upstream),
                                            (f"the mask is 1[z{layer - 1} > 0] (the derivative of relu), not "
                                             f"relu(z{layer - 1}) itself", upstream * np.maximum(zs[layer - 1], 0)))))
    answers.append(Answer("dx", "dL/dx", _grad(xt)))
    return Exercise("mlp", "a ReLU MLP 4 → 6 → 5 → 3, one column per example (N = 8), L = ½ Σ (z2 − y)²",
                    given, answers, constants={"N": float(N), "1/N": 1.0 / N})


def _softmax_ce() -> Exercise:
    rng = np.random.default_rng(4)
    N, C = 8, 5
    logits = rng.standard_normal((N, C)) * 2.0
    targets = rng.integers(0, C, N)
    lt = _leaf(logits)
    from .. import functional as F

    loss = F.cross_entropy(lt, targets)
    loss.backward()
    e = np.exp(logits - logits.max(-1, keepdims=True))
    probs = e / e.sum(-1, keepdims=True)
    onehot = np.eye(C)[targets]
    given = {"logits": logits, "targets": targets, "probs": probs, "N": N, "loss": float(loss.item())}
    answers = [Answer("dlogits", "dL/dlogits for L = mean over the N rows of −log probs[n, targets[n]]", _grad(lt),
                      terms={"softmax / N": probs / N, "−onehot / N": -onehot / N},
                      why_terms="−log p_y = −z_y + log Σ e^z: both terms depend on the logits",
                      mistakes=(("softmax − onehot, but not divided by N: the loss is a mean over the N rows",
                                 probs - onehot),))]
    return Exercise("softmax_ce", "softmax + cross-entropy in one step, N = 8 rows, C = 5 classes", given, answers,
                    constants={"N": float(N), "1/N": 1.0 / N})


def _layernorm() -> Exercise:
    rng = np.random.default_rng(5)
    N, D, eps = 6, 5, 1e-5
    x = rng.standard_normal((N, D)) * 2.0 + 1.0
    gamma, beta = 1.0 + 0.5 * rng.standard_normal(D), 0.5 * rng.standard_normal(D)
    dout = rng.standard_normal((N, D))
    xt, gt, bt = _leaf(x), _leaf(gamma), _leaf(beta)
    mu = xt.sum(-1, keepdim=True) / D  # as manual.layernorm_forward (and nn.LayerNorm)
    centered = xt - mu
    var = (centered * centered).sum(-1, keepdim=True) / D
    inv_sigma = (var + eps) ** -0.5
    xhat = centered * inv_sigma
    xhat.retain_grad()
    out = xhat * gt + bt
    (out * Tensor(dout)).sum().backward()
    xh, rs = xhat.detach().numpy(), inv_sigma.detach().numpy()
    G = dout * gamma
    given = {"x": x, "gamma": gamma, "beta": beta, "eps": eps, "mu": mu.detach().numpy(), "var": var.detach().numpy(),
             "inv_sigma": rs, "xhat": xh, "out": out.detach().numpy(), "dout": dout}
    answers = [
        Answer("dxhat", "dL/dxhat (out = xhat ∘ gamma + beta)", _grad(xhat)),
        Answer("dgamma", "dL/dgamma: gamma is broadcast over the N rows", _grad(gt),
               reduced_from=(xh * dout, (0,), False),
               mistakes=(("dgamma = Σ_rows(xhat ∘ dout): the gradient at out, not at xhat (∘ gamma is too much)",
                          (xh * G).sum(0)),)),
        Answer("dbeta", "dL/dbeta", _grad(bt), reduced_from=(dout, (0,), False)),
        Answer("dx", "dL/dx: x reaches xhat directly, through μ and through σ", _grad(xt),
               terms={"directly (x − μ)": rs * G, "through μ": -rs * G.mean(-1, keepdims=True),
                      "through σ": -rs * xh * (xh * G).mean(-1, keepdims=True)},
               why_terms="x reaches xhat by all three paths: their gradients add up",
               mistakes=(("σ was treated as √var: it is √(var + eps), as in the forward (use inv_sigma)",
                          (G - G.mean(-1, keepdims=True) - xh * (xh * G).mean(-1, keepdims=True))
                          / np.sqrt(var.detach().numpy())),)),
    ]
    return Exercise("layernorm", "LayerNorm over the last dim of x (6, 5), L = Σ out ∘ dout", given, answers)


def _attention() -> Exercise:
    rng = np.random.default_rng(6)
    T, d_h = 5, 4
    q, k, v = (rng.standard_normal((T, d_h)) for _ in range(3))
    dout = rng.standard_normal((T, d_h))
    scale = 1.0 / math.sqrt(d_h)
    mask = np.triu(np.full((T, T), -np.inf), k=1)
    qt, kt, vt = _leaf(q), _leaf(k), _leaf(v)
    S = (qt @ kt.T) * scale + Tensor(mask)
    S.retain_grad()
    rho = S.softmax(-1)
    rho.retain_grad()
    out = rho @ vt
    (out * Tensor(dout)).sum().backward()
    r = rho.detach().numpy()
    G = dout @ v.T
    dS = _grad(S)
    scores = q @ k.T * scale
    e = np.exp(scores - scores.max(-1, keepdims=True))
    r_unmasked = e / e.sum(-1, keepdims=True)
    given = {"q": q, "k": k, "v": v, "d_h": d_h, "mask": mask, "S": S.detach().numpy(), "rho": r,
             "out": out.detach().numpy(), "dout": dout}
    answers = [
        Answer("drho", "dL/drho (out = rho @ v)", _grad(rho)),
        Answer("dv", "dL/dv", _grad(vt), mistakes=(("dv = ρᵀ dout: ρ was not transposed", r @ dout),)),
        Answer("dS", "dL/dS (S: the scaled, masked scores)", dS,
               terms={"ρ ∘ G (the diag(ρ) part)": r * G, "−ρ ∘ rowsum(G ∘ ρ) (the −ρρᵀ part)":
                      -r * (G * r).sum(-1, keepdims=True)},
               why_terms="the Jacobian of a softmax row has both parts",
               mistakes=(("the softmax of the unmasked scores was used: ρ is 0 above the diagonal, and so is dS",
                          r_unmasked * (G - (G * r_unmasked).sum(-1, keepdims=True))),
                         ("the Jacobian was applied by columns: the rowsum is over the last axis (keepdims=True)",
                          r * (G - (G * r).sum(0, keepdims=True))))),
        Answer("dq", "dL/dq (S = q kᵀ / √d_h + mask)", _grad(qt),
               mistakes=(("dq = dS k / √d_h: dSᵀ was used", dS.T @ k * scale),)),
        Answer("dk", "dL/dk", _grad(kt),
               mistakes=(("dk = dSᵀ q / √d_h: dS was not transposed", dS @ q * scale),)),
    ]
    return Exercise("attention", "one causal attention head, T = 5, d_h = 4, L = Σ out ∘ dout", given, answers,
                    constants={"√d_h": math.sqrt(d_h), "1/√d_h": scale, "d_h": float(d_h), "1/d_h": 1.0 / d_h})


def _lora() -> Exercise:
    rng = np.random.default_rng(7)
    N, n_in, n_out, r, alpha = 6, 5, 4, 2, 6.0
    x = rng.standard_normal((N, n_in))
    W0, b0 = rng.standard_normal((n_out, n_in)) / np.sqrt(n_in), 0.5 * rng.standard_normal(n_out)
    A, B = rng.standard_normal((r, n_in)) / np.sqrt(n_in), 0.5 * rng.standard_normal((n_out, r))  # B ≠ 0
    dout = rng.standard_normal((N, n_out))
    rng_state = get_rng_state()  # the layers' initialisation draws from the global generator: leave it as it was
    try:
        layer = nn.LoRALinear(nn.Linear(n_in, n_out, dtype=np.float64), rank=r, alpha=alpha)
    finally:
        set_rng_state(rng_state)
    layer.load_state_dict({"weight": W0, "bias": b0, "lora_A": A, "lora_B": B})
    xt = _leaf(x)
    out = layer(xt)
    (out * Tensor(dout)).sum().backward()
    s = layer.scaling
    assert layer.weight.grad is None and layer.bias.grad is None
    given = {"x": x, "W0": W0, "b0": b0, "A": A, "B": B, "alpha": alpha, "r": r, "s": s,
             "xA": x @ A.T, "out": out.detach().numpy(), "dout": dout}
    frozen = "W₀ is frozen (requires_grad=False), so the engine computes no .grad for it"
    answers = [
        Answer("dA", "dL/dA, A (r, in): out = x W0ᵀ + b0 + s · (x Aᵀ) Bᵀ", _grad(layer.lora_A)),
        Answer("dB", "dL/dB, B (out, r)", _grad(layer.lora_B)),
        Answer("dx", "dL/dx: the frozen path and the low-rank path", _grad(xt),
               terms={"of the frozen path dout W0": dout @ W0, "of the low-rank path s · dout B A": s * dout @ B @ A},
               why_terms="x feeds both paths; the frozen W0 gets no gradient, but its path still carries one to x"),
        Answer("dW0", frozen, None),
        Answer("db0", frozen.replace("W₀", "b₀"), None),
    ]
    return Exercise("lora", f"nn.LoRALinear (in {n_in}, out {n_out}, r = {r}, α = {alpha:g}, s = α / r = {s:g}), "
                    "x (6, 5), L = Σ out ∘ dout", given, answers,
                    constants={"s": s, "1/s": 1.0 / s, "α": alpha, "r": float(r), "1/r": 1.0 / r})


_BUILDERS: dict[str, Callable[[], Exercise]] = {
    "gates": _gates, "staged_f": _staged_f, "mlp": _mlp, "softmax_ce": _softmax_ce, "layernorm": _layernorm,
    "attention": _attention, "lora": _lora,
}
EXERCISES: tuple[str, ...] = tuple(_BUILDERS)


@functools.cache
def _build(name: str) -> Exercise:
    return _BUILDERS[name]()


def exercise(name: str) -> Exercise:
    """The exercise called ``name`` (one of `EXERCISES`): its given values and the answers to write."""
    if name not in _BUILDERS:
        raise ValueError(f"unknown exercise {name!r}; the exercises are: {', '.join(EXERCISES)}")
    ex = _build(name)
    return Exercise(ex.name, ex.title, {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in ex.given.items()},
                    list(ex.answers), dict(ex.constants))


def check_exercise(name: str, **answers: Any) -> ExerciseResult:
    """Grade the answers to exercise ``name`` against the engine's gradients: one row per answer (see the
    module docstring for the verdicts, the tolerance and the hints)."""
    return exercise(name).check(**answers)
