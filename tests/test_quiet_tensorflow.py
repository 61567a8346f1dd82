"""Importing helpers hides TensorFlow's C++ information and warnings, never its
errors, and leaves a log level the reader chose alone."""

import os
import subprocess
import sys

import pytest

from conftest import ROOT


def log_level_after_importing_helpers(preset):
    """TF_CPP_MIN_LOG_LEVEL in a fresh Python after `import helpers`; `preset` None: unset."""
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    if preset is not None:
        env["TF_CPP_MIN_LOG_LEVEL"] = preset
    env["PYTHONPATH"] = str(ROOT)  # this checkout's helpers, whatever is installed
    result = subprocess.run(
        [sys.executable, "-c", "import os, helpers; print(os.environ['TF_CPP_MIN_LOG_LEVEL'])"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip()


@pytest.mark.parametrize("preset, expected", [(None, "2"), ("0", "0")])
def test_log_level_hides_warnings_but_not_errors_unless_the_reader_chose(preset, expected):
    assert log_level_after_importing_helpers(preset) == expected


def test_a_model_trains_and_predicts_without_a_word_on_stderr():
    # On a machine without a GPU, TensorFlow's first look for one logs "failed
    # call to cuInit" as an error; helpers makes that look while importing, in
    # silence, so that the notebooks' outputs stay clean at log level 2.
    script = ("import helpers, keras, numpy as np\n"
              "model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])\n"
              "model.compile(optimizer='adam', loss='mse')\n"
              "model.fit(np.zeros((4, 3)), np.zeros((4, 2)), verbose=0)\n"
              "model.predict(np.zeros((1, 3)), verbose=0)\n")
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr == ""
