import numpy as np
import pytest

from glassnet.evaluation import confusion_matrix

matplotlib = pytest.importorskip("matplotlib")

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


@pytest.fixture
def labels(rng):
    y_true = rng.integers(0, 4, 40)
    y_pred = np.where(rng.random(40) < 0.6, y_true, rng.integers(0, 4, 40))
    return y_true, y_pred


def test_training_curves_take_solver_histories_and_save_three_panels(tmp_path):
    path = tmp_path / "curves.png"
    loss = [2.3, 2.0, float("nan"), 1.2, 1.0]  # a NaN loss still plots
    fig = plot_training_curves(loss, [0.2, 0.4], [0.15, 0.3], path, dpi=DPI)
    assert_png_of(fig, path)
    assert len(fig.axes) == 3


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


@pytest.mark.parametrize("shape", [(12, 6, 6), (12, 6, 6, 1), (12, 6, 6, 3)])
def test_misclassified_grid_titles_true_slash_pred(tmp_path, rng, shape):
    y_true = np.arange(12) % 3
    y_pred = y_true.copy()
    y_pred[[1, 4, 7]] = [0, 2, 0]
    images = rng.integers(0, 256, shape).astype(np.uint8)
    path = tmp_path / "wrong.png"
    fig = plot_misclassified(
        images, y_true, y_pred, ["a", "b", "c"], max_images=2, path=path, dpi=DPI
    )
    assert_png_of(fig, path)
    assert [ax.get_title() for ax in fig.axes] == ["b/a", "b/c"]


def test_misclassified_notes_when_every_prediction_is_right(tmp_path):
    y = np.array([0, 1])
    fig = plot_misclassified(np.zeros((2, 4, 4)), y, y, path=tmp_path / "ok.png")
    assert "no misclassified" in fig.texts[0].get_text()


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
        (lambda: plot_learning_rate([0.1], dpi=0, path="x.png"), "dpi"),
    ],
)
def test_bad_arguments_raise_value_errors_naming_them(call, name):
    with pytest.raises(ValueError, match=name):
        call()
