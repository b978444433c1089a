"""Execute the notebooks, write them back with their outputs in a stable form, and compare a fresh run
with what is committed.

The notebooks are committed *with* their outputs, so a reader sees the tables and pictures on GitHub
without running anything. This module is the one place that runs them:

- ``python -m tests.notebook_runner --write [NOTEBOOK ...]`` (``make notebook-outputs``) executes each
  notebook in place and writes it back normalised (`normalise`);
- ``python -m tests.notebook_runner --check [NOTEBOOK ...]`` executes each one and compares the fresh
  outputs with the committed ones (`compare`), writing nothing; ``tests/test_notebooks.py`` does the same
  under pytest.

Every notebook runs in a fresh IPython kernel started from *this* interpreter (``sys.executable``),
with `KERNEL_ENV` and the working directory set to the notebook's folder. The kernel spec is written to
a temporary directory by ipykernel itself instead of being looked up by the name ``python3``, which
could resolve to a kernel spec of another Python in a user or system Jupyter path.

Normalised means that running twice on the same code gives the same file, byte for byte where the
outputs are deterministic: no kernel or version churn in the metadata (``metadata.widgets`` and the
cells' ``metadata.execution`` timings dropped, ``language_info`` reduced to its name, the kernelspec
kept as committed), execution counts renumbered 1..n in cell order, consecutive stream outputs of a
cell merged (and ``\\r`` progress redraws resolved, as Jupyter displays them), memory addresses
written ``0x…`` (``<Graph at 0x…>``: one changed line per drawing and run otherwise), paths in this checkout
relative to it (a warning's ``tinygrad_tx/ops.py:87``, wherever the checkout is), matplotlib's PNGs
without their text and time chunks (the matplotlib version), and Graphviz's SVGs without the comment
naming the Graphviz version.
"""

from __future__ import annotations

import argparse
import base64
import copy
import difflib
import os
import platform
import re
import struct
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
KERNEL_NAME = "tinygrad-tx-notebooks"
CELL_TIMEOUT = 300  # seconds, per cell
MAX_NOTEBOOK_BYTES = 1_500_000  # a committed notebook above this has a picture too big for a diff
REGENERATE = "run `make notebook-outputs` and commit the notebooks"
KERNEL_ENV = {
    # matplotlib's inline backend: figures become PNG outputs (no window can open either way)
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    # One BLAS/OpenMP thread: the suite runs under pytest-xdist on few cores, and a multithreaded
    # OpenBLAS matrix-vector product competing with another busy process for the cores was measured
    # 10-25x slower than a single-threaded one (the timing cells of notebook 02 went from 2 s to 35 s).
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}
if platform.machine().lower() in ("x86_64", "amd64"):
    # The same kernels on every x86-64 machine with AVX2, so that the committed numbers (a float32 training
    # run's losses, a 1e-15 difference) are reproduced bit for bit on another CPU: OpenBLAS's Haswell kernels
    # whatever CPU it detects, and NumPy's AVX2 loops, not its AVX-512 ones (which round exp or tanh differently).
    KERNEL_ENV |= {"OPENBLAS_CORETYPE": "Haswell", "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR"}
TEXT_MIMES = ("text/plain", "text/html", "text/markdown", "text/latex", "application/json")
IMAGE_MIMES = ("image/png", "image/jpeg", "image/svg+xml", "image/gif")
IMAGE_SIZE_RATIO = 2.0  # a picture's width and height may each differ by this factor (another renderer)

# What may differ between two runs of the same code, each replaced by a placeholder before text outputs
# are compared. Narrow on purpose: a number that is not a duration, a rate, an address, a date or a
# temporary path is compared exactly, so a changed value in a gradient table fails the comparison.
# A rate or a duration takes the spaces before it along (they become one): in a table of times a
# column padded to a width grows by a digit when a time does ("   9.87 ms" against "  10.02 ms").
MASKS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    # a tqdm bar, from the percentage to the end of the line: "100%|██████| 50/50 [00:01<00:00, 38.21it/s]"
    ("progress bar", re.compile(r"\d+%\|[^|\n]*\|[^\n]*"), "<progress bar>"),
    # a rate: "12,345 tokens/s", "38.2 it/s", "1.3 s/it", "9.5e+05 tok/s"
    ("rate", re.compile(r"[ \t]*(?<![\w.])\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?\s?(?:tokens|tok|it|steps|samples)/s\b|"
                        r"[ \t]*(?<![\w.])\d+(?:\.\d+)?\s?s/it\b"), "<rate>"),
    # a duration: "1.23 s", "45 ms", "3.1µs", "120 ns", "2 min", "1.5e-05 s"
    ("duration", re.compile(r"[ \t]*(?<![\w.])\d+(?:\.\d+)?(?:e[-+]?\d+)?\s?(?:s|ms|µs|μs|us|ns|min)\b"), "<duration>"),
    # a memory address: "<Graph object at 0x7f3a2c1b4d90>"
    ("address", re.compile(r"\b0x[0-9a-fA-F]{6,}\b"), "0x<address>"),
    # a date or a timestamp: "2026-12-02", "2026-12-02 05:10:58", "2026-12-02T05:10:58.123Z"
    ("date", re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?Z?)?\b"), "<date>"),
    # a temporary path: "/tmp/tmpab12cd/ckpt.npz", "/var/folders/x1/T/tmp9/…", or under tempfile.gettempdir()
    ("temporary path", re.compile(r"(?:/private)?/var/folders/[^\s'\"]+|(?<![\w.])/tmp/[^\s'\"]+|"
                                  + re.escape(tempfile.gettempdir()) + r"[/\\][^\s'\"]+"), "<tmp>"),
    # this checkout's folder, in a warning's "…/tinygrad_tx/ops.py:87": "<repo>/tinygrad_tx/ops.py:87"
    ("repository path", re.compile(re.escape(str(ROOT)) + r"(?=[/\\])"), "<repo>"),
)
# A code cell tagged MEASURED prints numbers derived from measurements of this run: a ratio of two
# timings ("67x the time"), a peak of memory that depends on when the garbage collector ran. In its
# text outputs every number is masked too, and runs of spaces become one, so its words and lines are
# still compared. Tag such a cell (JupyterLab: the property inspector, "Cell Tags") rather than widen MASKS.
MEASURED = "measured"
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*(?:e[-+]?\d+)?")


def mask(text: str, measured: bool = False) -> str:
    """``text`` with every `MASKS` match replaced by its placeholder (in the order listed); with
    ``measured`` (a cell tagged `MEASURED`) every remaining number too, as ``<n>``. A match that starts
    with spaces keeps one of them."""
    for _, pattern, placeholder in MASKS:
        text = pattern.sub(lambda m, p=placeholder: (" " if m.group(0)[:1] in " \t" else "") + p, text)
    return re.sub(r"[ \t]+", " ", _NUMBER.sub("<n>", text)) if measured else text


# ---------------------------------------------------------------------------------------------
# Which notebooks, and running them
# ---------------------------------------------------------------------------------------------
def notebook_paths(folder: Path = NOTEBOOK_DIR) -> list[Path]:
    """The notebooks committed with their outputs: ``folder/*.ipynb``, sorted. Not the exercises in
    ``folder/exercises/``: a blank is what a learner fills in, committed clean and generated from its solved
    version (``notebooks/exercises/make_blanks.py``); ``tests/test_exercises.py`` runs both kinds."""
    return sorted(folder.glob("*.ipynb"))


def kernel_spec_manager(directory: Path) -> KernelSpecManager:
    """A kernel spec manager that knows one kernel, `KERNEL_NAME`: ipykernel on ``sys.executable`` with
    `KERNEL_ENV`, and this checkout first on ``PYTHONPATH`` so the notebooks import its ``tinygrad_tx``."""
    from ipykernel.kernelspec import write_kernel_spec
    from jupyter_client.kernelspec import KernelSpecManager

    python_path = os.pathsep.join([str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
    write_kernel_spec(
        path=directory / KERNEL_NAME,
        overrides={"display_name": "tinygrad_tx notebooks", "env": {**KERNEL_ENV, "PYTHONPATH": python_path}},
    )
    manager = KernelSpecManager(kernel_dirs=[str(directory)])
    spec = manager.get_kernel_spec(KERNEL_NAME)
    assert spec.argv[0] == sys.executable, spec.argv
    return manager


def execute(nb: nbformat.NotebookNode, cwd: Path, kernel_specs: KernelSpecManager) -> None:
    """Execute ``nb`` in place in a fresh kernel whose working directory is ``cwd``; raises
    ``nbclient.exceptions.CellExecutionError`` if a cell fails (unless it is tagged ``raises-exception``)."""
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient

    km = AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=kernel_specs)
    client = NotebookClient(
        nb,
        km=km,
        timeout=CELL_TIMEOUT,
        allow_errors=False,
        record_timing=False,
        resources={"metadata": {"path": str(cwd)}},  # the kernel's working directory
    )
    client.execute()


def output_text(cell: Any) -> str:
    """Everything a code cell printed or displayed, as text (stdout/stderr streams, text/plain results,
    tracebacks)."""
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type in ("execute_result", "display_data"):
            parts.append(out.data.get("text/plain", ""))
        elif out.output_type == "error":
            parts.append("\n".join(out.traceback))
    return "".join(parts)


def strip_outputs(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` as if never run: no outputs, no execution counts."""
    clean = copy.deepcopy(nb)
    for cell in clean.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return clean


def run(nb: nbformat.NotebookNode, cwd: Path, kernel_specs: KernelSpecManager) -> nbformat.NotebookNode:
    """``nb`` run from a clean state and normalised (``nb`` itself is not changed)."""
    fresh = strip_outputs(nb)
    metadata = copy.deepcopy(nb.metadata)
    execute(fresh, cwd, kernel_specs)
    fresh.metadata = metadata  # the committed kernelspec, not the temporary kernel's
    return normalise(fresh)


# ---------------------------------------------------------------------------------------------
# Normalising
# ---------------------------------------------------------------------------------------------
_CARRIAGE_RETURN = re.compile(r"[^\n]*\r(?=[^\n])")  # a line redrawn after "\r": what Jupyter shows
_GRAPHVIZ_VERSION = re.compile(r"<!-- Generated by graphviz version [^>]*-->\n?")
_ADDRESS = re.compile(r"\b0x[0-9a-fA-F]{6,}\b")  # as the "address" mask: written as "0x…", no churn per run
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_VOLATILE_CHUNKS = {b"tEXt", b"zTXt", b"iTXt", b"tIME"}


def coalesce_streams(outputs: list[Any]) -> list[Any]:
    """Consecutive stream outputs merged per stream name, in the place of the first (as nbclient's
    ``coalesce_streams``): how a print loop's text was split into messages depends on timing."""
    merged: list[Any] = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (output.get("output_type") == "stream" and previous is not None
                and previous.get("output_type") == "stream" and previous.get("name") == output.get("name")):
            previous["text"] = previous["text"] + output["text"]
        else:
            merged.append(copy.deepcopy(output))
    for output in merged:
        if output.get("output_type") == "stream":
            output["text"] = _CARRIAGE_RETURN.sub("", output["text"].replace("\r\n", "\n"))
    return merged


def strip_png_text(data: bytes) -> bytes:
    """A PNG without its text and time chunks (matplotlib writes its version in one); the pixels and
    every other chunk are kept byte for byte. Anything that is not a well-formed PNG is returned as it is."""
    if not data.startswith(_PNG_SIGNATURE):
        return data
    out, at = [_PNG_SIGNATURE], len(_PNG_SIGNATURE)
    while at + 12 <= len(data):
        (length,) = struct.unpack(">I", data[at:at + 4])
        kind, end = data[at + 4:at + 8], at + 12 + length
        if end > len(data):
            return data
        if kind not in _PNG_VOLATILE_CHUNKS:
            out.append(data[at:end])
        at = end
        if kind == b"IEND":
            return b"".join(out)
    return data


def _machine_free(text: str) -> str:
    """``text`` with memory addresses written ``0x…`` and this checkout's folder left out of paths (a warning's
    ``/home/me/tinygrad_tx/tinygrad_tx/ops.py:87`` is written ``tinygrad_tx/ops.py:87``): the same on every machine."""
    return _ADDRESS.sub("0x…", text.replace(str(ROOT) + os.sep, ""))


def _normalise_output(output: Any) -> None:
    output.pop("transient", None)
    if output.get("output_type") == "stream":
        output["text"] = _machine_free(output["text"])
    data = output.get("data")
    if not data:
        return
    for mime in ("text/plain", "text/html"):
        if mime in data:
            data[mime] = _machine_free(_text(data[mime]))
    if "image/png" in data:
        png = base64.b64decode(data["image/png"])
        data["image/png"] = base64.b64encode(strip_png_text(png)).decode("ascii")
    if "image/svg+xml" in data:
        svg = data["image/svg+xml"]
        svg = "".join(svg) if isinstance(svg, list) else svg
        data["image/svg+xml"] = _GRAPHVIZ_VERSION.sub("", svg)


def normalise(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """``nb`` (changed in place, and returned) in the committed form described in the module docstring."""
    nb.metadata.pop("widgets", None)
    language = nb.metadata.get("language_info")
    if isinstance(language, dict):
        nb.metadata["language_info"] = {"name": language.get("name", "python")}
    count = 0
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        cell.outputs = coalesce_streams(cell.outputs)
        for output in cell.outputs:
            _normalise_output(output)
        if cell.execution_count is None:
            continue  # not run (a notebook stripped of its outputs stays so)
        count += 1
        cell.execution_count = count
        for output in cell.outputs:
            if output.get("output_type") == "execute_result":
                output["execution_count"] = count
    return nb


def writes(nb: nbformat.NotebookNode) -> str:
    """The file text of ``nb`` as committed: nbformat's JSON (1-space indent, sorted keys), newline at the end."""
    import nbformat

    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


# ---------------------------------------------------------------------------------------------
# Comparing a fresh run with the committed notebook
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Difference:
    """Where a fresh run differs from the committed notebook, and how."""

    cell: int | None  # index in nb.cells (None: the notebook as a whole)
    what: str

    def __str__(self) -> str:
        return self.what if self.cell is None else f"cell {self.cell}: {self.what}"


def unexecuted_cells(nb: nbformat.NotebookNode) -> list[int]:
    """The code cells (their indices) without an execution count: never run, or stripped of outputs."""
    return [i for i, c in enumerate(nb.cells)
            if c.cell_type == "code" and c.source.strip() and c.execution_count is None]


def image_size(mime: str, content: Any) -> tuple[float, float] | None:
    """The width and height of an image output (pixels for PNG, the SVG's width/height or viewBox), or
    None when it cannot be read (then only its presence is compared)."""
    text = "".join(content) if isinstance(content, list) else str(content)
    if mime == "image/png":
        try:
            data = base64.b64decode(text)
        except ValueError:
            return None
        if data.startswith(_PNG_SIGNATURE) and data[12:16] == b"IHDR":
            return struct.unpack(">II", data[16:24])
        return None
    if mime == "image/svg+xml":
        root = re.search(r"<svg\b[^>]*>", text)
        if not root:
            return None
        w = re.search(r'\bwidth="([\d.]+)', root.group(0))
        h = re.search(r'\bheight="([\d.]+)', root.group(0))
        if w and h:
            return float(w.group(1)), float(h.group(1))
        box = re.search(r'\bviewBox="[-\d.]+[ ,]+[-\d.]+[ ,]+([\d.]+)[ ,]+([\d.]+)"', root.group(0))
        return (float(box.group(1)), float(box.group(2))) if box else None
    return None


def _text(content: Any) -> str:
    if isinstance(content, list):
        return "".join(content)
    return content if isinstance(content, str) else repr(content)


def _first_difference(committed: str, fresh: str, measured: bool = False) -> str:
    """The first line where two masked texts differ, both versions of it, and a short unified diff."""
    a, b = mask(committed, measured).splitlines(), mask(fresh, measured).splitlines()
    n = next((k for k, (x, y) in enumerate(zip(a, b), 1) if x != y), min(len(a), len(b)) + 1)
    line_a = a[n - 1] if n <= len(a) else "<no more lines>"
    line_b = b[n - 1] if n <= len(b) else "<no more lines>"
    diff = list(difflib.unified_diff(a, b, "committed", "fresh", n=1, lineterm=""))[:14]
    return f"first differing line {n}:\n    committed: {line_a!r}\n    fresh:     {line_b!r}\n  " + "\n  ".join(diff)


def _describe(output: Any) -> str:
    kind = output.get("output_type")
    if kind == "stream":
        return f"stream {output.get('name')}"
    if kind == "error":
        return f"error {output.get('ename')}"
    return f"{kind} ({', '.join(sorted(output.get('data', {})))})"


def _compare_outputs(committed: Any, fresh: Any, measured: bool = False) -> str | None:
    kind = committed.get("output_type")
    if kind != fresh.get("output_type") or _describe(committed).split(" (")[0] != _describe(fresh).split(" (")[0]:
        return f"committed {_describe(committed)}, fresh {_describe(fresh)}"
    if kind == "stream":
        a, b = _text(committed.get("text", "")), _text(fresh.get("text", ""))
        return None if mask(a, measured) == mask(b, measured) else _first_difference(a, b, measured)
    if kind == "error":
        a, b = _text(committed.get("evalue", "")), _text(fresh.get("evalue", ""))
        return None if mask(a, measured) == mask(b, measured) else _first_difference(a, b, measured)
    a_data, b_data = committed.get("data", {}), fresh.get("data", {})
    if set(a_data) != set(b_data):
        return f"mime types: committed {sorted(a_data)}, fresh {sorted(b_data)}"
    for mime in sorted(a_data):
        if mime in IMAGE_MIMES or mime.startswith("image/"):
            size_a, size_b = image_size(mime, a_data[mime]), image_size(mime, b_data[mime])
            if size_a and size_b and not all(1 / IMAGE_SIZE_RATIO <= x / max(y, 1e-9) <= IMAGE_SIZE_RATIO
                                             for x, y in zip(size_a, size_b)):
                return (f"{mime}: committed {size_a[0]:g}x{size_a[1]:g}, fresh {size_b[0]:g}x{size_b[1]:g} "
                        f"(more than {IMAGE_SIZE_RATIO:g}x apart in a dimension)")
        elif mime in TEXT_MIMES or mime.startswith("text/"):
            a, b = _text(a_data[mime]), _text(b_data[mime])
            if mask(a, measured) != mask(b, measured):
                return f"{mime}: " + _first_difference(a, b, measured)
        elif a_data[mime] != b_data[mime]:
            return f"{mime}: committed and fresh differ"
    return None


def compare(committed: nbformat.NotebookNode, fresh: nbformat.NotebookNode) -> list[Difference]:
    """How a fresh (normalised) run differs from the committed notebook; empty if it does not.

    The same cells (type and source); then each code cell's outputs, one for one, in order: streams
    (stdout, stderr) and text outputs (``text/plain``, ``text/html``, …) equal after `mask` (with
    every number masked too in a cell tagged `MEASURED`); images
    (PNG, SVG, …) of the same mime types in the same places, each of width and height within a factor
    `IMAGE_SIZE_RATIO` of the committed one (pixels differ between matplotlib and Graphviz versions, so
    bytes are not compared); other data (JSON) equal. A committed notebook whose code cells were never
    run is reported as such, with what to run.
    """
    if unexecuted_cells(committed):
        cells = unexecuted_cells(committed)
        return [Difference(None, f"{len(cells)} code cell(s) have no outputs (never run: cells "
                                 f"{', '.join(map(str, cells[:8]))}{', …' if len(cells) > 8 else ''}): {REGENERATE}")]
    if len(committed.cells) != len(fresh.cells):
        return [Difference(None, f"{len(committed.cells)} cells committed, {len(fresh.cells)} run")]
    found = []
    for i, (a, b) in enumerate(zip(committed.cells, fresh.cells)):
        if a.cell_type != b.cell_type or a.source != b.source:
            found.append(Difference(i, f"the cell itself differs ({a.cell_type} vs {b.cell_type}, or its source)"))
            continue
        if a.cell_type != "code":
            continue
        outs_a, outs_b = coalesce_streams(a.outputs), coalesce_streams(b.outputs)
        first = a.source.strip().splitlines()[0][:60] if a.source.strip() else ""
        where = f"(code, execution_count {a.execution_count}, `{first}`)"
        measured = MEASURED in a.metadata.get("tags", [])
        for k, (out_a, out_b) in enumerate(zip(outs_a, outs_b)):
            problem = _compare_outputs(out_a, out_b, measured)
            if problem:
                found.append(Difference(i, f"{where} output {k} ({_describe(out_a)}): {problem}"))
                break
        else:
            if len(outs_a) != len(outs_b):
                extra = outs_a[len(outs_b):] or outs_b[len(outs_a):]
                found.append(Difference(i, f"{where}: {len(outs_a)} outputs committed, {len(outs_b)} fresh "
                                           f"(the extra: {', '.join(_describe(o) for o in extra)})"))
    return found


def report(path: Path, differences: Sequence[Difference]) -> str:
    """A failure message: the notebook, each difference, and how to update the committed outputs."""
    lines = [f"{shown(path)}: a fresh run differs from the committed outputs (masked: "
             f"{', '.join(name for name, _, _ in MASKS)}; every number in cells tagged {MEASURED!r})"]
    lines += [f"- {d}" for d in differences]
    lines.append(f"If the change is intended, {REGENERATE}. If a cell prints numbers that come from measuring "
                 f"this run (a ratio of times, a peak of memory), tag it {MEASURED!r}.")
    return "\n".join(lines)


def largest_outputs(nb: nbformat.NotebookNode, n: int = 3) -> list[str]:
    """The ``n`` biggest outputs: 'cell 12 image/png 410 KB', to say what makes a notebook too big."""
    sizes = []
    for i, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            for mime, content in output.get("data", {}).items():
                sizes.append((len(_text(content)), f"cell {i} {mime} {len(_text(content)) / 1e3:.0f} KB"))
            if output.get("output_type") == "stream":
                text = _text(output["text"])
                sizes.append((len(text), f"cell {i} {output['name']} {len(text) / 1e3:.0f} KB"))
    return [text for _, text in sorted(sizes, reverse=True)[:n]]


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------
def shown(path: Path) -> str:
    """``path`` relative to the repository when it is in it."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def graphviz_dot() -> str | None:
    """Why the committed outputs cannot be written here, or None: they are drawn by Graphviz's own ``dot``
    (as on CI), since graphviz-pure lays graphs out differently and notebook 06 prints the renderer's name."""
    from tinygrad_tx.viz.renderer import find_renderer

    renderer = find_renderer()
    if renderer is not None and renderer.name == "dot":
        return None
    found = f"found {renderer.name} ({renderer.path})" if renderer else "found no renderer"
    return (f"the notebooks' outputs are drawn with Graphviz's `dot` on PATH, as on CI; {found}: install Graphviz "
            "(Debian/Ubuntu `sudo apt-get install graphviz`, macOS `brew install graphviz`)")


def _resolve(names: Iterable[str]) -> list[Path]:
    paths = [Path(n).resolve() for n in names]
    for p in paths:
        if p.suffix != ".ipynb" or not p.is_file():
            raise SystemExit(f"notebook_runner: not a notebook file: {p}")
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    """``--write``: run each notebook and write it back normalised; ``--check``: run each one and compare
    with the committed version. Exit 1 if a notebook fails, differs (check) or is over the size limit."""
    import nbformat

    parser = argparse.ArgumentParser(prog="python -m tests.notebook_runner", description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="execute the notebooks and write them back with outputs")
    mode.add_argument("--check", action="store_true", help="execute the notebooks and compare with the committed ones")
    parser.add_argument("notebooks", nargs="*", help="notebook files (default: every notebook under notebooks/)")
    args = parser.parse_args(argv)
    try:
        paths = _resolve(args.notebooks) if args.notebooks else notebook_paths()
    except SystemExit as e:
        print(e, file=sys.stderr)
        return 2
    if not paths:
        print(f"notebook_runner: no notebooks in {NOTEBOOK_DIR}", file=sys.stderr)
        return 2
    if args.write and graphviz_dot():
        print(f"notebook_runner: nothing written: {graphviz_dot()}", file=sys.stderr)
        return 2

    status = 0
    with tempfile.TemporaryDirectory() as kernels:
        specs = kernel_spec_manager(Path(kernels))
        for path in paths:
            committed = nbformat.read(path, as_version=4)
            start = time.perf_counter()
            try:
                fresh = run(committed, path.parent, specs)
            except Exception as e:  # a failing cell: say which notebook, keep the committed file
                print(f"{path.name}: FAILED, not written:\n{e}", file=sys.stderr)
                status = 1
                continue
            seconds = time.perf_counter() - start
            if args.write:
                text = writes(fresh)
                path.write_text(text, encoding="utf-8")
                size = len(text.encode("utf-8"))
                print(f"{shown(path)}: executed in {seconds:.1f} s, written ({size / 1e3:.0f} KB)", flush=True)
                if size > MAX_NOTEBOOK_BYTES:
                    print(f"{path.name}: {size / 1e6:.2f} MB is over the {MAX_NOTEBOOK_BYTES / 1e6:g} MB limit; "
                          f"largest outputs: {'; '.join(largest_outputs(fresh))}", file=sys.stderr)
                    status = 1
            else:
                differences = compare(committed, fresh)
                print(f"{shown(path)}: executed in {seconds:.1f} s, "
                      f"{'same outputs' if not differences else 'DIFFERS'}", flush=True)
                if differences:
                    print(report(path, differences), file=sys.stderr)
                    status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
