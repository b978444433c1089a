"""``import tinygrad_tx as torch``: the tensor API around the engine behaves as PyTorch's (issue 11).

Every behaviour is compared with PyTorch itself: the dtype objects (``t.dtype is torch.float64``, ``print``),
``finfo``/``iinfo``, devices (the CPU; CUDA and MPS refused clearly), conversions (``.to``, ``.long()``,
``.type()``), ``torch.Size``, the factories (values and dtypes), the samplers (shapes, dtypes, their laws, the
`Generator` and ``generator=``), the names of the graph's nodes (``grad_fn.name()``, ``next_functions``) and the
printed form of tensors (``repr`` strings equal to PyTorch's). Random streams are not PyTorch's, so samples are
checked by their law (with bounds of 5 standard errors, so a correct sampler fails about once in a million runs,
with a fixed seed: never) and by reproducibility, not by value.
"""

from __future__ import annotations

import copy
import math
import pickle
from typing import Any

import numpy as np
import pytest

import tinygrad_tx as tx
from tests.oracle import both_raise
from tinygrad_tx import nn

torch = pytest.importorskip("torch")

LIBS = pytest.mark.parametrize("lib", [torch, tx], ids=["torch", "tinygrad_tx"])
DTYPE_NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
ALIASES = {"float": "float32", "double": "float64", "half": "float16", "long": "int64", "int": "int32",
           "short": "int16", "cfloat": "complex64", "cdouble": "complex128"}


# ------------------------------------------------------------------------------------------- dtypes
@pytest.mark.parametrize("name", DTYPE_NAMES + ["uint16", "uint32", "uint64", "complex64", "complex128"])
def test_a_dtype_prints_and_answers_as_torch(name: str) -> None:
    ours, theirs = getattr(tx, name), getattr(torch, name)
    assert str(ours) == repr(ours) == str(theirs) == f"torch.{name}"
    for attr in ("is_floating_point", "is_complex", "is_signed", "itemsize"):
        assert getattr(ours, attr) == getattr(theirs, attr), attr
    assert isinstance(ours, tx.dtype)
    assert pickle.loads(pickle.dumps(ours)) is ours and copy.deepcopy(ours) is ours
    assert f"{ours}" == name  # an f-string reads as NumPy's name: the engine's messages say "dtype float32"


@pytest.mark.parametrize("alias, name", ALIASES.items())
def test_the_aliases_are_the_same_objects(alias: str, name: str) -> None:
    assert getattr(tx, alias) is getattr(tx, name)
    assert getattr(torch, alias) is getattr(torch, name)


@pytest.mark.parametrize("name", DTYPE_NAMES)
def test_a_tensor_gives_the_one_dtype_object(name: str) -> None:
    t = tx.zeros(2, dtype=getattr(tx, name))
    assert t.dtype is getattr(tx, name) and t[:1].dtype is t.dtype and tx.tensor(t.numpy()).dtype is t.dtype
    assert t.dtype == np.dtype(name) and np.dtype(name) == t.dtype and t.dtype == np.dtype(name).type
    assert hash(t.dtype) == hash(np.dtype(name)) and {np.dtype(name): 1}[t.dtype] == 1
    assert np.zeros(3, t.dtype).dtype == np.dtype(name) and np.dtype(t.dtype) == np.dtype(name)
    assert t.dtype.kind == np.dtype(name).kind and t.dtype.name == name  # NumPy's attributes are there too
    others = [getattr(tx, n) for n in DTYPE_NAMES if n != name]
    assert all(t.dtype != o and t.dtype is not o for o in others)


def test_dtypes_compare_as_torch_with_strings_and_none() -> None:
    for lib in (torch, tx):
        assert lib.float32 != "float32" and lib.float32 is not None and lib.float32 != None  # noqa: E711
        assert lib.tensor([1.0]).dtype in (lib.float32, lib.float64)


@pytest.mark.parametrize("data", [[1, 2], [True, False], [1.5], [1, 2.5], [True, 1], 3, 2.0, [], [[1], [2]],
                                  np.float64(1.5), np.array([1, 2], dtype=np.int32)])
@pytest.mark.parametrize("default", ["float32", "float64"])
def test_tensor_of_python_data_has_torch_dtype(data: Any, default: str) -> None:
    torch.set_default_dtype(getattr(torch, default))
    tx.set_default_dtype(getattr(tx, default))
    try:
        assert str(tx.tensor(data).dtype) == str(torch.tensor(data).dtype)
        assert tx.get_default_dtype() is getattr(tx, default)
        assert str(tx.tensor(data, dtype=tx.long).dtype) == "torch.int64"
    finally:
        torch.set_default_dtype(torch.float32)
        tx.set_default_dtype(tx.float32)


def test_set_default_dtype_takes_floating_dtypes_only() -> None:
    both_raise(lambda lib: lib.set_default_dtype(lib.int64), match="only floating-point types")
    with pytest.raises(TypeError, match="set_default_dtype: dtype must be a dtype"):
        tx.set_default_dtype("no such dtype")


@pytest.mark.parametrize("name", ["float16", "float32", "float64", None])
def test_finfo_as_torch(name: str | None) -> None:
    ours, theirs = (tx.finfo(), torch.finfo()) if name is None else (tx.finfo(getattr(tx, name)),
                                                                      torch.finfo(getattr(torch, name)))
    for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(ours, attr) == getattr(theirs, attr), attr
        assert type(getattr(ours, attr)) is type(getattr(theirs, attr)), attr
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("name", ["uint8", "int8", "int16", "int32", "int64"])
def test_iinfo_as_torch(name: str) -> None:
    ours, theirs = tx.iinfo(getattr(tx, name)), torch.iinfo(getattr(torch, name))
    assert (ours.bits, ours.min, ours.max, ours.dtype) == (theirs.bits, theirs.min, theirs.max, theirs.dtype)
    assert repr(ours) == repr(theirs)


def test_finfo_and_iinfo_refuse_the_other_kind() -> None:
    both_raise(lambda lib: lib.iinfo(lib.float32), match="iinfo: needs an integer dtype")
    both_raise(lambda lib: lib.finfo(lib.int32), match="finfo: needs a floating-point dtype")
    both_raise(lambda lib: lib.iinfo(lib.bool), match="iinfo: torch.bool is not supported")


def test_is_tensor_numel_is_floating_point() -> None:
    for lib in (torch, tx):
        assert lib.is_tensor(lib.ones(1)) and not lib.is_tensor([1.0]) and not lib.is_tensor(np.ones(1))
        assert lib.numel(lib.ones(2, 3)) == 6 and lib.ones(2, 3).nelement() == 6
        assert lib.ones(2).is_floating_point() and not lib.is_floating_point(lib.ones(2, dtype=lib.long))
        assert lib.ones(2, dtype=lib.uint8).is_signed() is False and lib.ones(2).is_signed() is True


# ------------------------------------------------------------------------------------------ devices
@pytest.mark.parametrize("args", [("cpu",), ("cpu:0",), ("cpu", 0), ("cuda",), ("cuda:1",), ("cuda", 2), ("mps",)])
def test_device_objects_as_torch(args: tuple[Any, ...]) -> None:
    ours, theirs = tx.device(*args), torch.device(*args)
    assert (repr(ours), str(ours), ours.type, ours.index) == (repr(theirs), str(theirs), theirs.type, theirs.index)
    assert ours == tx.device(*args) and ours == tx.device(ours) and pickle.loads(pickle.dumps(ours)) == ours
    assert (ours == tx.device("cpu")) == (theirs == torch.device("cpu"))


def test_device_strings_that_torch_refuses() -> None:
    for bad in ("gpu", "cpu:x", "cuda:-1", 0):
        both_raise(lambda lib, bad=bad: lib.device(bad), match=r"device|Device")


CPU_DEVICES = ["cpu", "cpu:0", tx.device("cpu"), None]


@pytest.mark.parametrize("device", CPU_DEVICES)
def test_device_is_accepted_wherever_torch_takes_it(device: Any) -> None:
    t = tx.ones(2)
    made = [tx.tensor([1.0], device=device), tx.Tensor([1.0], device=device), tx.zeros(2, device=device),
            tx.ones(2, device=device), tx.empty(2, device=device), tx.full((2,), 1.0, device=device),
            tx.zeros_like(t, device=device), tx.ones_like(t, device=device), tx.empty_like(t, device=device),
            tx.full_like(t, 2.0, device=device), tx.rand_like(t, device=device), tx.randn_like(t, device=device),
            tx.randint_like(t, 3, device=device), tx.arange(3, device=device), tx.linspace(0, 1, 3, device=device),
            tx.logspace(0, 1, 3, device=device), tx.eye(2, device=device), tx.randn(2, device=device),
            tx.rand(2, device=device), tx.randint(3, (2,), device=device), tx.randperm(3, device=device),
            tx.normal(0.0, 1.0, (2,), device=device), tx.as_tensor([1.0], device=device),
            t.to(device), t.to(device, tx.float64), t.to(device=device, dtype=tx.float64)]
    assert all(m.device == tx.device("cpu") and m.is_cuda is False and m.is_cpu for m in made)
    if device is not None:
        assert tx.Generator(device=device).device == tx.device("cpu")


FACTORIES_ON = [
    ("tensor", lambda lib, d: lib.tensor([1.0], device=d)),
    ("zeros", lambda lib, d: lib.zeros(2, device=d)),
    ("randn", lambda lib, d: lib.randn(2, device=d)),
    ("arange", lambda lib, d: lib.arange(3, device=d)),
    ("full_like", lambda lib, d: lib.full_like(lib.ones(2), 1.0, device=d)),
    ("to", lambda lib, d: lib.ones(2).to(d)),
    ("to", lambda lib, d: lib.ones(2).to(lib.device(d))),
    ("to", lambda lib, d: lib.ones(2).to(d, lib.float64)),
    ("to", lambda lib, d: lib.ones(2).to(device=d)),
]


@pytest.mark.parametrize("device", ["cuda", "cuda:0", "mps"])
@pytest.mark.parametrize("op, make", FACTORIES_ON, ids=[f"{op}{i}" for i, (op, _) in enumerate(FACTORIES_ON)])
def test_other_devices_fail_at_once_with_a_clear_message(op: str, make: Any, device: str) -> None:
    with pytest.raises(Exception):  # noqa: B017  (PyTorch: AssertionError for CUDA, RuntimeError for MPS)
        make(torch, device)
    kind = device.partition(":")[0]
    with pytest.raises(RuntimeError, match=f"^{op}: tinygrad_tx runs on NumPy on the CPU: device '{kind}"):
        make(tx, device)


def test_cuda_and_mps_are_not_available() -> None:
    with pytest.raises(RuntimeError, match="tinygrad_tx runs on NumPy on the CPU: device 'cuda' is not available"):
        tx.ones(2).cuda()
    for lib in (torch, tx):
        assert lib.cuda.is_available() is False and lib.cuda.device_count() == 0
        assert lib.backends.mps.is_available() is False and lib.backends.mps.is_built() is False
        assert lib.cuda.manual_seed(0) is None and lib.cuda.manual_seed_all(0) is None
        flags = lib.backends.cudnn.deterministic, lib.backends.cudnn.benchmark
        lib.backends.cudnn.deterministic, lib.backends.cudnn.benchmark = True, False  # accepted
        lib.backends.cudnn.deterministic, lib.backends.cudnn.benchmark = flags
        assert lib.ones(2).cpu().device == lib.device("cpu") and lib.ones(2).is_cuda is False
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        tx.cuda.current_device()
    device = "cuda" if tx.cuda.is_available() else "cpu"  # the usual idiom picks the CPU
    assert tx.zeros(2, device=device).device.type == "cpu"


def test_float32_matmul_precision_is_accepted() -> None:
    tx.set_float32_matmul_precision("high")
    assert tx.get_float32_matmul_precision() == "high"
    tx.set_float32_matmul_precision("highest")
    with pytest.raises(RuntimeError, match="invalid precision 'fast'"):  # (PyTorch warns, and ignores it)
        tx.set_float32_matmul_precision("fast")


# -------------------------------------------------------------------------------------- conversions
CONVERSIONS = [
    ("float", lambda t, lib: t.float()), ("double", lambda t, lib: t.double()), ("half", lambda t, lib: t.half()),
    ("long", lambda t, lib: t.long()), ("int", lambda t, lib: t.int()), ("short", lambda t, lib: t.short()),
    ("char", lambda t, lib: t.char()), ("byte", lambda t, lib: t.byte()), ("bool", lambda t, lib: t.bool()),
    ("to dtype", lambda t, lib: t.to(lib.float64)), ("to kw", lambda t, lib: t.to(dtype=lib.int32)),
    ("to cpu dtype", lambda t, lib: t.to("cpu", lib.int16)), ("to other", lambda t, lib: t.to(lib.tensor([1]))),
    ("to copy", lambda t, lib: t.to(lib.float32, copy=True)), ("type_as", lambda t, lib: t.type_as(lib.ones(1))),
    ("type dtype", lambda t, lib: t.type(lib.float64)), ("type name", lambda t, lib: t.type("torch.LongTensor")),
    ("to python type", lambda t, lib: t.to(float)),
]


@pytest.mark.parametrize("what, convert", CONVERSIONS, ids=[c[0] for c in CONVERSIONS])
@pytest.mark.parametrize("data", [[1.5, -2.7, 0.0, 3.0], [1, 0, -3, 7], [True, False, True, True]])
def test_conversions_as_torch(what: str, convert: Any, data: list[Any]) -> None:
    ours, theirs = convert(tx.tensor(data), tx), convert(torch.tensor(data), torch)
    assert str(ours.dtype) == str(theirs.dtype)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert ours.element_size() == theirs.element_size() and ours.type() == theirs.type()


def test_to_returns_self_unless_something_changes() -> None:
    for lib in (torch, tx):
        t = lib.ones(2)
        assert t.to(lib.float32) is t and t.to("cpu") is t and t.to(t) is t and t.cpu() is t
        assert t.to(lib.float32, copy=True) is not t and t.to(copy=True) is not t


def test_floating_conversions_are_differentiable_others_leave_the_graph() -> None:
    for lib in (torch, tx):
        x = lib.tensor([1.5, -2.0], requires_grad=True)
        y = x.double() * x.double()
        y.sum().backward()
        grad = x.grad.numpy() if lib is torch else np.asarray(x.grad)
        np.testing.assert_array_equal(grad, [3.0, -4.0])
        assert grad.dtype == np.float32 and y.grad_fn.next_functions[0][0].name() == "ToCopyBackward0"
        assert x.long().requires_grad is False and x.half().requires_grad is True


def test_type_without_an_argument_names_the_tensor_type() -> None:
    for name in DTYPE_NAMES:
        assert tx.zeros(1, dtype=getattr(tx, name)).type() == torch.zeros(1, dtype=getattr(torch, name)).type()
    with pytest.raises(ValueError, match="type: invalid type 'torch.FooTensor'"):
        tx.ones(1).type("torch.FooTensor")


@LIBS
def test_size_as_torch(lib: Any) -> None:
    t = lib.zeros(2, 3, 4)
    s = t.shape
    assert isinstance(s, lib.Size) and isinstance(s, tuple) and s == (2, 3, 4) and t.size() == s
    assert repr(s) == str(s) == "torch.Size([2, 3, 4])" and repr(lib.zeros(()).shape) == "torch.Size([])"
    assert isinstance(s[1:], lib.Size) and s[1:] == (3, 4) and s[0] == 2 and type(s[0]) is int
    assert isinstance(s + (5,), lib.Size) and isinstance((1,) + s, lib.Size) and (1,) + s == (1, 2, 3, 4)
    assert s.numel() == 24 and t.size(1) == 3 and t.size(-1) == 4 and t.dim() == 3 and t.ndimension() == 3
    assert lib.Size([2, 3]) == (2, 3) and pickle.loads(pickle.dumps(s)) == s
    assert t.numel() == 24 and t.element_size() == 4 and len(t) == 2


def test_a_size_in_an_f_string_reads_as_a_tuple() -> None:
    """The engine's messages say "shape (2, 3)", as they always did; print() says torch.Size([2, 3])."""
    assert f"{tx.zeros(2, 3).shape}" == "(2, 3)" and f"{tx.zeros(2, 3).shape!r}" == "torch.Size([2, 3])"


# ----------------------------------------------------------------------------------------- factories
def _same_tensor(ours: Any, theirs: Any) -> None:
    assert str(ours.dtype) == str(theirs.dtype), (ours.dtype, theirs.dtype)
    assert ours.shape == theirs.shape and ours.requires_grad == theirs.requires_grad
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())


FACTORIES = [
    lambda lib: lib.zeros(2, 3), lambda lib: lib.zeros((2, 3)), lambda lib: lib.zeros([2, 3]),
    lambda lib: lib.zeros(size=(2, 3)), lambda lib: lib.zeros(()), lambda lib: lib.ones(2, dtype=lib.long),
    lambda lib: lib.ones(2, 3, requires_grad=True), lambda lib: lib.zeros(0, 3), lambda lib: lib.empty(2, 3).shape,
    lambda lib: lib.full((2,), 7), lambda lib: lib.full((2,), 7.0), lambda lib: lib.full((2,), True),
    lambda lib: lib.full((2,), 2, dtype=lib.float32), lambda lib: lib.full_like(lib.ones(2), 7),
    lambda lib: lib.full_like(lib.ones(2, dtype=lib.long), 7.9),
    lambda lib: lib.zeros_like(lib.ones(2), dtype=lib.long), lambda lib: lib.ones_like(lib.ones(2, dtype=lib.int32)),
    lambda lib: lib.empty_like(lib.ones(2, dtype=lib.long)).dtype,
    lambda lib: lib.arange(5), lambda lib: lib.arange(1, 4), lambda lib: lib.arange(0, 1, 0.25),
    lambda lib: lib.arange(5.0), lambda lib: lib.arange(10, 0, -3), lambda lib: lib.arange(0, 5, dtype=lib.float64),
    lambda lib: lib.arange(-0.5, 2, dtype=lib.int64), lambda lib: lib.arange(-0.5, 2, dtype=lib.int32),
    lambda lib: lib.arange(0.5, 3, dtype=lib.int64), lambda lib: lib.arange(lib.tensor(3)),
    lambda lib: lib.arange(0.0, 3.0, requires_grad=True), lambda lib: lib.arange(2**40, 2**40 + 3),
    lambda lib: lib.linspace(0, 1, 5), lambda lib: lib.linspace(0, 10, 5, dtype=lib.int64),
    lambda lib: lib.linspace(-1e3, 1e-3, 77, dtype=lib.int64), lambda lib: lib.linspace(0, 1, 1),
    lambda lib: lib.linspace(0, 1, 0), lambda lib: lib.linspace(2, -2, 9), lambda lib: lib.logspace(0, 2, 3),
    lambda lib: lib.logspace(0, 3, 4, base=2), lambda lib: lib.eye(2), lambda lib: lib.eye(2, 3, dtype=lib.long),
    lambda lib: lib.as_tensor([1, 2]), lambda lib: lib.as_tensor(np.array([1.0, 2.0])),
    lambda lib: lib.from_numpy(np.array([1, 2], dtype=np.int32)), lambda lib: lib.tensor(3.5) * 2,
]


@pytest.mark.parametrize("make", FACTORIES, ids=[str(i) for i in range(len(FACTORIES))])
def test_factories_as_torch(make: Any) -> None:
    ours, theirs = make(tx), make(torch)
    if isinstance(theirs, torch.Tensor):
        _same_tensor(ours, theirs)
    else:
        assert str(ours) == str(theirs)


@pytest.mark.parametrize("start, end, step", [(0, 1, 0.1), (0, 10, 0.3), (-5, 5, 0.7), (0.1, 50.2, 0.011),
                                              (1e3, 1e3 + 7, 0.013), (3, -2, -0.25)])
@pytest.mark.parametrize("name", ["float32", "float64"])
def test_float_ranges_match_torch_within_one_ulp(start: float, end: float, step: float, name: str) -> None:
    """PyTorch's vectorised kernels round some elements one ulp away from start + i·step (and linspace's
    halves from start + i·h, end - (n - 1 - i)·h); ours computes each element once, the same number of them."""
    ours, theirs = tx.arange(start, end, step, dtype=getattr(tx, name)), torch.arange(start, end, step,
                                                                                      dtype=getattr(torch, name))
    lin, their_lin = tx.linspace(start, end, 101, dtype=getattr(tx, name)), torch.linspace(start, end, 101,
                                                                                          dtype=getattr(torch, name))
    for a, b in [(ours.numpy(), theirs.numpy()), (lin.numpy(), their_lin.numpy())]:
        assert a.shape == b.shape and a.dtype == b.dtype and a[0] == b[0]
        ulp = np.spacing(np.abs(b).max())  # one ulp of the largest value: the scale of the rounding
        assert np.abs(a.astype(np.float64) - b).max() <= ulp
    assert lin.numpy()[-1] == their_lin.numpy()[-1]  # both ends exact


FACTORY_ERRORS = [
    (lambda lib: lib.full(3, 1.0), "full: size must be a tuple of ints"),
    (lambda lib: lib.zeros(-1), r"zeros: negative dimension -1"),
    (lambda lib: lib.zeros(2.5), "zeros: a size is made of integers"),
    (lambda lib: lib.randn(-1), "randn: negative dimension"),
    (lambda lib: lib.arange(0, 5, 0), "arange: step must be nonzero"),
    (lambda lib: lib.arange(5, 0), "arange: upper bound and lower bound inconsistent with step sign"),
    (lambda lib: lib.arange(0.7, 0, 1, dtype=lib.int64), "arange: upper bound and lower bound inconsistent"),
    (lambda lib: lib.linspace(0, 1, -1), "linspace: number of steps must be non-negative"),
    (lambda lib: lib.arange(0, 3, requires_grad=True), "only floating-point tensors can require gradients"),
    (lambda lib: lib.randperm(-1), "randperm: n must be non-negative"),
]


@pytest.mark.parametrize("make, match", FACTORY_ERRORS, ids=[m for _, m in FACTORY_ERRORS])
def test_factory_errors_as_torch(make: Any, match: str) -> None:
    both_raise(make, match=match)


# ----------------------------------------------------------------------------------------- Generator
def test_generator_seeding_as_torch() -> None:
    for lib in (torch, tx):
        g = lib.Generator()
        assert g.initial_seed() == 67280421310721 and g.device == lib.device("cpu")  # PyTorch's default seed
        assert g.manual_seed(3) is g and g.initial_seed() == 3
        assert g.manual_seed(-1).initial_seed() == 2**64 - 1 and lib.manual_seed(2.7).initial_seed() == 2
        assert isinstance(lib.manual_seed(5), lib.Generator) and lib.initial_seed() == 5
        with pytest.raises(ValueError):
            g.manual_seed(2**64)
        with pytest.raises((TypeError, RuntimeError)):
            g.manual_seed(2.7)
        s = g.seed()
        assert 0 <= s < 2**64 and g.initial_seed() == s
    assert tx.manual_seed(0) is tx.default_generator
    from tinygrad_tx import _random

    assert _random._generator() is tx.default_generator  # what nn.init and dropout draw from


def test_a_seed_gives_numpys_stream_reproducibly() -> None:
    """The stream is NumPy's (``default_rng(seed)``), not PyTorch's: reproducible, and documented as such."""
    g = tx.Generator().manual_seed(7)
    np.testing.assert_array_equal(tx.randn(5, generator=g, dtype=tx.float64).numpy(),
                                  np.random.default_rng(7).standard_normal(5))
    tx.manual_seed(7)
    np.testing.assert_array_equal(tx.randn(5, dtype=tx.float64).numpy(), np.random.default_rng(7).standard_normal(5))
    fresh = tx.Generator()  # unseeded: PyTorch's default seed, so every run draws the same
    np.testing.assert_array_equal(tx.rand(3, generator=fresh, dtype=tx.float64).numpy(),
                                  np.random.default_rng(67280421310721).random(3))


def test_generators_are_independent_streams() -> None:
    tx.manual_seed(1)
    expected = tx.randn(4).numpy()
    tx.manual_seed(1)
    g = tx.Generator().manual_seed(1)
    a = tx.randn(4, generator=g).numpy()
    tx.randn(100, generator=tx.Generator().manual_seed(2))  # another generator: the package stream does not move
    np.testing.assert_array_equal(tx.randn(4).numpy(), expected)
    np.testing.assert_array_equal(a, expected)
    assert not np.array_equal(tx.randn(4, generator=g).numpy(), a)  # the stream moves on


def test_generator_state_round_trips() -> None:
    for lib in (torch, tx):
        g = lib.Generator().manual_seed(11)
        lib.randn(3, generator=g)
        state = g.get_state()
        assert str(state.dtype) == "torch.uint8" and state.ndim == 1
        first = lib.randn(5, generator=g)
        g.manual_seed(99)
        assert g.set_state(state) is g and g.initial_seed() == 11
        np.testing.assert_array_equal(lib.randn(5, generator=g).numpy(), first.numpy())
        lib.manual_seed(4)
        saved = lib.get_rng_state()
        first = lib.rand(3)
        lib.set_rng_state(saved)
        np.testing.assert_array_equal(lib.rand(3).numpy(), first.numpy())
    g = tx.Generator().manual_seed(5)
    for twin in (copy.deepcopy(g), pickle.loads(pickle.dumps(g))):
        assert isinstance(twin, tx.Generator) and twin is not g and twin.initial_seed() == 5
        same_state = copy.deepcopy(g)
        np.testing.assert_array_equal(tx.rand(4, generator=twin).numpy(), tx.rand(4, generator=same_state).numpy())
    with pytest.raises(RuntimeError, match="set_state: expected a state from get_state"):
        g.set_state(tx.zeros(3, dtype=tx.uint8))


SAMPLERS = [
    ("randn", lambda lib, g: lib.randn(2, 3, generator=g)),
    ("rand", lambda lib, g: lib.rand((2, 3), generator=g, dtype=lib.float64)),
    ("randint high", lambda lib, g: lib.randint(10, (4,), generator=g)),
    ("randint low high", lambda lib, g: lib.randint(3, 10, (2, 2), generator=g)),
    ("randint size=", lambda lib, g: lib.randint(3, 10, size=(5,), generator=g)),
    ("randint kw", lambda lib, g: lib.randint(low=-2, high=3, size=(5,), generator=g, dtype=lib.int8)),
    ("randint float", lambda lib, g: lib.randint(0, 3, (2,), generator=g, dtype=lib.float32)),
    ("randint bool", lambda lib, g: lib.randint(0, 2, (6,), generator=g, dtype=lib.bool)),
    ("randperm", lambda lib, g: lib.randperm(6, generator=g)),
    ("randperm float", lambda lib, g: lib.randperm(4, generator=g, dtype=lib.float32)),
    ("multinomial 1-d", lambda lib, g: lib.multinomial(lib.tensor([0.2, 0.3, 0.5]), 2, generator=g)),
    ("multinomial 2-d", lambda lib, g: lib.multinomial(lib.ones(3, 4), 4, generator=g)),
    ("multinomial replacement", lambda lib, g: lib.multinomial(lib.ones(2, 3), 7, True, generator=g)),
    ("multinomial method", lambda lib, g: lib.tensor([1.0, 2.0]).multinomial(3, replacement=True, generator=g)),
    ("normal numbers", lambda lib, g: lib.normal(2.0, 3.0, (4,), generator=g)),
    ("normal tensor mean", lambda lib, g: lib.normal(lib.zeros(3, dtype=lib.float64), 1.0, generator=g)),
    ("normal tensor std", lambda lib, g: lib.normal(1.0, lib.ones(2, 3), generator=g)),
    ("normal both", lambda lib, g: lib.normal(lib.zeros(3), lib.ones(3), generator=g)),
    ("bernoulli", lambda lib, g: lib.bernoulli(lib.full((5,), 0.5, dtype=lib.float64), generator=g)),
    ("bernoulli p", lambda lib, g: lib.bernoulli(lib.zeros(5), 0.5, generator=g)),
    ("bernoulli method", lambda lib, g: lib.full((5,), 0.5).bernoulli(generator=g)),
    ("randn_like", lambda lib, g: lib.randn_like(lib.zeros(2, dtype=lib.float64), generator=g)
        if lib is tx else lib.randn_like(lib.zeros(2, dtype=lib.float64))),
    ("rand_like", lambda lib, g: lib.rand_like(lib.zeros(2, 3)) if lib is torch else lib.rand_like(lib.zeros(2, 3),
                                                                                                  generator=g)),
    ("randint_like", lambda lib, g: lib.randint_like(lib.zeros(2, 3), 5)),
    ("randint_like low", lambda lib, g: lib.randint_like(lib.zeros(2, dtype=lib.long), 3, 4)),
    ("normal_", lambda lib, g: lib.zeros(3).normal_(1.0, 2.0, generator=g)),
    ("uniform_", lambda lib, g: lib.zeros(3, dtype=lib.float64).uniform_(-1.0, 1.0, generator=g)),
    ("random_", lambda lib, g: lib.zeros(4, dtype=lib.long).random_(3, 9, generator=g)),
    ("random_ to", lambda lib, g: lib.zeros(4).random_(5, generator=g)),
    ("bernoulli_", lambda lib, g: lib.zeros(4).bernoulli_(0.5, generator=g)),
    ("exponential_", lambda lib, g: lib.zeros(4).exponential_(2.0, generator=g)),
    ("requires_grad", lambda lib, g: lib.randn(2, generator=g, requires_grad=True)),
]


@pytest.mark.parametrize("what, draw", SAMPLERS, ids=[s[0] for s in SAMPLERS])
def test_samplers_give_torchs_shapes_and_dtypes_and_follow_their_generator(what: str, draw: Any) -> None:
    ours, theirs = draw(tx, tx.Generator().manual_seed(3)), draw(torch, torch.Generator().manual_seed(3))
    assert str(ours.dtype) == str(theirs.dtype) and ours.shape == theirs.shape
    assert ours.requires_grad == theirs.requires_grad
    if "like" in what:  # (PyTorch's *_like take no generator)
        return
    again = draw(tx, tx.Generator().manual_seed(3))
    np.testing.assert_array_equal(again.detach().numpy(), ours.detach().numpy())


def _within(observed: float, expected: float, standard_error: float, what: str) -> None:
    assert abs(observed - expected) <= 5 * standard_error, f"{what}: {observed} vs {expected} ± 5·{standard_error:.3g}"


N = 200_000


def test_continuous_samplers_follow_their_laws() -> None:
    g = tx.Generator().manual_seed(0)
    u = tx.rand(N, generator=g, dtype=tx.float64).numpy()
    assert 0 <= u.min() and u.max() < 1
    _within(u.mean(), 0.5, math.sqrt(1 / 12 / N), "rand mean")
    assert tx.rand(N, generator=g, dtype=tx.float16).numpy().max() < 1  # no float64 draw rounds up to 1
    z = tx.randn(N, generator=g, dtype=tx.float64).numpy()
    _within(z.mean(), 0.0, 1 / math.sqrt(N), "randn mean")
    _within(z.std(), 1.0, 1 / math.sqrt(2 * N), "randn std")
    x = tx.normal(2.0, 3.0, (N,), generator=g, dtype=tx.float64).numpy()
    _within(x.mean(), 2.0, 3 / math.sqrt(N), "normal mean")
    _within(x.std(), 3.0, 3 / math.sqrt(2 * N), "normal std")
    m = tx.normal(tx.tensor([[-5.0], [5.0]], dtype=tx.float64).expand(2, N),
                  tx.tensor([[1.0], [2.0]], dtype=tx.float64).expand(2, N), generator=g)
    assert m.shape == (2, N)
    for row, (mu, sigma) in zip(m.numpy(), [(-5.0, 1.0), (5.0, 2.0)]):
        _within(row.mean(), mu, sigma / math.sqrt(N), "normal(mean, std) mean")
        _within(row.std(), sigma, sigma / math.sqrt(2 * N), "normal(mean, std) std")
    e = tx.zeros(N, dtype=tx.float64).exponential_(4.0, generator=g).numpy()
    assert e.min() > 0
    _within(e.mean(), 0.25, 0.25 / math.sqrt(N), "exponential_ mean")
    v = tx.zeros(N, dtype=tx.float64).uniform_(-1.0, 3.0, generator=g).numpy()
    assert -1 <= v.min() and v.max() < 3
    _within(v.mean(), 1.0, 4 * math.sqrt(1 / 12 / N), "uniform_ mean")
    w = tx.zeros(N, dtype=tx.float64).normal_(-1.0, 0.5, generator=g).numpy()
    _within(w.mean(), -1.0, 0.5 / math.sqrt(N), "normal_ mean")
    _within(w.std(), 0.5, 0.5 / math.sqrt(2 * N), "normal_ std")


def _check_uniform_integers(values: np.ndarray, low: int, high: int, what: str) -> None:
    assert values.min() >= low and values.max() < high, what
    counts = np.bincount(values.astype(np.int64) - low, minlength=high - low)
    p = 1 / (high - low)
    for c in counts:
        _within(c / values.size, p, math.sqrt(p * (1 - p) / values.size), what)


def test_integer_samplers_follow_their_laws() -> None:
    g = tx.Generator().manual_seed(1)
    _check_uniform_integers(tx.randint(-3, 4, (N,), generator=g).numpy(), -3, 4, "randint")
    _check_uniform_integers(tx.zeros(N, dtype=tx.long).random_(2, 7, generator=g).numpy(), 2, 7, "random_(2, 7)")
    _check_uniform_integers(tx.zeros(N).random_(3, generator=g).numpy(), 0, 3, "random_(3)")
    full_range = tx.zeros(N, dtype=tx.uint8).random_(generator=g).numpy()
    _check_uniform_integers(full_range, 0, 256, "random_() of uint8")
    assert set(tx.zeros(1000, dtype=tx.bool).random_(generator=g).numpy().tolist()) == {False, True}
    for n in (0, 1, 7):
        assert sorted(tx.randperm(n, generator=g).tolist()) == list(range(n))
    firsts = np.array([tx.randperm(4, generator=g)[0].item() for _ in range(4000)])
    _check_uniform_integers(firsts, 0, 4, "randperm's first element")
    b = tx.bernoulli(tx.full((N,), 0.3, dtype=tx.float64), generator=g).numpy()
    assert set(np.unique(b).tolist()) <= {0.0, 1.0}
    _within(b.mean(), 0.3, math.sqrt(0.21 / N), "bernoulli")
    assert tx.bernoulli(tx.tensor([0.0, 1.0, 0.0, 1.0])).tolist() == [0.0, 1.0, 0.0, 1.0]
    _within(tx.zeros(N).bernoulli_(0.8, generator=g).numpy().mean(), 0.8, math.sqrt(0.16 / N), "bernoulli_")


def test_multinomial_follows_its_law() -> None:
    g = tx.Generator().manual_seed(2)
    p = np.array([0.0, 1.0, 3.0, 0.0, 6.0])  # weights, not summing to 1; two of weight 0
    draws = tx.multinomial(tx.tensor(p), N, replacement=True, generator=g).numpy()
    freq = np.bincount(draws, minlength=5) / N
    for f, q in zip(freq, p / p.sum()):
        _within(f, q, math.sqrt(q * (1 - q) / N), "multinomial with replacement")
    rows = tx.multinomial(tx.tensor([[1.0, 0.0], [0.0, 1.0]]), 50, replacement=True, generator=g).numpy()
    assert (rows[0] == 0).all() and (rows[1] == 1).all()  # each row draws with its own weights
    firsts = tx.multinomial(tx.tensor(p).expand(20000, 5), 3, generator=g).numpy()
    assert all(len(set(r)) == 3 for r in firsts[:500].tolist()) and not np.isin(firsts, [0, 3]).any()
    freq = np.bincount(firsts[:, 0], minlength=5) / len(firsts)
    for f, q in zip(freq, p / p.sum()):  # the first draw without replacement is a draw with the weights
        _within(f, q, math.sqrt(q * (1 - q) / len(firsts)), "multinomial's first draw")
    second = firsts[firsts[:, 0] == 4][:, 1]  # after 4 (weight 6) is drawn: 1 and 2 in the ratio 1 : 3
    _within((second == 2).mean(), 0.75, math.sqrt(0.75 * 0.25 / len(second)), "multinomial's second draw")
    for lib in (torch, tx):  # a weight-0 category is drawn once every positive one has been
        assert lib.multinomial(lib.tensor([0.0, 1.0, 0.0]), 2)[0].item() == 1
        assert sorted(lib.multinomial(lib.tensor([0.0, 1.0, 0.0]), 3).tolist()) == [0, 1, 2]


SAMPLER_ERRORS = [
    (lambda lib: lib.randint(5, 5, (3,)), "randint: expects 'from' to be less than 'to'"),
    (lambda lib: lib.randint(5, 3), "randint: size must be a tuple of ints"),
    (lambda lib: lib.randint(0.5, 5.5, (3,)), "randint: 'from' must be an integer"),
    (lambda lib: lib.randint(0, 300, (4,), dtype=lib.uint8), r"randint: \[0, 300\) is out of bounds for uint8"),
    (lambda lib: lib.randint(-3, 0, (4,), dtype=lib.uint8), "randint: .* out of bounds for uint8"),
    (lambda lib: lib.randint(0, 2**63 + 1, (2,)), r"randint: \[0, 9223372036854775809\) is out of bounds for int64"),
    (lambda lib: lib.randn(2, dtype=lib.long), "randn: samples floating-point values"),
    (lambda lib: lib.rand(2, dtype=lib.int32), "rand: samples floating-point values"),
    (lambda lib: lib.multinomial(lib.tensor([0.0, 1.0, 1.0]), 4), "multinomial: cannot sample n_sample > prob_dist"),
    (lambda lib: lib.multinomial(lib.tensor([-1.0, 1.0]), 1), "multinomial: probability tensor contains"),
    (lambda lib: lib.multinomial(lib.tensor([math.nan, 1.0]), 1), "multinomial: probability tensor contains"),
    (lambda lib: lib.multinomial(lib.tensor([math.inf, 1.0]), 1), "multinomial: probability tensor contains"),
    (lambda lib: lib.multinomial(lib.tensor([0.0, 0.0]), 1), r"multinomial: invalid multinomial distribution"),
    (lambda lib: lib.multinomial(lib.zeros(2, 0), 1, True), r"multinomial: invalid multinomial distribution"),
    (lambda lib: lib.multinomial(lib.tensor([1, 2]), 1), "multinomial: only supports floating-point dtypes"),
    (lambda lib: lib.multinomial(lib.ones(2, 2, 2), 1), "multinomial: prob_dist must be 1 or 2 dim"),
    (lambda lib: lib.multinomial(lib.ones(3), 0), "multinomial: cannot sample n_sample <= 0 samples"),
    (lambda lib: lib.normal(0.0, 1.0), "normal: with a number mean and std, give size"),
    (lambda lib: lib.normal(0.0, -1.0, (2,)), "normal: expects std >= 0.0"),
    (lambda lib: lib.normal(lib.zeros(3), -1.0), "normal: expects all elements of std >= 0.0"),
    (lambda lib: lib.bernoulli(lib.tensor([1.5])), r"bernoulli: probabilities must be in \[0, 1\]"),
    (lambda lib: lib.zeros(3, dtype=lib.long).uniform_(), "uniform_: fills floating-point tensors only"),
    (lambda lib: lib.zeros(3, dtype=lib.long).normal_(), "normal_: fills floating-point tensors only"),
    (lambda lib: lib.zeros(3).normal_(0.0, -1.0), "normal_: expects std >= 0.0"),
    (lambda lib: lib.zeros(3).uniform_(2.0, 1.0), "uniform_: expects to return a"),
    (lambda lib: lib.zeros(3).random_(3, 3), "random_: expects 'from' to be less than 'to'"),
    (lambda lib: lib.zeros(3, dtype=lib.uint8).random_(0, 300), r"random_: .* out of bounds for uint8"),
    (lambda lib: lib.zeros(3).exponential_(-1.0), "exponential_: expects lambda > 0.0"),
    (lambda lib: lib.zeros(3, requires_grad=True).normal_(), "normal_: in-place update of a leaf tensor"),
    (lambda lib: lib.randn(2, generator=np.random.RandomState(0)), "randn: generator must be a tinygrad_tx.Generator"),
]


@pytest.mark.parametrize("draw, match", SAMPLER_ERRORS, ids=[m for _, m in SAMPLER_ERRORS])
def test_sampler_errors_as_torch(draw: Any, match: str) -> None:
    both_raise(draw, match=match)


def test_samples_of_tensor_parameters_stay_in_the_graph_with_zero_gradient() -> None:
    """As PyTorch: ``normal(mean, std)`` and ``bernoulli(p)`` are not reparameterised; the parameters get 0."""
    for lib in (torch, tx):
        mean = lib.tensor([0.0, 1.0], requires_grad=True)
        std = lib.tensor([1.0, 2.0], requires_grad=True)
        p = lib.tensor([0.2, 0.9], requires_grad=True)
        outs = [lib.normal(mean, 1.0), lib.normal(0.0, std), lib.normal(mean, std), lib.bernoulli(p)]
        names = [o.grad_fn.name() for o in outs]
        assert names == ["NormalBackward1", "NormalBackward2", "NormalBackward3", "BernoulliBackward0"], lib
        sum(o.sum() for o in outs).backward()
        for leaf in (mean, std, p):
            np.testing.assert_array_equal(np.asarray(leaf.grad.numpy() if lib is torch else leaf.grad), [0.0, 0.0])


def test_in_place_fills_as_torch() -> None:
    for lib in (torch, tx):
        x = lib.ones(3, requires_grad=True)
        with lib.no_grad():
            assert x.normal_() is x and x.uniform_(-0.1, 0.1) is x and x.requires_grad
        assert x.abs().max().item() < 0.1
        y = x * 2  # a non-leaf: filled in place; what it was computed from gets a gradient of 0
        y.bernoulli_(0.5)
        y.sum().backward()
        np.testing.assert_array_equal(np.asarray(x.grad.numpy() if lib is torch else x.grad), [0.0, 0.0, 0.0])


def test_nn_init_takes_a_generator_and_dropout_draws_from_the_package_stream() -> None:
    w1, w2 = tx.zeros(3, 4), tx.zeros(3, 4)
    nn.init.normal_(w1, 0.0, 1.0, generator=tx.Generator().manual_seed(8))
    nn.init.normal_(w2, 0.0, 1.0, generator=tx.Generator().manual_seed(8))
    np.testing.assert_array_equal(w1.numpy(), w2.numpy())
    assert w1.numpy().std() > 0
    x = tx.ones(1000)
    tx.manual_seed(3)  # (F.dropout takes no generator=, as torch's)
    a = nn.functional.dropout(x, 0.5)
    tx.manual_seed(3)
    b = nn.functional.dropout(x, 0.5)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert set(np.unique(a.numpy()).tolist()) == {0.0, 2.0}


# ------------------------------------------------------------------------------------ grad_fn names
X = np.array([[0.5, -1.2, 2.0], [1.5, 0.3, -0.7]])
GRAPH_OPS = [
    ("add", lambda lib, t: t + 1), ("mul", lambda lib, t: t * 2), ("div", lambda lib, t: t / 3),
    ("neg", lambda lib, t: -t), ("pow", lambda lib, t: t**2), ("pow tensor", lambda lib, t: t**t),
    ("rpow", lambda lib, t: 2**t), ("exp", lambda lib, t: t.exp()), ("log", lambda lib, t: (t * t).log()),
    ("tanh", lambda lib, t: t.tanh()), ("sigmoid", lambda lib, t: t.sigmoid()), ("relu", lambda lib, t: t.relu()),
    ("sin", lambda lib, t: t.sin()), ("cos", lambda lib, t: t.cos()), ("erf", lambda lib, t: t.erf()),
    ("sum", lambda lib, t: t.sum()), ("sum dim", lambda lib, t: t.sum(0)), ("prod", lambda lib, t: t.prod()),
    ("prod dim", lambda lib, t: t.prod(1)), ("amax", lambda lib, t: t.amax(1)), ("mm", lambda lib, t: t @ t.T),
    ("view", lambda lib, t: t.reshape(6)), ("permute", lambda lib, t: t.permute(1, 0)),
    ("expand", lambda lib, t: t[:1].expand(4, 3)), ("select", lambda lib, t: t[0]),
    ("slice", lambda lib, t: t[:, 1:]), ("index", lambda lib, t: t[[0, 1, 1]]), ("mask", lambda lib, t: t[t > 0]),
    ("cat", lambda lib, t: lib.cat([t, t])), ("where", lambda lib, t: lib.where(t > 0, t, 0.0)),
    ("clone", lambda lib, t: t.clone()), ("to", lambda lib, t: t.float()),
    ("maximum", lambda lib, t: t.maximum(t * 2)), ("remainder", lambda lib, t: t % 2),
]


@pytest.mark.parametrize("op, fn", GRAPH_OPS, ids=[o for o, _ in GRAPH_OPS])
def test_grad_fn_names_as_torch(op: str, fn: Any) -> None:
    ours, theirs = fn(tx, tx.tensor(X, requires_grad=True)), fn(torch, torch.tensor(X, requires_grad=True))
    assert ours.grad_fn.name() == theirs.grad_fn.name()
    assert repr(ours.grad_fn).startswith(f"<{theirs.grad_fn.name()} object at 0x")


def test_composites_show_torchs_name_or_their_last_primitives() -> None:
    """The common composites answer with PyTorch's name for the op; others show their last primitive's."""
    t, tt = tx.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    for fn in (lambda t: t - t, lambda t: 1 - t, lambda t: t.mean(), lambda t: t.mean(0), lambda t: t.softmax(-1),
               lambda t: t.log_softmax(0), lambda t: t.var(), lambda t: t.std(1),
               lambda t: (tx if isinstance(t, tx.Tensor) else torch).nn.functional.mse_loss(t, t * 2),
               lambda t: (tx if isinstance(t, tx.Tensor) else torch).nn.functional.cross_entropy(
                   t, (tx if isinstance(t, tx.Tensor) else torch).tensor([0, 2]))):
        assert fn(t).grad_fn.name() == fn(tt).grad_fn.name()
    assert (t.reshape(1, 2, 3) @ t.reshape(1, 3, 2)).grad_fn.name() == "BmmBackward0"
    assert type((t * 2).grad_fn).__name__ == "Mul"  # the class stays the primitive's


def test_next_functions_as_torch() -> None:
    for lib in (torch, tx):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([3.0, 4.0], requires_grad=True)
        c = lib.tensor([5.0, 6.0])
        y = (a * c) + b
        (mul, zero), (acc_b, _) = y.grad_fn.next_functions
        assert zero == 0 and mul.name() == "MulBackward0"
        assert type(acc_b).__name__ == "AccumulateGrad" and acc_b.variable is b and acc_b.next_functions == ()
        assert acc_b.name() == "torch::autograd::AccumulateGrad" and repr(acc_b).startswith("<AccumulateGrad object")
        (acc_a, _), (const, zero) = mul.next_functions
        assert acc_a.variable is a and const is None and zero == 0
        assert (a * 2).grad_fn.next_functions[0][0] is acc_a  # one AccumulateGrad per leaf while in use
        assert a.grad_fn is None

    class Square(tx.Function):
        @staticmethod
        def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
            return x * x

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            return g

    y = Square.apply(tx.ones(2, requires_grad=True))
    assert y.grad_fn.name() == "SquareBackward" and repr(y) == "tensor([1., 1.], grad_fn=<SquareBackward>)"


# ------------------------------------------------------------------------------------------ printing
_rng = np.random.default_rng(0)
PRINTED = [
    [1.0, 2.0], [0.5, 1.25], 3.5, 0.0, -0.0, [0.0, -0.0], [1, 2], [True, False], [], [[]], [[1.0, 2.0], [3.0, 4.0]],
    [1e9, 1.0], [1e-5, 1.0], [123456789.0, 1.0], [1e8], [1.5e8], [math.nan, 1.0], [math.inf, -math.inf, 1.0],
    [math.nan], [math.nan, math.inf, -math.inf], [0.0, math.nan], [1e-4], [9.9e-5, 1.0], [1000.0, 1.0],
    [1001.0, 1.0], [1000.5, 1.0], [-1.0, 2.5], [[1e10, 2.0], [3.0, 4.0]], _rng.standard_normal(20).tolist(),
    _rng.standard_normal((3, 4)).tolist(), _rng.standard_normal((2, 3, 4)).tolist(),
    _rng.standard_normal(1001).tolist(),
    _rng.standard_normal((40, 40)).tolist(), _rng.standard_normal((2, 3, 4, 50)).tolist(),
    (_rng.standard_normal(30) * 1e6).tolist(), list(range(1200)), [[True] * 3] * 2, [-5, 100000, 3], 1e-20, -7, True,
    [1e300, 1e-300], (_rng.standard_normal(17) * 1e-3).tolist(), [0.1, 0.2, 0.3], [2.0**60], [-1e-10, 0.0],
    [1 / 3], [1234.5678], [99999.5], [1e5 + 0.25], _rng.integers(-1000, 1000, (30, 30)).tolist(),
]


def _accepted(data: Any, dtype: str | None) -> bool:
    try:
        torch.tensor(data, dtype=None if dtype is None else getattr(torch, dtype))
    except (RuntimeError, TypeError, OverflowError):  # (nan into int32, -5 into uint8: refused by both)
        return False
    return True


PRINT_CASES = [(i, dtype) for i, data in enumerate(PRINTED)
               for dtype in ("float32", "float64", None, "float16", "int32", "uint8") if _accepted(data, dtype)]


@pytest.mark.parametrize("case, dtype", PRINT_CASES, ids=[f"{i}-{d}" for i, d in PRINT_CASES])
def test_repr_as_torch(case: int, dtype: str | None) -> None:
    data = PRINTED[case]
    theirs = torch.tensor(data, dtype=None if dtype is None else getattr(torch, dtype))
    ours = tx.tensor(data, dtype=None if dtype is None else getattr(tx, dtype))
    assert repr(ours) == repr(theirs) and str(ours) == str(theirs)
    if theirs.dtype.is_floating_point:
        assert repr(ours.requires_grad_()) == repr(theirs.requires_grad_())
        assert repr(ours * 2) == repr(theirs * 2)


@pytest.mark.parametrize("shape", [(0,), (0, 3), (2, 0), (0, 0, 2)])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool", "uint8"])
def test_repr_of_empty_tensors_as_torch(shape: tuple[int, ...], dtype: str) -> None:
    assert repr(tx.zeros(shape, dtype=getattr(tx, dtype))) == repr(torch.zeros(shape, dtype=getattr(torch, dtype)))


@pytest.mark.parametrize("op, fn", GRAPH_OPS, ids=[o for o, _ in GRAPH_OPS])
def test_repr_with_grad_fn_as_torch(op: str, fn: Any) -> None:
    assert repr(fn(tx, tx.tensor(X, requires_grad=True))) == repr(fn(torch, torch.tensor(X, requires_grad=True)))


@pytest.mark.parametrize("options", [dict(precision=2), dict(edgeitems=1, threshold=5), dict(linewidth=40),
                                     dict(sci_mode=True), dict(sci_mode=False), dict(profile="short"),
                                     dict(profile="full"), dict(edgeitems=0, threshold=3)])
def test_set_printoptions_as_torch(options: dict[str, Any]) -> None:
    rng = np.random.default_rng(1)
    try:
        torch.set_printoptions(**options)
        tx.set_printoptions(**options)
        assert tx.get_printoptions() == torch._tensor_str.get_printoptions()
        for data in (rng.standard_normal(20), rng.standard_normal((4, 5)) * 1e5, np.arange(12.0),
                     rng.standard_normal((3, 3, 3)), np.arange(2000)):
            assert repr(tx.tensor(data)) == repr(torch.tensor(data))
    finally:
        torch.set_printoptions(profile="default")
        tx.set_printoptions(profile="default")


def test_repr_of_a_parameter_and_of_a_subclass() -> None:
    assert repr(nn.Parameter(tx.ones(2))) == repr(torch.nn.Parameter(torch.ones(2)))

    class Mine(tx.Tensor):
        __slots__ = ()

    mine = Mine([1.0, 2.0])
    assert repr(mine) == "Mine([1., 2.])"  # as PyTorch names a subclass
