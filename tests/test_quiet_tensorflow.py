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
