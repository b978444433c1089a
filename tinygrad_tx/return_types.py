"""The named tuples that ops with two results return, as ``torch.return_types``: ``x.max(dim)`` is a
``return_types.max`` of ``(values, indices)``, so ``out.values``, ``out[0]`` and ``values, indices = out``
all work, and it is a tuple (``isinstance(out, tuple)``).
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

__all__ = ["max", "min", "sort", "topk", "median", "kthvalue"]


def _return_type(name: str) -> Any:
    """A named tuple ``name(values, indices)`` whose repr reads as PyTorch's (one field per line)."""
    base = namedtuple(name, ["values", "indices"], module=__name__)  # type: ignore[misc]

    def __repr__(self: Any) -> str:
        return f"{__name__}.{name}(\nvalues={self.values!r},\nindices={self.indices!r})"

    return type(name, (base,), {"__slots__": (), "__repr__": __repr__, "__module__": __name__,
                                "__doc__": f"The result of ``{name}``: ``(values, indices)``."})


# named after the ops, as in torch.return_types (so max and min shadow the builtins in this module)
max = _return_type("max")
min = _return_type("min")
sort = _return_type("sort")
topk = _return_type("topk")
median = _return_type("median")
kthvalue = _return_type("kthvalue")
