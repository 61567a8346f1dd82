"""The committed notebooks are fit to publish.

The same checks as the shared check_notebooks tool, written here so that the
project never depends on anything outside its repository: every code cell
executed in order, no errors, no local paths in outputs, compact outputs, a
`parameters` cell. Plus the project's own rules: a Colab setup cell pointing at
the book's repository, every notebook in the table of contents, and quick
settings that name real parameters.
"""

import ast
import json
import re

import nbformat
import pytest
import yaml

from conftest import NOTEBOOKS, ROOT
from scripts import render_schedule

LEAKY_PATH = re.compile(r"(/root/|/home/[^/\s]+/|/tmp/[^\s'\"]+|/work/)")
MAX_OUTPUT_BYTES = 3_000_000
QUICK = yaml.safe_load((ROOT / "notebooks" / "quick.yml").read_text()) or {}


def test_there_are_notebooks():
    assert NOTEBOOKS, "no chapter notebooks found in notebooks/"


def read(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    return nb


def output_text(output):
    if output.get("output_type") == "stream":
        return output.get("text", "")
    return output.get("data", {}).get("text/plain", "")


def parameters_cell(nb):
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell must be tagged 'parameters'"
    return tagged[0]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_executed_in_order_from_one(path):
    code = [c for c in read(path).cells if c.cell_type == "code" and c.source.strip()]
    counts = [c.execution_count for c in code]
    assert None not in counts, f"{counts.count(None)} code cells were never executed"
    assert counts == list(range(1, len(code) + 1))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_outputs_are_clean(path):
    total = 0
    for i, cell in enumerate(read(path).cells):
        for out in cell.get("outputs", []):
            total += len(json.dumps(out))
            assert out.output_type != "error", f"cell {i}: error output {out.get('ename')}"
            text = output_text(out)
            assert not (out.get("name") == "stderr" and "Traceback" in text), f"cell {i}: traceback"
            leak = LEAKY_PATH.search(text)
            assert not leak, f"cell {i}: output shows a local path {leak.group(0)!r}"
    assert total <= MAX_OUTPUT_BYTES, f"outputs total {total:,} bytes"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_stderr_noise(path):
    """TensorFlow's start-up logs and warnings do not belong on the page."""
    for i, cell in enumerate(read(path).cells):
        for out in cell.get("outputs", []):
            assert out.get("name") != "stderr", f"cell {i} printed to stderr: {out.text[:200]!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_parameters_cell_is_plain_assignments(path):
    """Papermill injects values after this cell; it must only assign literals."""
    tree = ast.parse(parameters_cell(read(path)).source)
    for node in tree.body:
        assert isinstance(node, ast.Assign), f"line {node.lineno} is not an assignment"
        assert all(isinstance(t, ast.Name) for t in node.targets), (
            f"line {node.lineno}: assign one name per line, papermill cannot override a tuple")
        ast.literal_eval(node.value)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_quick_settings_name_real_parameters(path):
    names = {t.id for node in ast.parse(parameters_cell(read(path)).source).body
             for t in node.targets}
    unknown = set(QUICK.get(path.stem) or {}) - names
    assert not unknown, f"notebooks/quick.yml sets {unknown}, which {path.name} does not have"


def test_quick_settings_only_for_existing_notebooks():
    assert set(QUICK) <= {p.stem for p in NOTEBOOKS}


def toc_files(node):
    if isinstance(node, dict):
        found = [node["file"]] if "file" in node else []
        return found + [f for value in node.values() for f in toc_files(value)]
    if isinstance(node, list):
        return [f for item in node for f in toc_files(item)]
    return []


def test_every_notebook_is_in_the_table_of_contents():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    listed = set(toc_files(toc)) | {toc["root"]}
    for path in NOTEBOOKS:
        assert f"notebooks/{path.stem}" in listed, f"{path.name} is missing from _toc.yml"
    for entry in listed:
        assert any((ROOT / f"{entry}{ext}").exists() for ext in (".md", ".ipynb")), entry


def parameter_defaults(name):
    tree = ast.parse(parameters_cell(read(ROOT / "notebooks" / name)).source)
    return {node.targets[0].id: ast.literal_eval(node.value) for node in tree.body}


@pytest.mark.parametrize("notebook, model_id, prefix", [
    ("05_dense_vs_cnn.ipynb", "strided_cnn", ""),
    ("06_dropout_and_batchnorm.ipynb", "strided_cnn_dropout", "DROPOUT_"),
    ("06_dropout_and_batchnorm.ipynb", "wide_cnn_bn", "WIDE_"),
    ("07_deep_narrow_cnn.ipynb", "deep_narrow_cnn", ""),
])
def test_training_chapters_default_to_the_book_settings(notebook, model_id, prefix):
    # models.TUTORIAL_SETTINGS is the one record of each model's full-run settings;
    # a chapter's parameters cell must not drift from it.
    from helpers.models import TUTORIAL_SETTINGS

    settings, defaults = TUTORIAL_SETTINGS[model_id], parameter_defaults(notebook)
    assert defaults[f"{prefix}EPOCHS"] == settings["epochs"]
    assert defaults[f"{prefix}BATCH_SIZE"] == settings["batch_size"]
    validation = defaults.get(f"{prefix}VALIDATION_SIZE", defaults.get("VALIDATION_SIZE", 6000))
    assert validation == settings["validation_size"]
    assert defaults["TRAIN_SUBSET"] is None


def test_book_cnn_chapter_defaults_to_the_frozen_3_minute_recipe():
    # A full run of chapter 11 trains the frozen 3-minute recipe as the study
    # ran it: all the training images, the recipe's own epochs (EPOCHS = None),
    # and a budget that recipe.frozen knows.
    from helpers import recipe

    defaults = parameter_defaults("11_book_cnn.ipynb")
    assert defaults["BUDGET"] == "3 minutes"
    assert defaults["EPOCHS"] is None and defaults["TRAIN_SUBSET"] is None
    settings = recipe.frozen(defaults["BUDGET"])
    assert settings["epochs"] >= 1 and settings["batch_size"] >= 1


def test_benchmark_script_runs_chapter_13s_comparison_by_default():
    # The README says the script and chapter 13 run the same comparison with
    # the same defaults; keep the two from drifting apart.
    from scripts import benchmark_training

    defaults = parameter_defaults("13_training_speed.ipynb")
    script = benchmark_training.parse_args([])
    assert list(script.models) == defaults["MODELS"]
    assert script.epochs == defaults["EPOCHS"]
    assert script.train_subset == defaults["TRAIN_SUBSET"] and script.seed == defaults["SEED"]


# Every chapter opens with the questions it answers and what you can do after
# it, and ends (after its summary) with its key points and a short self-check:
# MyST admonitions, styled the same in every chapter.
ADMONITION = re.compile(r"^```\{admonition\} (?P<title>[^\n]+)\n:class: (?P<cls>[^\n]+)\n(?P<body>.*?)^```$",
                        re.M | re.S)


def admonitions(source):
    """(title, class, body) of each MyST admonition in a Markdown cell's source."""
    return [(m["title"].strip(), m["cls"].strip(), m["body"]) for m in ADMONITION.finditer(source)]


def top_level_bullets(body):
    """The number of list items in an admonition's body (continuation lines are indented)."""
    return len(re.findall(r"^- ", body, re.M))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_chapter_opens_with_questions_and_objectives(path):
    cells = read(path).cells
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith("# "), (
        "the first cell must be the chapter's title and introduction")
    assert cells[1].cell_type == "markdown", "the second cell must hold the Questions and Objectives"
    found = admonitions(cells[1].source)
    titles = [title for title, _, _ in found]
    assert titles.count("Questions") == 1 and titles.count("Objectives") == 1, titles
    boxes = {title: (cls, body) for title, cls, body in found}
    assert boxes["Questions"][0] == "hint" and boxes["Objectives"][0] == "tip"
    assert top_level_bullets(boxes["Questions"][1]) >= 1, "the Questions box lists no question"
    assert top_level_bullets(boxes["Objectives"][1]) >= 1, "the Objectives box lists no objective"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_chapter_ends_with_one_key_points_box_and_a_self_check(path):
    cells = read(path).cells
    assert not any(cell.cell_type == "markdown" and re.search(r"^## Summary", cell.source, re.M)
                   for cell in cells), "one closing box: the Key points, no separate Summary"
    last = cells[-1]
    assert last.cell_type == "markdown", "the key points and the self-check come in the last cell"
    found = admonitions(last.source)
    key_points = [(cls, body) for title, cls, body in found if title == "Key points"]
    assert len(key_points) == 1 and key_points[0][0] == "important", "one Key points admonition"
    assert top_level_bullets(key_points[0][1]) >= 1, "the Key points box lists no point"
    assert re.search(r"^## Check yourself", last.source, re.M), "no self-check section"
    answers = [cls for title, cls, _ in found if title == "Answer"]
    assert len(answers) >= 2 and set(answers) == {"dropdown"}, (
        "at least two self-check questions, each answer hidden in a dropdown")


# The beginner's path: the core of each chapter (markdown outside its
# Going further section, counted by render_schedule.core_words, as the
# workshop plan counts it) reads in about 20 minutes, in every chapter.
CORE_WORD_LIMIT = 1600


def going_further_flags(nb):
    """For each cell, whether it lies in the Going further section: from the
    "## Going further" heading to the next level-2 heading."""
    inside, flags = False, []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            heading = re.search(r"^## (.+)$", cell.source, re.M)
            if heading:
                inside = heading.group(1).strip().startswith("Going further")
        flags.append(inside)
    return flags


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_going_further_cells_are_exactly_the_going_further_section(path):
    # The site boxes the section under the "## Going further" heading; the
    # word counts and the workshop plan read the cell tag: the two must agree.
    nb = read(path)
    for index, (cell, inside) in enumerate(zip(nb.cells, going_further_flags(nb))):
        tagged = render_schedule.GOING_FURTHER in cell.metadata.get("tags", [])
        assert tagged == inside, (
            f"cell {index} ({cell.source.splitlines()[0][:60] if cell.source else ''!r}) is "
            f"{'' if inside else 'not '}in the Going further section but "
            f"{'' if tagged else 'not '}tagged {render_schedule.GOING_FURTHER!r}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_core_path_reads_in_about_twenty_minutes(path):
    words = render_schedule.core_words(path)
    assert words <= CORE_WORD_LIMIT, f"{words} words of core markdown (at most {CORE_WORD_LIMIT})"


# Every figure on the website needs alt text for screen readers. MyST-NB takes
# image options from the cell metadata key `mystnb` (its `cell_metadata_key`),
# under `image` (the cell key of `render_image_options`): `mystnb.image.alt`.
IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml", "image/gif")


def figure_cells(nb):
    """(index, cell) of every code cell with an image among its stored outputs."""
    return [(i, cell) for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
            and any(mime in out.get("data", {}) for out in cell.get("outputs", []) for mime in IMAGE_TYPES)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_figure_has_alt_text(path):
    for i, cell in figure_cells(read(path)):
        first_line = cell.source.splitlines()[0] if cell.source else ""
        alt = cell.metadata.get("mystnb", {}).get("image", {}).get("alt", "")
        assert isinstance(alt, str) and alt.strip(), (
            f"cell {i} ({first_line!r}) shows a figure without alt text in metadata.mystnb.image.alt")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_an_unfilled_starter_prints_placeholders_not_ellipsis(path):
    # A learner who runs a "Your turn" cell before filling it in should see "?"
    # where a number will go, not Python's name for `...`.
    for index, cell in enumerate(read(path).cells):
        if cell.cell_type == "code" and "starter" in cell.metadata.get("tags", []):
            shown = "".join(output.get("text", "") for output in cell.get("outputs", []))
            assert "Ellipsis" not in shown, f"starter cell {index} prints {shown!r}"
