"""Tests of helpers.plots: each figure draws what it is given, and refuses
nonsense. (tests/conftest.py selects Matplotlib's Agg backend: no screen.)"""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from helpers import plots


def test_image_grid_layout_titles_and_row_labels():
    images = np.arange(7 * 4 * 4).reshape(7, 4, 4, 1)  # channel axis is dropped
    fig = plots.image_grid(images, titles=list("abcdefg"), ncols=3,
                           title_colors=["red"] * 7, row_labels=["r0", "r1", "r2"])
    axes = fig.get_axes()
    assert len(axes) == 9  # 3 rows of 3; the last two stay empty
    assert [ax.get_title() for ax in axes[:7]] == list("abcdefg")
    assert [len(ax.get_images()) for ax in axes] == [1] * 7 + [0, 0]
    np.testing.assert_array_equal(axes[4].get_images()[0].get_array(), images[4, :, :, 0])
    assert axes[0].get_images()[0].get_clim() == (images[0].min(), images[0].max())
    assert [t.get_text() for t in axes[3].texts] == ["r1"]
    plt.close(fig)


def test_image_grid_fewer_images_than_columns():
    fig = plots.image_grid(np.zeros((2, 5, 5)), ncols=10)
    assert len(fig.get_axes()) == 2
    plt.close(fig)


@pytest.mark.parametrize("kwargs, message", [
    ({"images": []}, "at least one image"),
    ({"images": np.zeros((2, 5, 5, 3))}, "grayscale"),
    ({"images": np.zeros((2, 5, 5)), "titles": ["only one"]}, "titles has 1 entries for 2 images"),
    ({"images": np.zeros((2, 5, 5)), "ncols": 0}, "ncols must be a positive integer"),
    ({"images": np.zeros((4, 5, 5)), "ncols": 2, "row_labels": ["a"]}, "row_labels has 1 entries for 2 rows"),
])
def test_image_grid_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        plots.image_grid(**kwargs)


def test_book_style_sets_the_image_colormap():
    plots.use_book_style()
    assert plt.rcParams["image.cmap"] == "gray_r"


def test_image_grid_shared_grey_scale():
    fig = plots.image_grid(np.ones((2, 3, 3)), vmin=0, vmax=255)
    assert [ax.get_images()[0].get_clim() for ax in fig.get_axes()] == [(0, 255), (0, 255)]
    plt.close(fig)


def test_with_thousands_formats_only_integer_columns():
    table = pd.DataFrame({"n": [56000800001, 7], "x": [0.5, 1.25], "s": ["a", "b"]})
    shown = plots.with_thousands(table)
    assert shown["n"].tolist() == ["56,000,800,001", "7"]
    assert shown["x"].tolist() == [0.5, 1.25] and shown["s"].tolist() == ["a", "b"]
    assert table["n"].dtype.kind == "i"  # the original is untouched


def test_plot_history_draws_training_and_validation():
    history = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "accuracy": [0.6, 0.8], "val_accuracy": [0.5, 0.7]}
    fig = plots.plot_history(history)
    axes = fig.get_axes()
    assert [ax.get_title() for ax in axes] == ["loss", "accuracy"]
    assert [len(ax.get_lines()) for ax in axes] == [2, 2]
    np.testing.assert_allclose(axes[1].get_lines()[1].get_ydata(), [0.5, 0.7])
    plt.close(fig)


def test_mistakes_gallery_shows_the_most_confident_mistakes_first():
    images = np.random.default_rng(0).random((5, 28, 28))
    labels = np.array([0, 1, 2, 0, 1])
    probabilities = np.array([[0.9, 0.1, 0.0],   # right
                              [0.6, 0.4, 0.0],   # wrong, 60%
                              [0.1, 0.9, 0.0],   # wrong, 90%
                              [0.2, 0.3, 0.5],   # wrong, 50%
                              [0.0, 1.0, 0.0]])  # right
    fig, wrong = plots.mistakes_gallery(images, labels, probabilities, ["a", "b", "c"], count=2)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert wrong == 3 and titles == ["true: c\npred: b (90%)", "true: b\npred: a (60%)"]
    plt.close(fig)
    with pytest.raises(ValueError, match="one row of class probabilities per example"):
        plots.mistakes_gallery(images, labels, probabilities[:4], ["a", "b", "c"])
    with pytest.raises(ValueError, match="every prediction is right"):
        plots.mistakes_gallery(images[:1], labels[:1], probabilities[:1], ["a", "b", "c"])


def test_plot_accuracy_against_time_uses_cumulative_minutes():
    fig = plots.plot_accuracy_against_time(
        {"m": {"val_accuracy": [0.5, 0.7], "seconds": [60, 120]}})
    x, y = fig.axes[0].lines[0].get_data()
    assert x.tolist() == [1, 3] and y.tolist() == [0.5, 0.7]
    plt.close(fig)
    with pytest.raises(ValueError, match="lacks seconds"):
        plots.plot_accuracy_against_time({"m": {"val_accuracy": [0.5]}})


def test_draw_matrix_shares_a_colour_scale_when_given_vmax():
    fig, (left, right) = plt.subplots(1, 2)
    plots.draw_matrix(left, [[1, 2], [3, 4]], vmax=8)
    plots.draw_matrix(right, [[1, 2], [3, 8]], vmax=8)
    assert left.images[0].get_clim() == right.images[0].get_clim() == (0, 8)
    plots.draw_matrix(left, [[-1, 2], [3, 4]], vmax=8)
    assert left.images[0].get_clim() == (-8, 8)  # symmetric when values go below zero
    with pytest.raises(ValueError, match="vmax must be positive"):
        plots.draw_matrix(left, [[1]], vmax=0)
    plt.close(fig)


def test_feature_maps_share_one_colour_scale_per_layer():
    image = np.zeros((28, 28, 1))
    first = np.zeros((4, 4, 3))
    first[..., 0], first[0, 0, 1] = 1.0, 5.0  # channel 2 stays zero
    last = np.array([[[2.0, 0.0, 8.0, 4.0]]])  # 1x1 maps, one channel more than the first layer
    fig = plots.feature_maps(image, [("first", first), ("last", last)], channels=4)
    axes = np.array(fig.axes[:10]).reshape(2, 5)  # then the two colour bars
    assert len(fig.axes) == 12
    assert axes[0, 0].get_ylabel() == "first\n4x4x3" and axes[1, 0].get_ylabel() == "last\n1x1x4"
    assert [ax.get_images()[0].get_clim() for ax in axes[0, 1:4]] == [(0.0, 5.0)] * 3
    assert [ax.get_images()[0].get_clim() for ax in axes[1, 1:]] == [(0.0, 8.0)] * 4
    assert not axes[0, 4].get_images() and not axes[0, 4].axison  # the first layer has 3 channels
    # A map of one value says so, instead of being an unexplained square.
    assert [[t.get_text() for t in ax.texts] for ax in axes[0, 1:4]] == [["all 1"], [], ["all 0"]]
    assert [ax.texts[0].get_text() for ax in axes[1, 1:]] == ["2", "0", "8", "4"]
    plt.close(fig)


def test_feature_maps_of_a_silent_layer_still_get_a_scale():
    fig = plots.feature_maps(np.zeros((5, 5)), [("dead", np.zeros((2, 2, 2)))])
    assert fig.axes[1].get_images()[0].get_clim() == (0.0, 1.0)
    plt.close(fig)


def test_feature_maps_can_show_the_strongest_channels_of_each_layer():
    last = np.zeros((1, 1, 6))
    last[..., 4], last[..., 1], last[..., 5] = 9.0, 3.0, 5.0  # channels 0, 2 and 3 stay zero
    fig = plots.feature_maps(np.zeros((5, 5)), [("last", last)], channels=3, strongest=True)
    axes = fig.axes[:4]
    assert axes[0].get_ylabel() == "last\n1x1x6\nstrongest"
    assert [ax.get_title() for ax in axes[1:]] == ["channel 4", "channel 5", "channel 1"]
    assert [ax.texts[0].get_text() for ax in axes[1:]] == ["9", "5", "3"]
    plt.close(fig)


@pytest.mark.parametrize("args, message", [
    ((np.zeros((5, 5)), []), "at least one"),
    ((np.zeros((5, 5, 3)), [("a", np.zeros((2, 2, 1)))]), "grayscale image"),
    ((np.zeros((5, 5)), [("a", np.zeros((2, 2)))]), "shape \\(height, width, channels\\)"),
])
def test_feature_maps_reject_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        plots.feature_maps(*args)


def test_plot_spread_draws_every_run_jittered_and_labels_the_counts():
    points = pd.DataFrame({"model": pd.Categorical(["a", "a", "a", "b"], categories=["a", "b", "c"]),
                           "test_accuracy": [0.9, 0.9, 0.9, 0.8]})
    ax = plots.plot_spread(points, reported={"a": 0.91}, title="t")
    dots = ax.collections[0].get_offsets()
    assert len(dots) == 3 and np.all(dots[:, 0] == 0.9)
    assert len(set(dots[:, 1])) == 3 and np.all(np.abs(dots[:, 1]) <= 0.2)  # equal runs pulled apart
    again = plots.plot_spread(points, reported={"a": 0.91}).collections[0].get_offsets()
    np.testing.assert_array_equal(dots, again)  # the same jitter every time: stable outputs
    # One row per group, first on top, each label with its number of runs.
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert [label.split(" ")[0] for label in labels] == ["a", "b", "c"]
    assert "3" in labels[0] and "1" in labels[1] and "no runs" in labels[2]
    crosses = [c for c in ax.collections if c.get_label() == "tutorial's figure"]
    assert len(crosses) == 1 and tuple(crosses[0].get_offsets()[0]) == (0.91, 0)
    assert ax.get_title() == "t"
    assert len(ax.get_legend_handles_labels()[1]) == 3  # the tutorial's figure, one run, mean ± sd
    plt.close("all")
    with pytest.raises(ValueError, match="empty"):
        plots.plot_spread(pd.DataFrame({"model": [], "test_accuracy": []}))


def test_plot_spread_marks_the_mean_and_sd_of_groups_with_two_runs_or_more():
    points = pd.DataFrame({"model": ["a", "a", "b"], "test_accuracy": [0.90, 0.92, 0.8]})
    fig, ax = plt.subplots()
    assert plots.plot_spread(points, ax=ax) is ax
    (bar,) = ax.containers  # one error bar: group "b" has a single run
    (line,) = bar.lines[2]
    np.testing.assert_allclose(line.get_segments()[0][:, 0], [0.91 - np.std([0.9, 0.92], ddof=1),
                                                              0.91 + np.std([0.9, 0.92], ddof=1)])
    plt.close(fig)


def test_heatmap_overlays_draw_every_map_over_its_image_on_one_colour_scale():
    images = np.random.default_rng(0).random((3, 6, 6, 1))
    maps = [np.linspace(0, 1, 108).reshape(3, 6, 6), np.zeros((3, 6, 6))]
    fig = plots.heatmap_overlays(images, maps, titles=["a", "b", "c"],
                                 row_labels=["image", "grad", "zero"], colorbar_label="share")
    axes, colorbar_axes = fig.get_axes()[:9], fig.get_axes()[9:]
    assert len(colorbar_axes) == 1  # one colour bar for every map
    assert [ax.get_title() for ax in axes[:3]] == ["a", "b", "c"]
    assert [axes[i].get_ylabel() for i in (0, 3, 6)] == ["image", "grad", "zero"]
    assert [len(ax.get_images()) for ax in axes] == [1] * 3 + [2] * 6  # image, then image + map
    for row, values in enumerate(maps, start=1):
        for column in range(3):
            image, overlay = axes[row * 3 + column].get_images()
            np.testing.assert_array_equal(image.get_array(), images[column, ..., 0])
            np.testing.assert_array_equal(overlay.get_array(), values[column])
            assert overlay.get_clim() == (0.0, 1.0)
    # A map is transparent where it is 0 and most opaque at its top value.
    opacity = axes[3].get_images()[1].get_alpha()
    assert opacity.min() == 0 and opacity.max() == pytest.approx(0.75 * maps[0][0].max())
    assert colorbar_axes[0].get_ylabel() == "share"
    plt.close(fig)


@pytest.mark.parametrize("kwargs, message", [
    ({"images": np.zeros((2, 5, 5, 3)), "maps": [np.zeros((2, 5, 5))]}, "grayscale"),
    ({"images": np.zeros((2, 5, 5)), "maps": []}, "at least one row"),
    ({"images": np.zeros((2, 5, 5)), "maps": [np.zeros((2, 4, 4))]}, r"maps\[0\] has shape \(2, 4, 4\)"),
    ({"images": np.zeros((2, 5, 5)), "maps": [np.zeros((2, 5, 5))], "titles": ["x"]}, "titles has 1"),
    ({"images": np.zeros((2, 5, 5)), "maps": [np.zeros((2, 5, 5))], "row_labels": ["x"]}, "row_labels has 1"),
    ({"images": np.zeros((2, 5, 5)), "maps": [np.zeros((2, 5, 5))], "vmin": 1, "vmax": 1}, "vmax must be above"),
])
def test_heatmap_overlays_reject_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        plots.heatmap_overlays(**kwargs)
