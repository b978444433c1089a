"""Make the blank exercise notebooks from the solved ones, so that there is one source of truth.

``notebooks/exercises/solutions/NAME.ipynb`` is the solved notebook; every answer line in it ends with
a marker, and this script writes ``notebooks/exercises/NAME.ipynb``, what the learner opens, with each
answer replaced by a blank:

- ``dW1 = dz1 @ h1.T  # ANSWER: dL/dW1, shape (5, 6)`` -> ``dW1 = None  # your answer: dL/dW1, shape (5, 6)``
- ``# ANSWER(...): ...`` blanks with ``...`` instead of None (for an answer whose right value is None)
- ``dx += dnum  # ANSWER: the contribution through num`` -> ``# dx += ...  # your answer: the contribution
  through num (uncomment and complete)``: a ``+=`` on a blank None would raise, so the blank notebook
  would not run.

Cells tagged ``solutions-only`` are dropped; outputs and execution counts are cleared (the notebooks
are committed without outputs). A marked line must be one assignment on one line; anything else is
an error naming the notebook, the cell and the line.

    python notebooks/exercises/make_blanks.py           # write the blanks
    python notebooks/exercises/make_blanks.py --check   # exit 1 if a committed blank is out of date
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
SOLUTIONS = HERE / "solutions"
MARKER = "# ANSWER"
_ANSWER_LINE = re.compile(
    r"^(?P<indent>\s*)(?P<target>[A-Za-z_]\w*)\s*(?P<op>\+?=)\s*(?P<expr>\S.*?)\s*"
    r"#\s*ANSWER(?P<dots>\(\.\.\.\))?:\s*(?P<what>\S.*?)\s*$"
)


class BlankError(ValueError):
    """A marked line that cannot be blanked (the message names where it is)."""


def blank_line(line: str, where: str = "") -> str:
    """The blank of one source line (unchanged if it has no ANSWER marker)."""
    if MARKER not in line:
        return line
    m = _ANSWER_LINE.match(line)
    if m is None:
        raise BlankError(f"{where}: a '# ANSWER: what' line must be one assignment 'name = expr' or "
                         f"'name += expr': {line.strip()!r}")
    indent, target, what = m["indent"], m["target"], m["what"]
    if m["op"] == "+=":
        return f"{indent}# {target} += ...  # your answer: {what} (uncomment and complete)"
    placeholder = "..." if m["dots"] else "None"
    return f"{indent}{target} = {placeholder}  # your answer: {what}"


def blank_source(source: str, where: str = "") -> str:
    """Every marked line of a cell's source blanked."""
    return "\n".join(blank_line(line, f"{where} line {i + 1}") for i, line in enumerate(source.split("\n")))


def blank_notebook(nb: nbformat.NotebookNode, name: str = "") -> nbformat.NotebookNode:
    """The blank version of a solved notebook (a new object; ``nb`` is not changed)."""
    out = nbformat.from_dict(nb)  # a deep copy
    cells = []
    for i, cell in enumerate(out.cells):
        if "solutions-only" in cell.get("metadata", {}).get("tags", []):
            continue
        if cell.cell_type == "code":
            cell.source = blank_source(cell.source, f"{name} cell {i}")
            cell.outputs = []
            cell.execution_count = None
        cells.append(cell)
    out.cells = cells
    return out


def blank_text(solution: Path) -> str:
    """The blank notebook of ``solution``, as the text written to disk."""
    nb = nbformat.read(solution, as_version=4)
    return nbformat.writes(blank_notebook(nb, solution.name)) + "\n"


def solutions() -> list[Path]:
    return sorted(SOLUTIONS.glob("*.ipynb"))


def blank_path(solution: Path) -> Path:
    return solution.parent.parent / solution.name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the blank exercise notebooks from the solved ones.")
    parser.add_argument("--check", action="store_true",
                        help="only check that the blanks are up to date (exit 1 if not)")
    args = parser.parse_args(argv)
    found = solutions()
    if not found:
        print(f"make_blanks: no solved notebooks in {SOLUTIONS}", file=sys.stderr)
        return 2
    stale = []
    try:
        texts = {blank_path(s): blank_text(s) for s in found}
    except (BlankError, nbformat.reader.NotJSONError, OSError) as e:
        print(f"make_blanks: {e}", file=sys.stderr)
        return 2
    for path, text in texts.items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != text:
            stale.append(path.name)
            if not args.check:
                path.write_text(text, encoding="utf-8")
    if args.check and stale:
        print(f"make_blanks: out of date: {', '.join(stale)} (run python {Path(__file__).name})", file=sys.stderr)
        return 1
    print(("up to date: " if args.check or not stale else "wrote: ") + ", ".join(stale or [p.name for p in texts]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
