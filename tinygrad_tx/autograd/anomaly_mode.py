"""Anomaly mode: find the op that made the first nan or inf, in the vocabulary of ``torch.autograd.detect_anomaly``.

    with detect_anomaly():
        logits, loss = model(x, y)   # raises at the op whose output has a nan/inf made from finite inputs
        loss.backward()              # raises at the VJP that made one from a finite upstream gradient

While it is on:

- **forward**: every op's output is checked. If it holds a nan or ±inf while every floating input was
  finite, that op made it: a RuntimeError names the op (``log``), the module path where it ran
  (``h.0.attn``), the input and output shapes (with the inputs' ranges, and how many entries are bad and
  where the first is) and the user's source line, file:line and its text. PyTorch's anomaly mode misses
  these: it checks only the backward pass.
- every node it records keeps that source line (the first frame, walking out of the stack, that is not
  in tinygrad_tx or NumPy), so that
- **backward**: every VJP's gradients are checked. If one holds a nan or ±inf while the upstream
  gradient ȳ was finite, that VJP made it: the error names the op whose backward it is, the source line
  of its forward, its module path, and which input's gradient went bad. PyTorch raises here too
  (``Function 'LogBackward0' returned nan values in its 0th output``), for nan only, naming the op alone.
  If the values the VJP's forward saved already held a nan or inf (an inf weight, which no op made),
  the error also lists where such values entered the graph: the ops that a leaf or a constant holding
  them fed, parameters first. A sum of two finite gradients reaching one node that overflows is caught
  too, and so is a tangent (forward-mode AD) that turns non-finite from finite values.
- an exception raised inside a VJP gets a note naming the op and the source line of its forward.

As in PyTorch, only creation is blamed: a nan or inf already in an op's inputs (a -inf attention mask,
a nan in the data, an inf weight) is not this op's doing, and a VJP that receives a non-finite ȳ is not
checked. Ops that a VJP runs are not checked one by one (a VJP may make an inf that it then masks,
as Pow's does at 0); its result is. ``check_nan=False`` keeps only the source lines and the notes on
errors, as PyTorch's flag does.

The mode is global (every thread sees it), as in PyTorch. Off (the default) it costs one check of
``_enabled`` per op and per VJP, and IEEE arithmetic goes on as usual (nan and inf propagate silently).
"""

from __future__ import annotations

import functools
import linecache
import os
import sys
import warnings
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "is_anomaly_check_nan_enabled"]

F = TypeVar("F", bound=Callable[..., Any])

_enabled = False  # read by Function._apply and Function._checked_vjp (function.py) on every op
_check_nan = True


def is_anomaly_enabled() -> bool:
    """True while anomaly mode is on (``torch.is_anomaly_enabled``)."""
    return _enabled


def is_anomaly_check_nan_enabled() -> bool:
    """True when anomaly mode, if on, checks values for nan and inf (``torch.is_anomaly_check_nan_enabled``)."""
    return _check_nan


def _set(mode: bool, check_nan: bool) -> None:
    global _enabled, _check_nan
    _enabled, _check_nan = mode, check_nan


def _flag(who: str, name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{who}: {name} must be True or False, got {value!r}")
    return bool(value)


class detect_anomaly:
    """Anomaly mode on inside the block (or the decorated function), then back to what it was.

    ``check_nan``: check values for nan and inf (default True); with False only the forward source
    lines are kept, for the notes on errors raised in a backward. Warns that it is on, as PyTorch does.
    (PyTorch's ``detect_anomaly`` is a context manager only; this one also decorates.)
    """

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = _flag("detect_anomaly", "check_nan", check_nan)
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime and should only be "
                      "enabled for debugging.", stacklevel=2)

    def __enter__(self) -> None:
        self.prev, self.prev_check_nan = _enabled, _check_nan  # (at entry, as no_grad does: a block can be reused)
        _set(True, self.check_nan)

    def __exit__(self, *exc: object) -> None:
        _set(self.prev, self.prev_check_nan)

    def __call__(self, fn: F) -> F:
        check_nan = self.check_nan

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            prev = _enabled, _check_nan
            _set(True, check_nan)
            try:
                return fn(*args, **kwargs)
            finally:
                _set(*prev)

        return wrapper  # type: ignore[return-value]


class set_detect_anomaly:
    """Turn anomaly mode on or off, as ``torch.autograd.set_detect_anomaly``: called as a function it
    takes effect at once; as a context manager it restores the previous mode (and check_nan) on exit."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        mode = _flag("set_detect_anomaly", "mode", mode)
        check_nan = _flag("set_detect_anomaly", "check_nan", check_nan)
        self.prev, self.prev_check_nan = _enabled, _check_nan
        _set(mode, check_nan)

    def __enter__(self) -> None:
        pass  # (already set by __init__)

    def __exit__(self, *exc: object) -> None:
        _set(self.prev, self.prev_check_nan)


# -------------------------------------------------------------------------------- the user's line
_LIBRARY_DIRS = (os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep,  # tinygrad_tx/
                 os.path.dirname(os.path.abspath(str(np.__file__))) + os.sep)
_is_library: dict[str, bool] = {}  # filename -> inside tinygrad_tx or NumPy


def _user_frame() -> Any:
    """The innermost frame of the caller's stack that is not tinygrad_tx's or NumPy's (None if none is)."""
    f: Any = sys._getframe(1)
    while f is not None:
        name = f.f_code.co_filename
        inside = _is_library.get(name)
        if inside is None:
            inside = _is_library[name] = os.path.abspath(name).startswith(_LIBRARY_DIRS)
        if not inside:
            return f
        f = f.f_back
    return None


def _source_of(f: Any) -> tuple[str, int, str, str] | None:
    """(file, line, function, the line's text) of a frame."""
    if f is None:
        return None
    code, line = f.f_code, f.f_lineno
    return code.co_filename, line, code.co_name, linecache.getline(code.co_filename, line).strip()


def _format_source(source: tuple[str, int, str, str] | None) -> str:
    if source is None:
        return "unknown (no frame outside tinygrad_tx)"
    file, line, function, text = source
    return f"{file}:{line}, in {function}" + (f"\n               {text}" if text else "")


# -------------------------------------------------------------------------------- describing arrays
def _bad(a: np.ndarray) -> bool:
    """True if ``a`` is floating and holds a nan or ±inf."""
    return a.dtype.kind == "f" and not np.isfinite(a).all()


def _describe_values(a: np.ndarray) -> str:
    """``(2, 3) float32 in [-3, 1]``; for a non-finite array, what is bad and where the first bad entry is."""
    head = f"{a.shape} {a.dtype}"
    if a.size == 0 or a.dtype.kind != "f":
        return head
    finite = np.isfinite(a)
    if finite.all():
        lo, hi = a.min(), a.max()
        return f"{head} = {lo:.6g}" if a.size == 1 else f"{head} in [{lo:.6g}, {hi:.6g}]"
    counts = [(int(n), what) for n, what in ((np.isnan(a).sum(), "nan"), (np.isposinf(a).sum(), "+inf"),
                                             (np.isneginf(a).sum(), "-inf")) if n]
    first = tuple(int(i) for i in np.argwhere(~finite)[0])
    where = f", first at index {first}" if a.ndim else ""
    return f"{head}: " + ", ".join(f"{n} {what}" for n, what in counts) + f" of {a.size}{where}"


def _kinds(a: np.ndarray) -> str:
    """'nan', 'inf' or 'nan and inf': what the non-finite entries of ``a`` are."""
    has_nan, has_inf = bool(np.isnan(a).any()), bool(np.isinf(a).any())
    return " and ".join(k for k, has in (("nan", has_nan), ("inf", has_inf)) if has)


def _module(scope: str) -> str:
    """A node's module path; "" is both the outermost module and no module at all."""
    return scope or "(the outermost module, or none)"


# -------------------------------------------------------------------------------- where in the engine
def _engine_codes() -> dict[Any, str]:
    from . import forward_ad, graph
    from .function import Function

    return {Function._checked_vjp.__code__: "vjp", Function._backprop.__code__: "accumulate",
            graph._walk.__code__: "accumulate", forward_ad._propagate.__code__: "jvp"}


_codes: dict[Any, str] = {}


def _engine_context() -> tuple[str, Any]:
    """What the engine was doing when an op ran, from the innermost engine frame on the stack: ("vjp", _)
    inside a VJP, ("accumulate", frame) adding up gradients in a backward walk (Function._backprop or
    graph._walk), ("jvp", frame) computing a tangent, ("forward", None) otherwise."""
    if not _codes:
        _codes.update(_engine_codes())
    f: Any = sys._getframe(1)
    while f is not None:
        kind = _codes.get(f.f_code)
        if kind is not None:
            return kind, f
        f = f.f_back
    return "forward", None


# -------------------------------------------------------------------------------- the checks
def _forward(ctx: Any, inputs: list[Any], out: np.ndarray, record: bool) -> None:
    """`Function._apply`'s check of one op's output (while anomaly mode is on). A node it records keeps
    the user's source line and, if non-finite values entered the graph here, which input brought them."""
    entries = _forward_anomaly(ctx, inputs, out) if _check_nan and _bad(out) else None
    if record:
        ctx._anomaly_source = _source_of(_user_frame())
        if entries:
            ctx._anomaly_entries = entries


def _forward_anomaly(ctx: Any, inputs: list[Any], out: np.ndarray) -> list[str] | None:
    """Raise if this op made ``out``'s nan or inf from finite inputs. If an input already held one, it is
    not this op's doing: return how those that come from no op (leaves, constants) look, for `_backward`."""
    bad = [i for i, t in enumerate(inputs) if _bad(t._data)]
    if bad:
        _remember_made_by_an_op(out)
        return [f"input {i}: {_leaf_kind(inputs[i])} {_describe_values(inputs[i]._data)}"
                for i in bad if inputs[i]._ctx is None and not _was_made_by_an_op(inputs[i]._data)]
    kind, frame = _engine_context()
    if kind == "vjp":
        return None  # an op of a VJP: the VJP's own check names the op whose backward this is
    from .function import _scope

    op, what = ctx._op_name(), _kinds(out)
    module = (_scope[-1] or "(the outermost module)") if _scope else "(none: not inside an nn.Module)"
    details = "".join(f"\n  input {i}:    {_describe_values(t._data)}" for i, t in enumerate(inputs))
    details += (f"\n  output:     {_describe_values(out)}\n  source:     "
                f"{_format_source(_source_of(_user_frame()))}")
    if kind == "accumulate":  # Function._backprop adding a VJP's result into a parent's gradient in flight
        from .function import Function

        node, parent = frame.f_locals.get("self"), frame.f_locals.get("parent")
        into = ("a node" if parent is None else f"the output of '{parent._op_name()}'"
                if isinstance(parent, Function) else _leaf_kind(parent))
        by = f" (from the backward of '{node._op_name()}' in {_module(node.scope)})" if node is not None else ""
        raise RuntimeError(
            f"anomaly mode: adding up the gradients that reach {into}{by} made {what} from finite gradients "
            f"(an overflow), in the backward pass{details}")
    if kind == "jvp":  # forward_ad._propagate: a tangent computed from finite values
        primal = frame.f_locals.get("cls")
        name = primal.__name__.lower() if primal is not None else "an op"
        raise RuntimeError(
            f"anomaly mode: the JVP of '{name}' (forward-mode AD) made {what} values in a tangent from finite "
            f"values, at its step '{op}'\n  module:     {module}{details}")
    raise RuntimeError(
        f"anomaly mode: '{op}' made {what} values from finite inputs, in the forward pass\n"
        f"  op:         {op} ({type(ctx).__name__}.forward)\n  module:     {module}{details}")


# The non-finite outputs of ops (in anomaly mode), by id: a tensor that holds one but is no node's output
# (``detach()``, as softmax detaches its max) did not bring its nan or inf from outside the graph.
_made_by_an_op: dict[int, Any] = {}


def _remember_made_by_an_op(a: np.ndarray) -> None:
    key = id(a)
    _made_by_an_op[key] = weakref.ref(a, lambda _: _made_by_an_op.pop(key, None))


def _was_made_by_an_op(a: np.ndarray) -> bool:
    ref = _made_by_an_op.get(id(a))
    return ref is not None and ref() is a


def _leaf_kind(t: Any) -> str:
    if t.requires_grad:
        return "a leaf tensor that requires grad" + (f" ({t.name!r})" if getattr(t, "name", None) else "")
    return "a tensor that requires no grad (data or a constant)"


def _backward(node: Any, g: Any, grads: list[Any]) -> None:
    """`Function._checked_vjp`'s check of one VJP's gradients (while anomaly mode is on)."""
    if not _check_nan:
        return
    bad = [i for i, gi in enumerate(grads) if gi is not None and _bad(gi._data)]
    if not bad:
        return
    upstream = g._data if hasattr(g, "_data") else np.asarray(g)
    if _bad(upstream):
        return  # ȳ already held it: an earlier VJP made it (and was checked), or the seed did
    from .function import Function

    op, what = node._op_name(), _kinds(grads[bad[0]]._data)
    source = getattr(node, "_anomaly_source", _NOT_RECORDED)
    lines = [f"anomaly mode: the backward of '{op}' returned {what} values in the gradient of its input {bad[0]}, "
             f"from a finite upstream gradient",
             f"  op:         {op} ({type(node).__name__}.backward)",
             f"  module:     {_module(node.scope)}",
             "  created at: " + ("unknown: the forward pass ran with anomaly mode off (run it inside detect_anomaly() "
                                 "to get the line)" if source is _NOT_RECORDED else _format_source(source))]
    for i in bad:
        parent = node._prev[i]
        feeds = (f"the output of '{parent._op_name()}'" + (f" in {parent.scope}" if parent.scope else "")
                 if isinstance(parent, Function) else _leaf_kind(parent))
        lines.append(f"  input {i}:    {feeds}, {node._in_shapes[i]}; its gradient: {_describe_values(grads[i]._data)}")
    lines += [f"  output:     {node.out_shape} {node.out_dtype}; upstream gradient: {_describe_values(upstream)}"]
    held = _nonfinite_saved(node)
    if held:
        lines.append(f"  note:       its saved forward values already hold nan or inf ({held}): they come from "
                     f"the forward pass, where no op made them from finite values")
        lines += _entries_above(node)
    raise RuntimeError("\n".join(lines))


_NOT_RECORDED = object()


def _nonfinite_saved(node: Any) -> str:
    """Which of the values ``node`` saved for backward are not finite ("saved 0: (3,) float64: 1 nan ...")."""
    from .function import _OUTPUT

    found = []
    for k, item in enumerate(getattr(node, "_saved", None) or ()):
        a = getattr(node, "_out_data", None) if item is _OUTPUT else getattr(item, "_data", None)
        if isinstance(a, np.ndarray) and _bad(a):
            found.append(f"saved {k}: {_describe_values(a)}")
    return "; ".join(found)


def _entries_above(node: Any, most: int = 6) -> list[str]:
    """Where non-finite values entered the graph that ``node`` was computed from: the ops (recorded in
    anomaly mode) that a leaf or a constant holding nan or inf fed, parameters first."""
    from .graph import topological_order

    found = [(n, e) for n in topological_order([node]) for e in getattr(n, "_anomaly_entries", ())]
    if not found:
        return []
    found.sort(key=lambda ne: "requires grad" not in ne[1])  # a parameter holding inf is the likelier culprit
    lines = ["  entered at: (ops whose inputs brought nan or inf from outside the graph, in the forward pass)"]
    for n, entry in found[:most]:
        source = getattr(n, "_anomaly_source", None)
        at = f", created at {source[0]}:{source[1]}" if source else ""
        lines.append(f"    '{n._op_name()}' in {_module(n.scope)}{at}: {entry}")
    if len(found) > most:
        lines.append(f"    ... and {len(found) - most} more")
    return lines


def _note_backward_error(node: Any, error: BaseException) -> None:
    """Add to an exception raised inside ``node``'s VJP which op that was and where its forward ran
    (PyTorch warns "Error detected in LogBackward0. Traceback of forward call that caused the error")."""
    if getattr(error, "_anomaly_noted", False) or str(error).startswith("anomaly mode:"):
        return
    try:
        error._anomaly_noted = True  # type: ignore[attr-defined]  # (once: an outer VJP adds no second note)
    except AttributeError:
        pass
    source = getattr(node, "_anomaly_source", None)
    note = (f"anomaly mode: raised in the backward of '{node._op_name()}' (module {_module(node.scope)}), "
            f"whose forward ran at {_format_source(source) if source else 'an unknown line (anomaly mode was off)'}")
    if hasattr(error, "add_note"):
        error.add_note(note)
    else:  # Python 3.10
        warnings.warn(note, stacklevel=2)
