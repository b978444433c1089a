"""Regenerate the README's pictures in ``docs/figures/`` (``make figures``).

- ``staged_graph.png``: the staged example f(x, y) = (x + σ(y)) / (σ(x) + (x + y)²) at (3, -4), each
  value with its data and gradient after ``f.backward()``, numbered by its turn in the backward walk, each
  edge labelled with the gradient it carries (``viz.cli.example("staged")``, drawn top to bottom so that it
  reads at the README's width);
- ``gpt_by_module.png``: a 2-layer GPT and its loss, ``viz.draw(loss, model=gpt, depth=2)``: each block,
  the embeddings and the final LayerNorm collapsed into one node with its input and output shapes;
- ``backward_player.png``: a frame of the step-through backward player (``tinygrad_tx.viz.player``) on the
  staged example, screenshot with Playwright in ``/usr/bin/chromium-headless-shell``. Skipped, with a
  message, when Playwright or that browser is missing (no browser is ever downloaded).

The Graphviz figures are rendered by Graphviz's ``dot`` (the CI's renderer) at ``DPI`` and checked to be
under ``MAX_BYTES``, so the README stays light. Usage: ``python docs/make_figures.py [--only NAME ...]``.
"""

from __future__ import annotations

import argparse
import shutil
import struct
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ROOT / "docs" / "figures"
DPI = 96  # Graphviz's default, fixed here: the staged graph is then ~680 px wide, readable at the README's ~800 px
MAX_BYTES = 150_000
CHROMIUM = Path("/usr/bin/chromium-headless-shell")
PLAYER_FRAME = FIGURES / "backward_player.png"
PLAYER_STEP = 17  # of the staged example's 20 steps: x receives its third contribution (a +=)
# the whole staged graph (~910 x 870 px) beside the side panel, so the frame shows every node and both +=
PLAYER_VIEWPORT = {"width": 1330, "height": 960}
# Chromium as root in a container, and on a machine without a network: no sandbox, no background traffic
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"]


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) in pixels, read from the PNG's header."""
    data = path.read_bytes()[:24]
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError(f"{path} is not a PNG")
    return struct.unpack(">II", data[16:24])


def _render(graph: object, path: Path) -> Path:
    from tinygrad_tx.viz import render

    graph.graph_attr["dpi"] = str(DPI)  # type: ignore[attr-defined]
    render(graph, path)
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise SystemExit(f"make_figures: {path.name} is {size / 1e3:.0f} KB, over {MAX_BYTES / 1e3:.0f} KB: lower DPI")
    return path


def staged_graph(path: Path) -> Path:
    """The staged example after backward: every value's data and grad."""
    from tinygrad_tx.viz import draw
    from tinygrad_tx.viz.cli import example

    f, kwargs = example("staged")
    kwargs["title"] = "f(x, y) after f.backward(): draw(f, order=True, edge_grads=True)"
    return _render(draw(f, rankdir="TB", order=True, edge_grads=True, **kwargs), path)


def gpt_by_module(path: Path) -> Path:
    """A 2-layer GPT's graph collapsed by module (depth 2: ``h.0``, ``h.1``, ``wte``, ``wpe``, ``ln_f``)."""
    from tinygrad_tx.viz import draw
    from tinygrad_tx.viz.cli import example

    loss, kwargs = example("gpt")
    kwargs["title"] = "a 2-layer GPT and its loss: draw(loss, model=gpt, depth=2)"
    return _render(draw(loss, depth=2, **kwargs), path)


def backward_player(path: Path, page: Path | None = None) -> Path | None:
    """A frame of the backward player on the staged example, at `PLAYER_STEP` (``x`` adding its last
    contribution): ``page`` (an HTML file the player wrote) if given, else the page
    ``viz.player(f).save(...)`` writes; None (and a message) when Playwright or the headless Chromium is
    not installed."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print(f"make_figures: skipped {path.name}: Playwright is not installed (pip install playwright)")
        return None
    if not CHROMIUM.exists():
        print(f"make_figures: skipped {path.name}: {CHROMIUM} is not installed (this script downloads no browser)")
        return None
    from tinygrad_tx.viz import player
    from tinygrad_tx.viz.cli import example

    with tempfile.TemporaryDirectory() as tmp:
        page_path = page or Path(tmp) / "player.html"
        if page is None:
            f, kwargs = example("staged", backpropagated=False)
            player(f, title=kwargs["title"]).save(page_path)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
            tab = browser.new_page(viewport=PLAYER_VIEWPORT)
            tab.goto(f"{page_path.as_uri()}#step={PLAYER_STEP}")
            tab.wait_for_timeout(500)  # let the frame draw
            tab.screenshot(path=str(path))
            browser.close()
    _palette(path)
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise SystemExit(f"make_figures: {path.name} is {size / 1e3:.0f} KB, over {MAX_BYTES / 1e3:.0f} KB")
    return path


def _palette(path: Path) -> None:
    """Rewrite the screenshot with a 256-colour palette (Pillow, which matplotlib brings): flat UI colours and
    anti-aliased text survive it, and the file is about a third of the full-colour one."""
    from PIL import Image

    with Image.open(path) as im:
        frame = im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    frame.save(path, optimize=True)


FIGURE_MAKERS: dict[str, Callable[[Path], Path | None]] = {
    "staged_graph": staged_graph,
    "gpt_by_module": gpt_by_module,
    "backward_player": backward_player,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python docs/make_figures.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=sorted(FIGURE_MAKERS), help="make only these figures")
    parser.add_argument("--player-html", type=Path, help="the backward player's page to screenshot (an HTML file)")
    args = parser.parse_args(argv)
    if args.player_html is not None and not args.player_html.is_file():
        print(f"make_figures: --player-html: no such file: {args.player_html}", file=sys.stderr)
        return 2
    if shutil.which("dot") is None:
        print("make_figures: Graphviz's `dot` is not on PATH (the figures are drawn with it, as on CI): "
              "install Graphviz (Debian/Ubuntu `sudo apt-get install graphviz`)", file=sys.stderr)
        return 2
    FIGURES.mkdir(parents=True, exist_ok=True)
    for name in args.only or FIGURE_MAKERS:
        if name == "backward_player":
            path = backward_player(PLAYER_FRAME, args.player_html.resolve() if args.player_html else None)
        else:
            path = FIGURE_MAKERS[name](FIGURES / f"{name}.png")
        if path is not None:
            width, height = png_size(path)
            print(f"make_figures: {path.relative_to(ROOT)} {width}x{height} px, {path.stat().st_size / 1e3:.0f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
