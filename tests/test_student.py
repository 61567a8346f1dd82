"""Student notebooks (scripts/make_student.py): the exercises without their solutions.

Every check compares the student version with its chapter notebook, read
independently of the script: the solutions are the cells between a markdown
cell whose last marker is ```{solution-start}``` and the next one holding
```{solution-end}```. The last test executes every student notebook with
papermill in a temporary folder (about the workshop run's time, minutes on a
laptop) when RUN_STUDENT_NOTEBOOKS=1, as `make colab-check` sets it; `make
test` relies on its static twin: the script refuses a student notebook whose
kept cells read a name that only a removed solution defines, and the chapter
notebooks' own code runs in tests/test_standalone.py.
"""

import ast
import functools
import os
import re
import zipfile
from urllib.parse import urlsplit

import nbformat
import pytest
import yaml

from conftest import NOTEBOOKS, ROOT
from scripts import make_student, run_notebooks, setup_cell
from scripts.make_student import MarkerError

START, END = "{solution-start}", "{solution-end}"
EXERCISE = re.compile(r"```\{exercise\}.*?\n```", re.S)


@pytest.fixture(scope="module")
def student(tmp_path_factory):
    """{notebook name: (chapter notebook, student notebook)}, written to a temporary folder."""
    folder = tmp_path_factory.mktemp("student")
    written = make_student.write_student_notebooks(folder=folder / "student",
                                                   zip_path=folder / "student-notebooks.zip")
    assert [p.name for p in written] == [p.name for p in NOTEBOOKS]
    return {path.name: (nbformat.read(path, as_version=4),
                        nbformat.read(folder / "student" / path.name, as_version=4))
            for path in NOTEBOOKS}


def solution_cells(nb):
    """The cells of a chapter notebook that belong to solutions: the code cells
    inside, and the markdown cells that hold a marker or lie inside."""
    inside, cells = False, []
    for cell in nb.cells:
        if cell.cell_type == "markdown" and (START in cell.source or END in cell.source):
            cells.append(cell)
            inside = cell.source.rfind(START) > cell.source.rfind(END)
        elif inside:
            cells.append(cell)
    return cells


def solution_prose(cell):
    """The solution text of a markdown cell of a solution: all of it inside a
    solution, the text before a solution-end, and the text after a solution-start."""
    source, texts = cell.source, []
    if START not in source and END not in source:
        texts.append(source)
    first_start = source.find(START) if START in source else len(source)
    if END in source and source.find(END) < first_start:  # the cell closes a solution first
        texts.append(source[:source.find("```" + END)])
    if START in source:
        after = source[source.rfind(START):].split("\n```", 1)[1]
        texts.append(after.split("```" + END)[0])
    return [text.strip() for text in texts if text.strip()]


def test_every_notebook_has_solutions_to_remove():
    for path in NOTEBOOKS:
        assert solution_cells(nbformat.read(path, as_version=4)), f"{path.name} has no solutions"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_solution_survives(student, path):
    original, version = student[path.name]
    sources = [cell.source for cell in version.cells]
    assert not [s for s in sources if START in s or END in s or "{solution}" in s]
    for cell in solution_cells(original):
        if cell.cell_type == "code":
            assert cell.source not in sources, f"solution code kept:\n{cell.source}"
        else:
            for prose in solution_prose(cell):
                assert not [s for s in sources if prose in s], f"solution text kept:\n{prose}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_exercise_prompts_remain_each_with_one_stub_after_it(student, path):
    original, version = student[path.name]
    prompts = [prompt for cell in original.cells if cell.cell_type == "markdown"
               for prompt in EXERCISE.findall(cell.source)]
    assert prompts
    markdown = [cell.source for cell in version.cells if cell.cell_type == "markdown"]
    context = make_student.Context(path.name, f"notebooks/{path.stem}", make_student.book_links())
    for prompt in prompts:  # as plain Markdown now
        converted = make_student.to_markdown(prompt, context)
        assert converted.startswith("> **Exercise `")
        assert any(converted in text for text in markdown), f"exercise lost:\n{prompt}"
    cells = version.cells
    stubs = [i for i, cell in enumerate(cells) if make_student.STUB_TAG in cell.metadata.get("tags", [])]
    assert len(stubs) == len(prompts)  # every exercise of the book has one solution
    for i in stubs:
        if make_student.STARTER_TAG in cells[i].metadata["tags"]:
            continue  # the chapter's own starter code
        label = re.search(r"exercise `([\w-]+)`", cells[i].source).group(1)
        assert f"**Exercise `{label}`" in cells[i - 1].source, "the stub must follow its exercise"
        if cells[i].cell_type == "markdown":  # tagged answer-in-words
            assert cells[i].source.startswith("**Your answer** ")
        else:
            assert cells[i].source.startswith("# Your turn: ")
            assert all(line.startswith("#") for line in cells[i].source.splitlines()), "a stub is a no-op"
    sources = [cells[i].source for i in stubs]
    assert len(set(sources)) == len(sources), "two Your-turn cells read the same"


def parameter_values(nb):
    (cell,) = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    return {node.targets[0].id: ast.literal_eval(node.value) for node in ast.parse(cell.source).body}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_parameters_carry_the_workshop_values(student, path):
    original, version = student[path.name]
    workshop = run_notebooks.setting_parameters(path, "workshop")
    assert parameter_values(version) == {**parameter_values(original), **workshop}
    (cell,) = [c for c in version.cells if "parameters" in c.metadata.get("tags", [])]
    assert cell.source.startswith("# Workshop settings (notebooks/workshop.yml)") == bool(workshop)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_outputs_are_cleared_and_the_setup_cell_kept(student, path):
    original, version = student[path.name]
    code = [cell for cell in version.cells if cell.cell_type == "code"]
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code)
    assert "papermill" not in version.metadata
    assert not [c for c in version.cells if {"execution", "papermill"} & set(c.metadata)]
    setup = version.cells[setup_cell.setup_cell_index(version)]
    assert setup.source == setup_cell.render() == original.cells[setup_cell.setup_cell_index(original)].source
    nbformat.validate(version)
    assert len({cell.id for cell in version.cells}) == len(version.cells)


def test_the_zip_holds_every_student_notebook(tmp_path):
    written = make_student.write_student_notebooks(NOTEBOOKS[:2], folder=tmp_path / "student",
                                                   zip_path=tmp_path / "s.zip")
    with zipfile.ZipFile(tmp_path / "s.zip") as archive:
        assert archive.namelist() == [f"student/{p.name}" for p in written]
        assert all(archive.read(f"student/{p.name}") == p.read_bytes() for p in written)
    first = (tmp_path / "s.zip").read_bytes()
    make_student.write_student_notebooks(NOTEBOOKS[:2], folder=tmp_path / "student",
                                         zip_path=tmp_path / "s.zip")
    assert (tmp_path / "s.zip").read_bytes() == first  # same notebooks, same bytes


def notebook(*cells):
    """A small notebook: ("md", text) and ("code", text) cells, with a parameters cell."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import helpers"),
                nbformat.v4.new_code_cell("EPOCHS = 3", metadata={"tags": ["parameters"]})]
    nb.cells += [nbformat.v4.new_markdown_cell(text) if kind == "md" else nbformat.v4.new_code_cell(text)
                 for kind, text in cells]
    return nb


EXERCISE_A = "```{exercise}\n:label: ex-a\n\nDo A.\n```"
OPEN_A = "```{solution-start} ex-a\n:class: dropdown\n```\n\nHow to do A."
CLOSE = "```{solution-end}\n```"


@pytest.mark.parametrize("cells, message", [
    ([("md", EXERCISE_A), ("md", OPEN_A), ("code", "a = 1")],
     r"99_bad\.ipynb, cell 3: solution-start 'ex-a' has no solution-end after it"),
    ([("md", EXERCISE_A), ("md", CLOSE)],
     r"99_bad\.ipynb, cell 3: solution-end without a solution-start before it"),
    ([("md", EXERCISE_A), ("md", OPEN_A), ("md", OPEN_A), ("md", CLOSE)],
     r"99_bad\.ipynb, cell 4: solution-start 'ex-a' opens inside the solution 'ex-a' of cell 3"),
    ([("md", OPEN_A), ("md", CLOSE)],
     r"99_bad\.ipynb, cell 2: solution-start 'ex-a' names no exercise above it"),
    ([("md", EXERCISE_A), ("code", "# ```{solution-start} ex-a")],
     r"99_bad\.ipynb, cell 3: a solution marker in a code cell"),
    ([("md", EXERCISE_A), ("md", "```{solution} ex-a\nA.\n```")],
     r"99_bad\.ipynb, cell 3: a ```\{solution\}``` block would stay"),
    ([("md", EXERCISE_A), ("md", "```{solution-start} ex-a\n:class: dropdown\n")],
     r"99_bad\.ipynb, cell 3: the ```\{solution-start\} block is never closed"),
], ids=["unclosed", "end-alone", "nested", "no-exercise", "in-code", "plain-solution", "open-fence"])
def test_a_bad_marker_names_the_notebook_and_cell(cells, message):
    with pytest.raises(MarkerError, match=message):
        make_student.remove_solutions(notebook(*cells), "99_bad.ipynb")


def test_the_script_stops_on_a_bad_marker_and_writes_nothing(tmp_path, monkeypatch):
    bad = tmp_path / "99_bad.ipynb"
    nbformat.write(notebook(("md", EXERCISE_A), ("md", OPEN_A)), bad)
    monkeypatch.setattr(make_student, "STUDENT_DIR", tmp_path / "student")
    monkeypatch.setattr(make_student, "ZIP_PATH", tmp_path / "student.zip")
    with pytest.raises(SystemExit, match=r"make_student: 99_bad\.ipynb, cell 3: solution-start"):
        make_student.main([str(bad)])
    assert not (tmp_path / "student").exists() and not (tmp_path / "student.zip").exists()


@pytest.mark.parametrize("later, lost", [
    ("print(answer)", [(4, ["answer"])]),              # only the solution defined it
    ("answer = 2\nprint(answer)", []),                 # the cell defines it first
    ("def show(x):\n    return x\nshow(EPOCHS)", []),  # arguments and earlier cells count
    ("%matplotlib inline\nprint(answer)", [(4, ["answer"])]),  # magics are skipped, not fatal
])
def test_a_name_only_a_removed_solution_defines_is_found(later, lost):
    nb = notebook(("md", EXERCISE_A), ("md", OPEN_A), ("code", "answer = EPOCHS * 2"),
                  ("md", CLOSE), ("code", later))
    for index, cell in enumerate(nb.cells):
        cell.id = f"cell-{index}"
    cells = make_student.remove_solutions(nb, "99_lost.ipynb")
    assert make_student.names_lost_with_solutions(nb.cells, cells) == lost


def test_the_script_refuses_a_student_notebook_that_would_stop_on_a_lost_name(tmp_path):
    bad = tmp_path / "99_lost.ipynb"
    nbformat.write(notebook(("md", EXERCISE_A), ("md", OPEN_A), ("code", "answer = 1"),
                            ("md", CLOSE), ("code", "print(answer)")), bad)
    with pytest.raises(MarkerError, match=r"99_lost\.ipynb, student cell 4: reads answer, which only "
                                          r"a solution defines"):
        make_student.student_notebook(bad)


def test_text_around_markers_in_one_cell_is_kept():
    nb = notebook(("md", "Intro.\n\n" + EXERCISE_A + "\n\n" + OPEN_A), ("code", "a = 1"),
                  ("md", "Why A.\n\n" + CLOSE + "\n\n## Summary"))
    cells = make_student.remove_solutions(nb, "99_ok.ipynb")
    assert [(c.cell_type, c.source.splitlines()[0]) for c in cells[2:]] == [
        ("markdown", "Intro."), ("code", "# Your turn: exercise `ex-a` (above)."),
        ("markdown", "## Summary")]
    assert "How to do A." not in str(cells) and "Why A." not in str(cells)


def test_fill_parameters_keeps_comments_and_names_the_book_values():
    source = 'EPOCHS = 10   # the tutorial\'s\nMODELS = ["a", "b"]\nSEED = 0\n'
    filled = make_student.fill_parameters(source, {"EPOCHS": 2, "MODELS": ["a"]}, "nb")
    assert filled.endswith('EPOCHS = 2    # the tutorial\'s\nMODELS = ["a"]\nSEED = 0\n')
    assert filled.startswith("# Workshop settings (notebooks/workshop.yml)")
    assert 'used EPOCHS = 10, MODELS = ["a", "b"].' in filled
    with pytest.raises(MarkerError, match="sets BATCH, which the parameters cell does not assign"):
        make_student.fill_parameters(source, {"BATCH": 1}, "nb")


def test_colab_urls_point_at_the_student_branch():
    assert make_student.colab_url("01_why_cnns", "https://github.com/owner/repo") == (
        "https://colab.research.google.com/github/owner/repo/blob/student/student/01_why_cnns.ipynb")
    assert make_student.colab_url(NOTEBOOKS[0], "https://github.com/o/r.git/").endswith(
        f"/o/r/blob/student/student/{NOTEBOOKS[0].name}")
    owner_repo = setup_cell.repository_url().removeprefix("https://github.com/")
    assert f"/github/{owner_repo}/blob/student/" in make_student.colab_url(NOTEBOOKS[0])
    with pytest.raises(ValueError, match="not a GitHub repository URL"):
        make_student.colab_url("01_why_cnns", "https://gitlab.com/owner/repo")


def test_the_workshop_page_lists_the_student_links():
    page = (ROOT / "book" / "workshop.md").read_text()
    block = page[page.index(make_student.LINKS_START):page.index(make_student.LINKS_END)
                 + len(make_student.LINKS_END)]
    assert block == make_student.render_links(), "run scripts/make_student.py --update-page"
    assert block.count("colab.research.google.com") == len(NOTEBOOKS)


def test_update_page_fills_the_markers(tmp_path):
    page = tmp_path / "workshop.md"
    page.write_text(f"intro\n{make_student.LINKS_START}\nold\n{make_student.LINKS_END}\noutro\n")
    assert make_student.update_page(page) is True
    assert page.read_text() == f"intro\n{make_student.render_links()}\noutro\n"
    assert make_student.update_page(page) is False
    page.write_text("no markers\n")
    with pytest.raises(SystemExit, match="markers"):
        make_student.update_page(page)


def test_git_ignores_the_generated_files():
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert "student/" in ignored and "student-notebooks.zip" in ignored


# --- Plain Jupyter Markdown: the properties, on every real chapter ------------------------

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
OWNER, REPOSITORY = urlsplit(CONFIG["repository"]["url"]).path.strip("/").split("/")
SITE = (CONFIG.get("html") or {}).get("baseurl") or f"https://{OWNER}.github.io/{REPOSITORY}/"
FENCE = re.compile(r"^\s*(?:>\s*)*(`{3,}|:{3,})\{", re.M)  # a directive's opening, quoted or not
ROLE = re.compile(r"\{[\w:.-]+\}`")
TARGET_LINE = re.compile(r"^\s*(?:>\s*)*\([^()\s]+\)=\s*$", re.M)
OPTION_LINE = re.compile(r"^\s*(?:>\s*)*:(label|class|name|alt|width|align):", re.M)
ANSWER = re.compile(r"^(`{3,}|:{3,})\{admonition\}[^\n]*\n:class:[^\n]*\bdropdown\b[^\n]*\n(.*?)^\1[ \t]*$",
                    re.M | re.S)
DETAILS = re.compile(r"<details>.*?</details>", re.S)
REF = re.compile(r"\{(?:ref|numref)\}`([^`<]*?)\s*<([^`>]+)>`")


def student_markdown(version):
    return [cell.source for cell in version.cells if cell.cell_type == "markdown"]


def kept_markdown(original):
    """The chapter's markdown cells that are no part of a solution."""
    solution_ids = {cell.id for cell in solution_cells(original)}
    return [cell.source for cell in original.cells
            if cell.cell_type == "markdown" and cell.id not in solution_ids]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_myst_syntax_is_left(student, path):
    for text in student_markdown(student[path.name][1]):
        assert not FENCE.search(text), f"a directive fence is left:\n{text}"
        assert not ROLE.search(text), f"a role is left:\n{text}"
        assert not TARGET_LINE.search(text), f"a (label)= target is left:\n{text}"
        assert not OPTION_LINE.search(text), f"a directive option is left:\n{text}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_self_check_answer_is_hidden_in_a_details_block(student, path):
    original, version = student[path.name]
    answers = [body for text in kept_markdown(original) for _, body in ANSWER.findall(text)]
    assert answers, f"{path.name} has no self-check answer"
    text = "\n\n".join(student_markdown(version))
    hidden = "\n".join(DETAILS.findall(text))
    shown = DETAILS.sub("", text)
    assert len(DETAILS.findall(text)) == len(answers)
    for body in answers:
        for line in body.splitlines():
            if len(line) > 30 and "}`" not in line:  # long enough to be its own, without roles
                assert line in hidden and line not in shown, f"answer line not hidden: {line}"


@functools.cache
def book_texts():
    """{page: its text} for every notebook and book/*.md page."""
    return {path.relative_to(ROOT).with_suffix("").as_posix():
            path.read_text() if path.suffix == ".md" else
            "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells)
            for path in [*NOTEBOOKS, *sorted((ROOT / "book").glob("*.md"))]}


def defining_page(label):
    """The page of the book that defines a label, found without the script."""
    definition = re.compile(rf"^(\({re.escape(label)}\)=|:(label|name): {re.escape(label)})\s*$", re.M)
    pages = [page for page, text in book_texts().items() if definition.search(text)]
    assert len(pages) == 1, f"{label} is defined on {pages}"
    return pages[0]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_cross_references_are_links_to_the_website(student, path):
    original, version = student[path.name]
    text = "\n\n".join(student_markdown(version))
    for shown, label in {ref for source in kept_markdown(original) for ref in REF.findall(source)}:
        url = f"{SITE}{defining_page(label)}.html#{label}"
        assert f"[{shown}]({url})" in text, f"{{ref}} to {label} is not a link to {url}"
    for url in re.findall(r"\]\((https?://[^)\s]+)\)", text):
        if url.startswith(SITE):
            page = url.removeprefix(SITE).split("#")[0].removesuffix(".html")
            assert any((ROOT / page).with_suffix(suffix).exists() for suffix in (".ipynb", ".md")), url
            assert url.startswith("https://")


# --- The conversions, one by one, on small hand-made cells --------------------------------

LINKS = make_student.Links(
    labels={"ref-book": ("https://site.example/book/references.html#ref-book", None),
            "sec-pad": ("https://site.example/notebooks/02_convolution.html#sec-pad", "Padding")},
    pages={"book/setup": ("https://site.example/book/setup.html", "Setting up"),
           "notebooks/02_convolution": ("https://site.example/notebooks/02_convolution.html", "Convolution")})
CONTEXT = make_student.Context("99_x.ipynb, cell 5", "notebooks/99_x", LINKS)


@pytest.mark.parametrize("myst, markdown", [
    ("```{note}\nRead this.\n```", "> **Note**\n>\n> Read this."),
    ("```{admonition} Key points\n:class: important\n- one\n- two\n```",
     "> **Key points**\n>\n> - one\n> - two"),
    ("```{seealso}\nChapter 2.\n```", "> **See also**\n>\n> Chapter 2."),
    (":::{warning} Slow\n:name: warn-slow\nMinutes.\n:::", "> **Slow**\n>\n> Minutes."),
    ("```{exercise} Shapes\n:label: ex-shapes\n\nCompute it.\n```",
     "> **Exercise `ex-shapes`: Shapes**\n>\n> Compute it."),
    ("```{admonition} Answer\n:class: dropdown\n15, since $5 \\times 3$.\n```",
     "<details>\n<summary>Answer</summary>\n\n15, since $5 \\times 3$.\n\n</details>"),
    ("```{tip} Hint\n:class: dropdown\nLook left.\n```",
     "<details>\n<summary>Hint</summary>\n\nLook left.\n\n</details>"),
    ("```{toggle}\nHidden.\n```", "<details>\n<summary>Show</summary>\n\nHidden.\n\n</details>"),
    ("```{note}\n---\nclass: tip\nname: yaml-opts\n---\nYAML options.\n```", "> **Note**\n>\n> YAML options."),
    ("````{note}\nOuter.\n\n```{admonition} Answer\n:class: dropdown\nInner.\n```\n````",
     "> **Note**\n>\n> Outer.\n>\n> <details>\n> <summary>Answer</summary>\n>\n> Inner.\n>\n> </details>"),
    ("::::{exercise}\n:label: ex-n\n\nDo it.\n\n:::{tip}\nLike this.\n:::\n::::",
     "> **Exercise `ex-n`**\n>\n> Do it.\n>\n> > **Tip**\n> >\n> > Like this."),
    ("See {ref}`the book <ref-book>` and {ref}`sec-pad`.",
     "See [the book](https://site.example/book/references.html#ref-book) and "
     "[Padding](https://site.example/notebooks/02_convolution.html#sec-pad)."),
    ("{numref}`Section %s <sec-pad>`", "[Section](https://site.example/notebooks/02_convolution.html#sec-pad)"),
    ("{doc}`../book/setup` or {doc}`the chapter </notebooks/02_convolution>`",
     "[Setting up](https://site.example/book/setup.html) or "
     "[the chapter](https://site.example/notebooks/02_convolution.html)"),
    ("Area {math}`\\pi r^2`, {abbr}`CNN (convolutional network)`.", "Area $\\pi r^2$, CNN (convolutional network)."),
    ("(sec-new)=\n## New section\n\nText.", "## New section\n\nText."),
    ("```{figure} ../book/images/kernel.png\n:alt: A 3x3 kernel\n:name: fig-k\n:width: 40%\n\nThe kernel.\n```",
     f"![A 3x3 kernel](https://raw.githubusercontent.com/{OWNER}/{REPOSITORY}/main/book/images/kernel.png)"
     "\n\nThe kernel."),
    ("```{image} https://example.org/a.png\n:alt: a\n```", "![a](https://example.org/a.png)"),
    ("```{code-block} python\nx = {ref}`not a role here`\n```", "```python\nx = {ref}`not a role here`\n```"),
    ("```{note}\nA.\n```\nNext paragraph.", "> **Note**\n>\n> A.\n\nNext paragraph."),
    ("The `{note}` directive, `{ref}`.", "The `{note}` directive, `{ref}`."),
], ids=["note", "admonition-class", "seealso", "colon-fence", "exercise", "dropdown-answer", "dropdown-tip",
        "toggle", "yaml-options", "nested-backticks", "nested-colons", "ref", "numref", "doc", "math-abbr",
        "target", "figure", "image", "code-block", "paragraph-after", "inline-code"])
def test_myst_becomes_plain_markdown(myst, markdown):
    assert make_student.to_markdown(myst, CONTEXT) == markdown


@pytest.mark.parametrize("myst, message", [
    ("See {ref}`nowhere`.", r"99_x\.ipynb, cell 5: \{ref\} links to the label 'nowhere', which no chapter"),
    ("See {numref}`Figure %s <fig-gone>`.", r"\{numref\} links to the label 'fig-gone'"),
    ("See {doc}`missing`.", r"\{doc\} links to the page 'notebooks/missing', which is not a chapter"),
    ("See {cite}`lecun1998`.", r"99_x\.ipynb, cell 5: .* no Markdown for the role \{cite\}"),
    ("```{note}\nNever closed.\n", r"99_x\.ipynb, cell 5: the ```\{note\} block is never closed"),
])
def test_what_cannot_be_converted_names_the_notebook_and_cell(myst, message):
    with pytest.raises(MarkerError, match=message):
        make_student.to_markdown(myst, CONTEXT)


def notebook_with_tags(*cells):
    """notebook(), with a list of tags as an optional third item of a cell."""
    nb = notebook(*[cell[:2] for cell in cells])
    for cell, spec in zip(nb.cells[2:], cells):
        if len(spec) > 2:
            cell.metadata["tags"] = spec[2]
    return nb


def test_a_reference_to_an_unknown_label_stops_the_script(tmp_path, monkeypatch):
    bad = tmp_path / "99_bad.ipynb"
    nbformat.write(notebook(("md", "As in {ref}`the lost section <sec-lost>`.")), bad)
    monkeypatch.setattr(make_student, "STUDENT_DIR", tmp_path / "student")
    monkeypatch.setattr(make_student, "ZIP_PATH", tmp_path / "student.zip")
    with pytest.raises(SystemExit, match=r"make_student: 99_bad\.ipynb, cell 2: \{ref\} links to the "
                                         r"label 'sec-lost', which no chapter notebook"):
        make_student.main([str(bad)])
    assert not (tmp_path / "student").exists()


def test_labels_are_found_in_the_book_and_in_the_notebook_itself():
    nb = notebook(("md", "(sec-here)=\n## Here\n\nSee {ref}`sec-here`, {ref}`ex-a` and {ref}`ref-d2l`."),
                  ("md", EXERCISE_A))
    cells = make_student.remove_solutions(nb, "99_new.ipynb")
    assert cells[2].source == (f"## Here\n\nSee [Here]({SITE}notebooks/99_new.html#sec-here), "
                               f"[ex-a]({SITE}notebooks/99_new.html#ex-a) and "
                               f"[ref-d2l]({SITE}book/references.html#ref-d2l).")


def test_the_site_is_html_baseurl_when_the_config_has_one(monkeypatch):
    assert make_student.site_url() == SITE
    config = {**CONFIG, "html": {**CONFIG["html"], "baseurl": "https://books.example.org/cnns"}}
    monkeypatch.setattr(make_student, "book_config", lambda: config)
    assert make_student.site_url() == "https://books.example.org/cnns/"


def test_markdown_cells_keep_their_id_and_tags_and_the_chapter_is_not_changed():
    nb = notebook_with_tags(("md", "```{note}\nA.\n```", ["keep-me"]))
    before = nb.cells[2].source
    (cell,) = make_student.remove_solutions(nb, "99_ok.ipynb")[2:]
    assert (cell.id, cell.metadata["tags"], cell.source) == (nb.cells[2].id, ["keep-me"], "> **Note**\n>\n> A.")
    assert nb.cells[2].source == before


# --- Your-turn cells: stubs, starter cells, answers in words --------------------------------

EXERCISE_B = "```{exercise} Padding by hand\n:label: ex-b\n\nFind $P$ for {ref}`sec-pad`. Then check.\n```"
OPEN_B = "```{solution-start} ex-b\n:class: dropdown\n```"


def test_each_stub_names_its_exercise_title_and_first_sentence():
    nb = notebook(("md", EXERCISE_A), ("md", OPEN_A), ("code", "a = 1"), ("md", CLOSE),
                  ("md", EXERCISE_B), ("md", OPEN_B), ("code", "b = 2"), ("md", CLOSE))
    cells = make_student.remove_solutions(nb, "99_ok.ipynb", LINKS)
    stubs = [c.source for c in cells if make_student.STUB_TAG in c.metadata.get("tags", [])]
    assert stubs[0].startswith('# Your turn: exercise `ex-a` (above).\n# It asks: "Do A." Write code here')
    assert stubs[1].startswith('# Your turn: exercise `ex-b`, "Padding by hand" (above).\n'
                               '# It asks: "Find $P$ for Padding." Write code here')
    assert len(set(stubs)) == 2 and all(line.startswith("#") for s in stubs for line in s.splitlines())


@pytest.mark.parametrize("where", ["inside", "before"])
def test_a_starter_cell_takes_the_place_of_the_stub(where):
    starter = ("code", "kernel = ...  # TODO: a 3x3 array\nprint(kernel)", ["starter"])
    inside = [("md", OPEN_A), starter, ("code", "kernel = 1"), ("md", CLOSE)]
    before = [starter, ("md", OPEN_A), ("code", "kernel = 1"), ("md", CLOSE)]
    nb = notebook_with_tags(("md", EXERCISE_A), *(inside if where == "inside" else before), ("md", "## Next"))
    cells = make_student.remove_solutions(nb, "99_ok.ipynb")
    assert [c.source for c in cells[2:]] == ["> **Exercise `ex-a`**\n>\n> Do A.", starter[1], "## Next"]
    assert cells[3].metadata["tags"] == ["starter", make_student.STUB_TAG]
    assert nb.cells[4 if where == "inside" else 3].metadata["tags"] == ["starter"]  # the chapter unchanged


@pytest.mark.parametrize("cells, message", [
    ([("code", "x = ...", ["starter"]), ("md", EXERCISE_A)], r"99_bad\.ipynb, cell 2: a cell tagged 'starter' "
                                                             r"must follow an exercise"),
    ([("md", EXERCISE_A), ("code", "x = ...", ["starter"]), ("md", OPEN_A), ("code", "y = ...", ["starter"]),
      ("md", CLOSE)], r"99_bad\.ipynb, cell 5: .* \(exercise 'ex-a' has one above\)"),
])
def test_a_misplaced_starter_cell_names_the_notebook_and_cell(cells, message):
    with pytest.raises(MarkerError, match=message):
        make_student.remove_solutions(notebook_with_tags(*cells), "99_bad.ipynb")


def test_an_exercise_answered_in_words_gets_a_markdown_cell():
    nb = notebook_with_tags(("md", "Why?\n\n" + EXERCISE_B, ["answer-in-words"]), ("md", OPEN_B),
                            ("md", "Because."), ("md", CLOSE))
    cells = make_student.remove_solutions(nb, "99_ok.ipynb", LINKS)
    stub = cells[3]
    assert (stub.cell_type, stub.metadata["tags"]) == ("markdown", [make_student.STUB_TAG])
    assert stub.source.startswith('**Your answer** (exercise `ex-b`, "Padding by hand"): …')
    assert "Because." not in str(cells)


@pytest.mark.skipif(os.environ.get("RUN_STUDENT_NOTEBOOKS") != "1",
                    reason="minutes of training: `make colab-check` sets RUN_STUDENT_NOTEBOOKS=1")
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_student_notebook_runs_at_the_workshop_setting(student, path, tmp_path):
    import papermill

    version = student[path.name][1]
    source, executed = tmp_path / path.name, tmp_path / f"executed-{path.name}"
    nbformat.write(version, source)
    work = tmp_path / "work"  # an empty folder: its results land here, not in results/
    work.mkdir()
    papermill.execute_notebook(str(source), str(executed), kernel_name="python3", cwd=str(work),
                               progress_bar=False)  # no parameters: the cell holds the workshop values
    nb = nbformat.read(executed, as_version=4)
    errors = [out for cell in nb.cells for out in cell.get("outputs", []) if out.output_type == "error"]
    assert not errors
    stubs = [cell for cell in nb.cells
             if make_student.STUB_TAG in cell.metadata.get("tags", []) and cell.cell_type == "code"]
    assert stubs and all(cell.execution_count for cell in stubs)  # every Your-turn cell ran
    # An empty Your-turn cell prints nothing; a starter cell runs its starter code (no error: above).
    empty = [cell for cell in stubs if make_student.STARTER_TAG not in cell.metadata["tags"]]
    assert all(not cell.outputs for cell in empty)
