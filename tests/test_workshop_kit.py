"""The workshop kit: the learner profile, the pre-workshop email, the cheat
sheet, the capstone challenge and the feedback form (book/*.md).

The tests check what the pages claim, not how they word it:

- every page is in the teaching part of the table of contents, and its links,
  addresses and chapter numbers lead somewhere that exists;
- the cheat sheet's parameter formulas and counts agree with the Keras layers
  they describe, its output-size formulas and examples with Keras' Conv2D
  shapes, its label/loss table with Keras' losses, and its Keras loop runs
  (on a few random images standing in for Fashion-MNIST);
- the capstone's reference solution, `build_model()` of
  scripts/capstone_reference.py (the page includes that function, so there
  is one definition), has the parameter count the page states, layer by
  layer, and at most 20,000; the starter model obeys the rules too, the
  time-limit callback stops training, and the script writes its record;
- the email names the setup check as `python -m helpers.check_setup`, with
  options that the module accepts, and quotes its verdict line;
- the two printable pages (cheat sheet and feedback form) print on one A4
  and one Letter sheet: that test reads the built book (conftest's session
  build) in Debian's Chromium and is skipped without it.
"""

import ast
import importlib.util
import json
import math
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
import yaml

from conftest import NOTEBOOKS, ROOT

BOOK = ROOT / "book"
KIT = ["learners", "pre-workshop-email", "cheat-sheet", "capstone", "feedback"]
PRINTABLE = ["cheat-sheet", "feedback"]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
MAX_PARAMETERS = 20_000


def page(name):
    return (BOOK / f"{name}.md").read_text()


def code_spans(text):
    return re.findall(r"`([^`\n]+)`", text)


def number(text):
    """The first number in `text`, thousands separators removed."""
    return int(re.search(r"\d[\d,]*", text).group().replace(",", ""))


def tables(text):
    """Every Markdown table in `text`: a list of rows, each a list of cells
    (the header row first, the separator row left out)."""
    found, rows = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not all(re.fullmatch(r":?-+:?", c) for c in cells):
                rows.append(cells)
        elif rows:
            found.append(rows)
            rows = []
    return found


def table_with(text, header_word):
    (table,) = [t for t in tables(text) if any(header_word in cell for cell in t[0])]
    return table


def fenced_blocks(text, language):
    return re.findall(rf"^```{language}\n(.*?)^```", text, re.S | re.M)


def keras_layers():
    import keras

    return {name: getattr(keras.layers, name) for name in dir(keras.layers) if not name.startswith("_")}


def built(layer_source, input_shape):
    """The layer that `layer_source` (e.g. "Dense(64)") makes, built on `input_shape`."""
    import keras

    layer = eval(layer_source, {"__builtins__": {}}, keras_layers())
    keras.Sequential([keras.Input(shape=input_shape), layer])
    return layer


def trainable_count(layer):
    return sum(math.prod(w.shape) for w in layer.trainable_weights)


# The table of contents and the links


def teaching_part():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    (part,) = [p for p in toc["parts"] if p["caption"] == "Teaching with this book"]
    return [c["file"] for c in part["chapters"]]


def toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return {toc["root"]} | {c["file"] for p in toc["parts"] for c in p["chapters"]}


@pytest.mark.parametrize("name", KIT)
def test_each_page_exists_with_a_title_and_is_in_the_teaching_part_after_the_workshop_page(name):
    assert page(name).startswith("# ")
    files = teaching_part()
    assert f"book/{name}" in files
    assert files.index(f"book/{name}") > files.index("book/workshop")


@pytest.mark.parametrize("name", KIT)
def test_links_between_pages_lead_to_pages_of_the_book(name):
    links = re.findall(r"\]\(([\w./-]+\.(?:md|ipynb))(?:#[\w-]+)?\)", page(name))
    for link in links:
        target = (BOOK / link).resolve()
        assert target.exists(), f"{name}.md links to {link}, which does not exist"
        assert target.relative_to(ROOT).with_suffix("").as_posix() in toc_files(), (
            f"{name}.md links to {link}, which is not in _toc.yml")


@pytest.mark.parametrize("name", KIT)
def test_chapter_numbers_name_chapters_that_exist(name):
    mentions = re.findall(r"\b[Cc]hapters? ((?:\d+(?:, | and | or | to |-))*\d+)", page(name))
    for mention in mentions:
        for chapter in re.findall(r"\d+", mention):
            assert 1 <= int(chapter) <= len(NOTEBOOKS), f"{name}.md names chapter {chapter}"


def test_the_learners_self_check_has_the_answer_it_states(capsys):
    text = page("learners")
    (snippet,) = fenced_blocks(text, "python")
    exec(compile(snippet, "learners.md", "exec"), {})
    printed = capsys.readouterr().out.strip()
    after = text[text.index(snippet) + len(snippet):]
    assert printed in code_spans(after)[:1], f"the snippet prints {printed}"


# The cheat sheet: formulas and numbers against Keras


def parameter_rows():
    """(layer source, input shape, formula, count, trained count or None) per row."""
    rows = []
    for row in table_with(page("cheat-sheet"), "parameters")[1:]:
        text = " | ".join(row)
        example = re.search(r"`(\w+\([^`]*\))` on `(\([^`]*\))`", text)
        formulas = [s for s in code_spans(text) if "×" in s or s == "0"]
        count = re.search(r"([\d,]+)(?: \(([\d,]+) trained\))?\s*$", row[-1])
        assert example and len(formulas) == 1 and count, f"cannot read the row {row}"
        rows.append((example.group(1), ast.literal_eval(example.group(2)), formulas[0],
                     number(count.group(1)), count.group(2) and number(count.group(2))))
    return rows


def formula_value(formula, layer, input_shape):
    """The page's formula, evaluated with the layer's own sizes."""
    sizes = {"inputs": input_shape[-1], "C_in": input_shape[-1], "channels": input_shape[-1]}
    for name in ("units", "filters"):
        if hasattr(layer, name):
            sizes[name] = getattr(layer, name)
    if hasattr(layer, "kernel_size"):
        sizes["Kh"], sizes["Kw"] = layer.kernel_size
    return eval(formula.replace("×", "*"), {"__builtins__": {}}, sizes)


def test_the_cheat_sheets_parameter_counts_are_those_of_the_keras_layers():
    rows = parameter_rows()
    described = {layer.split("(")[0] for layer, *_ in rows}
    assert {"Dense", "Conv2D", "BatchNormalization"} <= described
    assert any(count == 0 for *_, count, _ in rows), "no parameter-free layer"
    for source, input_shape, _, count, trained in rows:
        layer = built(source, input_shape)
        assert layer.count_params() == count, f"{source} on {input_shape}"
        if trained is not None:
            assert trainable_count(layer) == trained, f"{source} on {input_shape}: trained"


def test_the_cheat_sheets_parameter_formulas_give_those_counts():
    for source, input_shape, formula, count, _ in parameter_rows():
        layer = built(source, input_shape)
        assert formula_value(formula, layer, input_shape) == layer.count_params() == count, formula


def output_size_formulas():
    """The two formulas of the cheat sheet as functions: o(N, K, P, S) and,
    for 'same' padding, o(N, S)."""
    spans = [s.split("=", 1)[1] for s in code_spans(page("cheat-sheet")) if re.match(r"o\s*=", s)]
    (general,) = [s for s in spans if "floor" in s]
    (same,) = [s for s in spans if "ceil" in s]

    def function(expression, *names):
        python = re.sub(r"(\d)([A-Za-z(])", r"\1*\2", expression)  # 2P -> 2*P
        return lambda *values: eval(python, {"__builtins__": {}, "floor": math.floor, "ceil": math.ceil},
                                    dict(zip(names, values)))

    return function(general, "N", "K", "P", "S"), function(same, "N", "S")


def keras_output_side(n, k, s, padding="valid", p=0):
    import keras

    model = keras.Sequential([keras.Input(shape=(n, n, 1)), keras.layers.ZeroPadding2D(p),
                              keras.layers.Conv2D(1, k, strides=s, padding=padding)])
    return model.output_shape[1]


@pytest.mark.parametrize("n, k, p, s", [(5, 3, 0, 1), (28, 3, 0, 1), (28, 5, 2, 1), (28, 3, 1, 2),
                                        (7, 3, 1, 2), (28, 3, 0, 2), (27, 4, 1, 3), (14, 2, 0, 2)])
def test_the_output_size_formula_agrees_with_keras(n, k, p, s):
    general, _ = output_size_formulas()
    assert general(n, k, p, s) == keras_output_side(n, k, s, p=p)


@pytest.mark.parametrize("n, k, s", [(28, 3, 1), (28, 3, 2), (7, 3, 2), (14, 5, 3), (5, 3, 2), (9, 2, 4)])
def test_the_same_padding_formula_agrees_with_keras(n, k, s):
    _, same = output_size_formulas()
    assert same(n, s) == keras_output_side(n, k, s, padding="same")


def test_the_cheat_sheets_output_size_examples_agree_with_keras_and_the_formulas():
    general, same = output_size_formulas()
    table = table_with(page("cheat-sheet"), "padding")
    assert table[0] == ["N", "K", "padding", "S", "o"]
    assert {row[2] for row in table[1:]} == {"valid", "same"}
    for n, k, padding, s, o in table[1:]:
        n, k, s, o = int(n), int(k), int(s), int(o)
        assert keras_output_side(n, k, s, padding=padding) == o
        assert (same(n, s) if padding == "same" else general(n, k, 0, s)) == o


def test_the_cheat_sheets_labels_go_with_their_losses_and_not_with_the_others():
    import keras

    table = table_with(page("cheat-sheet"), "loss")
    rows = [(np.array([ast.literal_eval(code_spans(r[1])[0])]), code_spans(r[2])[0]) for r in table[1:]]
    assert {loss for _, loss in rows} == {"sparse_categorical_crossentropy", "categorical_crossentropy"}
    probabilities = np.full((1, 10), 0.1, dtype="float32")
    for labels, loss in rows:
        value = float(np.mean(keras.ops.convert_to_numpy(keras.losses.get(loss)(labels, probabilities))))
        assert np.isclose(value, -np.log(0.1), rtol=1e-4), (labels, loss)
        for other_labels, other_loss in rows:
            if other_loss != loss:
                with pytest.raises(ValueError):
                    keras.losses.get(loss)(other_labels, probabilities)


def fake_fashion_mnist(train=60, test=10, seed=0):
    """Random uint8 images with the shapes and dtypes of Keras' loader."""
    rng = np.random.default_rng(seed)
    return ((rng.integers(0, 256, (train, 28, 28), dtype="uint8"), np.arange(train, dtype="uint8") % 10),
            (rng.integers(0, 256, (test, 28, 28), dtype="uint8"), np.arange(test, dtype="uint8") % 10))


def test_the_cheat_sheets_keras_loop_runs(monkeypatch):
    import keras

    (loop,) = fenced_blocks(page("cheat-sheet"), "python")
    assert len(loop.strip().splitlines()) <= 20
    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", lambda: fake_fashion_mnist())
    names = {}
    exec(compile(loop, "cheat-sheet.md", "exec"), names)
    assert names["x_train"].shape[1:] == (28, 28, 1) and names["x_train"].dtype == np.float32
    assert 0 <= names["x_train"].min() and names["x_train"].max() <= 1
    assert {"accuracy", "val_accuracy"} <= set(names["history"].history)
    assert names["predicted"].ndim == 1 and set(names["predicted"]) <= set(range(10))


def test_the_cheat_sheet_is_wrapped_for_printing_and_stays_short():
    assert "colon_fence" in CONFIG["parse"]["myst_enable_extensions"]
    css = (BOOK / "_css" / "book.css").read_text()
    assert re.search(r"@media print\s*{[^@]*\.print-sheet", css)
    for name in PRINTABLE:
        text = page(name)
        assert re.search(r"^:{3,}\{div\} print-sheet", text, re.M), f"{name}.md has no print-sheet block"
    sheet = re.sub(r"^```.*?^```", "", page("cheat-sheet"), flags=re.S | re.M)
    assert len(re.findall(r"[A-Za-z]\S*", sheet)) <= 420, "the cheat sheet's text has grown past one page"


# The capstone: the reference solution, the starter and the script


@pytest.fixture(scope="module")
def reference():
    from scripts import capstone_reference

    return capstone_reference


def test_the_page_includes_the_scripts_build_model(reference):
    include = re.search(r"```\{literalinclude\} (\S+)\n(.*?)```", page("capstone"), re.S)
    assert include, "the reference solution is not included from the script"
    path = ROOT / include.group(1).lstrip("/")
    assert path.resolve() == Path(reference.__file__).resolve()
    (pyobject,) = re.findall(r":pyobject: (\w+)", include.group(2))
    functions = {n.name for n in ast.parse(path.read_text()).body if isinstance(n, ast.FunctionDef)}
    assert pyobject == "build_model" and pyobject in functions


def test_the_reference_solutions_stated_count_is_its_models_and_within_the_limit(reference):
    model = reference.build_model()
    table = table_with(page("capstone"), "output shape")
    (total,) = [row for row in table if "total" in row[0]]
    numbers = [int(n.replace(",", "")) for n in re.findall(r"\d[\d,]*", " ".join(total))]
    assert numbers[0] == model.count_params() <= MAX_PARAMETERS == reference.MAX_PARAMETERS
    assert numbers[1] == sum(math.prod(w.shape) for w in model.trainable_weights)


def test_the_reference_solutions_table_counts_each_layer_with_the_formulas(reference):
    model = reference.build_model()
    rows = [row for row in table_with(page("capstone"), "output shape")[1:] if "total" not in row[0]]
    assert len(rows) == len(model.layers)
    for (layer_cell, shape_cell, count_cell), layer in zip(rows, model.layers):
        assert code_spans(layer_cell)[0].split("(")[0] == type(layer).__name__
        assert tuple(int(n) for n in re.findall(r"\d+", shape_cell)) == tuple(layer.output.shape[1:])
        *formula, count = count_cell.split("=")
        assert number(count) == layer.count_params(), layer_cell
        if formula:  # the arithmetic on the page is right, too
            assert eval(formula[0].replace("×", "*").replace(",", ""), {"__builtins__": {}}) == number(count)


def starter_code():
    (starter,) = [block for block in fenced_blocks(page("capstone"), "python") if "def build_model" in block]
    return starter


def starter_definitions():
    """The starter's imports, classes and functions, without running its training."""
    tree = ast.parse(starter_code())
    tree.body = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom, ast.ClassDef, ast.FunctionDef))]
    names = {}
    exec(compile(tree, "capstone.md", "exec"), names)
    return names


def test_the_starter_model_obeys_the_rules_and_the_starter_keeps_the_test_set_out_of_sight():
    model = starter_definitions()["build_model"]()
    assert model.count_params() <= MAX_PARAMETERS
    assigned = {n.id for n in ast.walk(ast.parse(starter_code())) if isinstance(n, ast.Name)}
    assert not {name for name in assigned if "test" in name}


def test_the_starter_runs_and_holds_out_six_thousand_validation_images(monkeypatch):
    import keras

    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", lambda: fake_fashion_mnist(train=6128))
    names = {}
    exec(compile(starter_code(), "capstone.md", "exec"), names)
    assert len(names["x_val"]) == len(names["y_val"]) == 6000
    assert len(names["x_train"]) == 128
    assert 0 <= names["val_accuracy"] <= 1 and names["seconds"] > 0


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")  # Keras' saving, on NumPy 2
def test_the_instructors_scoring_code_scores_a_saved_starter_model(monkeypatch, tmp_path, capsys):
    import keras

    scoring = [block for block in fenced_blocks(page("capstone"), "python") if "evaluate(x_test" in block]
    assert len(scoring) == 2  # from saved files, and in the room
    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", lambda: fake_fashion_mnist(test=20))
    monkeypatch.chdir(tmp_path)
    model = starter_definitions()["build_model"]()
    model.optimizer.build(model.trainable_variables)  # as after training
    (tmp_path / "submissions").mkdir()
    model.save(tmp_path / "submissions" / "team-ada.keras")
    for block in scoring:
        names = {"keras": keras, "model": model}
        exec(compile(block, "capstone.md", "exec"), names)
    assert "team-ada" in capsys.readouterr().out


@pytest.mark.parametrize("source", ["starter", "script"])
def test_the_time_limit_stops_training(source, reference):
    import keras

    time_limit = starter_definitions()["TimeLimit"] if source == "starter" else reference.TimeLimit
    (x, y), _ = fake_fashion_mnist(train=64)
    model = keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Flatten(), keras.layers.Dense(10)])
    model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    steps = []
    counter = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: steps.append(batch))
    model.fit(x / 255.0, y, epochs=5, batch_size=8, callbacks=[time_limit(0), counter], verbose=0)
    assert len(steps) == 1  # 40 steps without it


def test_the_script_keeps_to_the_rules(reference):
    assert reference.BUDGET_SECONDS == 120 and reference.VALIDATION_SIZE == 6000
    assert reference.OUTPUT == ROOT / "results" / "capstone_reference.json"
    assert "results/capstone_reference.json" in page("capstone")
    with pytest.raises(SystemExit):
        reference.parse_args(["--seconds", "121"])


@pytest.mark.integration
def test_the_script_trains_on_the_books_split_and_writes_its_record(reference, make_splits, monkeypatch, tmp_path):
    """The script end to end, on random stand-ins for the splits and with a
    budget of half a second."""
    from helpers import splitting

    asked = []

    def fake_splits(validation_size, *args, **kwargs):
        asked.append((validation_size, args, kwargs))
        return make_splits(train=256, validation=64, test=0)

    monkeypatch.setattr(splitting, "load_splits", fake_splits)
    output = tmp_path / "capstone_reference.json"
    record = reference.main(["--seconds", "0.5", "--output", str(output)])
    assert asked == [(6000, (), {})]
    assert json.loads(output.read_text()) == record
    assert record["parameters"] == reference.build_model().count_params()
    assert record["validation_images"] == 64 and record["train_images"] == 256
    assert 0 <= record["val_accuracy"] <= 1 and record["seconds"] > 0
    assert record["under_the_rules"] is False  # a shortened budget says so


def test_the_capstone_page_shows_the_scripts_record(reference):
    text = page("capstone")
    assert text.count(reference.TABLE_START) == text.count(reference.TABLE_END) == 1
    record = json.loads(reference.OUTPUT.read_text())
    assert record["under_the_rules"] and record["parameters"] == reference.build_model().count_params()
    assert reference.render_table(record) in text


def test_update_page_fills_the_table_between_the_markers(reference, tmp_path):
    demo = tmp_path / "capstone.md"
    demo.write_text(f"before\n{reference.TABLE_START}\nold\n{reference.TABLE_END}\nafter\n")
    record = {"parameters": 17194, "seconds": 120.4, "epochs": 12.5, "val_accuracy": 0.90123,
              "machine": "Test CPU, 2 cores", "keras": "3.0", "date": "2026-12-03"}
    reference.update_page(record, demo)
    text = demo.read_text()
    assert text.startswith("before\n" + reference.TABLE_START) and text.endswith(reference.TABLE_END + "\nafter\n")
    assert "| 17,194 | 120.4 | 12.5 | 0.9012 | Test CPU, 2 cores, Keras 3.0, 2026-12-03 |" in text
    demo.write_text("no markers")
    with pytest.raises(SystemExit, match="no .* markers"):
        reference.update_page(record, demo)


# The pre-workshop email


def test_the_email_runs_the_setup_check_as_the_module_is_invoked():
    from helpers import check_setup

    text = page("pre-workshop-email")
    commands = re.findall(r"python -m ([\w.]+)((?: --?[\w-]+)*)", text)
    assert commands, "the email gives no setup check command"
    source = Path(check_setup.__file__).read_text()
    tree = ast.parse(source)
    options = {a.value for n in ast.walk(tree) if isinstance(n, ast.Call)
               and getattr(n.func, "attr", "") == "add_argument"
               for a in n.args if isinstance(a, ast.Constant)}
    assert 'if __name__ == "__main__":' in source
    for module, flags in commands:
        assert module == "helpers.check_setup"
        assert Path(importlib.util.find_spec(module).origin).resolve() == (ROOT / "helpers" / "check_setup.py")
        assert set(flags.split()) <= options, f"{flags} are not all options of {module}"
    assert f'"{check_setup.READY}"' in text


def test_the_email_has_its_placeholders_marked():
    text = page("pre-workshop-email")
    for placeholder in ("<DATE>", "<TIME>", "<ROOM/LINK>"):
        assert placeholder in text


def test_the_emails_addresses_lead_to_pages_of_this_book():
    text = page("pre-workshop-email")
    owner, repository = urlsplit(CONFIG["repository"]["url"]).path.strip("/").split("/")
    site = f"https://{owner}.github.io/{repository}/"
    pages = re.findall(re.escape(site) + r"([\w/.-]+)\.html", text)
    assert "book/setup" in pages
    for path in pages:
        assert path in toc_files(), f"{site}{path}.html is not a page of the book"
    colab = re.findall(rf"colab\.research\.google\.com/github/{owner}/{repository}/blob/main/(\S+\.ipynb)", text)
    assert colab
    for path in colab:
        assert (ROOT / path).exists()


# The feedback form


def test_the_feedback_form_has_a_minute_card_five_likert_items_and_two_open_questions():
    text = page("feedback")
    form = text[text.index("{div} print-sheet"):]
    likert = table_with(form, "agree")
    assert len(likert[0]) == 6  # the statement, then a five-point scale
    assert len(likert) - 1 == 5
    for row in likert[1:]:
        assert row[0] and [cell for cell in row[1:]] == ["☐"] * 5
    answer_boxes = re.findall(r"^:{3,}\{div\} answer-box", form, re.M)
    assert len(answer_boxes) == 4  # two for the minute card, two for the open questions
    questions = [line for line in form.splitlines() if line.rstrip().endswith("?**")]
    assert len(questions) == 2


# Printing


@pytest.mark.integration
@pytest.mark.parametrize("name", PRINTABLE)
def test_the_printable_pages_print_on_one_sheet(html, name, tmp_path):
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip(f"{chromium} is missing: printing needs Debian's Chromium")
    from playwright.sync_api import sync_playwright

    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / ".config"),
           "XDG_CACHE_HOME": str(tmp_path / ".cache")}
    margins = {side: "12.7mm" for side in ("top", "right", "bottom", "left")}  # a browser's default
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), env=env, headless=True,
                                             args=["--no-sandbox", "--disable-gpu"])
        try:
            tab = browser.new_page()
            tab.goto((html / "book" / f"{name}.html").as_uri())
            for paper in ("A4", "Letter"):
                pdf = tab.pdf(format=paper, margin=margins)
                pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
                assert pages == 1, f"{name} prints on {pages} {paper} pages"
        finally:
            browser.close()
