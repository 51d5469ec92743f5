import numpy as np
import pytest

from glassnet.evaluation import confusion_matrix

matplotlib = pytest.importorskip("matplotlib")

from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.image import imread  # noqa: E402

from glassnet.report import (  # noqa: E402
    plot_confusion_matrix,
    plot_filters,
    plot_history,
    plot_learning_rate,
    plot_misclassified,
    plot_per_class_error,
    plot_training_curves,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DPI = 50


def assert_png_of(fig, path):
    """The file is a PNG whose pixel size is the figure's size at DPI."""
    assert isinstance(fig, Figure)
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    width, height = np.round(fig.get_size_inches() * DPI).astype(int)
    assert imread(path).shape[:2] == (height, width)


def assert_nothing_cut_off(fig, path):
    """Each axes' drawn extent (labels, ticks, title) lies inside the figure, and
    the saved PNG's non-white pixels keep clear of its edges (a cut label
    touches one)."""
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    inside = fig.bbox.padded(-1)
    for ax in fig.axes:
        box = ax.get_tightbbox(renderer)
        assert inside.x0 <= box.x0 and box.x1 <= inside.x1, (ax.get_title(), box)
        assert inside.y0 <= box.y0 and box.y1 <= inside.y1, (ax.get_title(), box)
    pixels = imread(path)[..., :3]
    ink_rows, ink_cols = np.nonzero((pixels < 0.99).any(axis=-1))
    assert ink_rows.min() > 0 and ink_rows.max() < pixels.shape[0] - 1
    assert ink_cols.min() > 0 and ink_cols.max() < pixels.shape[1] - 1


def assert_integer_ticks(ax):
    ticks = ax.get_xticks()
    assert len(ticks) >= 2
    np.testing.assert_array_equal(ticks, np.round(ticks))


@pytest.fixture
def labels(rng):
    y_true = rng.integers(0, 4, 40)
    y_pred = np.where(rng.random(40) < 0.6, y_true, rng.integers(0, 4, 40))
    return y_true, y_pred


def test_training_curves_take_solver_histories_and_save_two_panels(tmp_path):
    path = tmp_path / "curves.png"
    loss = [2.3, 2.0, float("nan"), 1.2, 1.0]  # a NaN loss still plots
    fig = plot_training_curves(loss, [0.2, 0.4], [0.15, 0.3], path, dpi=DPI)
    assert_png_of(fig, path)
    assert [ax.get_title() for ax in fig.axes] == ["Training loss", "Accuracy"]
    assert fig.axes[0].get_xlabel() == "Iteration"
    assert_nothing_cut_off(fig, path)


def test_training_curves_number_the_solvers_first_check_epoch_0(tmp_path):
    # A Solver of 3 epochs checks accuracy 4 times; its log says "(Epoch 0 / 3)"
    # for the first check, made after the first iteration.
    train, val = [0.1, 0.5, 0.7, 0.8], [0.1, 0.4, 0.5, 0.6]
    fig = plot_training_curves([2.3] * 30, train, val, tmp_path / "c.png", dpi=DPI)
    acc = fig.axes[1]
    assert acc.get_xlabel() == "Epoch"
    assert [line.get_label() for line in acc.get_lines()] == ["train", "val"]
    for line, values in zip(acc.get_lines(), (train, val), strict=True):
        np.testing.assert_array_equal(line.get_xdata(), [0, 1, 2, 3])
        np.testing.assert_array_equal(line.get_ydata(), values)
    assert_integer_ticks(acc)
    # A one-iteration epoch makes the first check the end of epoch 1.
    fig = plot_training_curves([2.3] * 4, train, val, first_epoch=1)
    np.testing.assert_array_equal(fig.axes[1].get_lines()[0].get_xdata(), [1, 2, 3, 4])


def test_training_curves_do_not_save_without_a_path(tmp_path):
    fig = plot_training_curves([1.0], [], [])
    assert isinstance(fig, Figure)
    assert list(tmp_path.iterdir()) == []


def test_history_accepts_a_keras_dict_with_short_accuracy_keys(tmp_path):
    path = tmp_path / "history.png"
    history = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "acc": [0.5, 0.8]}
    fig = plot_history(history, path, dpi=DPI)
    assert_png_of(fig, path)
    assert len(fig.axes[0].get_lines()) == 2
    assert [line.get_label() for line in fig.axes[1].get_lines()] == ["train"]


def test_history_shows_both_losses_on_one_panel_and_both_accuracies_on_another(
    tmp_path,
):
    path = tmp_path / "history.png"
    history = {
        "loss": [1.2, 0.8, 0.6, 0.5, 0.45],
        "val_loss": [1.3, 0.9, 0.8, 0.75, 0.74],
        "accuracy": [0.6, 0.75, 0.8, 0.85, 0.87],
        "val_accuracy": [0.55, 0.7, 0.74, 0.76, 0.77],
    }
    fig = plot_history(history, path, dpi=DPI)
    assert [ax.get_title() for ax in fig.axes] == ["Loss", "Accuracy"]
    expected = (("loss", "val_loss"), ("accuracy", "val_accuracy"))
    for ax, keys in zip(fig.axes, expected, strict=True):
        assert ax.get_xlabel() == "Epoch"
        lines = ax.get_lines()
        assert [line.get_label() for line in lines] == ["train", "val"]
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train", "val"]
        for line, key in zip(lines, keys, strict=True):
            # fit prints epochs from 1.
            np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3, 4, 5])
            np.testing.assert_array_equal(line.get_ydata(), history[key])
        assert_integer_ticks(ax)
    assert_nothing_cut_off(fig, path)


def test_history_ticks_stay_whole_epochs_for_a_two_epoch_run():
    fig = plot_history({"loss": [1.0, 0.5], "accuracy": [0.5, 0.7]})
    for ax in fig.axes:
        assert_integer_ticks(ax)


def test_history_accepts_an_object_holding_the_dict(tmp_path):
    class History:
        history = {"loss": [1.0], "accuracy": [0.5], "val_accuracy": [0.4]}

    path = tmp_path / "h.png"
    assert_png_of(plot_history(History(), path, dpi=DPI), path)


def test_confusion_matrix_heatmap_labels_every_cell_with_its_count(tmp_path, labels):
    cm = confusion_matrix(*labels, 4)
    path = tmp_path / "cm.png"
    fig = plot_confusion_matrix(cm, ["a", "b", "c", "d"], path=path, dpi=DPI)
    assert_png_of(fig, path)
    texts = sorted(int(t.get_text()) for t in fig.axes[0].texts)
    assert texts == sorted(cm.ravel().tolist())


def test_normalized_confusion_matrix_shows_row_fractions(tmp_path):
    cm = np.array([[3, 1], [0, 0]])
    fig = plot_confusion_matrix(cm, normalize=True, path=tmp_path / "n.png", dpi=DPI)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["0.75", "0.25", "0.00", "0.00"]  # 3/4, 1/4, empty row -> 0


def test_confusion_matrix_draws_into_a_given_axes(labels):
    fig = Figure()
    ax = fig.add_subplot()
    assert plot_confusion_matrix(confusion_matrix(*labels), ax=ax) is fig


@pytest.mark.parametrize("from_cm", [True, False])
def test_per_class_error_bars_from_a_matrix_or_rates(tmp_path, labels, from_cm):
    cm = confusion_matrix(*labels, 4)
    arg = cm if from_cm else 1 - np.diag(cm) / cm.sum(axis=1)
    path = tmp_path / "err.png"
    fig = plot_per_class_error(arg, list("wxyz"), path, dpi=DPI)
    assert_png_of(fig, path)
    heights = [bar.get_height() for bar in fig.axes[0].patches]
    np.testing.assert_allclose(heights, 1 - np.diag(cm) / cm.sum(axis=1))


def test_per_class_error_axis_scales_to_small_rates(tmp_path):
    path = tmp_path / "err.png"
    rates = np.array([0.02, 0.005, 0.0, 0.01])
    fig = plot_per_class_error(rates, list("abcd"), path, dpi=DPI)
    ax = fig.axes[0]
    bottom, top = ax.get_ylim()
    assert bottom == 0.0
    assert 0.02 < top <= 0.03  # the tallest bar fills most of the axis, not 2%
    labels = [t.get_text() for t in ax.texts]
    assert labels == ["2.0%", "0.5%", "0.0%", "1.0%"]
    assert_nothing_cut_off(fig, path)


def test_per_class_error_axis_stops_at_1_and_keeps_0_to_1_without_errors():
    assert plot_per_class_error(np.array([0.95, 0.1])).axes[0].get_ylim()[1] == 1.0
    assert plot_per_class_error(np.zeros(3)).axes[0].get_ylim() == (0.0, 1.0)


@pytest.mark.parametrize(
    ("shape", "layout"),
    [
        ((6, 3, 5, 5), "auto"),  # course, RGB
        ((5, 5, 1, 7), "auto"),  # Keras, grey
        ((3, 3, 3, 3), "keras"),  # ambiguous, told explicitly
    ],
)
def test_filters_grid_handles_course_and_keras_layouts(tmp_path, rng, shape, layout):
    path = tmp_path / "filters.png"
    weights = rng.standard_normal(shape).astype(np.float32)
    fig = plot_filters(weights, path, layout=layout, dpi=DPI)
    assert_png_of(fig, path)
    grid = fig.axes[0].get_images()[0].get_array()
    assert grid.min() >= 0.0
    assert grid.max() <= 1.0


def test_filters_of_a_512_unit_dense_layer_show_the_first_64(tmp_path, rng):
    path = tmp_path / "filters.png"
    # A Dense kernel on 28x28 grey images, reshaped as glassnet train does.
    weights = rng.standard_normal((28, 28, 1, 512))
    fig = plot_filters(weights, path, layout="keras", dpi=DPI)
    assert_png_of(fig, path)
    ax = fig.axes[0]
    assert ax.get_title() == "first 64 of 512 filters"
    grid = ax.get_images()[0].get_array()
    assert grid.shape == (8 * 29 - 1, 8 * 29 - 1)  # 8 x 8 tiles, 1-pixel gaps
    first, last = weights[:, :, 0, 0], weights[:, :, 0, 63]
    np.testing.assert_allclose(grid[:28, :28], (first - first.min()) / np.ptp(first))
    np.testing.assert_allclose(grid[-28:, -28:], (last - last.min()) / np.ptp(last))
    assert_nothing_cut_off(fig, path)


def test_filters_title_counts_them_all_when_all_are_shown(rng):
    weights = rng.standard_normal((6, 3, 5, 5))
    assert plot_filters(weights).axes[0].get_title() == "6 filters"
    fig = plot_filters(weights, max_filters=4)
    assert fig.axes[0].get_title() == "first 4 of 6 filters"


@pytest.mark.parametrize("shape", [(12, 6, 6), (12, 6, 6, 1), (12, 6, 6, 3)])
def test_misclassified_titles_say_which_label_is_true_and_which_predicted(
    tmp_path, rng, shape
):
    y_true = np.arange(12) % 3
    y_pred = y_true.copy()
    y_pred[[1, 4, 7]] = [0, 2, 0]
    images = rng.integers(0, 256, shape).astype(np.uint8)
    path = tmp_path / "wrong.png"
    fig = plot_misclassified(
        images, y_true, y_pred, ["a", "b", "c"], max_images=2, path=path, dpi=DPI
    )
    assert_png_of(fig, path)
    assert [ax.get_title() for ax in fig.axes] == [
        "true: b\npredicted: a",
        "true: b\npredicted: c",
    ]
    assert_nothing_cut_off(fig, path)


def test_misclassified_notes_when_every_prediction_is_right(tmp_path):
    y = np.array([0, 1])
    fig = plot_misclassified(np.zeros((2, 4, 4)), y, y, path=tmp_path / "ok.png")
    assert "no misclassified" in fig.texts[0].get_text()


def test_learning_rate_per_epoch_as_train_logs_it_says_epoch_from_1(tmp_path):
    path = tmp_path / "learning_rate.png"
    # History.history["learning_rate"] of a ReduceLROnPlateau run: one per epoch.
    lrs = [1e-3] * 4 + [5e-4] * 3 + [2.5e-4] * 3
    fig = plot_learning_rate(lrs, path, dpi=DPI)
    assert_png_of(fig, path)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "Epoch"
    assert ax.get_ylabel() == "learning rate"
    assert ax.get_title() == "Learning rate per epoch"
    np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), np.arange(1, 11))
    assert_integer_ticks(ax)
    assert_nothing_cut_off(fig, path)


def test_learning_rate_per_step_counts_steps_from_0(tmp_path):
    path = tmp_path / "lr.png"
    fig = plot_learning_rate(0.1 * 0.99 ** np.arange(300), path, per="step", dpi=DPI)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "Step"
    assert ax.get_lines()[0].get_xdata()[0] == 0
    assert_nothing_cut_off(fig, path)


def test_learning_rate_uses_a_log_axis_for_a_wide_range(tmp_path):
    path = tmp_path / "lr.png"
    fig = plot_learning_rate(1e-2 * 0.5 ** np.arange(10), path, dpi=DPI)
    assert_png_of(fig, path)
    assert fig.axes[0].get_yscale() == "log"
    assert plot_learning_rate([0.1, 0.1]).axes[0].get_yscale() == "linear"


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: plot_training_curves([], [], []), "loss_history"),
        (lambda: plot_training_curves([[1.0]], [], []), "loss_history"),
        (lambda: plot_training_curves([1.0], [0.1], []), "val_acc_history"),
        (lambda: plot_training_curves(["x"], [], []), "loss_history"),
        (lambda: plot_training_curves([1.0], [], [], path=3), "path"),
        (lambda: plot_history({"acc": [1.0]}), "history"),
        (lambda: plot_history([1.0]), "history"),
        (lambda: plot_confusion_matrix(np.zeros((2, 3))), "cm"),
        (lambda: plot_confusion_matrix(np.eye(2), ["a"]), "class_names"),
        (lambda: plot_per_class_error(np.array([0.5, 1.5])), "cm_or_rates"),
        (lambda: plot_per_class_error(np.zeros((2, 2, 2))), "cm_or_rates"),
        (lambda: plot_filters(np.zeros((3, 3, 3))), "weights"),
        (lambda: plot_filters(np.zeros((4, 2, 3, 3)), layout="course"), "weights"),
        (lambda: plot_filters(np.zeros((3, 3, 3, 3))), "layout"),
        (lambda: plot_filters(np.zeros((4, 3, 3, 3)), layout="nchw"), "layout"),
        (lambda: plot_filters(np.zeros((4, 3, 3, 3)), max_filters=0), "max_filters"),
        (lambda: plot_training_curves([1.0], [], [], first_epoch=-1), "first_epoch"),
        (lambda: plot_misclassified(np.zeros((2, 4)), [0, 1], [0, 1]), "images"),
        (lambda: plot_misclassified(np.zeros((2, 4, 4, 2)), [0, 1], [0, 1]), "images"),
        (lambda: plot_misclassified(np.zeros((3, 4, 4)), [0, 1], [0, 1]), "images"),
        (lambda: plot_misclassified(np.zeros((2, 4, 4)), [0, 1], [0]), "y_pred"),
        (
            lambda: plot_misclassified(np.zeros((2, 4, 4)), [0, 1], [1, 0], ["a"]),
            "y_true",
        ),
        (
            lambda: plot_misclassified(np.zeros((1, 4, 4)), [0], [1], max_images=0),
            "max_images",
        ),
        (lambda: plot_learning_rate([]), "lrs"),
        (lambda: plot_learning_rate([0.1, -0.1]), "lrs"),
        (lambda: plot_learning_rate([0.1], per="batch"), "per"),
        (lambda: plot_learning_rate([0.1], dpi=0, path="x.png"), "dpi"),
    ],
)
def test_bad_arguments_raise_value_errors_naming_them(call, name):
    with pytest.raises(ValueError, match=name):
        call()
