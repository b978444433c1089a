"""`Function`: the custom-op API, in the vocabulary of ``torch.autograd.Function``.

Every tensor primitive in ``ops.py`` is a `Function`, and so is any op a user writes::

    class Square(Function):
        '''y = x².   VJP: x̄ = 2 x ȳ'''

        @staticmethod
        def forward(ctx, x):             # x: a NumPy array
            ctx.save_for_backward(x)
            return x * x                 # a NumPy array

        @staticmethod
        def backward(ctx, g):            # g: a Tensor, dL/dy
            x, = ctx.saved_tensors       # Tensors again
            return 2 * x * g             # dL/dx, one per input (None for no gradient)

    y = Square.apply(x)

``forward`` works on plain arrays; ``backward`` works on Tensors, so a VJP is itself a
differentiable computation: ``grad(..., create_graph=True)`` records it, which is how grad-of-grad
works. ``save_for_backward`` accepts the input arrays and the output array (they come back as the
corresponding Tensors, still connected to the graph; a forward that returns an input unchanged
saves the input) and any other array, which comes back as a constant (fine for masks and indices;
not differentiated through in a second derivative). Save only what the VJP reads for the inputs in
``ctx.needs_input_grad``, as PyTorch does: what is not saved may change after the forward pass.

The instance ``ctx`` *is* the graph node (``tensor.grad_fn``): it keeps its parents, what was
saved, and the output's shape and dtype for drawing the graph. It answers as PyTorch's node does:
``grad_fn.name()`` is PyTorch's name (``'MulBackward0'``), ``grad_fn.next_functions`` the parents (an
`AccumulateGrad` for a leaf that requires grad, None for a constant), its repr ``<MulBackward0 object at 0x...>``.

Saved arrays are read-only while the graph lives (until backward releases it, or the graph is dropped),
and saved tensors remember their version, so changing one after the forward pass raises an error
instead of silently corrupting the gradient. ``t.numpy()`` (and ``np.asarray(t)``) hands such an array
out as a `SavedArray`, whose writes are refused with a message that says why. A caller's ndarray operand
(``x * array``, wrapped without a copy) is the one thing saved as a copy: other views of its memory are
out of the engine's reach.
"""

from __future__ import annotations

import functools
import time
import weakref
from typing import Any

import numpy as np

from . import anomaly_mode as _anomaly
from . import forward_ad as _forward_ad
from . import profiler as _profiler
from .grad_mode import _grad_mode, no_grad
from .graph import _freed_message
from .hooks import _saved_hooks, _saved_hooks_in_use

__all__ = ["Function", "SavedArray", "AccumulateGrad"]

# The tensor class that op outputs are built as. tensor.py sets it once, when it defines `Tensor`, so that
# autograd, which the tensor engine is built on, need not import the tensor engine (dependencies one way).
_tensor_class: Any = None

_OUTPUT = object()  # marks "the output array" among the saved values
_scope: list[str] = []  # module path of the module being called (set by nn.Module) or of the op whose VJP runs


class ScopePath(str):
    """A module's dotted path as the ops run inside it record it (``ctx.scope``), relative to the module the
    outermost call was made on, which it keeps (a weak reference) as ``root``: a block called on its own
    (``model.h[0](x)``) records ``attn.c_attn``, and the drawing, given the model, finds the block's own path
    (``h.0``) to put in front. It compares, hashes and prints as the plain string; copies are plain strings."""

    root: Any  # weakref.ref to the module whose call named this path
    in_backward = False  # the scope of the ops a VJP records (``∇`` + the path; '' for the module's own ops)

    def __reduce__(self) -> tuple[Any, ...]:  # (copy and pickle: a plain str, without the module)
        return str, (str(self),)


def _grad_scope(scope: str) -> str:
    """The scope of the ops a VJP records: ``∇`` + its op's scope (keeping its root), '' for a top-level op."""
    root = getattr(scope, "root", None)
    if root is None:
        return "∇" + scope if scope else ""
    path = ScopePath("∇" + scope if scope else "")
    path.root = root
    path.in_backward = True
    return path


# Arrays saved for backward are read-only while any live graph holds them: id -> [array, holders, op].
_held: dict[int, list[Any]] = {}


def _protect(array: np.ndarray, held_by: list[np.ndarray], op: type) -> None:
    """Make ``array`` (and every array it is a view of) read-only until released by `_unprotect`."""
    a: Any = array
    while isinstance(a, np.ndarray):
        entry = _held.get(id(a))
        if entry is not None:
            entry[1] += 1
            held_by.append(a)
        elif a.flags.writeable:
            a.flags.writeable = False
            _held[id(a)] = [a, 1, op]
            held_by.append(a)
        a = a.base


def _unprotect(arrays: list[np.ndarray]) -> None:
    """Release holds; an array becomes writeable again when no graph holds it any more."""
    for a in reversed(arrays):  # bases before their views
        entry = _held.get(id(a))
        if entry is None:
            continue
        entry[1] -= 1
        if entry[1] == 0:
            del _held[id(a)]
            try:
                a.flags.writeable = True
            except ValueError:  # its base is read-only for another reason
                pass


def _holder(array: np.ndarray) -> type | None:
    """The op whose live graph holds ``array`` or memory it views (None if none does)."""
    a: Any = array
    while isinstance(a, np.ndarray):
        entry = _held.get(id(a))
        if entry is not None and entry[0] is a:
            return entry[2]
        a = a.base
    return None


def _guarded(array: np.ndarray) -> np.ndarray:
    """``array``, or, while a live graph holds it, a read-only `SavedArray` view of it (what
    ``Tensor.numpy()`` returns), whose writes say why they are refused."""
    if _holder(array) is None:
        return array
    view = array.view(SavedArray)
    view.flags.writeable = False
    return view


class SavedArray(np.ndarray):
    """A view of an array that a live graph saved for backward, as ``t.numpy()`` hands it out.

    Writing into it would change the values the gradient is computed from, so it is refused, with
    a message that says so (NumPy's own says only "assignment destination is read-only"). Once the
    graph is released (by backward, or dropped), the view becomes writeable. Computations on it give
    plain arrays."""

    def _check_write(self) -> None:
        op = _holder(self)
        if op is not None:
            raise ValueError(
                f"this array is read-only: a live graph saved it for backward (in '{op.__name__.lower()}'), and "
                f"writing into it would silently change the gradient. Call backward() first (it releases the "
                f"graph) or drop the graph's output; to change the tensor anyway, update it through the tensor "
                f"(t.data[...] = v, t.data += v, t.data = new, or t[...] = v under no_grad()): a backward that "
                f"needs the old values then raises instead of computing a wrong gradient."
            )
        if not self.flags.writeable:
            self.flags.writeable = True  # released since this view was made (raises if read-only anyway)

    def __setitem__(self, index: Any, value: Any) -> None:
        self._check_write()
        super().__setitem__(index, value)

    def fill(self, value: Any) -> None:
        self._check_write()
        super().fill(value)

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        out = kwargs.get("out")
        if out is not None:  # ``a += 1`` is ``np.add(a, 1, out=(a,))``
            for o in out:
                if isinstance(o, SavedArray):
                    o._check_write()
            kwargs["out"] = tuple(_plain(o) for o in out)
        return getattr(ufunc, method)(*[_plain(x) for x in inputs], **kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        args = [[_plain(a) for a in x] if isinstance(x, (list, tuple)) else _plain(x) for x in args]
        return func(*args, **kwargs)

    def copy(self, order: Any = "C") -> np.ndarray:  # type: ignore[override]
        return _plain(self).copy(order)

    def astype(self, *args: Any, **kwargs: Any) -> np.ndarray:  # type: ignore[override]
        return _plain(self).astype(*args, **kwargs)


def _input_tensor(x: Any, inputs: tuple[Any, ...]) -> Any:
    """A non-tensor input of ``apply`` as a constant tensor. A Python float takes the dtype of the first
    floating tensor input (``Op.apply(x64, 0.1)`` sees 0.1 in float64, not rounded through float32)."""
    Tensor = _tensor_class
    if isinstance(x, float):
        for t in inputs:
            if isinstance(t, Tensor) and t._data.dtype.kind == "f":
                return Tensor(x, dtype=t._data.dtype)
    return Tensor(x)


def _plain(x: Any) -> Any:
    return x.view(np.ndarray) if isinstance(x, SavedArray) else x


class Function:
    """Base class of every primitive and custom op. See the module docstring."""

    # Filled in by ``apply`` on the instance that becomes the graph node.
    _prev: tuple[Any, ...]
    needs_input_grad: tuple[bool, ...]
    out_shape: tuple[int, ...]
    out_dtype: np.dtype
    scope: str
    _freed: bool = False
    _g: Any = None  # the gradient in flight during a backward pass (node protocol)
    _tangent: Any = None  # in forward mode, the output's tangent (autograd/forward_ad.py)
    tapped: tuple[str, ...] = ()  # the names nn.tap gave its output ("q", "rho"), for the drawing (nn/tap.py)

    # -- what subclasses define ---------------------------------------------------------------
    @staticmethod
    def forward(ctx: Any, *args: Any, **kwargs: Any) -> np.ndarray:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        raise NotImplementedError

    # -- saving ---------------------------------------------------------------------------------
    def save_for_backward(self, *arrays: np.ndarray | None) -> None:
        """Keep ``arrays`` for ``backward`` (inputs, the output, or constants such as masks).

        ``forward`` can read ``ctx.needs_input_grad`` and pass None for what no gradient needs."""
        self._to_save = arrays

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        """The saved values as Tensors; checks that none was modified since the forward pass."""
        if self._freed:
            raise RuntimeError(_freed_message(self))
        Tensor = _tensor_class
        out = []
        for i, (item, version) in enumerate(zip(self._saved, self._saved_versions)):
            if type(item) is _Packed:  # packed by a saved_tensors_hooks block (hooks.py): unpack it
                item, is_saved = item.unpack(self)
                if not is_saved:
                    out.append(item)
                    continue
            if item is _OUTPUT:
                t = Tensor._make(self._out_data, True)
                t._ctx = self  # the same graph node as the original output
                t._tangent = self._tangent  # and the same tangent, in forward mode (forward_ad.py)
                out.append(t)
                continue
            if item is None:
                out.append(None)
                continue
            if version is not None and item._version != version:
                raise RuntimeError(
                    f"{self._op_name()}: saved tensor {i} (shape {item.shape}) was modified after "
                    f"the forward pass (its version is {item._version}, it was saved at version "
                    f"{version}); its gradient would be wrong. Run the forward pass again after "
                    f"changing it, or change a copy (t.clone())."
                )
            out.append(item)
        return tuple(out)

    # -- building the node --------------------------------------------------------------------
    @classmethod
    def apply(cls, *inputs: Any, **kwargs: Any) -> Any:
        """Run ``forward`` on the inputs' arrays and, if any input needs a gradient, record a node."""
        if _profiler._active is not None:  # a profile() block is recording (autograd/profiler.py)
            return _profiler._active._time_apply(cls, inputs, kwargs, _scope[-1] if _scope else "")
        return cls._apply(inputs, kwargs, None)

    @classmethod
    def _apply(cls, inputs: tuple[Any, ...], kwargs: dict[str, Any], kernel: list[float] | None) -> Any:
        """`apply`'s work; with ``kernel`` (a profile's), the seconds of ``forward`` are added to kernel[0]."""
        Tensor = _tensor_class
        tensors = [x if isinstance(x, Tensor) else _input_tensor(x, inputs) for x in inputs]
        arrays = [t._data for t in tensors]
        ctx = cls.__new__(cls)
        ctx._to_save = ()
        needs = tuple([t.requires_grad for t in tensors]) if _grad_mode.enabled else (False,) * len(tensors)
        record = True in needs
        ctx.needs_input_grad = needs
        try:
            if kernel is None:
                raw = cls.forward(ctx, *arrays, **kwargs)
            else:
                t0 = time.perf_counter()
                raw = cls.forward(ctx, *arrays, **kwargs)
                kernel[0] += time.perf_counter() - t0
        except (ValueError, IndexError, TypeError) as e:
            shapes = ", ".join(str(a.shape) for a in arrays)
            raise type(e)(f"{ctx._op_name()}: {e} (input shapes: {shapes})") from e
        # NumPy returns scalars, not 0-d arrays, from operations on 0-d arrays
        data = raw if isinstance(raw, np.ndarray) else np.asarray(raw)
        if _anomaly._enabled:  # anomaly mode: is the output finite? keep the user's line (anomaly_mode.py)
            _anomaly._forward(ctx, tensors, data, record)
        out = Tensor._make(data, record)
        if _forward_ad._state.level is not None:  # forward-mode AD is on: the output's tangent (forward_ad.py)
            _forward_ad._propagate(cls, ctx, tensors, out, kwargs)
        if not record:
            return out
        if data.dtype.kind != "f":
            raise TypeError(
                f"{ctx._op_name()}: the output has dtype {data.dtype}, which cannot carry a "
                f"gradient; detach() the inputs or compute it inside no_grad()"
            )
        ctx._prev = tuple(t._node() if t.requires_grad else None for t in tensors)
        ctx.out_shape = data.shape
        ctx.out_dtype = data.dtype
        ctx.scope = _scope[-1] if _scope else ""
        ctx._in_shapes = tuple(a.shape for a in arrays)
        ctx._retained = None
        ctx._held = held = []
        packing = _saved_hooks_in_use.count and _saved_hooks.stack  # inside saved_tensors_hooks (hooks.py)
        saved: list[Any] = []
        versions: list[Any] = []
        for item in ctx._to_save:
            if item is None:  # a slot the VJP will not need (see Mul)
                saved.append(None)
                versions.append(None)
                continue
            for t, a in zip(tensors, arrays):  # an input (first: a forward may return an input as it is)
                if item is a:
                    if t._borrowed:  # a caller's ndarray operand: other views of it may change it later
                        t = Tensor._make(a.copy(), False)
                        item = None
                    saved.append(t)
                    versions.append(t._version)
                    break
            else:
                if item is raw or item is data:
                    saved.append(_OUTPUT)
                    versions.append(None)
                    ctx._out_data = data
                    if not packing:
                        _protect(data, held, cls)
                    continue
                const = Tensor._make(np.asarray(item), False)
                saved.append(const)
                versions.append(None)
            if isinstance(item, np.ndarray) and not packing:
                _protect(item, held, cls)
        del ctx._to_save
        ctx._saved = saved
        ctx._saved_versions = versions
        out._ctx = ctx
        if packing:
            _pack_saved(ctx, out, packing[-1])
        return out

    # -- the node protocol used by autograd.run_backward ---------------------------------------
    def _push_parents(self, stack: list[Any], seen: set[Any]) -> None:
        if self._freed:
            raise RuntimeError(_freed_message(self))
        for parent in self._prev:
            if parent is not None and parent not in seen:
                stack.append(parent)

    def _backprop(self, g: Any, store: bool, release: bool) -> None:
        """``parent._g += backward(ctx, g)[i]`` for each parent i (the VJP, in Tensor ops)."""
        if store:
            self._receive(g)
        for parent, pg in zip(self._prev, self._vjp(g)):
            if parent is None or pg is None:
                continue
            prev = parent._g
            parent._g = pg if prev is None else prev + pg
        if release:
            self._release()

    def _vjp(self, g: Any) -> tuple[Any, ...]:
        if _profiler._active is not None:  # a profile() block is recording (autograd/profiler.py)
            return _profiler._active._time_vjp(self, g)
        return self._checked_vjp(g)

    def _checked_vjp(self, g: Any) -> tuple[Any, ...]:
        # Ops that the VJP records (with create_graph=True) are scoped "∇h.0.attn" when this op ran
        # in h.0.attn, so a drawn gradient graph groups the backward pass by module too.
        _scope.append(_grad_scope(self.scope))
        try:
            grads = type(self).backward(self, g)
        except Exception as e:
            if _anomaly._enabled:  # anomaly mode: say which op's backward this was, and where its forward ran
                _anomaly._note_backward_error(self, e)
            raise
        finally:
            _scope.pop()
        if not isinstance(grads, tuple):
            grads = (grads,)
        if len(grads) != len(self._prev):
            raise RuntimeError(
                f"{self._op_name()}.backward returned {len(grads)} gradients for "
                f"{len(self._prev)} inputs"
            )
        Tensor = _tensor_class
        checked = []
        for i, (gi, shape, parent) in enumerate(zip(grads, self._in_shapes, self._prev)):
            if gi is None or parent is None:
                checked.append(None)
                continue
            # a gradient has its input's dtype: a number or array is made one at that dtype (not through
            # float32), a tensor of another dtype is converted, as PyTorch's engine does
            dtype = parent.out_dtype if isinstance(parent, Function) else parent._data.dtype
            if not isinstance(gi, Tensor):
                gi = Tensor(gi, dtype=dtype)
            elif gi._data.dtype != dtype:
                gi = gi.to(dtype)
            if gi.shape != shape:
                raise RuntimeError(
                    f"{self._op_name()}.backward returned a gradient of shape {gi.shape} for "
                    f"input {i} of shape {shape}"
                )
            checked.append(gi)
        if _anomaly._enabled:  # anomaly mode: a nan or inf made from a finite ȳ is an error (anomaly_mode.py)
            _anomaly._backward(self, g, checked)
        return tuple(checked)

    def _receive(self, g: Any) -> None:
        if self._retained is not None:
            t = self._retained()
            if t is not None:
                t._accumulate_grad(g)

    def _release(self) -> None:
        # A node that saved nothing (add, sum, reshape, ...) loses nothing, so, as in PyTorch, a
        # second backward through it stays possible; one that saved values cannot run again.
        for item in self._saved or ():
            if item is not None:
                self._freed = True
                break
        self._saved = None
        self._saved_versions = None
        self._out_data = None
        held, self._held = self._held, []
        _unprotect(held)

    def __del__(self) -> None:  # a graph dropped without backward releases its arrays too
        held = self.__dict__.get("_held")
        if held:
            _unprotect(held)

    def _op_name(self) -> str:
        return type(self).__name__.lower()

    def _retain(self, tensor: Any) -> None:
        self._retained = weakref.ref(tensor)

    # -- PyTorch's view of the node: name(), next_functions ------------------------------------
    def name(self) -> str:
        """PyTorch's name for this node, as ``grad_fn.name()``: ``'MulBackward0'`` for a product, ``'SumBackward1'``
        for a sum over a dim; ``'SquareBackward'`` for a user's ``Square(Function)``. A composite op (``a - b`` is
        ``a + (-b)``, ``x.mean()`` is a sum over n) shows its last primitive's node, where PyTorch has one of
        its own (``SubBackward0``, ``MeanBackward0``)."""
        own = self.__dict__.get("_torch_name")
        if own is not None:
            return own
        if type(self).__module__ not in ("tinygrad_tx.ops", "tinygrad_tx.ops_shape", "tinygrad_tx.ops_math"):
            return type(self).__name__ + "Backward"
        name = _TORCH_NAMES.get(type(self).__name__)
        if name is None:
            return type(self).__name__ + "Backward0"
        return name if isinstance(name, str) else name(self)

    @property
    def next_functions(self) -> tuple[tuple[Any, int], ...]:
        """One ``(node, 0)`` per input, as PyTorch's: the node that made it, an `AccumulateGrad` for a leaf that
        requires grad, None for a constant."""
        return tuple((_next_node(parent), 0) for parent in self._prev)

    def __repr__(self) -> str:
        return f"<{self.name()} object at {hex(id(self))}>"


class AccumulateGrad:
    """The node that stores a leaf's gradient in ``leaf.grad``, as PyTorch's: what ``next_functions`` shows for
    a leaf that requires grad (``.variable`` is the leaf). One object per leaf while it is in use."""

    __slots__ = ("variable", "__weakref__")
    next_functions: tuple[Any, ...] = ()

    def __init__(self, variable: Any) -> None:
        self.variable = variable

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {hex(id(self))}>"


_accumulators: weakref.WeakValueDictionary[int, AccumulateGrad] = weakref.WeakValueDictionary()


def _next_node(parent: Any) -> Any:
    """A parent in ``_prev`` as PyTorch shows it: a `Function` node as it is, a leaf as its `AccumulateGrad`."""
    if parent is None or isinstance(parent, Function):
        return parent
    node = _accumulators.get(id(parent))  # (an AccumulateGrad holds its leaf: the id cannot be reused meanwhile)
    if node is None:
        node = _accumulators[id(parent)] = AccumulateGrad(parent)
    return node


def _reduction_name(op: str) -> Any:
    """``SumBackward0`` for a reduction over all elements to a 0-d result, ``SumBackward1`` over dims."""
    return lambda node: f"{op}Backward0" if node.out_shape == () else f"{op}Backward1"


def _pow_name(node: Function) -> str:
    """x ** c: PowBackward0; x ** y: PowBackward1; c ** y: PowBackward2 (c a constant)."""
    base, exponent = node._prev
    return "PowBackward0" if exponent is None else ("PowBackward1" if base is not None else "PowBackward2")


def _getitem_name(node: Function) -> str:
    items = node.index if isinstance(node.index, tuple) else (node.index,)  # type: ignore[attr-defined]
    if any(isinstance(i, (np.ndarray, list)) for i in items):
        return "IndexBackward0"
    return "SliceBackward0" if any(isinstance(i, slice) for i in items) else "SelectBackward0"


# PyTorch's node names for the primitives of ops.py (by class name), where its op is the same
_TORCH_NAMES: dict[str, Any] = {
    "Add": "AddBackward0", "Mul": "MulBackward0", "Div": "DivBackward0", "Neg": "NegBackward0",
    "Exp": "ExpBackward0", "Log": "LogBackward0", "Tanh": "TanhBackward0", "Sin": "SinBackward0",
    "Cos": "CosBackward0", "Erf": "ErfBackward0", "Sigmoid": "SigmoidBackward0", "Relu": "ReluBackward0",
    "Maximum": "MaximumBackward0", "Remainder": "RemainderBackward0", "Where": "WhereBackward0",
    "Clone": "CloneBackward0", "Cast": "ToCopyBackward0", "Amax": "AmaxBackward0", "Reshape": "ViewBackward0",
    "Permute": "PermuteBackward0", "Expand": "ExpandBackward0", "Cat": "CatBackward0",
    "IndexAdd": "IndexPutBackward0", "Sum": _reduction_name("Sum"), "Prod": _reduction_name("Prod"),
    "Pow": _pow_name, "GetItem": _getitem_name, "Log1p": "Log1PBackward0",
    "Matmul": lambda node: "MmBackward0" if len(node.out_shape) == 2 else "BmmBackward0",
}


# -------------------------------------------------------------------------------- saved-tensor hooks
class _Packed:
    """A saved value as a ``saved_tensors_hooks`` pack hook returned it, with what it takes to give the
    VJP a tensor again: the unpack hook, and the graph node the saved tensor stood for (None for one that
    needs no gradient; ``output`` for the op's own output, whose node is the op). ``kept``: the pack hook
    returned the saved tensor itself, which the graph then keeps as without hooks (for the output, its
    values: the output tensor would make a reference cycle with its own node)."""

    __slots__ = ("packed", "unpack_hook", "node", "output", "kept")

    def __init__(self, packed: Any, unpack_hook: Any, node: Any, output: bool, kept: bool) -> None:
        self.packed, self.unpack_hook, self.node, self.output, self.kept = packed, unpack_hook, node, output, kept

    def unpack(self, ctx: Function) -> tuple[Any, bool]:
        """``(tensor, is_saved)``: the unpack hook's tensor, and whether it is the saved input tensor itself
        (whose version `saved_tensors` then checks)."""
        Tensor = _tensor_class
        packed = self.packed
        if packed is _OUTPUT:  # the output, kept as its values: a tensor again, the same graph node
            packed = Tensor._make(ctx._out_data, True)
            packed._ctx, packed._tangent = ctx, ctx._tangent
        t = self.unpack_hook(packed)
        if not isinstance(t, Tensor):
            raise TypeError(f"Output of saved tensor unpack_hook expected to be a Tensor but got result of type "
                            f"{type(t).__name__} (in '{ctx._op_name()}')")
        if self.kept and t is packed:
            return t, not self.output
        node = ctx if self.output else self.node
        if node is None:
            return Tensor._make(t._data, False), False
        # the unpacked values, standing in the graph for the saved tensor: its node is the saved tensor's
        # (this op, an earlier op, or the leaf itself), so a second derivative reaches what it should
        connected = Tensor._make(t._data, True)
        connected._ctx = node
        if self.output:
            connected._tangent = ctx._tangent
        return connected, False


def _pack_saved(ctx: Function, out: Any, hooks: tuple[Any, Any]) -> None:
    """Pass each value ``ctx`` saved through the pack hook (under no_grad, as PyTorch). A pack hook that
    returns the tensor itself leaves it saved as without hooks (read-only while saved, version-checked);
    anything else replaces it, and the engine keeps no reference to the tensor's values."""
    pack, unpack = hooks
    saved, versions = ctx._saved, ctx._saved_versions
    with no_grad():
        for i, item in enumerate(saved):
            if item is None:
                continue
            output = item is _OUTPUT
            t = out if output else item
            packed = pack(t)
            kept = packed is t
            if kept:
                _protect(t._data, ctx._held, type(ctx))
            else:
                versions[i] = None
                if output:
                    ctx._out_data = None
            node = None if output or not t.requires_grad else t._node()
            saved[i] = _Packed(_OUTPUT if kept and output else packed, unpack, node, output, kept)


def _named(out: Any, name: str) -> Any:
    """``out`` with its graph node answering ``grad_fn.name()`` with ``name``: a composite (sub, mean,
    softmax, cross_entropy) shows PyTorch's name for the op, not its last primitive's."""
    ctx = getattr(out, "_ctx", None)
    if ctx is not None:
        ctx._torch_name = name
    return out


def named_node(name: str) -> Any:
    """Decorator form of `_named`, for a composite with several return paths."""

    def wrap(fn: Any) -> Any:
        @functools.wraps(fn)
        def named(*args: Any, **kwargs: Any) -> Any:
            return _named(fn(*args, **kwargs), name)

        return named

    return wrap
