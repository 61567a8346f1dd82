"""Shared helpers for *Hands-On CNNs: image classification with Keras*.

Every chapter notebook imports this package, in the spirit of d2l's `d2l`
module. The chapters show the Keras that a learner should copy (models,
`compile`, `fit`); the helpers hold the plumbing, one module per job:

- `data`: find, check and load Fashion-MNIST (and MNIST digits);
- `splitting`: training / validation / test splits and label encodings;
- `models`: the book's models, as the chapters define them;
- `training`: seeds, compiling, `fit` with one line per epoch, testing;
- `recipe`: the book's own training recipe (chapter 11);
- `evaluation`: predicted classes, the most confused pairs of a confusion
  matrix (scikit-learn computes the matrix);
- `results`: results files (written by runs, or shipped with the package);
- `machine`: the machine and library versions a run used;
- `conv`, `params`, `plots`, `compare`, `speed`: convolution by hand,
  parameter, multiply-add and receptive-field counts, figures, side-by-side tables, timing;
- `studies`: the multi-run experiments (development, seeds, ablation, the
  tutorials' protocols; run by `scripts/run_studies.py`);
- `benchmarks`: published Fashion-MNIST results, for context;
- `check_setup`: `python -m helpers.check_setup`, is this machine ready for
  the workshop?

Importing it first, in the setup cell, also imports TensorFlow quietly (see
below), so that the notebooks' outputs show the lesson, not start-up logs.
"""

import os
import sys

__version__ = "0.6.0"
__book__ = "hands-on-cnns"  # tells this package from unrelated ones named `helpers`


def _import_tensorflow_quietly():
    """Import TensorFlow with its C++ start-up chatter sent to /dev/null.

    On a machine without a GPU, TensorFlow's C++ core writes lines such as
    "Could not find cuda drivers on your machine" straight to file descriptor 2
    while it is imported, before TF_CPP_MIN_LOG_LEVEL is honoured, and Jupyter
    copies them into the cell's output. The first look for GPUs also logs
    "failed call to cuInit" as an error where there is no GPU driver, so that
    look happens here too, in the same silence: it only finds out which
    devices exist. Python errors still surface as usual.

    Later C++ logs go through TF_CPP_MIN_LOG_LEVEL: "2" hides information and
    warnings but never errors ("3" would hide those too). A level the reader
    has set is kept.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" in sys.modules:
        return
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


class _NoRetracingWarning:
    """Drops TensorFlow's "triggered tf.function retracing" warning.

    A chapter builds several models in one kernel and predicts with each on
    arrays of a few sizes; every model compiles its prediction step once per
    shape, which TensorFlow counts together and reports as excessive
    retracing, although nothing is compiled again by mistake. Every other
    warning passes.
    """

    @staticmethod
    def filter(record):
        return "triggered tf.function retracing" not in record.getMessage()


def _drop_retracing_warnings():
    import logging

    logger = logging.getLogger("tensorflow")
    if not any(isinstance(f, _NoRetracingWarning) for f in logger.filters):
        logger.addFilter(_NoRetracingWarning())


_import_tensorflow_quietly()
_drop_retracing_warnings()
