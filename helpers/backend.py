"""Keras and TensorFlow, started quietly and only when something needs them.

`import helpers` (and the NumPy-only modules `conv`, `params`, `data`) loads
neither TensorFlow nor Keras: importing TensorFlow takes seconds. The modules
that build or train models get Keras from `keras_module()`, and a notebook's
setup cell calls `quiet_tensorflow()` once, before its own `import keras`.
"""

from __future__ import annotations

import logging
import os
import sys


def quiet_tensorflow():
    """Start TensorFlow with its C++ start-up chatter sent to /dev/null.

    On a machine without a GPU, TensorFlow's C++ core writes lines such as
    "Could not find cuda drivers on your machine" straight to file descriptor 2
    while it is imported, before TF_CPP_MIN_LOG_LEVEL is honoured, and Jupyter
    copies them into the cell's output. The first look for GPUs also logs
    "failed call to cuInit" as an error where there is no GPU driver, so that
    look happens here too, in the same silence: it only finds out which
    devices exist. Python errors still surface as usual.

    Later C++ logs go through TF_CPP_MIN_LOG_LEVEL: "2" hides information and
    warnings but never errors ("3" would hide those too). A level the reader
    has set is kept. Calling it again does nothing.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" not in sys.modules:
        saved_stderr = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 2)
            import tensorflow

            tensorflow.config.list_physical_devices("GPU")  # the driver probe, once
        except ImportError:
            pass  # Keras on another backend: nothing to quieten
        finally:
            os.dup2(saved_stderr, 2)
            os.close(saved_stderr)
            os.close(devnull)
    _drop_retracing_warnings()


class _NoRetracingWarning(logging.Filter):
    """Drops TensorFlow's "triggered tf.function retracing" warning.

    A chapter builds several models in one kernel and predicts with each on
    arrays of a few sizes; every model compiles its prediction step once per
    shape, which TensorFlow counts together and reports as excessive
    retracing, although nothing is compiled again by mistake. Every other
    warning passes.
    """

    def filter(self, record):
        return "triggered tf.function retracing" not in record.getMessage()


def _drop_retracing_warnings():
    logger = logging.getLogger("tensorflow")
    if not any(isinstance(f, _NoRetracingWarning) for f in logger.filters):
        logger.addFilter(_NoRetracingWarning())


def keras_module():
    """The `keras` module, with TensorFlow started quietly first."""
    quiet_tensorflow()
    import keras

    return keras
