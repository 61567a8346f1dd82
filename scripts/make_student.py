#!/usr/bin/env python3
"""Student versions of the chapter notebooks: the exercises without their solutions.

    python scripts/make_student.py                # writes student/ and student-notebooks.zip
    python scripts/make_student.py --update-page  # also rewrites the Colab links of book/workshop.md

For every chapter notebook, the student version

* drops each solution: everything from the markdown cell holding the
  ```{solution-start} <label>``` marker to the one holding ```{solution-end}```
  (text of those cells outside the markers is kept: some cells end one
  solution and start the next exercise), and puts one code cell in its place,
  a comment that names the exercise and says what to write;
* has the quick values of notebooks/quick.yml typed into its `parameters`
  cell (the values `scripts/run_notebooks.py --quick` injects);
* keeps every other cell, the setup cell (the first code cell) included, with
  all outputs and execution counts cleared.

A marker without its partner, a solution inside a solution, a solution that
names no exercise above it, a marker in a code cell or a plain ```{solution}```
block (which would leave its solution in the student version) stops the
script with the notebook and cell it is in.

The students open the notebooks on Colab from the repository's `student`
branch, where the contents of student/ are published; `colab_url` builds
those links from _config.yml, and --update-page writes them, as a table,
between the student-links markers of book/workshop.md.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
import textwrap
import zipfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # `python scripts/make_student.py` imports its siblings

from scripts import run_notebooks, setup_cell  # noqa: E402

STUDENT_DIR = ROOT / "student"
ZIP_PATH = ROOT / "student-notebooks.zip"
WORKSHOP_PAGE = ROOT / "book" / "workshop.md"
STUDENT_BRANCH = "student"  # the branch that holds student/<name>.ipynb
LINKS_START, LINKS_END = "<!-- student-links:start -->", "<!-- student-links:end -->"
STUB_TAG = "exercise-stub"

# The opening line of a MyST directive fence, ```{name} argument or :::{name} argument.
DIRECTIVE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[\w-]+)\}[ \t]*(?P<argument>[^\n]*)$",
                       re.M)
MARKERS = ("solution-start", "solution-end")
EXERCISE_LABEL = re.compile(r"^:label:[ \t]*(\S+)", re.M)


class MarkerError(ValueError):
    """The solution markers of a notebook do not pair up."""


def directive_blocks(source: str, where: str):
    """The directive fences of a markdown source: (name, argument, body, start, end).

    `start` and `end` are the offsets of the whole block, from its opening
    line to the end of its closing fence line. Raises MarkerError for a
    fence that is never closed.
    """
    blocks, position = [], 0
    while (opening := DIRECTIVE.search(source, position)) is not None:
        fence = opening.group("fence")
        closing = re.compile(rf"^{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$", re.M)
        close = closing.search(source, opening.end())
        if close is None:
            raise MarkerError(f"{where}: the ```{{{opening.group('name')}}} block is never "
                              f"closed (no line of {fence} after it).")
        end = close.end() + (1 if source[close.end():close.end() + 1] == "\n" else 0)
        blocks.append((opening.group("name"), opening.group("argument").strip(),
                       source[opening.end():close.start()], opening.start(), end))
        position = end
    return blocks


def split_at_markers(source: str, where: str):
    """Cut a markdown cell's source at its solution markers.

    Returns a list of ("text", str), ("start", label) and ("end", "") pieces,
    in order. Raises MarkerError for a plain ```{solution}``` block.
    """
    pieces, position = [], 0
    for name, argument, _, start, end in directive_blocks(source, where):
        if name == "solution":
            raise MarkerError(f"{where}: a ```{{solution}}``` block would stay in the student "
                              "notebook; use ```{solution-start} <label>``` ... "
                              "```{solution-end}``` as the other chapters do.")
        if name not in MARKERS:
            continue
        pieces.append(("text", source[position:start]))
        pieces.append(("start", argument.split()[0] if argument else "") if name == MARKERS[0]
                      else ("end", ""))
        position = end
    pieces.append(("text", source[position:]))
    return pieces


def exercise_labels(source: str, where: str) -> list:
    """The labels of the ```{exercise}``` blocks of a markdown source."""
    return [label for name, _, body, _, _ in directive_blocks(source, where) if name == "exercise"
            for label in EXERCISE_LABEL.findall(body)[:1]]


def stub_cell(label: str, cell_id: str):
    """The code cell that replaces a solution: a comment only, so it runs as a no-op."""
    source = (f"# Your turn: exercise `{label}` (above).\n"
              "# Write code here that computes and prints (or plots) what the exercise asks\n"
              "# for, run it, and check that its output answers the question.")
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": [STUB_TAG]})
    cell.id = cell_id
    return cell


def markdown_cell(text: str, cell_id: str):
    """A markdown cell of kept text, cut from a cell that held a marker."""
    cell = nbformat.v4.new_markdown_cell(text)
    cell.id = cell_id
    return cell


def remove_solutions(nb, name: str):
    """Return the notebook's cells with every solution replaced by a stub cell.

    Cells without markers are kept as they are; a markdown cell with markers
    keeps its text outside the solutions, as one or more new cells.
    """
    cells, open_solution, seen = [], None, []  # open_solution: (label, cell index)
    for index, cell in enumerate(nb.cells):
        where = f"{name}, cell {index}"
        if cell.cell_type != "markdown":
            if any(f"{{{marker}}}" in cell.source for marker in MARKERS):
                raise MarkerError(f"{where}: a solution marker in a {cell.cell_type} cell; "
                                  "markers belong in markdown cells.")
            if open_solution is None:
                cells.append(cell)
            continue
        pieces = split_at_markers(cell.source, where)
        if len(pieces) == 1:  # no marker: the cell stays whole, or goes whole
            if open_solution is None:
                seen += exercise_labels(cell.source, where)
                cells.append(cell)
            continue
        kept, part = [], 0
        for kind, value in pieces:
            if kind == "text":
                if open_solution is None:
                    kept.append(value)
                    seen += exercise_labels(value, where)
                continue
            if kind == "start":
                if open_solution is not None:
                    raise MarkerError(f"{where}: solution-start {value!r} opens inside the solution "
                                      f"{open_solution[0]!r} of cell {open_solution[1]}, which has "
                                      "no solution-end before it.")
                if value not in seen:
                    raise MarkerError(f"{where}: solution-start {value!r} names no exercise above "
                                      "it that lacks a solution (the label must be the :label: "
                                      "of an exercise before it).")
                text = "\n\n".join(t.strip("\n") for t in kept if t.strip())
                if text:
                    cells.append(markdown_cell(text, f"{cell.id}-{part}"))
                cells.append(stub_cell(value, f"{cell.id}-stub"))
                kept, part, open_solution = [], part + 1, (value, index)
                seen.remove(value)  # one solution per exercise
            else:
                if open_solution is None:
                    raise MarkerError(f"{where}: solution-end without a solution-start before it.")
                open_solution = None
        text = "\n\n".join(t.strip("\n") for t in kept if t.strip())
        if text:
            cells.append(markdown_cell(text, f"{cell.id}-{part}"))
    if open_solution is not None:
        raise MarkerError(f"{name}, cell {open_solution[1]}: solution-start {open_solution[0]!r} "
                          "has no solution-end after it.")
    return cells


def _offset(lines, line_number: int, byte_column: int) -> int:
    """The character offset of an ast position (1-based line, column in UTF-8 bytes)."""
    line = lines[line_number - 1]
    before = sum(len(text) for text in lines[:line_number - 1])
    return before + len(line.encode()[:byte_column].decode())


def python_literal(value) -> str:
    """Python source for a quick.yml value, with double-quoted strings as the cells use."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(python_literal(item) for item in value) + "]"
    return repr(value)


def fill_parameters(source: str, values: dict, where: str) -> str:
    """The parameters cell with `values` assigned in place of its own, and a
    comment above that names the values the book's run used."""
    if not values:
        return source
    lines = source.splitlines(keepends=True)
    assignments = {node.targets[0].id: node for node in ast.parse(source).body
                   if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)}
    unknown = set(values) - set(assignments)
    if unknown:
        raise MarkerError(f"{where}: notebooks/quick.yml sets {', '.join(sorted(unknown))}, which "
                          "the parameters cell does not assign.")
    book_values, edits = [], []
    for name in values:  # quick.yml's order
        node = assignments[name].value
        start = _offset(lines, node.lineno, node.col_offset)
        end = _offset(lines, node.end_lineno, node.end_col_offset)
        book_values.append(f"{name} = {source[start:end]}".replace(" ", "\0"))  # kept whole
        text = python_literal(values[name])
        if "\n" not in source[start:end] and source[end:].split("\n")[0].strip().startswith("#"):
            text = text.ljust(end - start)  # keep the comments of the cell aligned
        edits.append((start, end, text))
    for start, end, text in sorted(edits, reverse=True):
        source = source[:start] + text + source[end:]
    note = ("Quick settings (notebooks/quick.yml), to train in minutes on a laptop CPU. The "
            "outputs on the book's website used " + ", ".join(book_values) + ".")
    comment = "\n".join("# " + line for line in textwrap.wrap(note, 86)).replace("\0", " ")
    return comment + "\n" + source


def parameters_cell(cells, where: str):
    """The cell tagged `parameters`."""
    tagged = [c for c in cells if "parameters" in c.metadata.get("tags", [])]
    if len(tagged) != 1:
        raise MarkerError(f"{where}: expected one cell tagged 'parameters', found {len(tagged)}.")
    return tagged[0]


def clear_outputs(nb):
    """Remove every output, execution count and run's bookkeeping."""
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("papermill", None)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None


def names_bound_and_loaded(source: str) -> tuple[set, set]:
    """The names a code cell binds (assignments, imports, definitions,
    arguments) and the names it reads, anywhere in the cell. IPython lines
    (%magic, !shell) count as neither."""
    lines = [line[:len(line) - len(line.lstrip())] + "pass" if line.lstrip().startswith(("%", "!"))
             else line for line in source.splitlines()]
    bound, loaded = set(), set()
    for node in ast.walk(ast.parse("\n".join(lines))):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return bound, loaded


def names_lost_with_solutions(chapter_cells, student_cells) -> list:
    """[(student cell index, names)] for every kept code cell that reads a name
    which only a removed solution defined before it: the student version would
    stop there with a NameError. The static twin of running every student
    notebook (which `make colab-check` does)."""
    kept_ids = {cell.id for cell in student_cells}
    removed = set()
    for cell in chapter_cells:
        if cell.cell_type == "code" and cell.id not in kept_ids:
            removed |= names_bound_and_loaded(cell.source)[0]
    defined, lost = set(), []
    for index, cell in enumerate(student_cells):
        if cell.cell_type != "code":
            continue
        bound, loaded = names_bound_and_loaded(cell.source)
        missing = (loaded - defined - bound) & removed
        if missing:
            lost.append((index, sorted(missing)))
        defined |= bound
    return lost


def student_notebook(path: Path):
    """The student version of one chapter notebook (a new notebook object)."""
    nb = nbformat.read(path, as_version=4)
    chapter_cells = list(nb.cells)
    nb.cells = remove_solutions(nb, path.name)
    for index, names in names_lost_with_solutions(chapter_cells, nb.cells):
        raise MarkerError(f"{path.name}, student cell {index}: reads {', '.join(names)}, which only "
                          "a solution defines before it; define it outside the solution, or move "
                          "the cell into the solution.")
    cell = parameters_cell(nb.cells, path.name)
    cell.source = fill_parameters(cell.source, run_notebooks.quick_parameters(path),
                                  f"{path.name}, parameters cell")
    clear_outputs(nb)
    nbformat.validate(nb)
    return nb


def write_zip(paths, target: Path) -> Path:
    """Zip the notebooks as student/<name>.ipynb, with fixed dates (same input, same bytes)."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(paths):
            info = zipfile.ZipInfo(f"student/{path.name}", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type, info.external_attr = zipfile.ZIP_DEFLATED, 0o644 << 16
            archive.writestr(info, path.read_bytes())
    return target


def write_student_notebooks(notebooks=None, folder: Path | None = None, zip_path: Path | None = None,
                            make_zip: bool = True) -> list:
    """Write the student version of every notebook into `folder` (default student/) and,
    with `make_zip`, the zip (default student-notebooks.zip); return the notebooks' paths.

    Every notebook is converted before anything is written, so that a bad
    marker leaves no half-written folder behind.
    """
    notebooks = notebooks or run_notebooks.book_notebooks()
    converted = [(path.name, student_notebook(path)) for path in notebooks]
    folder = folder or STUDENT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, nb in converted:
        nbformat.write(nb, folder / name)
        written.append(folder / name)
    if make_zip:
        write_zip(written, zip_path or ZIP_PATH)
    return written


def colab_url(notebook, repository: str | None = None) -> str:
    """The Colab link of a student notebook on the `student` branch of the book's repository."""
    repository = repository or setup_cell.repository_url()
    match = re.fullmatch(r"https://github\.com/([\w.-]+)/([\w.-]+?)(?:\.git)?/?", repository)
    if not match:
        raise ValueError(f"Colab opens notebooks from GitHub; {repository!r} is not a GitHub "
                         "repository URL (_config.yml, repository.url).")
    owner, repo = match.groups()
    return (f"https://colab.research.google.com/github/{owner}/{repo}/blob/{STUDENT_BRANCH}/"
            f"student/{Path(notebook).stem}.ipynb")


def chapter_title(path: Path) -> str:
    """"1. Why CNNs for images": the chapter's number and its notebook's first heading."""
    nb = nbformat.read(path, as_version=4)
    heading = next(line[2:].strip() for cell in nb.cells if cell.cell_type == "markdown"
                   for line in cell.source.splitlines() if line.startswith("# "))
    return f"{int(path.name.split('_')[0])}. {heading}"


def render_links(notebooks=None, repository: str | None = None) -> str:
    """The table of student notebooks and their Colab links, between the markers."""
    lines = [LINKS_START, "| chapter | student notebook on Colab |", "|---|---|"]
    for path in notebooks or run_notebooks.book_notebooks():
        title = chapter_title(path).replace("|", "\\|")
        lines.append(f"| {title} | [{path.stem}.ipynb]({colab_url(path, repository)}) |")
    return "\n".join(lines + [LINKS_END])


def update_page(page: Path | None = None) -> bool:
    """Rewrite the links between the markers of the workshop page (or `page`);
    return whether the page changed."""
    page = page or WORKSHOP_PAGE
    text = page.read_text()
    if LINKS_START not in text or LINKS_END not in text:
        raise SystemExit(f"{page} has no {LINKS_START} ... {LINKS_END} markers to fill.")
    head, rest = text.split(LINKS_START, 1)
    new = head + render_links() + rest.split(LINKS_END, 1)[1]
    if new != text:
        page.write_text(new)
    return new != text


def shown(path: Path) -> str:
    """A path as the messages show it: relative to the repository when inside it."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every chapter notebook")
    parser.add_argument("--update-page", action="store_true",
                        help="rewrite the Colab links between the markers of book/workshop.md")
    args = parser.parse_args(argv)
    try:
        written = write_student_notebooks([p.resolve() for p in args.notebooks] or None)
    except MarkerError as error:
        raise SystemExit(f"make_student: {error}") from None
    print(f"wrote {len(written)} student notebooks to {shown(STUDENT_DIR)}/ and {shown(ZIP_PATH)}")
    if args.update_page and update_page():
        print(f"rewrote the student links in {shown(WORKSHOP_PAGE)}")


if __name__ == "__main__":
    main()
