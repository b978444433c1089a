"""The notebooks are committed with their outputs, and those outputs are what the code prints now.

``tests/notebook_runner.py`` runs each notebook (``notebooks/*.ipynb``; the exercises in
``notebooks/exercises/`` are committed clean and run by ``tests/test_exercises.py``) in a fresh IPython
kernel started from *this* interpreter, so it imports the same ``tinygrad_tx``, NumPy and PyTorch as the
rest of the test suite; ``make notebook-outputs`` writes them back with their outputs. Here each notebook
runs once and its fresh outputs are compared with the committed
ones (`notebook_runner.compare`):

- the same cells, and in each code cell the same outputs in the same order;
- stream and text outputs (``text/plain``, ``text/html``) equal once these are masked
  (`notebook_runner.MASKS`): a tqdm bar from its percentage to the end of the line
  (``100%|████| 50/50 [00:01<00:00, 38.21it/s]``); a rate (``12,345 tokens/s``, ``38.2 it/s``,
  ``1.3 s/it``); a duration, a number directly followed by ``s``, ``ms``, ``µs``, ``us``, ``ns`` or
  ``min`` (``1.23 s``, ``0.095ms``); a memory address ``0x`` + 6 or more hex digits; a date
  ``2026-12-02`` with an optional time; a path under ``/tmp/``, ``/var/folders/`` or the temporary
  directory; this checkout's own path. A rate or a duration takes the spaces before it along (a
  padded column of times widens by a digit). Any other number is compared exactly, so a changed
  value in a gradient table fails. A cell tagged ``measured`` (it prints ratios of measured times, or
  a peak of memory) has every number of its text outputs masked, and runs of spaces made one, but
  its words and lines compared;
- images (PNG, SVG) of the same mime types in the same places, each width and height within a
  factor 2 of the committed one: pixels differ between matplotlib and Graphviz versions.

A notebook committed without outputs fails, with what to run. The fast tests below check the
comparison itself on small synthetic notebooks, and that every committed notebook is in the
normalised form the runner writes.
"""

from __future__ import annotations

import ast
import base64
import configparser
import copy
import importlib.metadata
import os
import re
import struct
import sys
import time
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import tinygrad_tx
from tests import notebook_runner as runner

if TYPE_CHECKING:
    from jupyter_client.kernelspec import KernelSpecManager

# The test extra's Jupyter packages: nbformat reads the notebooks (every test here), nbclient runs
# them in an ipykernel kernel (the tests that take `kernel_specs`). Without one, its tests are skipped.
nbformat = pytest.importorskip("nbformat")

NOTEBOOK_DIR = runner.NOTEBOOK_DIR
NOTEBOOKS = runner.notebook_paths()
EXERCISE_NOTEBOOKS = sorted((NOTEBOOK_DIR / "exercises").rglob("*.ipynb"))  # blank and solved: tests/test_exercises.py
ALL_NOTEBOOKS = NOTEBOOKS + EXERCISE_NOTEBOOKS


def _id(path: Path | None) -> str:
    return str(path.relative_to(NOTEBOOK_DIR)) if path else "no-notebooks"


@pytest.mark.slow
def test_kernel_is_this_interpreter(kernel_specs: KernelSpecManager) -> None:
    """The kernel runs this interpreter and its tinygrad_tx, with KERNEL_ENV set, in notebooks/."""
    pytest.importorskip("matplotlib")  # (the train extra, as for the notebooks)
    check = "\n".join(
        [
            "import os, sys",
            "import matplotlib",
            f"assert sys.executable == {sys.executable!r}, sys.executable",
            f"assert sys.prefix == {sys.prefix!r}, sys.prefix",
            f"env = {runner.KERNEL_ENV!r}",
            "assert all(os.environ.get(k) == v for k, v in env.items()), {k: os.environ.get(k) for k in env}",
            "assert 'inline' in matplotlib.get_backend().lower(), matplotlib.get_backend()",
            f"assert os.getcwd() == {str(NOTEBOOK_DIR)!r}, os.getcwd()",
            "import tinygrad_tx",
            f"assert tinygrad_tx.__file__ == {tinygrad_tx.__file__!r}, tinygrad_tx.__file__",
        ]
    )
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(check)])
    runner.execute(nb, NOTEBOOK_DIR, kernel_specs)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS or [None], ids=_id)
def test_notebook_outputs_are_current(path: Path | None, kernel_specs: KernelSpecManager) -> None:
    """The notebook runs from top to bottom without an error, and prints and draws what is committed."""
    assert path is not None, f"no notebooks found in {NOTEBOOK_DIR}"
    committed = nbformat.read(path, as_version=4)
    for module in sorted(imported_modules(committed) - set(sys.stdlib_module_names)):
        pytest.importorskip(module)  # torch for 01-02, matplotlib: the notebooks extra (setup.cfg)
    never_run = runner.compare(committed, committed) if runner.unexecuted_cells(committed) else []
    assert not never_run, f"{runner.shown(path)}: {never_run[0]}"  # before spending a kernel on it
    start = time.perf_counter()
    fresh = runner.run(committed, path.parent, kernel_specs)
    print(f"{path.name}: executed in {time.perf_counter() - start:.1f} s ({os.cpu_count()} CPUs)")
    differences = runner.compare(committed, fresh)
    if differences and runner.graphviz_dot() and "draw(" in "".join(c.source for c in committed.cells):
        pytest.skip(f"{path.name} ran, but its outputs were not compared: {runner.graphviz_dot()} "
                    f"({len(differences)} difference(s), e.g. {differences[0]})")
    assert not differences, runner.report(path, differences)


@pytest.mark.parametrize("path", NOTEBOOKS or [None], ids=_id)
def test_notebook_is_committed_with_outputs_in_the_runners_form(path: Path | None) -> None:
    """Without running anything: every code cell has been run (its outputs are committed), the file is
    exactly what `runner.writes(runner.normalise(...))` gives (so no kernel, version or timing metadata
    from a JupyterLab save), and it is under `runner.MAX_NOTEBOOK_BYTES`."""
    assert path is not None, f"no notebooks found in {NOTEBOOK_DIR}"
    text = path.read_text(encoding="utf-8")
    nb = nbformat.reads(text, as_version=4)
    never_run = runner.unexecuted_cells(nb)
    assert not never_run, (f"{runner.shown(path)}: {len(never_run)} code cell(s) without outputs "
                           f"(cells {never_run[:8]}): {runner.REGENERATE}")
    assert runner.writes(runner.normalise(copy.deepcopy(nb))) == text, (
        f"{runner.shown(path)} is not in the form the runner writes (saved from JupyterLab?): {runner.REGENERATE}")
    size = len(text.encode("utf-8"))
    assert size <= runner.MAX_NOTEBOOK_BYTES, (
        f"{runner.shown(path)}: {size / 1e6:.2f} MB, over {runner.MAX_NOTEBOOK_BYTES / 1e6:g} MB; "
        f"largest outputs: {'; '.join(runner.largest_outputs(nb))}")


# ---------------------------------------------------------------------------------------------
# The comparison itself, on synthetic notebooks
# ---------------------------------------------------------------------------------------------
def _png(width: int, height: int, text: bytes = b"") -> str:
    """A valid grey PNG of this size, base64 (a tEXt chunk with ``text`` if given), as Jupyter stores it."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    parts = [chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))]
    if text:
        parts.append(chunk(b"tEXt", b"Software\x00" + text))
    parts += [chunk(b"IDAT", zlib.compress(rows)), chunk(b"IEND", b"")]
    return base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"".join(parts)).decode("ascii")


def _notebook(*cells: tuple[str, list[dict]], tags: dict[int, list[str]] | None = None) -> nbformat.NotebookNode:
    """Code cells (source, outputs), executed: counts 1..n."""
    nb = nbformat.v4.new_notebook()
    for i, (source, outputs) in enumerate(cells):
        cell = nbformat.v4.new_code_cell(source, execution_count=i + 1)
        cell.outputs = [nbformat.from_dict(o) for o in outputs]
        if tags and i in tags:
            cell.metadata["tags"] = tags[i]
        nb.cells.append(cell)
    return nb


def _stdout(text: str) -> dict:
    return {"output_type": "stream", "name": "stdout", "text": text}


def _display(data: dict) -> dict:
    return {"output_type": "display_data", "data": data, "metadata": {}}


GRADIENTS = "x.grad = 2.0595697955721652, y.grad = 1.5922327514838093\nstep 20  loss 0.5144  (2.4 s)\n"


def test_a_changed_number_is_caught_with_the_cell_and_the_first_differing_line() -> None:
    committed = _notebook(("print(1)", [_stdout("ok\n")]), ("f.backward()", [_stdout(GRADIENTS)]))
    fresh = copy.deepcopy(committed)
    fresh.cells[1].outputs[0]["text"] = GRADIENTS.replace("0.5144", "0.5145")
    differences = runner.compare(committed, fresh)
    assert [d.cell for d in differences] == [1]
    message = runner.report(Path("notebooks/x.ipynb"), differences)
    assert "cell 1:" in message and "first differing line 2" in message and "f.backward()" in message
    assert "'step 20  loss 0.5144  (<duration>)'" in message and "0.5145" in message
    assert "make notebook-outputs" in message
    fresh.cells[1].outputs[0]["text"] = GRADIENTS.replace("2.0595697955721652", "2.0595697955721650")
    assert runner.compare(committed, fresh), "a gradient's last digit"


@pytest.mark.parametrize(("before", "after"), [
    ("final loss 0.2711 (2.4 s)", "final loss 0.2711 (13.0 s)"),
    ("  32 |     15     448 |      0.31 ms    0.79 ms", "  32 |     15     448 |      0.31 ms   10.79 ms"),
    ("forward 0.095ms | backward 45 ms | 1.5e-05 s | 3.1µs | 2 min",
     "forward 1.2ms | backward 7 ms | 2e-04 s | 9µs | 11 min"),
    ("418,614 tokens/s, 38.21 it/s, 1.3 s/it", "9,001 tokens/s, 2.5 it/s, 12.0 s/it"),
    ("train:  40%|████      | 20/50 [00:01<00:02, 13.2it/s, loss=2.1]",
     "train:  42%|████▏     | 21/50 [00:09<00:30, 2.2it/s, loss=2.0]"),
    ("<tinygrad_tx.viz.graph.Graph at 0x7f3d5cfc4e50>", "<tinygrad_tx.viz.graph.Graph at 0x7f74dc347850>"),
    ("saved 2026-12-02 05:10:58", "saved 2027-01-31T23:59:01.5Z"),
    ("source: /tmp/ipykernel_11719/3272564336.py:15", "source: /tmp/ipykernel_9/11.py:15"),
    (f"{runner.ROOT}/tinygrad_tx/ops.py:87: RuntimeWarning", "/home/ci/checkout/tinygrad_tx/ops.py:87: RuntimeWarning"),
])
def test_what_varies_between_runs_is_masked(before: str, after: str) -> None:
    committed = _notebook(("run()", [_stdout(before + "\n")]))
    fresh = _notebook(("run()", [_stdout(after + "\n")]))
    if after.startswith("/home/ci/"):  # another checkout's path is masked in its own run, as this one's is here
        fresh.cells[0].outputs[0]["text"] = after.replace("/home/ci/checkout", str(runner.ROOT)) + "\n"
    assert runner.compare(committed, fresh) == []


@pytest.mark.parametrize("text", [
    "x.grad = 2.0595697955721652", "step 20  loss 0.5144  accuracy 82%", "10 steps, 3 samples", "(8, 16) float32",
    "relative error 4.6e-17", "peak 1.48 MB, 1352 KiB", "n grew 16x; the cost ratio grew 18.1x", "0x1f",
    "sigmoid's 2 saved tensors", "GraphSummary(nodes=21, edges=20)",
])
def test_what_does_not_vary_is_not_masked(text: str) -> None:
    """Values, shapes, counts, sizes and short hex numbers stay as they are."""
    assert runner.mask(text) == text


def test_a_cell_tagged_measured_has_its_numbers_masked_but_not_its_words() -> None:
    table = "  250 |   0.095ms |    142 |      0.57\nn grew 16x; the cost ratio grew 18.1x\n"
    committed = _notebook(("time_it()", [_stdout(table)]), tags={0: [runner.MEASURED]})
    fresh = _notebook(("time_it()", [_stdout(table.replace("142", "1239").replace("18.1", "51.3"))]),
                      tags={0: [runner.MEASURED]})
    assert runner.compare(committed, fresh) == []
    fresh.cells[0].outputs[0]["text"] = table.replace("cost ratio", "time ratio")
    assert runner.compare(committed, fresh)
    untagged = _notebook(("time_it()", [_stdout(table)]))
    assert runner.compare(untagged, _notebook(("time_it()", [_stdout(table.replace("142", "1239"))])))


def test_a_notebook_committed_without_outputs_fails_and_says_what_to_run() -> None:
    committed = runner.strip_outputs(_notebook(("print(1)", [_stdout("1\n")])))
    differences = runner.compare(committed, _notebook(("print(1)", [_stdout("1\n")])))
    assert len(differences) == 1 and differences[0].cell is None
    assert "never run" in str(differences[0]) and "make notebook-outputs" in str(differences[0])


def test_images_are_compared_by_mime_type_and_rough_size() -> None:
    figure = {"image/png": _png(640, 480), "text/plain": "<Figure size 640x480 with 1 Axes>"}
    svg = '<svg width="679pt" height="721pt"\n viewBox="0.00 0.00 679.00 721.00">\n<g/></svg>\n'
    committed = _notebook(("plt.show()", [_display(figure)]), ("draw(f)", [_display({"image/svg+xml": svg})]))
    fresh = copy.deepcopy(committed)
    fresh.cells[0].outputs[0]["data"]["image/png"] = _png(700, 450)  # another matplotlib: other pixels
    fresh.cells[1].outputs[0]["data"]["image/svg+xml"] = svg.replace("679pt", "573pt")  # another Graphviz
    assert runner.compare(committed, fresh) == []
    fresh.cells[0].outputs[0]["data"]["image/png"] = _png(640, 200)  # a figure that lost a row of plots
    assert "640x480, fresh 640x200" in str(runner.compare(committed, fresh))
    fresh = copy.deepcopy(committed)
    del fresh.cells[1].outputs[0]["data"]["image/svg+xml"]
    fresh.cells[1].outputs[0]["data"]["text/plain"] = "<graph of 18 nodes: not rendered>"
    assert "mime types" in str(runner.compare(committed, fresh))
    fresh = copy.deepcopy(committed)
    fresh.cells[0].outputs = []
    assert "1 outputs committed, 0 fresh" in str(runner.compare(committed, fresh))
    fresh = copy.deepcopy(committed)
    fresh.cells[0].outputs.append(nbformat.from_dict(_stdout("new line\n")))
    assert "(the extra: stream stdout)" in str(runner.compare(committed, fresh))


def test_streams_split_differently_compare_equal_and_progress_redraws_resolve() -> None:
    committed = _notebook(("loop()", [_stdout("step 0\nstep 1\nstep 2\n")]))
    fresh = _notebook(("loop()", [_stdout("step 0\n"), _stdout("step 1\n"), _stdout("step 2\n")]))
    assert runner.compare(committed, fresh) == []
    outputs = runner.coalesce_streams([nbformat.from_dict(_stdout("10%\r50%\r100%\ndone\n"))])
    assert outputs[0]["text"] == "100%\ndone\n"


def test_normalise_makes_metadata_counts_and_pictures_stable_and_is_idempotent() -> None:
    svg = ("<?xml version='1.0'?>\n<!-- Generated by graphviz version 2.43.0 (0)\n -->\n"
           '<svg width="10pt" height="5pt"/>\n')
    nb = _notebook(("plt.show()", [_display({"image/png": _png(4, 3, b"Matplotlib version3.11.2")})]),
                   ("g", [_stdout("<AddBackward0 object at 0x7fcce889c090>\n"),
                          {"output_type": "execute_result", "execution_count": 9, "metadata": {},
                           "data": {"image/svg+xml": svg, "text/plain": "<Graph at 0x7f3d5cfc4e50>"}}]))
    nb.cells[0].execution_count, nb.cells[1].execution_count = 7, 9
    nb.cells[0].metadata["execution"] = {"iopub.status.busy": "2026-12-02T05:10:58.1Z"}
    nb.metadata["language_info"] = {"name": "python", "version": "3.11.7", "pygments_lexer": "ipython3"}
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {}}
    out = runner.normalise(copy.deepcopy(nb))
    assert out.metadata["language_info"] == {"name": "python"} and "widgets" not in out.metadata
    assert [c.execution_count for c in out.cells] == [1, 2] and out.cells[1].outputs[1]["execution_count"] == 2
    assert out.cells[1].outputs[0]["text"] == "<AddBackward0 object at 0x…>\n"
    assert out.cells[1].outputs[1]["data"]["text/plain"] == "<Graph at 0x…>"
    assert "execution" not in out.cells[0].metadata
    png = base64.b64decode(out.cells[0].outputs[0]["data"]["image/png"])
    assert b"tEXt" not in png and b"Matplotlib" not in png and runner.image_size("image/png", _png(4, 3)) == (4, 3)
    assert png == base64.b64decode(_png(4, 3))  # the same pixels, byte for byte, without the text chunk
    assert "graphviz version" not in out.cells[1].outputs[1]["data"]["image/svg+xml"]
    assert runner.writes(runner.normalise(copy.deepcopy(out))) == runner.writes(out)


def test_normalise_writes_paths_in_the_checkout_relative_to_it() -> None:
    """A warning printed from the library names its file: written relative to the checkout, so the committed
    output is the same wherever the checkout is (CI clones into a temporary folder)."""
    warning = f"{runner.ROOT / 'tinygrad_tx' / 'ops.py'}:87: RuntimeWarning: invalid value encountered in multiply\n"
    nb = _notebook(("x.log()", [{"output_type": "stream", "name": "stderr", "text": warning}]))
    out = runner.normalise(copy.deepcopy(nb))
    relative = "tinygrad_tx/ops.py:87: RuntimeWarning: invalid value encountered in multiply\n"
    assert out.cells[0].outputs[0]["text"] == relative
    elsewhere = _notebook(("x.log()", [{"output_type": "stream", "name": "stderr",
                                        "text": "/opt/other/tinygrad_tx/ops.py:87: RuntimeWarning\n"}]))
    other = "/opt/other/tinygrad_tx/ops.py:87: RuntimeWarning\n"  # not this checkout: left as it is
    assert runner.normalise(elsewhere).cells[0].outputs[0]["text"] == other


def test_outputs_are_written_only_with_graphvizs_dot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The committed drawings come from the system ``dot`` (as on CI); without it ``--write`` refuses."""
    import shutil

    if shutil.which("dot") is not None:
        assert runner.graphviz_dot() is None
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot (graphviz-pure may still be found next to python)
    reason = runner.graphviz_dot()
    assert reason is not None and "Graphviz's `dot`" in reason and "apt-get install graphviz" in reason
    path = tmp_path / "unrun.ipynb"
    text = runner.writes(_notebook(("print(1)", [])))
    path.write_text(text, encoding="utf-8")
    assert runner.main(["--write", str(path)]) == 2 and path.read_text(encoding="utf-8") == text


def test_the_runner_command_line_rejects_what_is_not_a_notebook(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """One line on stderr, exit status 2, nothing written."""
    not_a_notebook = tmp_path / "notes.txt"
    not_a_notebook.write_text("x")
    for argv in (["--check", str(tmp_path / "missing.ipynb")], ["--write", str(not_a_notebook)]):
        assert runner.main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "not a notebook file" in err[0], err
    assert not_a_notebook.read_text() == "x"


def test_notebooks_that_tune_for_speed_limit_blas_threads_as_the_command_line_does() -> None:
    """The command line calls tune_allocator() and limit_blas_threads(1) (tinygrad_tx/__main__.py):
    a notebook that times training with one of them calls both, in its first code cell."""
    for path in ALL_NOTEBOOKS:
        code = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
        if any("tune_allocator(" in source or "limit_blas_threads(" in source for source in code):
            assert "tune_allocator()" in code[0] and "limit_blas_threads(1)" in code[0], path.name


def imported_modules(nb: nbformat.NotebookNode) -> set[str]:
    """The top-level modules a notebook's code cells import (IPython magics and shell lines skipped)."""
    modules = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        code = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return modules


def test_the_notebooks_extra_names_every_package_the_notebooks_import() -> None:
    """``pip install -e '.[notebooks]'`` (``make notebooks``) is enough to run each notebook: every
    module it imports is in the standard library, the core requirements or the ``notebooks`` extra."""
    cfg = configparser.ConfigParser()
    cfg.read(NOTEBOOK_DIR.parent / "setup.cfg")

    def names(requirements: str) -> set[str]:
        return {re.split(r"[\s<>=!~\[;]", r.strip())[0].lower() for r in requirements.splitlines() if r.strip()}

    listed = names(cfg["options"]["install_requires"]) | names(cfg["options.extras_require"]["notebooks"])
    assert "jupyterlab" in listed
    distributions = importlib.metadata.packages_distributions()
    assert EXERCISE_NOTEBOOKS, "no exercise notebooks found"
    for path in ALL_NOTEBOOKS:
        for module in sorted(imported_modules(nbformat.read(path, as_version=4))):
            if module in sys.stdlib_module_names or module == "tinygrad_tx":
                continue
            provided_by = {d.lower() for d in distributions.get(module, [module])}
            assert provided_by & listed, f"{path.name} imports {module} ({provided_by}), not in the notebooks extra"


def test_no_notebook_cell_or_readme_line_holds_a_control_character() -> None:
    """A ``"\\a"`` written where ``"\\\\approx"`` was meant is the BEL character, and the math reads "h pprox": no
    cell of any notebook (exercises included) and no line of the README holds a control character but newline
    and tab."""
    control = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
    for path in ALL_NOTEBOOKS:
        for i, cell in enumerate(nbformat.read(path, as_version=4).cells):
            found = control.search(cell.source)
            assert found is None, f"{runner.shown(path)} cell {i}: control character {found.group(0)!r}"
    readme = (NOTEBOOK_DIR.parent / "README.md").read_text(encoding="utf-8")
    assert control.search(readme) is None
