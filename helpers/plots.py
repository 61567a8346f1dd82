"""Figures shared by the chapters: one look for the whole book."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from helpers import compare, conv

# Figures are drawn at FIGURE_DPI pixels per inch, and the website shrinks a
# figure to its text column (about 805 px at a 1280-pixel window, 96 px to
# the inch). With no text below MIN_FONT_PT and no figure wider than
# MAX_FIGURE_INCHES (1,011 px with its tight margins), the smallest text
# reads at 11 pt x (100 / 96) x (805 / 1011) = 9.1 pt or more on the page (the browser test checks the
# shrinking, tests/test_plots.py the sizes).
FIGURE_DPI = 100
MIN_FONT_PT = 11
MAX_FIGURE_INCHES = 10.0


def use_book_style():
    """Apply the book's plotting style (seaborn's clean theme, crisp figures,
    no text below MIN_FONT_PT) and show pandas tables with every index value
    (no blanks where a value repeats the one above)."""
    import seaborn as sns

    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind")
    plt.rcParams.update({
        "figure.dpi": FIGURE_DPI,
        "savefig.dpi": 150,
        "font.size": MIN_FONT_PT,
        "axes.titlesize": MIN_FONT_PT + 1,
        "axes.labelsize": MIN_FONT_PT,
        "xtick.labelsize": MIN_FONT_PT,
        "ytick.labelsize": MIN_FONT_PT,
        "legend.fontsize": MIN_FONT_PT,
        "legend.title_fontsize": MIN_FONT_PT,
        "figure.titlesize": MIN_FONT_PT + 2,
        "image.cmap": "gray_r",  # dark ink on white paper, as the clothes were photographed
    })
    pd.set_option("display.multi_sparse", False)


def _fit_width(width: float, height: float) -> tuple:
    """(width, height) scaled down, keeping the shape, so that a figure is no
    wider than MAX_FIGURE_INCHES."""
    if width <= MAX_FIGURE_INCHES:
        return width, height
    return MAX_FIGURE_INCHES, height * MAX_FIGURE_INCHES / width


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
    # Room above each image for its title, one line at a time (the mistakes
    # gallery's titles have two), so that no title runs into the row above.
    lines = max(str(t).count("\n") + 1 for t in titles) if titles is not None else 0
    title_room = 0.1 + 0.25 * lines if titles is not None else 0.0
    fig, axes = plt.subplots(
        nrows, ncols, figsize=_fit_width(ncols * cell_size, nrows * (cell_size + title_room)),
        squeeze=False,
    )
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= len(images):
            continue
        ax.imshow(images[i], cmap=cmap, vmin=vmin, vmax=vmax)
        if titles is not None:
            color = title_colors[i] if title_colors is not None else "black"
            ax.set_title(titles[i], fontsize=MIN_FONT_PT, color=color)
        if row_labels is not None and i % ncols == 0:
            ax.text(-0.12, 0.5, row_labels[i // ncols], transform=ax.transAxes,
                    ha="right", va="center", fontsize=MIN_FONT_PT)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def draw_matrix(ax, values, title=None, border=(0, 0, 0, 0), highlight=None, hidden=None,
                cmap="Blues", fmt="{:g}", vmax=None):
    """Draw a small matrix as coloured cells with its numbers written in them.

    border: (top, bottom, left, right) rows/columns that are padding, drawn in
            grey; highlight: (row, col, height, width) of a red rectangle;
            hidden: boolean mask of cells left blank (not computed yet);
    vmax:   the largest magnitude of the colour scale (symmetric when the
            values go below zero). By default the largest shown value: give
            several panels the same vmax to make their colours comparable.
    """
    if vmax is not None and not vmax > 0:
        raise ValueError(f"vmax must be positive (or None to scale to the values), got {vmax}.")
    values = np.asarray(values, dtype=float)
    if values.ndim != 2:
        raise ValueError(f"draw_matrix draws 2-D arrays, got shape {values.shape}.")
    top, bottom, left, right = border
    rows, cols = values.shape
    is_pad = np.zeros(values.shape, dtype=bool)
    is_pad[:top], is_pad[rows - bottom:], is_pad[:, :left], is_pad[:, cols - right:] = True, True, True, True
    hidden = np.zeros(values.shape, dtype=bool) if hidden is None else np.asarray(hidden, dtype=bool)
    shown = np.where(hidden | is_pad, np.nan, values)
    finite = shown[np.isfinite(shown)]
    if vmax is None:
        vmax = max(np.abs(finite).max(), 1e-12) if finite.size else 1.0
    negative = np.nanmin(values, initial=0) < 0
    ax.clear()
    ax.imshow(np.where(is_pad & ~hidden, 0.0, shown), cmap=cmap, vmin=-vmax if negative else 0,
              vmax=vmax, alpha=0.6)
    for (r, c), v in np.ndenumerate(values):
        if hidden[r, c]:
            continue
        ax.text(c, r, fmt.format(v), ha="center", va="center", fontsize=MIN_FONT_PT,
                color="0.6" if is_pad[r, c] else "black")
    if border != (0, 0, 0, 0):
        ax.add_patch(plt.Rectangle((left - 0.5, top - 0.5), cols - left - right, rows - top - bottom,
                                   fill=False, edgecolor="0.3", linestyle="--", linewidth=1))
    if highlight is not None:
        r, c, h, w = highlight
        ax.add_patch(plt.Rectangle((c - 0.5, r - 0.5), w, h, fill=False, edgecolor="tab:red", linewidth=2.5))
    ax.set_xticks(np.arange(-0.5, cols), minor=True)
    ax.set_yticks(np.arange(-0.5, rows), minor=True)
    ax.grid(which="minor", color="white", linewidth=1.5)
    ax.grid(which="major", visible=False)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    ax.set_xlim(-0.5, cols - 0.5)
    ax.set_ylim(rows - 0.5, -0.5)
    if title:
        ax.set_title(title, fontsize=MIN_FONT_PT)


def _panel_widths(image, kernel, stride, padding):
    """Relative widths of the input, kernel and output panels: one unit a cell."""
    image, kernel = np.asarray(image), np.asarray(kernel)
    padded = image.shape[1] + sum(conv.padding_amounts(image.shape[1], kernel.shape[1], stride, padding))
    out = conv.output_size(image.shape[1], kernel.shape[1], stride, padding)
    return [padded, kernel.shape[1], out]


def _convolution_frame(axes, image, kernel, stride, padding, step):
    """Draw input (padded), kernel and output with the window at position `step`."""
    image, kernel = np.asarray(image, dtype=float), np.asarray(kernel, dtype=float)
    (sh, sw), (kh, kw) = conv.as_pair(stride, "stride"), kernel.shape
    (top, bottom), (left, right) = (conv.padding_amounts(n, k, s, padding)
                                    for n, k, s in zip(image.shape, (kh, kw), (sh, sw)))
    padded = np.pad(image, ((top, bottom), (left, right)))
    out = conv.conv2d(image, kernel, stride=stride, padding=padding)
    r, c = divmod(step, out.shape[1])
    label = padding if isinstance(padding, str) else f"padding={padding}"
    draw_matrix(axes[0], padded, f"input ({label}, stride {sh})", border=(top, bottom, left, right),
                highlight=(r * sh, c * sw, kh, kw), cmap="Greys")
    draw_matrix(axes[1], kernel, "kernel", cmap="RdBu_r" if (kernel < 0).any() else "Purples")
    draw_matrix(axes[2], out, f"output {out.shape[0]}x{out.shape[1]}",  # one scale for every step
                hidden=np.arange(out.size).reshape(out.shape) > step, highlight=(r, c, 1, 1), cmap="Oranges",
                vmax=max(np.abs(out).max(), 1e-12))
    window = padded[r * sh:r * sh + kh, c * sw:c * sw + kw]
    terms = " + ".join(f"{a:g}·{b:g}" for a, b in zip(window.ravel(), kernel.ravel()))
    return f"{terms} = {out[r, c]:g}"


def convolution_steps(image, kernel, stride=1, padding="valid", steps=None):
    """A figure with one row per step of a convolution: the window on the input,
    the kernel, and the output filled in up to that step. Default steps: the
    first two and the last."""
    n_out = np.prod(conv.conv2d(image, kernel, stride=stride, padding=padding).shape)
    steps = (0, 1, n_out - 1) if steps is None else steps
    if any(not 0 <= s < n_out for s in steps):
        raise ValueError(f"steps must lie in 0..{n_out - 1} (the output has {n_out} cells), got {list(steps)}.")
    image = np.asarray(image)
    widths = _panel_widths(image, kernel, stride, padding)
    fig, axes = plt.subplots(len(steps), 3, figsize=_fit_width(0.42 * sum(widths) + 1.5,
                                                            len(steps) * (0.42 * widths[0] + 0.7)),
                             gridspec_kw={"width_ratios": widths}, squeeze=False, layout="constrained")
    for row, step in zip(axes, steps):
        equation = _convolution_frame(row, image, kernel, stride, padding, step)
        row[0].set_xlabel(f"step {step + 1}: {equation}", fontsize=MIN_FONT_PT, loc="left")
    return fig


def animate_convolution(image, kernel, stride=1, padding="valid", interval=700):
    """A matplotlib animation of the kernel sliding over the image, one frame
    per output cell. Show it with IPython.display.HTML(anim.to_jshtml())."""
    from matplotlib.animation import FuncAnimation

    n_out = int(np.prod(conv.conv2d(image, kernel, stride=stride, padding=padding).shape))
    widths = _panel_widths(image, kernel, stride, padding)
    fig, axes = plt.subplots(1, 3, figsize=_fit_width(0.42 * sum(widths) + 1.5, 0.42 * widths[0] + 1.0),
                             gridspec_kw={"width_ratios": widths}, layout="constrained")

    def frame(step):
        equation = _convolution_frame(axes, image, kernel, stride, padding, step)
        axes[0].set_xlabel(f"step {step + 1}: {equation}", fontsize=MIN_FONT_PT, loc="left")

    frame(0)
    return FuncAnimation(fig, frame, frames=n_out, interval=interval)


def animation_html(animation, dpi=72):
    """The animation as self-contained HTML/JavaScript frames (plays on a static
    web page), at a modest resolution to keep the notebook small. Closes the
    figure so that it is not shown a second time as a still image."""
    from IPython.display import HTML

    with plt.rc_context({"savefig.dpi": dpi}):
        html = animation.to_jshtml(default_mode="once")
    plt.close(animation._fig)
    return HTML(html)


def with_thousands(table):
    """A copy of a DataFrame with its integer columns written with thousands
    separators (56,000,800,001), for display only: the numbers become text."""
    from pandas.api.types import is_integer_dtype

    table = table.copy()
    for column in table.columns:
        if is_integer_dtype(table[column].dtype):
            table[column] = table[column].map("{:,}".format)
    return table


def plot_history(history, title=None):
    """Loss and accuracy per epoch, training vs validation, side by side."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), layout="constrained")
    epochs = np.arange(1, len(history["loss"]) + 1)
    for ax, metric in zip(axes, ["loss", "accuracy"]):
        ax.plot(epochs, history[metric], "o-", label="training")
        if f"val_{metric}" in history:
            ax.plot(epochs, history[f"val_{metric}"], "s-", label="validation")
        ax.set(xlabel="epoch", ylabel=metric, title=metric)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.legend()
    if title:
        fig.suptitle(title)
    return fig


def feature_maps(image, activations, channels=8, cmap="magma", cell_size=1.2, strongest=False):
    """The feature maps of one image, one row per layer: the image, then the
    first `channels` maps of the layer.

    `activations` is a list of (label, array of shape (height, width,
    channels)), as `models.conv_activations` returns. The maps of a row share
    one colour scale, from 0 (or the row's lowest value, if lower) to the
    row's highest, shown by the row's colour bar: the maps of a layer can be
    compared, and black means zero. A map that holds a single value (a 1x1
    map, or a channel that did not respond) has that value written on it.

    With `strongest`, each row shows the `channels` maps with the highest
    values for this image instead of the first ones (deep layers leave many
    channels at zero for any one image), each titled with its channel number.
    """
    image = np.squeeze(np.asarray(image))
    if image.ndim != 2:
        raise ValueError(f"feature_maps draws a grayscale image (2-D array), got shape {image.shape}.")
    if not activations:
        raise ValueError("feature_maps needs at least one (layer name, maps) pair; got none.")
    if channels < 1:
        raise ValueError(f"channels must be a positive integer, got {channels}.")
    layers = [(name, np.asarray(maps, dtype=float)) for name, maps in activations]
    for name, maps in layers:
        if maps.ndim != 3:
            raise ValueError(f"the maps of {name!r} must have shape (height, width, channels), got {maps.shape}.")
    columns = min(channels, max(maps.shape[-1] for _, maps in layers))
    fig, axes = plt.subplots(len(layers), columns + 1, squeeze=False, layout="constrained",
                             figsize=_fit_width((columns + 1) * cell_size + 0.9, len(layers) * cell_size + 0.2))
    for row, (name, maps) in zip(axes, layers):
        height, width, count = maps.shape
        picked = (np.argsort(-maps.max(axis=(0, 1)), kind="stable") if strongest
                  else np.arange(count))[:min(columns, count)]
        shown = maps[:, :, picked]
        low, high = min(0.0, shown.min()), shown.max()
        high = high if high > low else low + 1.0  # a row of zeros still gets a scale
        row[0].imshow(image, cmap="gray_r")
        row[0].set_ylabel(f"{name}\n{height}x{width}x{count}" + ("\nstrongest" if strongest else ""),
                          fontsize=MIN_FONT_PT)
        for channel, ax in enumerate(row[1:]):
            if channel >= shown.shape[-1]:
                ax.axis("off")
                continue
            values = shown[:, :, channel]
            drawn = ax.imshow(values, cmap=cmap, vmin=low, vmax=high)
            if strongest:
                ax.set_title(f"channel {picked[channel]}", fontsize=MIN_FONT_PT, pad=2)
            if values.min() == values.max():
                value = values.flat[0]
                light = (value - low) / (high - low) > 0.6  # magma is light at the top
                ax.text(0.5, 0.5, f"{value:.2g}" if values.size == 1 else f"all {value:.2g}",
                        transform=ax.transAxes, ha="center", va="center", fontsize=MIN_FONT_PT,
                        color="black" if light else "white")
        colorbar = fig.colorbar(drawn, ax=list(row[1:]), fraction=0.05, pad=0.01, aspect=8)
        colorbar.ax.tick_params(labelsize=7)
        for ax in row:
            ax.set_xticks([]), ax.set_yticks([])
            ax.grid(False)
    return fig


def mistakes_gallery(images, labels, probabilities, class_names, count=20, ncols=5, suptitle=None):
    """The misclassified images a model was most sure of, each titled with its
    true class, the predicted class (the argmax) and the probability given to it.

    Returns (figure, number of misclassified images).
    """
    probabilities = np.asarray(probabilities)
    labels = np.asarray(labels)
    if probabilities.ndim != 2 or len(probabilities) != len(labels) or len(images) != len(labels):
        raise ValueError("mistakes_gallery needs one image, one label and one row of class "
                         f"probabilities per example; got {len(images)} images, {len(labels)} labels "
                         f"and probabilities of shape {probabilities.shape}.")
    predicted = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1)
    wrong = np.flatnonzero(predicted != labels)
    if not len(wrong):
        raise ValueError("no misclassified images to show: every prediction is right.")
    shown = wrong[np.argsort(-confidence[wrong], kind="stable")][:count]  # most confident first
    titles = [f"true: {class_names[labels[i]]}\npred: {class_names[predicted[i]]} "
              f"({confidence[i]:.0%})" for i in shown]
    fig = image_grid(np.asarray(images)[shown], titles=titles, ncols=ncols, cell_size=1.9,
                     title_colors=["tab:red"] * len(shown), suptitle=suptitle)
    return fig, len(wrong)


def plot_accuracy_against_time(histories, title=None):
    """Validation accuracy after each epoch against the training seconds spent
    so far, one line per model. `histories` maps a model's name to its history
    (with "val_accuracy" and "seconds" per epoch, as the results files keep it)."""
    fig, ax = plt.subplots(figsize=(8, 4.2), layout="constrained")
    for name, history in histories.items():
        missing = {"val_accuracy", "seconds"} - set(history)
        if missing:
            raise ValueError(f"the history of {name!r} lacks {', '.join(sorted(missing))}; "
                             "pass the histories of the results files (results.read_results), "
                             "which keep the seconds of every epoch.")
        minutes = np.cumsum(history["seconds"]) / 60
        ax.plot(minutes, history["val_accuracy"], "o-", label=name, markersize=4)
    ax.set(xlabel="training time (minutes, cumulative)", ylabel="validation accuracy", title=title)
    ax.legend(loc="lower right")
    return fig


def plot_spread(points: pd.DataFrame, by="model", value="test_accuracy", reported=None, ax=None,
                jitter=0.2, seed=0, title=None):
    """A strip plot: one row per group of `by`, one dot per run, jittered up
    and down at random (a fixed `seed`) so that runs with equal or close
    values stay visible, and a black bar at each group's mean ± sd. Row
    labels give the number of runs; the legend entries (`ax.legend()` shows
    them) are "one run", "mean ± sd" and, with `reported`, "tutorial's figure". `reported` maps groups to a figure to
    mark with a black cross (a tutorial's). Returns the axes.
    """
    summary = compare.spread(points, by=by, value=value)
    if summary.empty:
        raise ValueError("no groups to plot: `points` is empty and its column has no categories.")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.5 * len(summary) + 1.2), layout="constrained")
    rng = np.random.default_rng(seed)
    reported = reported or {}
    for row, (group, stats) in enumerate(summary.iterrows()):
        values = points.loc[points[by] == group, value].astype(float).to_numpy()
        ax.scatter(values, row + rng.uniform(-jitter, jitter, len(values)), s=36, alpha=0.75,
                   color=f"C{row % 10}", zorder=3)
        if stats["n"] >= 2:
            ax.errorbar(stats["mean"], row, xerr=stats["sd"], fmt="|", color="black", markersize=14,
                        capsize=0, linewidth=1.2, zorder=2)
        if reported.get(group) is not None:
            ax.scatter(reported[group], row, marker="x", s=70, color="black", zorder=4,
                       label="tutorial's figure" if not any(
                           t.get_label() == "tutorial's figure" for t in ax.collections) else None)
    # Legend entries for what every row shows, in neutral colours.
    ax.scatter([], [], s=36, color="0.5", label="one run")
    ax.plot([], [], color="black", marker="|", markersize=14, label="mean ± sd")
    labels = [f"{group} ({'no runs yet' if n == 0 else f'{n} run' + ('s' if n > 1 else '')})"
              for group, n in summary["n"].items()]
    ax.set_yticks(range(len(summary)), labels)
    ax.set_ylim(len(summary) - 0.5, -0.5)  # first group on top
    ax.set_xlabel(value.replace("_", " "))
    if title:
        ax.set_title(title)
    return ax


def heatmap_overlays(images, maps, titles=None, row_labels=None, cmap="Reds", alpha=0.75, vmin=0.0,
                     vmax=1.0, colorbar_label=None, cell_size=1.6):
    """Maps of where a model looks, drawn over the images they explain: one
    column per image, the image alone in the first row, then one row per kind
    of map (Grad-CAM, occlusion, saliency...), each map drawn over its image.

    `images` is (count, height, width) or (count, height, width, 1); `maps` a
    sequence of arrays of shape (count, height, width), one per row. Every map
    is drawn on one colour scale, `vmin` to `vmax` (by default 0 to 1, for
    maps divided by their maximum), shown by one colour bar; a map is the more
    opaque the higher its value, so that the garment shows through where the
    map is low. `titles` has one string per image, `row_labels` one per row
    (the image row included). Draws only: compute the maps before. Returns
    the figure.
    """
    from matplotlib import cm, colors

    images = np.asarray(images, dtype=float)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3 or not len(images):
        raise ValueError("heatmap_overlays draws grayscale images, shape (count, height, width); "
                         f"got shape {images.shape}.")
    maps = [np.asarray(m, dtype=float) for m in maps]
    if not maps:
        raise ValueError("heatmap_overlays needs at least one row of maps; got none.")
    for row, values in enumerate(maps):
        if values.shape != images.shape:
            raise ValueError(f"maps[{row}] has shape {values.shape}; each row of maps must have the "
                             f"images' shape {images.shape}.")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"titles has {len(titles)} entries for {len(images)} images; give one per image.")
    if row_labels is not None and len(row_labels) != len(maps) + 1:
        raise ValueError(f"row_labels has {len(row_labels)} entries for {len(maps) + 1} rows (the images, "
                         "then one row per map); give one per row.")
    if not vmax > vmin:
        raise ValueError(f"vmax must be above vmin, got vmin={vmin} and vmax={vmax}.")
    count, rows = len(images), len(maps) + 1
    fig, axes = plt.subplots(rows, count, squeeze=False, layout="constrained",
                             figsize=_fit_width(count * cell_size + 1.6, rows * cell_size + 0.4))
    norm = colors.Normalize(vmin=vmin, vmax=vmax)
    for column in range(count):
        for row in range(rows):
            ax = axes[row, column]
            ax.imshow(images[column], cmap="gray_r", vmin=0, vmax=max(1.0, images[column].max()))
            if row > 0:
                values = maps[row - 1][column]
                opacity = alpha * np.clip(norm(values), 0, 1)
                ax.imshow(values, cmap=cmap, norm=norm, alpha=np.asarray(opacity, dtype=float))
            ax.set_xticks([]), ax.set_yticks([])
            ax.grid(False)
            if row == 0 and titles is not None:
                ax.set_title(titles[column], fontsize=MIN_FONT_PT)
            if column == 0 and row_labels is not None:
                ax.set_ylabel(row_labels[row], fontsize=MIN_FONT_PT)
    colorbar = fig.colorbar(cm.ScalarMappable(norm=norm, cmap=cmap), ax=axes.ravel().tolist(),
                            fraction=0.04, pad=0.02, aspect=15)
    if colorbar_label:
        colorbar.set_label(colorbar_label, fontsize=MIN_FONT_PT)
    colorbar.ax.tick_params(labelsize=MIN_FONT_PT)
    return fig
