"""Activation checkpointing, as ``torch.utils.checkpoint``: memory bought with compute.

    y = checkpoint(block, x, use_reentrant=False)

Without it, every op of ``block`` keeps what its VJP reads (its inputs, masks) until the backward pass
reaches it, so at the peak a deep net holds every layer's activations. A checkpointed call keeps only
its inputs. It is one graph node, `Checkpoint`, for ``y = f(x; θ)``:

- forward: run ``f`` under ``no_grad`` (no op inside records a node or saves anything), keep the
  inputs ``x`` and the tensors ``θ`` that need a gradient and that ``f`` reads otherwise (a module's
  parameters, a closure's tensor);
- backward, given ȳ = ∂L/∂y: run ``f`` again with grad on, on stand-ins ``x̃`` of the inputs (the
  same values) and on ``θ`` itself, and backpropagate ȳ through the graph this recomputation records:
  ``(x̄, θ̄) = (∂y/∂(x̃, θ))ᵀ ȳ``, the engine's `grad`. That graph is dropped right after.

The recomputation runs the same ops on the same values, so the gradients are the same as without
checkpointing, bit for bit. The cost is one more forward of ``f`` per backward; checkpointing each of
L blocks keeps L block inputs plus, while the backward pass runs, one block's activations.

What is an input: every tensor among the arguments (also inside lists, tuples, named tuples and dicts),
and every tensor that requires grad and that ``f`` reads otherwise: while the forward runs, every op
passes through `_Watch` (the hook ``autograd.profiler`` uses, chained), which notes each tensor that
requires grad reaching an op (under ``no_grad`` nothing computed inside does). So gradients reach a
module's parameters even when no argument requires grad (a frozen embedding under LoRA).
Such a tensor must be a leaf: a non-leaf one read from outside the arguments is refused (its graph
would be walked again from inside); pass it as an argument. The inputs are saved as any op's are
(read-only while the graph lives, version-checked at backward); the other tensors the function read
(a frozen weight) are remembered by weak reference and version too, so changing one between the
forward and the backward pass is an error, not a gradient of other values.

- Dropout replays the same mask: with ``preserve_rng_state`` (the default) the state of the package's
  generator (`manual_seed`'s) is kept at the forward and restored around the recomputation, after
  which the generator continues as if the recomputation had drawn nothing. Without it, as in
  PyTorch, the recomputation draws anew (another mask: the gradient of another function).
- Several outputs (a tuple, also nested, of tensors and other values): the node's output is the
  floating ones concatenated; each returned tensor is its slice, so one recomputation serves them all.
- Grad of grad: under ``create_graph=True`` the recomputation's backward is recorded too, and each
  stand-in ``x̃`` is connected to its input (`_Cut`), so a second backward reaches ``x`` and ``θ``.
- ``determinism_check="default"``: the recomputation must return outputs of the same structure, shapes
  and dtypes, and must read no tensor that requires grad which the forward did not read (its gradient
  would be lost); ``"none"`` checks only what is needed to go on. ``debug=True`` adds the ops both runs
  applied to the message.
- ``use_reentrant``: both of PyTorch's variants compute the same gradients; here both run the one
  implementation above, which is PyTorch's ``use_reentrant=False`` in what it supports (``grad()``,
  keyword arguments, parameters reached without an input that requires grad, ``create_graph``). Of the
  reentrant variant, its refusals are kept (keyword arguments, ``context_fn``, ``debug``) and the
  determinism check is off, as in PyTorch; its limitations are not reproduced.

Limitations: inside ``f``, ``retain_grad()`` and ``nn.record`` taps get no gradient (their tensors are
the forward's, which have no graph); ``f`` receives stand-ins of its tensor arguments, so an in-place
update of one is not seen by the caller; a function with side effects (a running statistic) has them
twice; forward-mode AD does not go through a checkpoint.
"""

from __future__ import annotations

import threading
import warnings
import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

import numpy as np

from .. import _random
from ..autograd import Function, enable_grad, grad, is_grad_enabled, no_grad
from ..autograd import profiler as _profiler
from ..tensor import Tensor

__all__ = ["checkpoint", "checkpoint_sequential", "noop_context_fn", "CheckpointError", "Checkpoint"]


class CheckpointError(RuntimeError):
    """The recomputation in the backward pass did not do what the forward pass did."""


def noop_context_fn() -> tuple[AbstractContextManager[Any], AbstractContextManager[Any]]:
    """The default ``context_fn``: no context around the forward or the recomputation."""
    return nullcontext(), nullcontext()


ContextFn = Callable[[], tuple[AbstractContextManager[Any], AbstractContextManager[Any]]]

_REENTRANT_WARNING = (
    "{who}: the use_reentrant parameter should be passed explicitly (as in PyTorch, where leaving it out "
    "means use_reentrant=True). use_reentrant=False is recommended; here both compute the same gradients."
)


# ---------------------------------------------------------------------------------------- trees of tensors
class _Slot:
    """The place of the i-th tensor in a template (see `_flatten`)."""

    __slots__ = ("i",)

    def __init__(self, i: int) -> None:
        self.i = i


def _flatten(tree: Any, leaves: list[Tensor]) -> Any:
    """``tree`` with every tensor replaced by a `_Slot`, the tensors appended to ``leaves`` in order.
    Descends into lists, tuples (named ones too) and dicts; anything else is a value as it is."""
    if isinstance(tree, Tensor):
        leaves.append(tree)
        return _Slot(len(leaves) - 1)
    if type(tree) in (list, tuple):
        return type(tree)(_flatten(x, leaves) for x in tree)
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):  # a named tuple
        return type(tree)(*(_flatten(x, leaves) for x in tree))
    if type(tree) is dict:
        return {k: _flatten(v, leaves) for k, v in tree.items()}
    return tree


def _fill(template: Any, leaves: list[Any]) -> Any:
    """The inverse of `_flatten`: ``template`` with each `_Slot` replaced by its leaf."""
    if isinstance(template, _Slot):
        return leaves[template.i]
    if type(template) in (list, tuple):
        return type(template)(_fill(x, leaves) for x in template)
    if isinstance(template, tuple) and hasattr(template, "_fields"):
        return type(template)(*(_fill(x, leaves) for x in template))
    if type(template) is dict:
        return {k: _fill(v, leaves) for k, v in template.items()}
    return template


# ------------------------------------------------------------------------------------- watching the ops
class _Watch:
    """Sees every op applied in this thread while the checkpointed function runs.

    It takes the place of ``autograd.profiler._active`` (the hook `Function.apply` and the VJPs call) and
    passes each call on to what was there (a running `profile`, or the op itself). In the forward
    (``recompute=False``) it notes every tensor that requires grad reaching an op (under ``no_grad``,
    these come from outside the function), and every other tensor that an op of the function did not
    compute, nor is one of ``allowed`` (the stand-ins): the constants (a frozen weight), by weak
    reference. In the recomputation it notes the graph nodes the ops create and the first tensor that
    requires grad which is neither one of those, nor one of ``allowed`` (the stand-ins and the tensors
    the forward read). With ``trace`` it lists the ops (for ``debug``)."""

    def __init__(self, recompute: bool = False, allowed: Iterable[Any] = (), trace: bool = False) -> None:
        self.recompute = recompute
        self.read: dict[int, Tensor] = {}
        self.constants: dict[int, weakref.ref[Tensor]] = {}
        self.created: set[int] = set()
        self.allowed = {id(node) for node in allowed}
        self.unexpected: tuple[str, Tensor] | None = None
        self.trace: list[str] | None = [] if trace else None
        self.thread = threading.get_ident()
        self.finished = False
        self.prev: Any = None

    def __enter__(self) -> _Watch:
        self.prev, _profiler._active = _profiler._active, self  # type: ignore[assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        self.finished = True
        if _profiler._active is self:
            _profiler._active = self.prev
        # else a profile() entered in another thread meanwhile holds this one as its previous hook: it
        # passes calls on from now on, and unhooks itself when it is the hook again (_time_apply)

    def _time_apply(self, cls: Any, inputs: tuple[Any, ...], kwargs: dict[str, Any], scope: str) -> Any:
        prev = self.prev
        out = cls._apply(inputs, kwargs, None) if prev is None else prev._time_apply(cls, inputs, kwargs, scope)
        if self.finished:
            if _profiler._active is self:
                _profiler._active = prev
        elif threading.get_ident() == self.thread:
            self._see(cls, inputs, out)
        return out

    def _time_vjp(self, node: Any, g: Any) -> Any:
        prev = self.prev
        return node._checked_vjp(g) if prev is None else prev._time_vjp(node, g)

    def _see(self, cls: type, inputs: tuple[Any, ...], out: Tensor) -> None:
        if self.trace is not None:
            self.trace.append(f"{cls.__name__.lower()}{tuple(out.shape)}")
        for t in inputs:
            if not isinstance(t, Tensor):
                continue
            if not self.recompute:
                if t.requires_grad:
                    self.read.setdefault(id(t), t)
                elif id(t) not in self.created and id(t) not in self.allowed:
                    self.constants.setdefault(id(t), weakref.ref(t))
            elif t.requires_grad and self.unexpected is None:
                node = id(t._node())
                if node not in self.created and node not in self.allowed:
                    self.unexpected = (cls.__name__.lower(), t)
        if not self.recompute:
            self.created.add(id(out))
        elif out.requires_grad:
            self.created.add(id(out._node()))


# ------------------------------------------------------------------------------------------ the graph node
class _Cut(Function):
    """``y = x``: a stand-in of a checkpoint's input in the recomputation.   ẏ = ẋ   |   x̄ = ȳ

    While ``cut``, the walk treats it as a leaf: the recomputation's backward stops here (and `grad`
    captures x̄ here) instead of running on into the graph before the checkpoint. Under
    ``create_graph=True`` the cut is lifted afterwards, so that a second backward through the returned
    gradients goes on to x."""

    cut = True

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        return x

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return g

    @staticmethod
    def jvp(ctx: Any, tx: Any) -> Any:
        return tx

    def _push_parents(self, stack: list[Any], seen: set[Any]) -> None:
        if not self.cut:
            super()._push_parents(stack, seen)

    def _backprop(self, g: Any, store: bool, release: bool) -> None:
        if not self.cut:
            super()._backprop(g, store, release)

    def _op_name(self) -> str:
        return "checkpoint input"


class Checkpoint(Function):
    """``y = f(x; θ)`` computed without a graph (the forward ran before ``apply``; see the module).
    x̄, θ̄ = (∂y/∂(x, θ))ᵀ ȳ, through a recomputation of f   |   ẏ: none (forward mode does not go through)

    With several floating outputs, y is their concatenation, flattened (in their widest dtype; the
    outputs the caller sees are slices of it)."""

    @staticmethod
    def forward(ctx: Any, *arrays: np.ndarray, run: _Run) -> np.ndarray:
        ctx.run = run
        ctx.save_for_backward(*arrays)  # the inputs: kept (read-only, version-checked) for the recomputation
        out, run.packed = run.packed, None
        return out

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return ctx.run.vjp(ctx, g)

    @staticmethod
    def jvp(ctx: Any, *tangents: Any, run: _Run) -> Any:
        raise RuntimeError("checkpoint: forward-mode AD does not go through a checkpointed function (its forward "
                           "keeps no graph to push tangents through); call the function itself inside the dual level")


class _Run:
    """One checkpointed call: what its recomputation needs (the function, where the tensors go in its
    arguments, the random state, the outputs' layout), held by the `Checkpoint` node."""

    def __init__(self, function: Callable[..., Any], template: Any, n_args: int, rng_state: dict[str, Any] | None,
                 context: AbstractContextManager[Any], check: bool, trace: list[str] | None) -> None:
        self.function, self.template, self.n_args = function, template, n_args
        self.rng_state, self.context, self.check = rng_state, context, check
        self.forward_trace = trace
        self.constants: list[tuple[weakref.ref[Tensor], int]] = []  # what the forward read, at its version
        self.packed: np.ndarray | None = None
        self.n_leaves = 0
        self.layout: list[tuple[int, int, tuple[int, ...], np.dtype]] = []  # (leaf, offset, shape, dtype)

    def pack(self, leaves: list[Tensor]) -> bool:
        """Lay the floating outputs out in one array (``self.packed``); False if there is none."""
        self.n_leaves = len(leaves)
        slots = [i for i, t in enumerate(leaves) if t.dtype.kind == "f"]
        if not slots:
            return False
        offset = 0
        for i in slots:
            self.layout.append((i, offset, leaves[i].shape, leaves[i].dtype))
            offset += leaves[i]._data.size
        if len(slots) == 1:
            self.packed = leaves[slots[0]]._data
        else:
            dtype = np.result_type(*(leaves[i].dtype for i in slots))  # widening floats is exact
            self.packed = np.concatenate([leaves[i]._data.ravel().astype(dtype, copy=False) for i in slots])
        return True

    def unpack(self, y: Tensor, leaves: list[Tensor]) -> list[Tensor]:
        """The outputs the caller sees: ``y`` itself, or each one's slice of it."""
        out = list(leaves)
        if len(self.layout) == 1:
            out[self.layout[0][0]] = y
            return out
        for i, offset, shape, dtype in self.layout:
            piece = y[offset:offset + int(np.prod(shape, dtype=np.int64))].reshape(shape)
            out[i] = piece if piece.dtype == dtype else piece.to(dtype)
        return out

    def _describe(self) -> str:
        return ", ".join(f"{np.dtype(d).name}{tuple(s)}" for _, _, s, d in self.layout)

    def note_constants(self, tensors: Iterable[weakref.ref[Tensor]]) -> None:
        """Remember the versions of the constants the function read (those still alive)."""
        alive = [(ref, ref()) for ref in tensors]
        self.constants = [(ref, t._version) for ref, t in alive if t is not None]

    def _check_constants(self) -> None:
        for ref, version in self.constants:
            t = ref()
            if t is not None and t._version != version:
                raise RuntimeError(
                    f"checkpoint: a tensor the function read (shape {t.shape}, which needs no gradient) was modified "
                    f"after the forward pass (its version is {t._version}, it was {version}); the recomputation "
                    f"would use the new values and the gradient would be wrong. Run the forward pass again after "
                    f"changing it, or change a copy (t.clone())")

    def vjp(self, ctx: Any, g: Tensor) -> tuple[Tensor | None, ...]:
        saved = ctx.saved_tensors  # raises if an input was modified since the forward
        self._check_constants()  # and so for the constants it read
        needs = ctx.needs_input_grad
        n = self.n_args
        create = is_grad_enabled()  # the engine runs VJPs with grad on exactly under create_graph=True
        cuts: list[_Cut] = []
        standins: list[Tensor] = []
        with enable_grad():
            for t, need in zip(saved[:n], needs[:n]):
                if need:
                    s = _Cut.apply(t)
                    cuts.append(s._ctx)
                    standins.append(s)
                else:
                    standins.append(Tensor._make(t._data, False))
        wrt: list[Tensor] = []
        for s, cut in zip([s for s, need in zip(standins, needs[:n]) if need], cuts):
            alias = Tensor._make(s._data, True)  # the cut node itself, even if f updates its stand-in in place
            alias._ctx = cut
            wrt.append(alias)
        # a parameter that no longer requires grad (requires_grad_(False) since the forward) gets none
        needs = needs[:n] + tuple(need and t.requires_grad for t, need in zip(saved[n:], needs[n:]))
        wrt += [t for t, need in zip(saved[n:], needs[n:]) if need]
        watch = _Watch(recompute=True, allowed=cuts + [t._node() for t in saved[n:]],
                       trace=self.forward_trace is not None) if self.check or self.forward_trace is not None else None
        args, kwargs = _fill(self.template, standins)
        try:
            with _replayed(self.rng_state), enable_grad(), self.context, watch or nullcontext():
                outputs = self.function(*args, **kwargs)
            self.note_constants([ref for ref, _ in self.constants])  # as the recomputation left them (a running
            # statistic updated in place), for a second backward (retain_graph=True)
            roots, seeds = self._seeds(outputs, g, watch)
            found = grad(roots, wrt, seeds, retain_graph=create, create_graph=create, allow_unused=True) \
                if roots else (None,) * len(wrt)
        finally:
            if create:
                for cut in cuts:
                    cut.cut = False  # a second backward through the returned gradients goes on to x
        grads = iter(found)
        return tuple(next(grads) if need else None for need in needs)

    def _seeds(self, outputs: Any, g: Tensor, watch: _Watch | None) -> tuple[list[Tensor], list[Tensor]]:
        """The recomputed outputs that require grad and ȳ for each (its slice of g)."""
        leaves: list[Tensor] = []
        _flatten(outputs, leaves)
        got = [(i, t.shape, t.dtype) for i, t in enumerate(leaves) if t.dtype.kind == "f"]
        if len(leaves) != self.n_leaves or got != [(i, s, d) for i, _, s, d in self.layout]:
            shown = ", ".join(f"{np.dtype(d).name}{tuple(s)}" for _, s, d in got)
            raise CheckpointError(self._message(
                f"the recomputation returned {len(leaves)} tensors (floating: {shown or 'none'}) where the forward "
                f"returned {self.n_leaves} (floating: {self._describe()})", watch))
        if self.check and watch is not None and watch.unexpected is not None:
            op, t = watch.unexpected
            raise CheckpointError(self._message(
                f"the recomputation read a tensor that requires grad (shape {t.shape}, in '{op}') which the forward "
                f"did not read, so its gradient would be lost: the function must read the same tensors both times "
                f"(it may depend on global state, or create tensors that require grad inside); "
                f"determinism_check='none' skips this check", watch))
        roots, seeds = [], []
        single = len(self.layout) == 1
        for i, offset, shape, dtype in self.layout:
            if not leaves[i].requires_grad:  # a constant output: no gradient flows back from it
                continue
            seed = g if single else g[offset:offset + int(np.prod(shape, dtype=np.int64))].reshape(shape)
            roots.append(leaves[i])
            seeds.append(seed if seed.dtype == dtype else seed.to(dtype))
        return roots, seeds

    def _message(self, what: str, watch: _Watch | None) -> str:
        text = f"checkpoint: {what}"
        if self.forward_trace is not None and watch is not None and watch.trace is not None:
            text += (f"\nops of the forward: {', '.join(self.forward_trace)}"
                     f"\nops of the recomputation: {', '.join(watch.trace)}")
        return text


@contextmanager
def _replayed(state: dict[str, Any] | None) -> Iterator[None]:
    """The package's random stream restarted at ``state`` for the block, then continued where it was
    (``state=None``: the stream as it is)."""
    if state is None:
        yield
        return
    stream = _random._generator().bit_generator
    where_it_was = stream.state
    stream.state = state
    try:
        yield
    finally:
        stream.state = where_it_was


# ------------------------------------------------------------------------------------------- the functions
def _reentrant(use_reentrant: Any, who: str) -> bool:
    if use_reentrant is None:
        warnings.warn(_REENTRANT_WARNING.format(who=who), UserWarning, stacklevel=3)
        return True
    if not isinstance(use_reentrant, (bool, np.bool_)):
        raise TypeError(f"{who}: use_reentrant must be True or False, got {use_reentrant!r}")
    return bool(use_reentrant)


def checkpoint(function: Callable[..., Any], *args: Any, use_reentrant: bool | None = None,
               preserve_rng_state: bool = True, determinism_check: str = "default", debug: bool = False,
               context_fn: ContextFn = noop_context_fn,
               early_stop: bool = True, **kwargs: Any) -> Any:
    """``function(*args, **kwargs)``, keeping only the inputs for backward: the backward pass runs it
    again with grad on and backpropagates through that (see the module). The gradients are those of the
    plain call. Under ``no_grad`` it is the plain call.

    ``preserve_rng_state``: replay the random stream (dropout draws the same mask). ``determinism_check``:
    ``"default"`` or ``"none"``; ``debug``: list the ops of both runs in a `CheckpointError`.
    ``context_fn``: returns two context managers, for the forward and the recomputation (use_reentrant=False
    only). ``early_stop`` is accepted for PyTorch's signature: the recomputation always runs all of
    ``function`` (the gradients are the same either way)."""
    if not callable(function):
        raise TypeError(f"checkpoint: function must be callable, got {type(function).__name__}")
    reentrant = _reentrant(use_reentrant, "checkpoint")
    if determinism_check not in ("default", "none"):
        raise ValueError(f"checkpoint: determinism_check should be one of ['default', 'none'], but got "
                         f"{determinism_check!r}")
    if reentrant:
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("checkpoint: passing `context_fn` or `debug` is only supported when use_reentrant=False")
    contexts = context_fn()
    if not (isinstance(contexts, tuple) and len(contexts) == 2):
        raise TypeError(f"checkpoint: context_fn must return a tuple of two context managers (for the forward and "
                        f"the recomputation), got {type(contexts).__name__}")
    forward_context, recompute_context = contexts
    if not is_grad_enabled():  # nothing will be differentiated: the plain call
        with forward_context:
            return function(*args, **kwargs)

    tensors: list[Tensor] = []
    template = _flatten((args, kwargs), tensors)
    rng_state = _random._generator().bit_generator.state if preserve_rng_state else None
    check = determinism_check == "default" and not reentrant
    standins = [Tensor._make(t._data, False) for t in tensors]
    with _Watch(allowed=standins, trace=bool(debug)) as watch, no_grad(), forward_context:
        a, k = _fill(template, standins)
        outputs = function(*a, **k)
    read = list(watch.read.values())
    for t in read:
        if t._ctx is not None:
            raise RuntimeError(
                f"checkpoint: the function reads a tensor of shape {t.shape} that requires grad and is not a leaf "
                f"(it was computed by '{t._ctx._op_name()}'), other than through its arguments; its gradient cannot "
                f"be passed on from the recomputation: pass it to checkpoint as an argument")
    inputs = tensors + read
    leaves: list[Tensor] = []
    out_template = _flatten(outputs, leaves)
    if not any(t.requires_grad for t in inputs):  # nothing to differentiate: no node
        return outputs
    run = _Run(function, template, len(tensors), rng_state, recompute_context, check, watch.trace)
    run.note_constants(watch.constants.values())
    if not run.pack(leaves):  # no floating output: nothing to differentiate either
        return outputs
    y = Checkpoint.apply(*inputs, run=run)
    return _fill(out_template, run.unpack(y, leaves))


def _segment(functions: list[Callable[[Any], Any]], start: int, end: int) -> Callable[[Any], Any]:
    def forward(input: Any) -> Any:
        for j in range(start, end + 1):
            input = functions[j](input)
        return input

    return forward


def checkpoint_sequential(functions: Any, segments: int, input: Any, use_reentrant: bool | None = None,
                          **kwargs: Any) -> Any:
    """Run ``functions`` (a `Sequential` or a list of modules or functions, each taking one input) in
    order, in ``segments`` chunks of ``len(functions) // segments``, the last one taking the rest; every
    chunk but the last is checkpointed (the last one's activations are needed at once). As PyTorch's,
    the only keyword argument is ``preserve_rng_state``."""
    reentrant = _reentrant(use_reentrant, "checkpoint_sequential")
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    functions = list(functions)
    if not all(callable(f) for f in functions):
        bad = next(f for f in functions if not callable(f))
        raise TypeError(f"checkpoint_sequential: every function must be callable, got {type(bad).__name__}")
    if isinstance(segments, (bool, np.bool_)) or not isinstance(segments, (int, np.integer)):
        raise TypeError(f"checkpoint_sequential: segments must be an int, got {segments!r}")
    if not 1 <= segments <= max(len(functions), 1):
        raise ValueError(f"checkpoint_sequential: segments must be in [1, {len(functions)}] (the number of "
                         f"functions), got {segments}")
    size = len(functions) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(_segment(functions, start, end), input, use_reentrant=reentrant,
                           preserve_rng_state=preserve)
    return _segment(functions, end + 1, len(functions) - 1)(input)
