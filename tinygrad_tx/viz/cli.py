"""``python -m tinygrad_tx graph``: draw one of the worked examples' graphs to a file.

    python -m tinygrad_tx graph --what attention -o attention.png
    python -m tinygrad_tx graph --what gpt --depth 3 --format pdf
    python -m tinygrad_tx graph --what mlp --backward          # the create_graph gradient graph
    python -m tinygrad_tx graph --what staged --order --edge-grads -o staged.png
    python -m tinygrad_tx graph --what staged --play -o staged.html   # the step-through backward player

`add_graph_parser` adds the ``graph`` sub-command to an argparse parser; `run_graph` runs it and returns
the exit status: 0 when the file was written, 2 when it could not be. Every bad input (a suffix of ``-o``
that names no supported format, ``-o`` naming a directory or an existing file without ``--overwrite``,
a folder that cannot be written, ``--depth``/``--max-nodes`` below 1, no Graphviz renderer; with ``--play``,
an ``-o`` that is not .html, ``--backward``, ``--depth``, or an example above ``--max-nodes``) is one line
on stderr naming the flag, never a traceback. Rendering uses the system ``dot`` when it is on PATH, else
the pip-installed graphviz-pure (see ``renderer.py``); with neither the DOT source is written instead.
`example` builds the examples (also used by the tests and the notebook).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from .graph import FORMATS, SUFFIXES, draw, render
from .player import MAX_NODES
from .renderer import GraphvizNotFound, RenderError, find_renderer

__all__ = ["WHAT", "example", "add_graph_parser", "run_graph"]

WHAT = ("staged", "mlp", "attention", "block", "gpt")  # smallest graph first: 10, 18, 39, 100, 232 engine nodes
PLAY_MAX_NODES = MAX_NODES  # --play's default --max-nodes: the player's own limit
SUPPORTED = "svg, png, jpeg (.jpg), pdf and dot (.gv)"


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


def example(what: str, *, backward: bool = False, seed: int = 0,
            backpropagated: bool = True) -> tuple[Any, dict[str, Any]]:
    """One of the examples, computed: ``(root, draw_kwargs)``, ready for ``draw(root, **draw_kwargs)``.

    - ``staged``: f(x, y) = (x + σ(y)) / (σ(x) + (x + y)²) at (3, -4) on `Value`s, after backward;
    - ``mlp``: a 3-8-2 ReLU MLP (``fc1``, ``fc2``) and a mean squared error on a batch of 4;
    - ``attention``: one ``CausalSelfAttention`` (d=16, 2 heads) on (1, 4, 16), mean square of its output;
    - ``block``: one pre-LayerNorm transformer ``Block`` (attention and MLP), the same input;
    - ``gpt``: a 2-layer GPT (d=16, 2 heads, vocabulary 16, 8 tokens) and its cross-entropy loss.

    With ``backward=True`` the root is the gradient of the loss computed with ``create_graph=True`` (for
    the input x, or ``wte.weight`` for the GPT, whose input is token ids; the staged example is then
    computed on 0-d Tensors, since `Value` is first-order), drawn with ``forward=loss``.
    ``backpropagated=False`` returns the staged example before its ``f.backward()`` (the tensor examples
    never run one), for the backward player, which runs it.
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
            if not backpropagated:
                return f, {"title": "f(x, y) = (x + σ(y)) / (σ(x) + (x + y)²)"}
            f.backward(retain_graph=True)  # (retained: draw(edge_grads=True) runs the VJPs once more)
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
        "graph", help="draw the computation graph of an example (svg, png, jpeg, pdf or dot)",
        description="Draw the computation graph of one of the examples with Graphviz: the system dot when it is "
                    "on PATH, else the pip-installed graphviz-pure (svg, png and jpeg; pdf needs dot).",
    )
    p.add_argument("--what", choices=WHAT, default="attention",
                   help="which example: the staged scalar function, a tensor MLP, one attention layer, one "
                        "transformer block, or a 2-layer GPT (default attention)")
    p.add_argument("--depth", type=int, default=None, metavar="K",
                   help="collapse each module at depth K >= 1 of its dotted path (h.0 is depth 2) into one node")
    p.add_argument("--format", type=str.lower, choices=(*FORMATS, "jpg"), default=None,
                   help="output format (default: from the suffix of -o, else svg); dot needs no Graphviz")
    p.add_argument("-o", "--output", default=None, metavar="PATH",
                   help="the file to write; its suffix (.svg, .png, .jpg, .pdf, .dot) gives the format, another "
                        "suffix needs --format (default graph-<what>[-backward].<format> in the current directory; "
                        "with --play an .html file, default player-<what>.html)")
    p.add_argument("--overwrite", action="store_true", help="replace the output file if it exists")
    p.add_argument("--backward", action="store_true",
                   help="draw the gradient graph recorded by grad(..., create_graph=True) instead")
    p.add_argument("--rankdir", choices=("TB", "LR"), default=None,
                   help="TB (top to bottom) or LR (left to right); default LR for staged, TB otherwise")
    p.add_argument("--stats", action="store_true", help="norms of data and grad where they are known")
    p.add_argument("--order", action="store_true",
                   help="number each node #k by its place in the engine's backward walk (#1: the output)")
    p.add_argument("--edge-grads", action="store_true",
                   help="label each edge with the gradient it carries back (a scalar, or its norm for a tensor)")
    p.add_argument("--fold", action="store_true",
                   help="draw runs of identical sibling modules (h.0 ... h.5) once, as one cluster marked ×N")
    p.add_argument("--max-nodes", type=int, default=None, metavar="N",
                   help="draw at most this many nodes (default 2000); with --play, refuse a graph of more engine "
                        f"nodes (default {PLAY_MAX_NODES})")
    p.add_argument("--play", action="store_true",
                   help="write the step-through backward player instead: one self-contained HTML page (-o FILE.html) "
                        "that plays the forward values, then the engine's backward walk node by node")

    def one_line_error(message: str) -> NoReturn:  # argparse's own errors (a bad --what, --depth x): one line too
        p.exit(2, f"{p.prog}: error: {message} (see {p.prog} --help)\n")

    p.error = one_line_error  # type: ignore[method-assign]
    return p


def _extension(fmt: str) -> str:
    return "jpg" if fmt == "jpeg" else fmt


def _output(args: argparse.Namespace) -> tuple[Path, str]:
    """The file to write and its format, from ``-o`` and ``--format``; a ValueError names the flag at fault."""
    fmt = SUFFIXES[args.format] if args.format else None
    default = f"graph-{args.what}{'-backward' if args.backward else ''}.{_extension(fmt or 'svg')}"
    if args.output is None:
        return Path(default), fmt or "svg"
    if not args.output.strip():
        raise ValueError("-o is empty: give the file to write, e.g. -o graph.svg")
    out = Path(args.output)
    if args.output.endswith(("/", os.sep)) or out.is_dir():
        raise ValueError(f"-o {args.output} is a directory: give a file in it, e.g. -o {out / default}")
    suffix = out.suffix.lower().lstrip(".")
    if not suffix:
        fmt = fmt or "svg"
        out = out.with_suffix(f".{_extension(fmt)}")
    elif suffix in SUFFIXES:
        if fmt is not None and SUFFIXES[suffix] != fmt:
            raise ValueError(f"--format {args.format} does not match the suffix of -o {out}: drop one of them")
        fmt = SUFFIXES[suffix]
    elif fmt is None:
        raise ValueError(f"-o {out}: .{suffix} is not a supported format; the supported formats are "
                         f"{SUPPORTED} (or pass --format to write one of them under this name)")
    _check_writable(out, args.overwrite)
    return out, fmt


def _check_writable(out: Path, overwrite: bool) -> None:
    """``-o out`` can be written: it does not exist (or ``--overwrite``), and its nearest existing folder is a
    writable folder; a ValueError names the flag otherwise."""
    if out.exists() and not overwrite:
        raise ValueError(f"-o {out} exists: pass --overwrite to replace it")
    folder = next(d for d in (out.absolute().parent, *out.absolute().parents) if d.exists())
    if not folder.is_dir():
        raise ValueError(f"-o {out}: {folder} is a file, not a folder")
    if not os.access(folder, os.W_OK):
        raise ValueError(f"-o {out}: cannot write in {folder} (permission denied)")


def run_graph(args: argparse.Namespace) -> int:
    """Run ``graph``: draw the example, write the file, say where. Returns the exit status."""
    if getattr(args, "play", False):
        return _run_play(args)
    start = time.perf_counter()
    out: Path | str = args.output or "the output"
    if args.max_nodes is None:
        args.max_nodes = 2000
    try:
        if args.depth is not None and args.depth < 1:
            raise ValueError(f"--depth must be a positive integer (h.0 is depth 2), got {args.depth}")
        if args.max_nodes < 1:
            raise ValueError(f"--max-nodes must be a positive integer, got {args.max_nodes}")
        if args.what == "staged" and not args.backward and (args.depth is not None or args.fold):
            flag = "--depth" if args.depth is not None else "--fold"
            raise ValueError(f"{flag} applies to tensor examples, not the scalar staged example")
        out, fmt = _output(args)
        renderer = find_renderer() if fmt != "dot" else None
        if fmt != "dot" and (renderer is None or not renderer.writes(fmt)) and not args.overwrite \
                and (source := out.with_suffix(".dot")).exists():
            raise ValueError(f"-o {out}: there is no Graphviz to render {fmt}, and {source}, where the DOT source "
                             "would be written instead, exists: pass --overwrite to replace it")
        root, kwargs = example(args.what, backward=args.backward)
        graph = draw(root, depth=args.depth, rankdir=args.rankdir, stats=args.stats, order=args.order,
                     edge_grads=args.edge_grads, fold=args.fold, max_nodes=args.max_nodes, **kwargs)
        path = render(graph, out, fmt)
    except (ValueError, GraphvizNotFound, RenderError) as e:
        print(f"tinygrad-tx graph: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"tinygrad-tx graph: error: cannot write -o {out}: {e.strerror or e}", file=sys.stderr)
        return 2
    s = graph.summary
    assert s is not None
    cut = f", cut from {s.total_nodes:,}" if s.truncated else ""
    by = f", drawn by {renderer.name}" if renderer is not None else ""
    print(f"wrote {path} ({s.nodes:,} nodes{cut}, {s.edges:,} edges, {time.perf_counter() - start:.1f} s{by})")
    return 0


def _play_output(args: argparse.Namespace) -> Path:
    """The HTML file ``--play`` writes; a ValueError names the flag at fault."""
    if args.backward:
        raise ValueError("--play plays the backward pass of the loss itself: drop --backward (the player shows the "
                         "gradients the engine computes, no create_graph graph)")
    if args.depth is not None:
        raise ValueError("--play draws every op: drop --depth (for a big graph, use a smaller --what)")
    if args.format is not None:
        raise ValueError(f"--play writes an HTML page, not --format {args.format}: drop --format")
    if args.stats:
        raise ValueError("--play shows every value and gradient already (norms of the big ones): drop --stats")
    for flag in ("order", "edge_grads", "fold"):
        if getattr(args, flag, False):
            raise ValueError(f"--play shows the walk's order and every gradient step by step: drop "
                             f"--{flag.replace('_', '-')}")
    if args.output is None:
        out = Path(f"player-{args.what}.html")
    else:
        if not args.output.strip():
            raise ValueError("-o is empty: give the file to write, e.g. -o player.html")
        out = Path(args.output)
        if args.output.endswith(("/", os.sep)) or out.is_dir():
            raise ValueError(f"-o {args.output} is a directory: give a file in it, e.g. "
                             f"-o {out / f'player-{args.what}.html'}")
        if out.suffix.lower() not in (".html", ".htm"):
            raise ValueError(f"--play writes an HTML page: -o {out} must end in .html")
    _check_writable(out, args.overwrite)
    return out


def _run_play(args: argparse.Namespace) -> int:
    """``graph --play``: record the example's backward and write the player's page."""
    from ..autograd.graph import topological_order
    from ..tensor import Tensor
    from .player import player, recording

    start = time.perf_counter()
    out: Path | str = args.output or "the output"
    limit = PLAY_MAX_NODES if args.max_nodes is None else args.max_nodes
    try:
        if limit < 1:
            raise ValueError(f"--max-nodes must be a positive integer, got {limit}")
        out = _play_output(args)
        with recording() as forward:
            root, kwargs = example(args.what, backpropagated=False)
        n = len(topological_order([root._node() if isinstance(root, Tensor) else root]))
        if n > limit:
            smaller = WHAT[:WHAT.index(args.what)]  # (WHAT goes from the smallest graph to the largest)
            instead = f"play a smaller example (--what {', '.join(smaller)}) or " if smaller else ""
            raise ValueError(f"--play: --what {args.what} has {n} engine nodes, more than --max-nodes {limit}: "
                             f"{instead}raise --max-nodes")
        p = player(root, model=kwargs.get("model"), forward=forward, max_nodes=limit, title=kwargs.get("title"),
                   rankdir=args.rankdir)
        path = p.save(out)
    except (ValueError, GraphvizNotFound, RenderError) as e:
        print(f"tinygrad-tx graph: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"tinygrad-tx graph: error: cannot write -o {out}: {e.strerror or e}", file=sys.stderr)
        return 2
    print(f"wrote {path} (the backward player: {len(p.nodes):,} nodes, {len(p.steps):,} steps, "
          f"{time.perf_counter() - start:.1f} s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point: ``python -m tinygrad_tx.viz.cli --what gpt --depth 2``."""
    parser = argparse.ArgumentParser(prog="tinygrad-tx")
    sub = parser.add_subparsers(dest="command", required=True)
    add_graph_parser(sub)
    return run_graph(parser.parse_args(["graph", *(sys.argv[1:] if argv is None else argv)]))


if __name__ == "__main__":
    sys.exit(main())
