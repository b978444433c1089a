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


class _ThreadsNotRecording:
    """How many threads have grad mode off. Reading a thread-local costs ~70 ns, which is 5 ms on
    a 65k-node `Value` graph; when this count is 0 (the usual case) every thread records, so the
    scalar engine can skip that read: ``_not_recording.count == 0 or _grad_mode.enabled``."""

    count: int = 0


_grad_mode = _GradMode()
_not_recording = _ThreadsNotRecording()
_mode_lock = threading.Lock()


def is_grad_enabled() -> bool:
    """True when operations record a graph for backward (the default), in this thread."""
    return _grad_mode.enabled


def _set_mode(mode: bool) -> None:
    with _mode_lock:
        if _grad_mode.enabled != mode:
            _grad_mode.enabled = mode
            _not_recording.count += -1 if mode else 1


class _ModeBlock:
    """A context manager and decorator that sets grad mode on entry and restores it on exit."""

    mode: bool

    def __enter__(self) -> None:
        self.prev = _grad_mode.enabled
        _set_mode(self.mode)

    def __exit__(self, *exc: object) -> None:
        _set_mode(self.prev)

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
        _set_mode(self.mode)

    def __enter__(self) -> None:
        pass  # (already set by __init__)

    def __call__(self, fn: F) -> F:
        _set_mode(self.prev)  # as a decorator it must not change the mode where it is applied
        return super().__call__(fn)


class no_grad(_ModeBlock):
    """Operations inside record no graph: ``with no_grad(): ...`` or ``@no_grad()`` on a function."""

    mode = False


class enable_grad(_ModeBlock):
    """Turn recording back on inside a ``no_grad`` block."""

    mode = True
