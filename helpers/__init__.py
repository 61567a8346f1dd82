"""Shared helpers for *Hands-On CNNs: image classification with Keras*.

Every chapter notebook imports this package (in the spirit of d2l's `d2l`
module): data loading, plotting and, as the book grows, model building and
training. Each helper is small, documented and tested in `tests/`.
"""

import os

# TensorFlow prints C++ start-up chatter (CUDA probing, CPU instruction sets) to
# stderr, and Jupyter copies it into cell outputs. Quiet it before TensorFlow is
# imported anywhere; a reader who wants the logs can set the variable first.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

__version__ = "0.1.0"
