"""vis_utils against grids worked out by hand from the course's definitions."""

import numpy as np

from glassnet.cs231n.vis_utils import vis_grid, vis_nn, visualize_grid


def test_visualize_grid_scales_each_image_and_leaves_gaps_zero():
    # 5 images of 2x2x1 -> a 3x3 grid of cells: 3*2 + 2*1 = 8 pixels a side.
    Xs = np.stack([np.array([[0.0, 1.0], [2.0, 3.0]]) * (k + 1) - k for k in range(5)])
    grid = visualize_grid(Xs[..., None])
    assert grid.shape == (8, 8, 1) and grid.dtype == np.float64
    cell = np.array([[0.0, 85.0], [170.0, 255.0]])  # 255 * (x - min) / (max - min)
    want = np.zeros((8, 8))
    for k in range(5):
        r, c = divmod(k, 3)
        want[3 * r : 3 * r + 2, 3 * c : 3 * c + 2] = cell
    np.testing.assert_allclose(grid[..., 0], want, atol=1e-12)
    assert grid.min() == 0.0 and grid.max() == 255.0


def test_visualize_grid_keeps_ubound_padding_and_channels(rng):
    Xs = rng.normal(size=(4, 3, 2, 3))
    grid = visualize_grid(Xs, ubound=1.0, padding=2)
    assert grid.shape == (3 * 2 + 2, 2 * 2 + 2, 3)
    np.testing.assert_array_equal(grid[3:5], 0.0)  # the padding rows
    top_left = grid[:3, :2]
    assert top_left.min() == 0.0
    np.testing.assert_allclose(top_left.max(), 1.0)


def test_the_convnet_filter_cell_runs():
    from glassnet.cs231n.classifiers.cnn import ThreeLayerConvNet

    model = ThreeLayerConvNet(num_filters=6, filter_size=3, seed=0)
    grid = visualize_grid(model.params["W1"].transpose(0, 2, 3, 1))
    assert grid.shape == (3 * 3 + 2, 3 * 3 + 2, 3)
    assert grid.astype("uint8").max() == 255


def test_vis_grid_scales_the_whole_grid_with_gaps_at_the_minimum():
    Xs = np.array([1.0, 3.0, 5.0]).reshape(3, 1, 1, 1)
    grid = vis_grid(Xs)  # 2x2 cells of 1 pixel, a gap after each: 4x4
    want = np.zeros((4, 4))
    want[0, 0], want[0, 2], want[2, 0] = 0.0, 0.5, 1.0  # (x - 1) / (5 - 1)
    np.testing.assert_allclose(grid[..., 0], want)
    assert vis_grid(Xs.astype(np.float32)).dtype == np.float32


def test_vis_nn_lays_out_rows_with_gaps_of_one_before_scaling():
    rows = [
        [np.full((1, 1, 1), 3.0), np.full((1, 1, 1), 0.0)],
        [np.full((1, 1, 1), 2.0)] * 2,
    ]
    grid = vis_nn(rows)
    want = np.full((4, 4), 1.0)  # the gaps: 1 before scaling by (x - 0) / 3
    want[0, 0], want[0, 2], want[2, 0], want[2, 2] = 3.0, 0.0, 2.0, 2.0
    np.testing.assert_allclose(grid[..., 0], want / 3.0)
