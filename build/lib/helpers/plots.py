"""Figures shared by the chapters: one look for the whole book."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np


def use_book_style():
    """Apply the book's plotting style (seaborn's clean theme, crisp figures)."""
    import seaborn as sns

    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind")
    plt.rcParams.update({
        "figure.dpi": 100,
        "savefig.dpi": 150,
        "axes.titlesize": "medium",
        "image.cmap": "gray_r",  # dark ink on white paper, as the clothes were photographed
    })


def image_grid(images, titles=None, ncols=10, cell_size=1.25, cmap="gray_r", suptitle=None,
               title_colors=None, row_labels=None, vmin=None, vmax=None):
    """Draw images in a grid, each with an optional title; return the figure.

    `images` is a sequence of 2-D arrays (or (h, w, 1) arrays). `titles`, if
    given, has one string per image; `title_colors` one colour per title (the
    misclassification gallery marks wrong predictions in red); `row_labels`
    one label per row, written left of the row. `vmin`/`vmax` fix the
    grey scale shared by all images (default: each image spans the full scale).
    """
    images = [np.squeeze(np.asarray(img)) for img in images]
    if not images:
        raise ValueError("image_grid needs at least one image; got an empty sequence.")
    if any(img.ndim != 2 for img in images):
        shapes = sorted({img.shape for img in images if img.ndim != 2})
        raise ValueError(f"image_grid draws grayscale images (2-D arrays); got shapes {shapes}.")
    for name, values in (("titles", titles), ("title_colors", title_colors)):
        if values is not None and len(values) != len(images):
            raise ValueError(f"{name} has {len(values)} entries for {len(images)} images; give one per image.")
    if ncols < 1:
        raise ValueError(f"ncols must be a positive integer, got {ncols}.")

    ncols = min(ncols, len(images))
    nrows = math.ceil(len(images) / ncols)
    if row_labels is not None and len(row_labels) != nrows:
        raise ValueError(f"row_labels has {len(row_labels)} entries for {nrows} rows; give one per row.")
    title_room = 0.35 if titles is not None else 0.0
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(ncols * cell_size, nrows * (cell_size + title_room)),
        squeeze=False,
    )
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= len(images):
            continue
        ax.imshow(images[i], cmap=cmap, vmin=vmin, vmax=vmax)
        if titles is not None:
            color = title_colors[i] if title_colors is not None else "black"
            ax.set_title(titles[i], fontsize=8, color=color)
        if row_labels is not None and i % ncols == 0:
            ax.text(-0.12, 0.5, row_labels[i // ncols], transform=ax.transAxes,
                    ha="right", va="center", fontsize=10)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig
