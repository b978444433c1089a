"""Function transforms (``tinygrad_tx.func``) and ``autograd.functional`` against ``torch.func`` and
``torch.autograd.functional``, on one program of two inputs in float64.

Each result must equal PyTorch's to a scale-relative 1e-10 (the issue's bound: the two libraries sum in
other orders, and Hessians go through two passes), with PyTorch's structure (tuples, shapes).
"""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_tx as tx
from tests.helpers import assert_close
from tinygrad_tx import func as txf
from tinygrad_tx.autograd import functional as txF

torch = pytest.importorskip("torch")

RTOL = 1e-10
rng = np.random.default_rng(0)
X0, Y0, V, W = rng.standard_normal(3), rng.standard_normal((2, 3)), rng.standard_normal(3), rng.standard_normal(2)


def f(x, y):  # R³ × R²ˣ³ → R²
    return ((y @ x).tanh() * (x.sum() + 1)).exp()


def s(x, y):  # a scalar
    return (f(x, y) ** 2).sum() + (x * x).prod()


def _ours(*arrays):
    return tuple(tx.tensor(a) for a in arrays)


def _theirs(*arrays):
    return tuple(torch.tensor(a) for a in arrays)


def same(actual, expected, what):
    """The same structure (nested tuples), shapes and values."""
    if isinstance(expected, tuple):
        assert isinstance(actual, tuple) and len(actual) == len(expected), f"{what}: structure"
        for i, (a, e) in enumerate(zip(actual, expected)):
            same(a, e, f"{what}[{i}]")
        return
    assert isinstance(actual, tx.Tensor), f"{what}: {type(actual).__name__}"
    assert not actual.requires_grad, f"{what}: a plain call returns a result outside any graph"
    assert_close(actual.detach().numpy(), expected.detach().numpy(), RTOL, what)


CASES = {
    "grad": (lambda F: F.grad(s), (X0, Y0)),
    "grad argnums": (lambda F: F.grad(s, argnums=(0, 1)), (X0, Y0)),
    "grad_and_value": (lambda F: F.grad_and_value(s, argnums=1), (X0, Y0)),
    "grad has_aux": (lambda F: F.grad(lambda x, y: (s(x, y), f(x, y)), has_aux=True), (X0, Y0)),
    "jacrev": (lambda F: F.jacrev(f), (X0, Y0)),
    "jacrev argnums": (lambda F: F.jacrev(f, argnums=(0, 1)), (X0, Y0)),
    "jacfwd": (lambda F: F.jacfwd(f, argnums=1), (X0, Y0)),
    "hessian": (lambda F: F.hessian(s), (X0, Y0)),
    "hessian argnums": (lambda F: F.hessian(s, argnums=(0, 1)), (X0, Y0)),
    "jacrev of jacrev": (lambda F: F.jacrev(F.jacrev(s)), (X0, Y0)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_transform_equals_torch_func(name: str) -> None:
    make, args = CASES[name]
    same(make(txf)(*_ours(*args)), make(torch.func)(*_theirs(*args)), name)


def test_grad_of_grad_composes() -> None:
    y, ty = tx.tensor(Y0), torch.tensor(Y0)
    ours = txf.grad(lambda x: txf.grad(s)(x, y).sum())(tx.tensor(X0))
    theirs = torch.func.grad(lambda x: torch.func.grad(s)(x, ty).sum())(torch.tensor(X0))
    same(ours, theirs, "grad(grad)")


def test_vjp_and_jvp_equal_torch_func() -> None:
    out, fn = txf.vjp(f, *_ours(X0, Y0))
    t_out, t_fn = torch.func.vjp(f, *_theirs(X0, Y0))
    same(out, t_out, "vjp output")
    same(fn(tx.tensor(W)), t_fn(torch.tensor(W)), "vjp")
    zeros = np.zeros((2, 3))
    same(txf.jvp(f, _ours(X0, Y0), _ours(V, zeros)), torch.func.jvp(f, _theirs(X0, Y0), _theirs(V, zeros)), "jvp")


def _g(lib):
    y = tx.tensor(Y0) if lib is tx else torch.tensor(Y0)
    return lambda x: f(x, y)


def _h(lib):
    y = tx.tensor(Y0) if lib is tx else torch.tensor(Y0)
    return lambda x: s(x, y)


FUNCTIONAL = {
    "jacobian": lambda F, lib, T: F.jacobian(_g(lib), T(X0)),
    "jacobian forward-mode": lambda F, lib, T: F.jacobian(_g(lib), T(X0), strategy="forward-mode", vectorize=True),
    "jacobian of a tuple": lambda F, lib, T: F.jacobian(f, (T(X0), T(Y0))),
    "hessian": lambda F, lib, T: F.hessian(_h(lib), T(X0)),
    "hessian of a tuple": lambda F, lib, T: F.hessian(s, (T(X0), T(Y0))),
    "vjp": lambda F, lib, T: F.vjp(_g(lib), T(X0), T(W)),
    "jvp": lambda F, lib, T: F.jvp(_g(lib), T(X0), T(V)),
    "hvp": lambda F, lib, T: F.hvp(_h(lib), T(X0), T(V)),
    "vhp": lambda F, lib, T: F.vhp(_h(lib), T(X0), T(V)),
    "hvp of a tuple": lambda F, lib, T: F.hvp(s, (T(X0), T(Y0)), (T(V), T(np.ones((2, 3))))),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONAL))
def test_autograd_functional_equals_torch(name: str) -> None:
    run = FUNCTIONAL[name]
    same(run(txF, tx, tx.tensor), run(torch.autograd.functional, torch, torch.tensor), name)


def test_create_graph_keeps_the_result_differentiable() -> None:
    x = tx.tensor(X0, requires_grad=True)
    _, hv = txF.hvp(_h(tx), x, tx.tensor(V), create_graph=False)
    assert not hv.requires_grad
    jac = txF.jacobian(_g(tx), x, create_graph=True)
    assert jac.requires_grad
    jac.sum().backward()
    xt = torch.tensor(X0, requires_grad=True)
    torch.autograd.functional.jacobian(_g(torch), xt, create_graph=True).sum().backward()
    assert_close(x.grad if isinstance(x.grad, np.ndarray) else x.grad.numpy(), xt.grad.numpy(), RTOL,
                 "d(Σ J)/dx")


def test_strict_refuses_an_independent_output_and_the_default_gives_zeros() -> None:
    const = lambda x: tx.tensor([1.0, 2.0])  # noqa: E731
    assert txF.jacobian(const, tx.tensor(X0)).numpy().tolist() == np.zeros((2, 3)).tolist()
    with pytest.raises(RuntimeError, match="strict=True"):
        txF.jacobian(const, tx.tensor(X0), strict=True)


def test_mistakes_are_named() -> None:
    with pytest.raises(RuntimeError, match="grad: the function must return a one-element tensor, got \\(2,\\)"):
        txf.grad(f)(*_ours(X0, Y0))
    with pytest.raises(RuntimeError, match="hessian: func must return a one-element tensor"):
        txF.hessian(_g(tx), tx.tensor(X0))
    with pytest.raises(RuntimeError, match="jacfwd: forward mode inside forward mode"):
        txf.jacfwd(txf.jacfwd(s))(*_ours(X0, Y0))
    with pytest.raises(ValueError, match="argnums 2 must pick among the 2 positional arguments"):
        txf.grad(s, argnums=2)(*_ours(X0, Y0))
    with pytest.raises(RuntimeError, match="v can be left out only"):
        txF.vjp(_g(tx), tx.tensor(X0))


def test_gradgradcheck_passes_on_the_engine_and_catches_a_wrong_second_derivative() -> None:
    from tinygrad_tx.autograd import GradcheckError, gradcheck, gradgradcheck

    x = tx.tensor(X0, requires_grad=True)
    y = tx.tensor(Y0, requires_grad=True)
    assert gradgradcheck(f, (x, y))
    assert gradgradcheck(lambda x: (x.tanh() * x.exp()).prod(), (x,))
    assert torch.autograd.gradgradcheck(f, (torch.tensor(X0, requires_grad=True), torch.tensor(Y0, requires_grad=True)))

    class Square(tx.Function):
        """y = x², with a VJP that is right in value but detached: its own derivative is lost."""

        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * a

        @staticmethod
        def backward(ctx, g):
            (a,) = ctx.saved_tensors
            return g * tx.tensor(2 * a.detach().numpy())

    assert gradcheck(Square.apply, (x,))
    with pytest.raises(GradcheckError, match="gradcheck failed"):
        gradgradcheck(Square.apply, (x,))
