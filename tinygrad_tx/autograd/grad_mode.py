"""Grad mode: whether operations record a graph for backward, as ``torch.autograd.grad_mode``.

``no_grad``, ``enable_grad`` and ``set_grad_enabled`` work as context managers and as decorators;
the mode is per thread, as in PyTorch.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["no_grad", "enable_grad", "is_grad_enabled", "set_grad_enabled"]

F = TypeVar("F", bound=Callable[..., Any])


class _GradMode(threading.local):
    """Whether this thread records graphs. Per thread, as in PyTorch: a ``no_grad`` block in one
    thread (a backward pass runs its VJPs in one) does not stop another thread from recording."""

    enabled: bool = True


_grad_mode = _GradMode()


def is_grad_enabled() -> bool:
    """True when operations record a graph for backward (the default), in this thread."""
    return _grad_mode.enabled


class _ModeBlock:
    """A context manager and decorator that sets grad mode on entry and restores it on exit."""

    mode: bool

    def __enter__(self) -> None:
        self.prev = _grad_mode.enabled
        _grad_mode.enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        _grad_mode.enabled = self.prev

    def __call__(self, fn: F) -> F:
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class set_grad_enabled(_ModeBlock):
    """Turn graph recording on or off in this thread, as ``torch.set_grad_enabled``.

    Called as a function it takes effect at once (``set_grad_enabled(False)``); as a context manager
    (``with set_grad_enabled(False): ...``) or a decorator it restores the previous mode afterwards.
    """

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self.prev = _grad_mode.enabled
        _grad_mode.enabled = self.mode

    def __enter__(self) -> None:
        pass  # (already set by __init__)

    def __call__(self, fn: F) -> F:
        _grad_mode.enabled = self.prev  # as a decorator it must not change the mode where it is applied
        return super().__call__(fn)


class no_grad(_ModeBlock):
    """Operations inside record no graph: ``with no_grad(): ...`` or ``@no_grad()`` on a function."""

    mode = False


class enable_grad(_ModeBlock):
    """Turn recording back on inside a ``no_grad`` block."""

    mode = True
