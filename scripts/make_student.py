#!/usr/bin/env python3
"""Student versions of the chapter notebooks: the exercises without their solutions.

    python scripts/make_student.py                # writes student/ and student-notebooks.zip
    python scripts/make_student.py --update-page  # also rewrites the Colab links of book/workshop.md

For every chapter notebook, the student version

* drops each solution: everything from the markdown cell holding the
  ```{solution-start} <label>``` marker to the one holding ```{solution-end}```
  (text of those cells outside the markers is kept: some cells end one
  solution and start the next exercise), and puts the exercise's "Your turn"
  cell in its place (see below);
* writes every kept markdown cell as plain Jupyter Markdown, since Jupyter and
  Colab show MyST's directives and roles as raw text (see below);
* has the workshop values of notebooks/workshop.yml typed into its
  `parameters` cell (the values `scripts/run_notebooks.py --workshop`
  injects: what a room of laptops runs);
* keeps every other cell, the setup cell (the first code cell) included, with
  all outputs and execution counts cleared.

The "Your turn" cell of an exercise is, by default, a code cell of comments
only (it runs as a no-op) that names the exercise by its label and title and
quotes its first sentence. Two cell tags give an exercise a cell of its own:

* `starter` on a code cell, inside the exercise's solution or after the
  exercise and before its solution: the cell's code (blanks, TODO comments)
  is the student's cell. Inside the solution it takes the stub's place; before
  the solution it stays where it is and the solution gets no stub. The chapter
  notebook runs it too, and `make colab-check` runs the student notebooks: it
  must run as it is (write blanks as `...` or comments), or also carry
  `raises-exception`; tag it `remove-cell` as well to hide it on the website.
* `answer-in-words` on the markdown cell of an exercise that asks for
  reasoning, not code: the student gets a markdown cell "Your answer: ..." to
  write in (for every exercise of that cell).

The markdown conversion: admonitions and other directives ({note}, {tip},
{admonition} Title, {exercise} ...) become a blockquote under a bold title; a
directive of class `dropdown` or `toggle` (the "Check yourself" answers are
```{admonition} Answer``` with `:class: dropdown`) or a {dropdown} or {toggle}
directive becomes a <details> block, hidden until clicked; {figure} and {image}
become ![alt](address) with the caption below; {code-block} and {math} blocks
become fenced code and $$ maths. Nested directives (an outer fence longer than
the inner one) work. Option lines (:label:, :class: ...) are dropped, and so
are `(label)=` targets. The roles {ref}, {numref} and {doc} become links to the
book's website (_config.yml's html.baseurl, else the GitHub Pages address of
the repository), found by scanning the notebooks and book/*.md for targets and
:label:/:name: options; {math} becomes $...$.

A marker without its partner, a solution inside a solution, a solution that
names no exercise above it, a marker in a code cell, a plain ```{solution}```
block (which would leave its solution in the student version), a reference to
a label or page the book does not have, or a role the script cannot write as
Markdown stops the script with the notebook and cell it is in.

The students open the notebooks on Colab from the repository's `student`
branch, where the contents of student/ are published; `colab_url` builds
those links from _config.yml, and --update-page writes them, as a table,
between the student-links markers of book/workshop.md.
"""

from __future__ import annotations

import argparse
import ast
import copy
import functools
import json
import posixpath
import re
import sys
import textwrap
import zipfile
from pathlib import Path
from typing import NamedTuple

import nbformat
import yaml
from docutils.nodes import make_id

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # `python scripts/make_student.py` imports its siblings

from scripts import run_notebooks, setup_cell  # noqa: E402

STUDENT_DIR = ROOT / "student"
ZIP_PATH = ROOT / "student-notebooks.zip"
WORKSHOP_PAGE = ROOT / "book" / "workshop.md"
STUDENT_BRANCH = "student"  # the branch that holds student/<name>.ipynb
LINKS_START, LINKS_END = "<!-- student-links:start -->", "<!-- student-links:end -->"
STUB_TAG = "exercise-stub"  # every "Your turn" cell of a student notebook
STARTER_TAG = "starter"  # a code cell of a chapter: the student's cell for its exercise
IN_WORDS_TAG = "answer-in-words"  # an exercise's markdown cell: answered in a markdown cell

# The opening line of a MyST directive fence, ```{name} argument or :::{name} argument.
DIRECTIVE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[\w-]+)\}[ \t]*(?P<argument>[^\n]*)$",
                       re.M)
MARKERS = ("solution-start", "solution-end")
OPTION = re.compile(r":(?P<key>[\w-]+):(?:[ \t]+(?P<value>.*?))?[ \t]*")  # one option line
ROLE = re.compile(r"(?<!`)\{(?P<name>[\w:.-]+)\}`(?P<content>[^`]+)`")  # not `{note}` in inline code
TARGET = re.compile(r"^\((?P<label>[^()\s]+)\)=[ \t]*(?:\n|$)", re.M)  # a `(label)=` line
LABEL_OPTION = re.compile(r"^:(?:label|name):[ \t]*(\S+)", re.M)
EXPLICIT = re.compile(r"(?P<text>.*?)\s*<(?P<target>[^<>]+)>", re.S)  # {ref}`text <label>`
MARKDOWN_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")

# Directives, and classes of any directive, whose content the website hides until clicked.
HIDDEN = {"dropdown", "toggle"}
CODE_DIRECTIVES = {"code", "code-block", "code-cell", "sourcecode"}
TITLES = {"seealso": "See also", "dropdown": "Show", "toggle": "Show"}  # else the name, capitalised
# Roles with a plain Markdown or HTML form; {ref}, {numref}, {doc} and {math}: see render_role.
PLAIN_ROLES = {"abbr": "{}", "term": "{}", "sub": "<sub>{}</sub>", "sup": "<sup>{}</sup>",
               "kbd": "<kbd>{}</kbd>"}


class MarkerError(ValueError):
    """A chapter notebook cannot become a student notebook: its solution markers do
    not pair up, or its markdown has something the conversion cannot write."""


def directive_blocks(source: str, where: str):
    """The directive fences of a markdown source: (name, argument, body, start, end).

    Only the outermost blocks: a nested directive is part of its parent's body.
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


# --- Where the book's website shows each label and page ---------------------------------

@functools.cache
def book_config() -> dict:
    """_config.yml, read once per run."""
    return yaml.safe_load((ROOT / "_config.yml").read_text())


def github_repository(repository: str | None = None) -> tuple[str, str]:
    """(owner, name) of the book's GitHub repository (default: _config.yml's repository.url)."""
    repository = repository or setup_cell.repository_url()
    match = re.fullmatch(r"https://github\.com/([\w.-]+)/([\w.-]+?)(?:\.git)?/?", repository)
    if not match:
        raise ValueError(f"Colab opens notebooks from GitHub, and GitHub Pages serves the book; "
                         f"{repository!r} is not a GitHub repository URL (_config.yml, repository.url).")
    return match.group(1), match.group(2)


def site_url() -> str:
    """The book's website, ending in "/": _config.yml's html.baseurl if set, else the
    address GitHub Pages publishes the repository's book at (.github/workflows/pages.yml)."""
    base = (book_config().get("html") or {}).get("baseurl")
    if not base:
        owner, name = github_repository()
        base = f"https://{owner}.github.io/{name}/"
    return base.rstrip("/") + "/"


def resolve(path: str, page: str) -> str:
    """A path of the book's sources, as MyST reads it on `page`: from the repository's
    root if it starts with "/", else from the page's folder."""
    return posixpath.normpath(path[1:] if path.startswith("/")
                              else posixpath.join(posixpath.dirname(page), path))


def file_url(src: str, page: str) -> str:
    """An image's address: a relative path would reach nothing from a student
    notebook on Colab or unzipped alone, so it points at the repository's file."""
    if re.match(r"[a-z]+:", src):
        return src
    owner, name = github_repository()
    branch = book_config()["repository"].get("branch", "main")
    return f"https://raw.githubusercontent.com/{owner}/{name}/{branch}/{resolve(src, page)}"


class Links(NamedTuple):
    """Where the website shows things, as {name: (url, title or None)}: `labels` by
    label, `pages` by path without suffix (notebooks/02_convolution, book/setup)."""

    labels: dict
    pages: dict


def page_links(page: str, text: str) -> Links:
    """The labels the markdown `text` of `page` defines, and the page itself."""
    url = f"{site_url()}{page}.html"
    labels = {}
    for match in TARGET.finditer(text):
        heading = re.match(r"\s*#+[ \t]+(.+)", text[match.end():])  # what {ref}`label` shows
        labels[match["label"]] = (f"{url}#{make_id(match['label'])}", heading[1].strip() if heading else None)
    for label in LABEL_OPTION.findall(text):
        # make_id: the HTML id docutils gives a label (the book's labels are their own ids).
        labels.setdefault(label, (f"{url}#{make_id(label)}", None))
    title = re.search(r"^#[ \t]+(.+)$", text, re.M)
    return Links(labels, {page: (url, title[1].strip() if title else None)})


def markdown_of(path: Path) -> str:
    """The markdown of a notebook (its markdown cells) or of a .md page."""
    if path.suffix != ".ipynb":
        return path.read_text()
    return "\n\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells
                       if cell.cell_type == "markdown")


@functools.cache
def book_links() -> Links:
    """The links of every chapter notebook and book/*.md page (read once per run)."""
    links = Links({}, {})
    for path in run_notebooks.book_notebooks() + sorted((ROOT / "book").glob("*.md")):
        found = page_links(path.relative_to(ROOT).with_suffix("").as_posix(), markdown_of(path))
        links.labels.update(found.labels)
        links.pages.update(found.pages)
    return links


def notebook_links(nb, page: str) -> Links:
    """The book's links, with the notebook's own as they are now (it may be new, or edited)."""
    book = book_links()
    own = page_links(page, "\n\n".join(c.source for c in nb.cells if c.cell_type == "markdown"))
    return Links({**book.labels, **own.labels}, {**book.pages, **own.pages})


# --- From MyST to the Markdown that Jupyter and Colab show -----------------------------

class Context(NamedTuple):
    """What converting a cell's markdown needs: where the cell is (for error
    messages), its page (for relative paths) and the book's links."""

    where: str
    page: str
    links: Links


def to_markdown(source: str, context: Context) -> str:
    """Plain Jupyter Markdown for a MyST markdown source."""
    out, position = [], 0
    for name, argument, body, start, end in directive_blocks(source, context.where):
        out += [inline(source[position:start], context), render_directive(name, argument, body, context),
                "\n" if source[:end].endswith("\n") else ""]  # the closing fence's own line end
        if source[end:] and not source[end:].startswith("\n"):
            out.append("\n")  # a blank line: the next paragraph would continue a blockquote
        position = end
    out.append(inline(source[position:], context))
    return "".join(out)


def inline(text: str, context: Context) -> str:
    """Text outside directives, with its `(label)=` lines dropped and its roles written out."""
    return ROLE.sub(lambda role: render_role(role["name"], role["content"], context),
                    TARGET.sub("", text))


def render_role(name: str, content: str, context: Context) -> str:
    """One role as Markdown: {math} as $...$, a cross-reference as a link to the website."""
    if name == "math":
        return f"${content}$"
    if name in PLAIN_ROLES:
        return PLAIN_ROLES[name].format(content)
    if name not in ("ref", "numref", "doc"):
        raise MarkerError(f"{context.where}: scripts/make_student.py has no Markdown for the role "
                          f"{{{name}}} (it writes ref, numref, doc, math, {', '.join(PLAIN_ROLES)}); "
                          "add it to PLAIN_ROLES, or write the text without the role.")
    explicit = EXPLICIT.fullmatch(content)
    text, target = (explicit["text"], explicit["target"]) if explicit else ("", content.strip())
    if name == "doc":
        table, target = context.links.pages, re.sub(r"\.(md|ipynb)$", "", resolve(target, context.page))
        missing = f"the page {target!r}, which is not a chapter notebook or a book/*.md page"
    else:
        table = context.links.labels
        missing = (f"the label {target!r}, which no chapter notebook or book/*.md page defines "
                   "(as a `(label)=` target or a :label: or :name: option)")
    if target not in table:
        raise MarkerError(f"{context.where}: {{{name}}} links to {missing}.")
    url, title = table[target]
    if name == "numref":  # no numbers outside the website: "Figure %s" reads "Figure"
        text = re.sub(r"\s*(%s|\{number\})", "", text).replace("{name}", title or target)
    return f"[{text or title or target}]({url})"


def split_options(body: str) -> tuple[dict, str]:
    """A directive body's options (`:key: value` lines, or a `---` YAML block, at its
    top) and its content."""
    lines = body.removeprefix("\n").split("\n")
    options = {}
    if lines[0].strip() == "---" and "---" in lines[1:]:
        end = lines.index("---", 1)
        options = {key: str(value) for key, value in (yaml.safe_load("\n".join(lines[1:end])) or {}).items()}
        lines = lines[end + 1:]
    while lines and (option := OPTION.fullmatch(lines[0])):
        options[option["key"]] = option["value"] or ""
        lines.pop(0)
    return options, "\n".join(lines).strip("\n")


def render_directive(name: str, argument: str, body: str, context: Context) -> str:
    """One directive block as Markdown (nested directives converted too)."""
    options, content = split_options(body)
    if name in CODE_DIRECTIVES:
        return f"```{argument}\n{content}\n```"
    if name == "math":
        return f"$$\n{content}\n$$"
    text = to_markdown(content, context).strip("\n")
    if name in ("figure", "image"):
        image = f"![{options.get('alt', '')}]({file_url(argument, context.page)})"
        return f"{image}\n\n{text}" if text else image
    title = inline(argument, context)
    if name == "exercise":  # the label names it, as the Your-turn cell does
        label = f" `{options['label']}`" if "label" in options else ""
        title = f"Exercise{label}" + (f": {title}" if title else "")
    title = title or TITLES.get(name, name.replace("-", " ").capitalize())
    if name in HIDDEN or HIDDEN & set(options.get("class", "").split()):
        return f"<details>\n<summary>{title}</summary>\n\n{text}\n\n</details>"
    return "\n".join(f"> {line}".rstrip() for line in f"**{title}**\n\n{text}".strip().split("\n"))


# --- Exercises and their Your-turn cells -------------------------------------------------

class Exercise(NamedTuple):
    """What a student notebook says of an exercise in its Your-turn cell."""

    label: str
    title: str  # the directive's argument, "" if it has none
    sentence: str  # the first sentence of its text, as plain text
    in_words: bool  # its markdown cell is tagged answer-in-words


def first_sentence(markdown: str) -> str:
    """The first sentence of a text's first paragraph, on one line, links reduced to their text."""
    paragraph = " ".join(re.split(r"\n\s*\n", markdown.strip(), maxsplit=1)[0].split())
    return re.split(r"(?<=[.?!])\s", MARKDOWN_LINK.sub(r"\1", paragraph), maxsplit=1)[0]


def exercises(source: str, context: Context, tags) -> list:
    """The labelled ```{exercise}``` blocks of a markdown source, as Exercises."""
    found = []
    for name, argument, body, _, _ in directive_blocks(source, context.where):
        options, content = split_options(body)
        if name == "exercise" and "label" in options:
            found.append(Exercise(options["label"], inline(argument, context),
                                  first_sentence(to_markdown(content, context)), IN_WORDS_TAG in tags))
    return found


def stub_cell(exercise: Exercise, cell_id: str):
    """The Your-turn cell that replaces a solution when no starter cell does: a markdown
    cell to write in for an answer in words, else a code cell of comments only (a no-op
    when run). Either names the exercise, so that no two read the same."""
    title = f', "{exercise.title}"' if exercise.title else ""
    if exercise.in_words:
        cell = nbformat.v4.new_markdown_cell(
            f"**Your answer** (exercise `{exercise.label}`{title}): …\n\n"
            "<!-- Double-click this cell and write your answer in place of the dots. -->")
    else:
        asks = f'It asks: "{exercise.sentence}" ' if exercise.sentence else ""
        text = (asks + "Write code here that computes and prints (or plots) what the exercise asks "
                "for, run it, and check that its output answers the question.")
        lines = textwrap.wrap(text, 86, break_long_words=False, break_on_hyphens=False)
        cell = nbformat.v4.new_code_cell("\n".join([f"# Your turn: exercise `{exercise.label}`{title} "
                                                    "(above).", *("# " + line for line in lines)]))
    cell.metadata["tags"] = [STUB_TAG]
    cell.id = cell_id
    return cell


def starter_cell(cell):
    """A code cell tagged starter, as its exercise's Your-turn cell."""
    starter = copy.deepcopy(cell)
    starter.metadata["tags"] = [*cell.metadata.get("tags", []), STUB_TAG]
    return starter


def markdown_cells(texts, cell_id: str, context: Context) -> list:
    """The kept texts of a cell that held a marker, as one converted markdown cell (none if empty)."""
    text = "\n\n".join(t.strip("\n") for t in texts if t.strip())
    if not text:
        return []
    cell = nbformat.v4.new_markdown_cell(to_markdown(text, context))
    cell.id = cell_id
    return [cell]


def remove_solutions(nb, name: str, links: Links | None = None):
    """Return the notebook's cells with every solution replaced by a Your-turn cell,
    and every markdown cell converted to plain Jupyter Markdown.

    Cells without markers are kept as they are (markdown converted); a markdown
    cell with markers keeps its text outside the solutions, as one or more new
    cells. `links` (default: the book's and the notebook's own) resolve references.
    """
    page = f"notebooks/{Path(name).stem}"
    links = links or notebook_links(nb, page)
    cells, open_solution = [], None  # open_solution: (label, cell index)
    pending, turn, starters = {}, {}, set()  # exercises without a solution; their Your-turn cell's index
    for index, cell in enumerate(nb.cells):
        context = Context(f"{name}, cell {index}", page, links)
        where, tags = context.where, cell.metadata.get("tags", [])
        if cell.cell_type != "markdown":
            if any(f"{{{marker}}}" in cell.source for marker in MARKERS):
                raise MarkerError(f"{where}: a solution marker in a {cell.cell_type} cell; "
                                  "markers belong in markdown cells.")
            if STARTER_TAG in tags:
                # Inside a solution it belongs to that exercise, else to the last one above still without one.
                label = open_solution[0] if open_solution else next(reversed(pending), None)
                if label is None or label in starters:
                    raise MarkerError(f"{where}: a cell tagged {STARTER_TAG!r} must follow an exercise, "
                                      "before or inside its solution, and be its only one"
                                      + (f" (exercise {label!r} has one above)." if label else "."))
                starters.add(label)
                if open_solution is None:
                    turn[label] = len(cells)
                    cells.append(starter_cell(cell))
                else:
                    cells[turn[label]] = starter_cell(cell)
            elif open_solution is None:
                cells.append(cell)
            continue
        pieces = split_at_markers(cell.source, where)
        if len(pieces) == 1:  # no marker: the cell stays whole, or goes whole
            if open_solution is None:
                pending.update((e.label, e) for e in exercises(cell.source, context, tags))
                cell = copy.deepcopy(cell)
                cell.source = to_markdown(cell.source, context)
                cells.append(cell)
            continue
        kept, part = [], 0
        for kind, value in pieces:
            if kind == "text":
                if open_solution is None:
                    kept.append(value)
                    pending.update((e.label, e) for e in exercises(value, context, tags))
                continue
            if kind == "start":
                if open_solution is not None:
                    raise MarkerError(f"{where}: solution-start {value!r} opens inside the solution "
                                      f"{open_solution[0]!r} of cell {open_solution[1]}, which has "
                                      "no solution-end before it.")
                if value not in pending:
                    raise MarkerError(f"{where}: solution-start {value!r} names no exercise above "
                                      "it that lacks a solution (the label must be the :label: "
                                      "of an exercise before it).")
                cells += markdown_cells(kept, f"{cell.id}-{part}", context)
                if value not in turn:  # no starter cell before the solution
                    turn[value] = len(cells)
                    cells.append(stub_cell(pending[value], f"{cell.id}-stub"))
                kept, part, open_solution = [], part + 1, (value, index)
                del pending[value]  # one solution per exercise
            else:
                if open_solution is None:
                    raise MarkerError(f"{where}: solution-end without a solution-start before it.")
                open_solution = None
        cells += markdown_cells(kept, f"{cell.id}-{part}", context)
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
    """Python source for a workshop.yml value, with double-quoted strings as the cells use."""
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
        raise MarkerError(f"{where}: notebooks/workshop.yml sets {', '.join(sorted(unknown))}, which "
                          "the parameters cell does not assign.")
    book_values, edits = [], []
    for name in values:  # workshop.yml's order
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
    note = ("Workshop settings (notebooks/workshop.yml), to train in minutes on a laptop CPU. The "
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
    cell.source = fill_parameters(cell.source, run_notebooks.setting_parameters(path, "workshop"),
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
    owner, repo = github_repository(repository)
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
