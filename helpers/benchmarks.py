"""Published Fashion-MNIST results, for context: where the book's models stand.

The rows are copied from the table of submitted benchmarks in the README of
the Fashion-MNIST repository (commit 55506a9, the version Debian packages as
`dataset-fashion-mnist`; book/references.md). The dataset's authors list
them without re-testing them ("we haven't yet tested these results"), each is
a single figure with no spread, and each came with its own preprocessing and
training budget, so they are landmarks, not a leaderboard. A test checks every
row against the README when Debian's copy of it is installed.
"""

from __future__ import annotations

# (classifier, preprocessing, test accuracy), as the README gives them.
PUBLISHED = (
    ("Human Performance", "crowd-sourced, 1,000 random test images", 0.835),
    ("MLP 256-128-100", "None", 0.8833),
    ("2 Conv+pooling", "None", 0.876),
    ("2 Conv+pooling", "None", 0.916),
    ("2 Conv <100K parameters", "None", 0.925),
    ("2 Conv+pooling+BN", "None", 0.934),
    ("2 Conv+2 FC", "Random Horizontal Flips", 0.939),
    ("3 Conv+pooling+2 FC+dropout", "None", 0.926),
    ("5 Conv+BN+pooling", "None", 0.931),
    ("VGG16 26M parameters", "None", 0.935),
    ("GoogleNet with cross-entropy loss", "None", 0.937),
    ("ResNet18", "normalization, flips, translation, rotation", 0.949),
    ("MobileNet", "augmentation (horizontal flips)", 0.950),
    ("DenseNet-BC 768K params", "mean/std, random crops/horizontal flips", 0.954),
    ("WRN-28-10", "mean/std, random crops/horizontal flips", 0.959),
    ("WRN40-4 8.9M params", "mean/std, random crops/horizontal flips", 0.967),
)


def published_table():
    """The PUBLISHED rows as a pandas DataFrame indexed by classifier, sorted
    by test accuracy."""
    import pandas as pd

    table = pd.DataFrame(PUBLISHED, columns=["classifier", "preprocessing", "test accuracy"])
    return table.sort_values("test accuracy", kind="stable").set_index("classifier")
