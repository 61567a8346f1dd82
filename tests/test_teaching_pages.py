"""The teaching pages: in the table of contents, linked from the workshop page,
and the troubleshooting page quotes the messages the code really prints."""

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
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")


def quoted(message):
    """Whether the troubleshooting page quotes `message` (release numbers aside)."""
    release = re.compile(r"\b\d+\.\d+\.\d+\b")
    return release.sub("X.Y.Z", message) in release.sub("X.Y.Z", TROUBLESHOOTING)


def test_the_teaching_part_lists_its_pages_in_order():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    (part,) = [p for p in toc["parts"] if p["caption"] == "Teaching with this book"]
    assert [c["file"] for c in part["chapters"]] == [
        "book/setup", "book/workshop", "book/instructor-notes", "book/troubleshooting"]


def test_the_workshop_page_links_the_pages_for_the_day_after_its_first_paragraph():
    text = (ROOT / "book" / "workshop.md").read_text()
    paragraphs = text.split("\n\n")
    assert paragraphs[0].startswith("# ") and paragraphs[2] == "Pages for the day:"
    links = re.findall(r"\]\(([\w.-]+\.md)\)", paragraphs[3])
    assert links == ["setup.md", "instructor-notes.md", "troubleshooting.md"]


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


@pytest.mark.skipif(not DEBIAN_FASHION_MNIST.is_dir(), reason="needs Debian's Fashion-MNIST")
def test_the_message_of_a_cut_download(tmp_path):
    name = data.FASHION_MNIST.train_images.name
    whole = (DEBIAN_FASHION_MNIST / name).read_bytes()
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


@pytest.mark.skipif(not DEBIAN_FASHION_MNIST.is_dir(), reason="needs Debian's Fashion-MNIST")
def test_the_message_of_a_too_large_training_subset():
    from helpers import splitting

    with pytest.raises(ValueError) as error:
        splitting.load_splits(6000, 60000)
    assert quoted(f"ValueError: {error.value}")


def test_the_keras_and_python_messages():
    import keras
    import numpy as np

    probabilities = np.full((4, 10), 0.1, dtype="float32")
    one_hot, integers = np.eye(10, dtype="float32")[:4], np.arange(4)
    for loss, labels in [(keras.losses.SparseCategoricalCrossentropy(), one_hot),
                         (keras.losses.CategoricalCrossentropy(), integers)]:
        with pytest.raises(ValueError) as error:
            loss(labels, probabilities)
        assert quoted(f"ValueError: {str(error.value).splitlines()[0]}")
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError) as error:
        model.save_weights("model.h5")
    assert quoted(f"ValueError: {error.value}")
    with pytest.raises(TypeError) as error:
        model.add(keras.layers.Dense(1), activation="relu")
    assert quoted(f"TypeError: {error.value}")
    with pytest.raises(SyntaxError) as error:
        compile('os.environ["FASHION_MNIST_DIR"] = "C:\\Users\\you\\data"', "cell", "exec")
    assert quoted(f"SyntaxError: {error.value.msg}")
