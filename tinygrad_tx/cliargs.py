"""The command line's rules for arguments, shared by every subcommand and by the Python API.

- `Bound`: a number's type and allowed range. It is an argparse ``type=`` (so a bad value is
  refused while parsing, with the flag's name) and a check of a value already parsed (so
  `TrainConfig.validate` and `sample` apply the very same rule to values from Python code or from
  a checkpoint).
- `Parser`: an ``ArgumentParser`` whose errors are one line and exit status 2, e.g.
  ``tinygrad-tx train: error: argument --lr: must be > 0, got -1``, and whose help shows every
  option's default.
"""

from __future__ import annotations

import argparse
import math
import numbers
import re
from typing import Any, NoReturn

__all__ = ["Bound", "Parser", "HelpFormatter", "explain", "one_line", "nonempty", "names"]


class Bound:
    """An int or a finite float within ``ge``/``gt`` (lower) and ``le``/``lt`` (upper) limits.

    ``Bound(int, ge=1)`` is a positive integer, ``Bound(float, ge=0, lt=1)`` a probability below 1.
    NaN and infinities are never in range."""

    def __init__(self, kind: type, *, ge: float | None = None, gt: float | None = None, le: float | None = None,
                 lt: float | None = None) -> None:
        if kind not in (int, float):
            raise TypeError(f"Bound: kind must be int or float, got {kind!r}")
        self.kind, self.ge, self.gt, self.le, self.lt = kind, ge, gt, le, lt
        self.__name__ = "an integer" if kind is int else "a number"  # argparse names a type by __name__

    def rule(self) -> str:
        """The range in words: ``>= 1``, ``> 0``, ``in [0, 1)``, ``in [0, 2**63)``."""
        low = f"[{_shown(self.ge)}" if self.ge is not None else f"({_shown(self.gt)}" if self.gt is not None else None
        high = f"{_shown(self.le)}]" if self.le is not None else f"{_shown(self.lt)})" if self.lt is not None else None
        if low and high:
            return f"in {low}, {high}"
        if low:
            return (">= " if low[0] == "[" else "> ") + low[1:]
        if high:
            return ("<= " if high[-1] == "]" else "< ") + high[:-1]
        return "finite" if self.kind is float else "an integer"

    def problem(self, value: Any) -> str | None:
        """Why ``value`` breaks the rule (``"must be > 0"``), or None if it keeps it."""
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return f"must be {self.__name__}"
        if self.kind is int and not isinstance(value, numbers.Integral):
            return "must be an integer"
        if not math.isfinite(value):
            return "must be finite" + ("" if self.rule() == "finite" else f" and {self.rule()}")
        if ((self.ge is not None and value < self.ge) or (self.gt is not None and value <= self.gt)
                or (self.le is not None and value > self.le) or (self.lt is not None and value >= self.lt)):
            return f"must be {self.rule()}"
        return None

    def check(self, name: str, value: Any, error: type[Exception] = ValueError) -> Any:
        """``value`` if it keeps the rule, else ``error("<name> must be ..., got <value>")``."""
        why = self.problem(value)
        if why is not None:
            raise error(f"{name} {why}, got {value!r}")
        return value

    def __call__(self, text: str) -> int | float:
        """Parse a command-line value (argparse ``type=``)."""
        try:
            value = self.kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {self.__name__} {self.rule()}, got {text!r}") from None
        why = self.problem(value)
        if why is not None:
            raise argparse.ArgumentTypeError(f"{why}, got {text}")
        return value

    def describe(self) -> str:
        """For help texts: ``an integer >= 1``, ``a number in [0, 1)``."""
        return f"{self.__name__} {self.rule()}"

    def __repr__(self) -> str:
        return f"Bound({self.kind.__name__}, {self.rule()})"


def nonempty(text: str) -> str:
    """argparse ``type=`` for a value that must not be empty (a path, a prompt)."""
    if not text:
        raise argparse.ArgumentTypeError("must not be empty")
    return text


def names(text: str) -> tuple[str, ...]:
    """argparse ``type=`` for a comma-separated list of names: ``"c_attn, c_proj"`` -> ``("c_attn", "c_proj")``."""
    parts = tuple(t.strip() for t in text.split(","))
    if not any(parts):
        raise argparse.ArgumentTypeError(f"names nothing, got {text!r}")
    return tuple(t for t in parts if t)


def _shown(x: float) -> str:
    """A limit as written in a help text: a large power of two as ``2**63``."""
    if isinstance(x, int) and x >= 2**16 and x & (x - 1) == 0:
        return f"2**{x.bit_length() - 1}"
    return str(x)


def explain(text: str, bound: Bound | None = None, default: Any = None) -> str:
    """An option's help: ``"transformer blocks; an integer >= 1 (default: 2)"``. Give ``default``
    when the parser's own default is not the value used (a None that means "not given")."""
    rule = f"; {bound.describe()}" if bound is not None else ""
    shown = f" (default: {default})" if default is not None else ""
    return f"{text}{rule}{shown}"


def one_line(message: str) -> str:
    """``message`` with its line breaks shown as ``\\n``: every error is exactly one line."""
    return message.replace("\r", "\\r").replace("\n", "\\n")


class HelpFormatter(argparse.HelpFormatter):
    """Appends ``(default: X)`` to an option's help, unless the help names its default itself or
    there is none to show (None, False)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if ("default" in text or not action.option_strings or action.default is None or action.default is False
                or action.default is argparse.SUPPRESS):
            return text
        return text + " (default: %(default)s)"


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line on stderr and exit status 2 (the usage line
    is left out: ``--help`` shows it), and whose help shows defaults (`HelpFormatter`). Its
    subcommands (``add_subparsers().add_parser``) are Parsers too."""

    def __init__(self, *args: Any, formatter_class: Any = HelpFormatter, **kwargs: Any) -> None:
        super().__init__(*args, formatter_class=formatter_class, **kwargs)
        # argparse takes "-1e-3" and "-inf" for options ("--lr: expected one argument"); they are values
        self._negative_number_matcher = re.compile(r"^-(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^-(inf|nan)$", re.I)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {one_line(message)}\n")
