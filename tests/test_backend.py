"""Tests of helpers.backend: importing the helpers loads neither TensorFlow
nor Keras, and `quiet_tensorflow()` starts TensorFlow without its C++
information and warnings, never hiding its errors, and leaves a log level
the reader chose alone.

Each check of what an import loads, or of what TensorFlow prints while it
starts, runs in a fresh Python: this test session has long imported both.
"""

import logging
import os
import subprocess
import sys

import pytest

import helpers
from conftest import ROOT
from helpers import backend


def run_python(script, preset=None):
    """Run `script` in a fresh Python with this checkout's helpers and
    TF_CPP_MIN_LOG_LEVEL set to `preset` (None: unset). Returns the result."""
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    if preset is not None:
        env["TF_CPP_MIN_LOG_LEVEL"] = preset
    env["PYTHONPATH"] = str(ROOT)  # this checkout's helpers, whatever is installed
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_importing_the_helpers_that_need_no_model_loads_neither_tensorflow_nor_keras():
    script = ("import sys\n"
              "import helpers, helpers.conv, helpers.params, helpers.data\n"
              "print(sorted(name for name in ('tensorflow', 'keras') if name in sys.modules))\n")
    assert run_python(script).stdout.strip() == "[]"


@pytest.mark.parametrize("preset, expected", [(None, "2"), ("0", "0"), ("3", "3")])
def test_quiet_tensorflow_hides_information_and_warnings_unless_the_reader_chose(preset, expected):
    # "2" hides TensorFlow's C++ information and warnings, never its errors.
    script = ("import os, sys, helpers\n"
              "before = os.environ.get('TF_CPP_MIN_LOG_LEVEL')\n"
              "helpers.quiet_tensorflow()\n"
              "print(before, os.environ['TF_CPP_MIN_LOG_LEVEL'], 'tensorflow' in sys.modules)\n")
    before, after, started = run_python(script, preset).stdout.split()
    assert before == str(preset) and after == expected and started == "True"


def test_after_quiet_tensorflow_a_model_trains_and_predicts_without_a_word_on_stderr():
    # On a machine without a GPU, TensorFlow's first look for one logs "failed
    # call to cuInit" as an error; quiet_tensorflow makes that look in
    # silence, so that the notebooks' outputs stay clean at log level 2.
    script = ("import helpers\n"
              "helpers.quiet_tensorflow()\n"
              "import keras, numpy as np\n"
              "model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])\n"
              "model.compile(optimizer='adam', loss='mse')\n"
              "model.fit(np.zeros((4, 3)), np.zeros((4, 2)), verbose=0)\n"
              "model.predict(np.zeros((1, 3)), verbose=0)\n")
    assert run_python(script).stderr == ""


def test_keras_module_starts_tensorflow_quietly_first(monkeypatch):
    import keras

    calls = []
    monkeypatch.setattr(backend, "quiet_tensorflow", lambda: calls.append(1))
    assert backend.keras_module() is keras and calls == [1]


@pytest.fixture
def tensorflow_logger_filters():
    """The tensorflow logger's filters, restored after the test."""
    logger = logging.getLogger("tensorflow")
    saved = list(logger.filters)
    yield logger
    logger.filters[:] = saved


def test_tensorflows_retracing_warning_is_dropped_and_other_warnings_pass(
        caplog, monkeypatch, tensorflow_logger_filters):
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)  # restored after the test
    helpers.quiet_tensorflow()
    helpers.quiet_tensorflow()  # a second call changes nothing
    logger = tensorflow_logger_filters
    assert sum(isinstance(f, backend._NoRetracingWarning) for f in logger.filters) == 1
    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        logger.warning("5 out of the last 13 calls to <function f> triggered tf.function retracing.")
        logger.warning("something else worth seeing")
    assert [record.getMessage() for record in caplog.records] == ["something else worth seeing"]
