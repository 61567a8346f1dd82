"""The teaching pages: in the table of contents, linked from the workshop page;
the troubleshooting page quotes the messages the book's code really prints,
and covers the mistakes whose errors Keras and Python raise."""

import ast
import re
from pathlib import Path

import pytest
import yaml
from IPython.core.inputtransformer2 import TransformerManager

import helpers
from conftest import NOTEBOOKS, ROOT
from helpers import data
from scripts import setup_cell

TROUBLESHOOTING = (ROOT / "book" / "troubleshooting.md").read_text()


def quoted(message):
    """Whether the troubleshooting page quotes `message` (release numbers aside)."""
    release = re.compile(r"\b\d+\.\d+\.\d+\b")
    return release.sub("X.Y.Z", message) in release.sub("X.Y.Z", TROUBLESHOOTING)


def teaching_part():
    """The files of the table of contents' part "Teaching with this book", in order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    (part,) = [p for p in toc["parts"] if p["caption"] == "Teaching with this book"]
    return [c["file"] for c in part["chapters"]]


def test_the_teaching_part_opens_with_the_setup_and_lists_every_teaching_page():
    # Setting up comes first (learners need it before the day); the workshop
    # page, the instructor notes and the troubleshooting page are all there.
    pages = teaching_part()
    assert pages[0] == "book/setup" and len(pages) == len(set(pages))
    assert {"book/workshop", "book/instructor-notes", "book/troubleshooting"} <= set(pages)
    assert all((ROOT / f"{page}.md").is_file() for page in pages)
    # Every page of book/ is in the table of contents (Sphinx warns otherwise).
    toc = (ROOT / "_toc.yml").read_text()
    missing = [page.stem for page in (ROOT / "book").glob("*.md") if f"book/{page.stem}" not in toc]
    assert not missing, f"pages missing from _toc.yml: {missing}"


def test_the_workshop_page_links_the_pages_for_the_day_before_its_first_section():
    # What an instructor needs on the day, found at the top of the page: how
    # learners set up, the notes chapter by chapter, and the fixes for errors.
    text = (ROOT / "book" / "workshop.md").read_text()
    introduction = re.split(r"^## ", text, maxsplit=1, flags=re.M)[0]
    links = set(re.findall(r"\]\(([\w.-]+\.md)\)", introduction))
    assert {"setup.md", "instructor-notes.md", "troubleshooting.md"} <= links, links
    teaching = {Path(page).name + ".md" for page in teaching_part()}
    assert links <= teaching, f"the introduction links pages outside the teaching part: {links - teaching}"


def test_every_page_a_teaching_page_links_exists():
    for page in sorted((ROOT / "book").glob("*.md")):
        for target in re.findall(r"\]\(([\w./-]+\.(?:md|ipynb))(?:#[\w-]*)?\)", page.read_text()):
            assert (page.parent / target).resolve().is_file(), f"{page.name} links {target}, which does not exist"


def test_the_instructor_notes_cover_every_chapter():
    notes = (ROOT / "book" / "instructor-notes.md").read_text()
    numbers = [int(n) for n in re.findall(r"^### (\d+)\. ", notes, re.M)]
    assert numbers == [int(path.name[:2]) for path in NOTEBOOKS]


def test_the_setup_cells_message():
    python = TransformerManager().transform_cell(setup_cell.render())
    (raise_node,) = [n for n in ast.walk(ast.parse(python)) if isinstance(n, ast.Raise)]
    message = eval("(" + ast.get_source_segment(python, raise_node.exc.args[0]) + ")",
                   {"HELPERS_VERSION": helpers.__version__})
    assert quoted(f"RuntimeError: {message}")


def test_the_loaders_messages(tmp_path, monkeypatch):
    assert quoted("DatasetNotFoundError: Could not find Fashion-MNIST. Places tried:\n"
                  "  - $FASHION_MNIST_DIR: not set\n")
    assert quoted(data.HOW_TO_GET_THE_DATA)
    monkeypatch.setenv(data.ENV_VAR, "/home/you/data/fashion-mnist")
    with pytest.raises(data.DatasetNotFoundError) as error:
        data.load_fashion_mnist(download=False)
    assert quoted(f"DatasetNotFoundError: {error.value}")


def test_the_message_of_a_cut_download(tmp_path):
    import gzip

    name = data.FASHION_MNIST.train_images.name
    whole = gzip.compress(bytes(100_000))  # any gzip file, cut off: the same error
    (tmp_path / name).write_bytes(whole[:len(whole) // 2])
    with pytest.raises(data.CorruptDatasetError) as error:
        data.read_idx(tmp_path / name, data.FASHION_MNIST.train_images)
    first_line = str(error.value).splitlines()[0].replace(
        str(tmp_path), "/root/.keras/datasets/fashion-mnist")
    assert quoted(f"CorruptDatasetError: {first_line}")


def test_the_helpers_argument_messages(monkeypatch):
    import numpy as np

    from helpers import models, splitting

    with pytest.raises(ValueError) as scaled:
        data.scale_images(np.zeros((2, 28, 28)) / 255.0)
    with pytest.raises(ValueError) as subset:
        splitting.stratified_split(np.repeat(np.arange(10), 600), 5005)
    with pytest.raises(ValueError) as model_id:
        models.build_model("strided-cnn")
    for error in (scaled, subset):
        assert quoted(f"ValueError: {error.value}")
    assert quoted(str(model_id.value).split("choose one of: ")[0] + "choose one of: ")


@pytest.mark.needs_real_data
def test_the_message_of_a_too_large_training_subset():
    from helpers import splitting

    with pytest.raises(ValueError) as error:
        splitting.load_splits(6000, 60000)
    assert quoted(f"ValueError: {error.value}")


def section(heading_words):
    """The troubleshooting page's section whose heading holds all of `heading_words`."""
    sections = re.split(r"^(?=#{2,3} )", TROUBLESHOOTING, flags=re.M)
    found = [text for text in sections if all(word in text.split("\n", 1)[0] for word in heading_words)]
    assert len(found) == 1, f"no single section headed with {heading_words}"
    return found[0]


# Keras' and Python's own messages change with their releases: for each
# mistake the page covers, the libraries must still raise that type of error
# for it, saying what was wrong, and the page must name the error and the fix.
def test_crossing_labels_and_losses_raises_a_shape_error_that_the_page_explains():
    import keras
    import numpy as np

    probabilities = np.full((4, 10), 0.1, dtype="float32")
    one_hot, integers = np.eye(10, dtype="float32")[:4], np.arange(4)
    for loss, labels in [(keras.losses.SparseCategoricalCrossentropy(), one_hot),
                         (keras.losses.CategoricalCrossentropy(), integers)]:
        with pytest.raises(ValueError) as error:
            loss(labels, probabilities)
        assert str(labels.shape) in str(error.value) and "(4, 10)" in str(error.value)
    text = section(["shape errors"])
    assert "ValueError" in text and "sparse_categorical_crossentropy" in text
    assert "categorical_crossentropy" in text and "Flatten" in text


def test_saving_weights_under_another_name_raises_an_error_that_the_page_explains(tmp_path):
    import keras

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError) as error:
        model.save_weights(str(tmp_path / "model.h5"))
    assert "model.h5" in str(error.value) and ".weights.h5" in str(error.value)
    text = section(["other messages"])
    assert "ValueError" in text and 'save_weights("model.weights.h5")' in text


def test_an_activation_given_to_add_raises_a_type_error_that_the_page_explains():
    import keras

    model = keras.Sequential([keras.Input((2,))])
    with pytest.raises(TypeError, match="activation"):
        model.add(keras.layers.Dense(1), activation="relu")
    text = section(["other messages"])
    assert "TypeError" in text and "activation" in text and 'activation="relu"' in text


def test_a_windows_path_in_a_plain_string_is_a_syntax_error_that_the_page_explains():
    with pytest.raises(SyntaxError) as error:
        compile('os.environ["FASHION_MNIST_DIR"] = "C:\\Users\\you\\data"', "cell", "exec")
    assert "unicode" in error.value.msg and "\\U" in error.value.msg
    text = section(["Windows paths"])
    assert "SyntaxError" in text and 'r"C:' in text
