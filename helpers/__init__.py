"""Shared helpers for *Hands-On CNNs: image classification with Keras*.

Every chapter notebook imports this package, in the spirit of d2l's `d2l`
module. The chapters show the Keras that a learner should copy (models,
`compile`, `fit`); the helpers hold the plumbing, one module per job:

- `backend`: Keras and TensorFlow, started quietly, only when needed;
- `data`: find, check and load Fashion-MNIST;
- `splitting`: training / validation / test splits and label encodings;
- `models`: the book's models, as the chapters define them;
- `training`: seeds, compiling, and the one way to train (`train`, which
  returns a `TrainingRun`);
- `recipe`: the book's own training recipe and its two frozen versions
  (chapter 11);
- `evaluation`: predicted classes and accuracy, the most confused pairs of a
  confusion matrix (scikit-learn computes the matrix);
- `results`: results files (written by runs, or shipped with the package);
- `uncertainty`: how sure a number is (intervals and tests over seeds and
  test images);
- `machine`: the machine and library versions a run used;
- `conv`, `params`, `plots`, `compare`, `speed`: convolution by hand,
  parameter, multiply-add and receptive-field counts, figures, side-by-side
  tables, timing;
- `perturb`: shifted, rotated, noisy and covered images (chapter 12);
- `benchmarks`: published Fashion-MNIST results, for context;
- `check_setup`: `python -m helpers.check_setup`, is this machine ready for
  the workshop?

Importing it loads neither TensorFlow nor Keras (that takes seconds); the
setup cell calls `quiet_tensorflow()` once, so that TensorFlow starts without
its start-up logs and the notebooks' outputs show the lesson.
"""

from helpers.backend import quiet_tensorflow

__version__ = "0.9.1"
__book__ = "hands-on-cnns"  # tells this package from unrelated ones named `helpers`
__all__ = ["quiet_tensorflow"]
