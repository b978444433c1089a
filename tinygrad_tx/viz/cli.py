"""``python -m tinygrad_tx graph``: draw one of the worked examples' graphs to a file.

    python -m tinygrad_tx graph --what attention -o attention.png
    python -m tinygrad_tx graph --what gpt --depth 3 --format pdf
    python -m tinygrad_tx graph --what mlp --backward          # the create_graph gradient graph

`add_graph_parser` adds the ``graph`` sub-command to an argparse parser; `run_graph` runs it and returns
the exit status: 0 when the file was written, 2 when it could not be (without the Graphviz ``dot``
program the DOT source is written instead, with a one-line hint on how to install Graphviz).
`example` builds the examples (also used by the tests and the notebook).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from .graph import FORMATS, GraphvizNotFound, draw, render

__all__ = ["WHAT", "example", "add_graph_parser", "run_graph"]

WHAT = ("staged", "mlp", "attention", "block", "gpt")
SHORT_HINT = (
    "Graphviz's `dot` program is not installed: install it (Debian/Ubuntu: sudo apt-get install graphviz; "
    "macOS: brew install graphviz; conda: conda install graphviz)"
)


def _modules() -> tuple[Any, ...]:
    from ..nn import GPT, MLP, Block, CausalSelfAttention, GPTConfig, Linear, Module, ReLU

    class TinyMLP(Module):
        """x -> Linear -> ReLU -> Linear: the tensor MLP of the examples."""

        def __init__(self, n_in: int, n_hidden: int, n_out: int) -> None:
            super().__init__()
            self.fc1 = Linear(n_in, n_hidden)
            self.act = ReLU()
            self.fc2 = Linear(n_hidden, n_out)

        def forward(self, x: Any) -> Any:
            return self.fc2(self.act(self.fc1(x)))

    class Wrap(Module):
        """Holds one layer under a name, so the layer's own ops are drawn inside a named cluster."""

        def __init__(self, name: str, layer: Module) -> None:
            super().__init__()
            setattr(self, name, layer)
            object.__setattr__(self, "_layer", layer)

        def forward(self, x: Any) -> Any:
            return self._layer(x)

    return TinyMLP, Wrap, CausalSelfAttention, Block, MLP, GPT, GPTConfig


def example(what: str, *, backward: bool = False, seed: int = 0) -> tuple[Any, dict[str, Any]]:
    """One of the examples, computed: ``(root, draw_kwargs)``, ready for ``draw(root, **draw_kwargs)``.

    - ``staged``: f(x, y) = (x + σ(y)) / (σ(x) + (x + y)²) at (3, -4) on `Value`s, after backward;
    - ``mlp``: a 3-8-2 ReLU MLP (``fc1``, ``fc2``) and a mean squared error on a batch of 4;
    - ``attention``: one ``CausalSelfAttention`` (d=16, 2 heads) on (1, 4, 16), mean square of its output;
    - ``block``: one pre-LayerNorm transformer ``Block`` (attention and MLP), the same input;
    - ``gpt``: a 2-layer GPT (d=16, 2 heads, vocabulary 16, 8 tokens) and its cross-entropy loss.

    With ``backward=True`` the root is the gradient of the loss computed with ``create_graph=True`` (for
    the input x, or ``wte.weight`` for the GPT, whose input is token ids; the staged example is then
    computed on 0-d Tensors, since `Value` is first-order), drawn with ``forward=loss``.
    """
    import tinygrad_tx as tt
    from tinygrad_tx import Tensor, Value

    if what not in WHAT:
        raise ValueError(f"example: what must be one of {', '.join(WHAT)}, got {what!r}")
    tt.manual_seed(seed)
    rng = np.random.default_rng(seed)
    TinyMLP, Wrap, CausalSelfAttention, Block, _, GPT, GPTConfig = _modules()

    if what == "staged":
        if not backward:
            x, y = Value(3.0, label="x"), Value(-4.0, label="y")
            sigy = y.sigmoid()
            sigy.label = "sigy"
            num = x + sigy
            num.label = "num"
            sigx = x.sigmoid()
            sigx.label = "sigx"
            xpy = x + y
            xpy.label = "xpy"
            xpysqr = xpy**2
            xpysqr.label = "xpysqr"
            den = sigx + xpysqr
            den.label = "den"
            invden = den**-1
            invden.label = "invden"
            f = num * invden
            f.label = "f"
            f.backward()
            return f, {"title": "f(x, y) = (x + σ(y)) / (σ(x) + (x + y)²) after f.backward()"}
        xt = Tensor(3.0, requires_grad=True, dtype=np.float64)
        yt = Tensor(-4.0, requires_grad=True, dtype=np.float64)
        xt.name, yt.name = "x", "y"
        ft = (xt + yt.sigmoid()) / (xt.sigmoid() + (xt + yt) ** 2)
        dx, = tt.grad(ft, xt, create_graph=True)
        return dx, {"forward": ft, "title": "∂f/∂x of the staged example, recorded with create_graph=True"}

    if what == "gpt":
        model = GPT(GPTConfig(vocab_size=16, block_size=8, n_layer=2, n_head=2, n_embd=16))
        idx = rng.integers(0, 16, (1, 8))
        _, loss = model(idx, np.roll(idx, -1, axis=1))
        if backward:
            g, = tt.grad(loss, model.wte.weight, create_graph=True)
            return g, {"model": model, "forward": loss, "title": "∂loss/∂wte.weight of a 2-layer GPT"}
        return loss, {"model": model, "title": "a 2-layer GPT and its cross-entropy loss"}

    if what == "mlp":
        model = TinyMLP(3, 8, 2)
        x = tt.randn(4, 3, requires_grad=True)
        target = Tensor(rng.standard_normal((4, 2)).astype(np.float32))
        title = "a 3-8-2 ReLU MLP and its mean squared error"
    else:
        layer = CausalSelfAttention(16, 2) if what == "attention" else Block(16, 2)
        model = Wrap("attn" if what == "attention" else "block", layer)
        x = tt.randn(1, 4, 16, requires_grad=True)
        target = None
        title = ("causal self-attention (2 heads, d=16, 4 tokens)" if what == "attention"
                 else "a pre-LayerNorm transformer block (2 heads, d=16, 4 tokens)")
    x.name = "x"
    out = model(x)
    loss = ((out - target) ** 2).mean() if target is not None else out.square().mean()
    if backward:
        g, = tt.grad(loss, x, create_graph=True)
        return g, {"model": model, "forward": loss, "title": f"∂loss/∂x, recorded with create_graph=True: {title}"}
    return loss, {"model": model, "title": title}


def add_graph_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``graph`` sub-command to ``subparsers`` (from ``parser.add_subparsers()``)."""
    p = subparsers.add_parser(
        "graph", help="draw the computation graph of an example (svg, png, pdf or dot)",
        description="Draw the computation graph of one of the examples with Graphviz.",
    )
    p.add_argument("--what", choices=WHAT, default="attention",
                   help="which example: the staged scalar function, a tensor MLP, one attention layer, one "
                        "transformer block, or a 2-layer GPT (default attention)")
    p.add_argument("--depth", type=int, default=None, metavar="K",
                   help="collapse each module at depth K of its dotted path (h.0 is depth 2) into one node")
    p.add_argument("--format", choices=FORMATS, default=None,
                   help="output format (default: from the suffix of -o, else svg); dot needs no Graphviz")
    p.add_argument("-o", "--output", default=None, metavar="PATH",
                   help="where to write (default graph-<what>[-backward].<format> in the current directory)")
    p.add_argument("--backward", action="store_true",
                   help="draw the gradient graph recorded by grad(..., create_graph=True) instead")
    p.add_argument("--rankdir", choices=("TB", "LR"), default=None,
                   help="TB (top to bottom) or LR (left to right); default LR for staged, TB otherwise")
    p.add_argument("--stats", action="store_true", help="norms of data and grad where they are known")
    p.add_argument("--max-nodes", type=int, default=2000, help="draw at most this many nodes (default 2000)")
    return p


def run_graph(args: argparse.Namespace) -> int:
    """Run ``graph``: draw the example, write the file, say where. Returns the exit status."""
    fmt = args.format
    out = Path(args.output) if args.output else None
    if fmt is None:
        suffix = out.suffix.lower().lstrip(".") if out is not None else ""
        fmt = {"gv": "dot"}.get(suffix, suffix) if suffix in FORMATS + ("gv",) else "svg"
    if out is None:
        out = Path(f"graph-{args.what}{'-backward' if args.backward else ''}.{fmt}")
    try:
        start = time.perf_counter()
        root, kwargs = example(args.what, backward=args.backward)
        if args.what == "staged" and not args.backward:
            if args.depth is not None:
                raise ValueError("--depth applies to tensor examples, not the scalar staged example")
            kwargs.pop("model", None)
        graph = draw(root, depth=args.depth, rankdir=args.rankdir, stats=args.stats,
                     max_nodes=args.max_nodes, **kwargs)
        path = render(graph, out, fmt)
    except GraphvizNotFound as e:
        print(f"tinygrad-tx graph: error: {SHORT_HINT}; the DOT source was written to {e.source_path}",
              file=sys.stderr)
        return 2
    except (ValueError, OSError) as e:
        print(f"tinygrad-tx graph: error: {e}", file=sys.stderr)
        return 2
    s = graph.summary
    assert s is not None
    cut = f", cut from {s.total_nodes:,}" if s.truncated else ""
    print(f"wrote {path} ({s.nodes:,} nodes{cut}, {s.edges:,} edges, {time.perf_counter() - start:.1f} s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point: ``python -m tinygrad_tx.viz.cli --what gpt --depth 2``."""
    parser = argparse.ArgumentParser(prog="tinygrad-tx")
    sub = parser.add_subparsers(dest="command", required=True)
    add_graph_parser(sub)
    return run_graph(parser.parse_args(["graph", *(sys.argv[1:] if argv is None else argv)]))


if __name__ == "__main__":
    sys.exit(main())
