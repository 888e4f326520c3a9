"""Topomap matrices against the image MNE's plot_topomap draws for the same positions and grid."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import mne  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from mne.viz.topomap import _make_head_outlines, _setup_interp  # noqa: E402

from biosig.errors import ConfigError, DataError  # noqa: E402
from graphs.positions import DEAP32, EMOTIV14, SEED62, montage_sphere, projected_positions  # noqa: E402
from graphs.topomap import interpolation_matrix, topomap_interpolator  # noqa: E402

RADIUS = float(montage_sphere()[3])


def _mne_image(values, pos, size, image_interp, extrapolate):
    """The array plot_topomap shows (row 0 at the back of the head, as matplotlib's origin='lower')."""
    fig, ax = plt.subplots()
    try:
        im, _ = mne.viz.plot_topomap(
            values, pos, axes=ax, sphere=(0.0, 0.0, 0.0, RADIUS), res=size, image_interp=image_interp,
            extrapolate=extrapolate, contours=0, show=False,
        )  # fmt: skip
        return np.ma.getdata(im.get_array()).astype(float)
    finally:
        plt.close(fig)


@pytest.mark.parametrize(
    ("channels", "image_interp", "extrapolate"),
    [(EMOTIV14, "cubic", "head"), (SEED62, "cubic", "head"), (DEAP32, "cubic", "local"), (DEAP32, "linear", "box")],
)
def test_images_equal_mne_plot_topomap(channels, image_interp, extrapolate):
    size = 32
    topo = topomap_interpolator(channels, size, image_interp=image_interp, extrapolate=extrapolate)
    pos = projected_positions(channels)
    values = np.random.default_rng(len(channels)).normal(size=(len(channels), 2))
    images = topo(values)
    assert images.shape == (2, size, size)
    for k in range(2):
        ref = np.flipud(_mne_image(values[:, k], pos, size, image_interp, extrapolate))
        inside = topo.mask
        scale = np.abs(ref[inside]).max()
        np.testing.assert_allclose(images[k][inside], ref[inside], rtol=0, atol=1e-6 * scale)
        assert (images[k][~inside] == 0).all()


def test_nearest_equals_mne_grid_interpolator():
    # plot_topomap draws 'nearest' as Voronoi patches, so compare with the interpolator it sets up
    pos = projected_positions(EMOTIV14)
    values = np.random.default_rng(1).normal(size=14)
    outlines = _make_head_outlines(np.array([0.0, 0.0, 0.0, RADIUS]), pos, "head", (0.0, 0.0))
    _, xi, yi, grid = _setup_interp(pos, 24, "nearest", "head", outlines, "mean")
    ref = np.flipud(grid.set_values(values).set_locations(xi, yi)())
    matrix, mask, _ = interpolation_matrix(pos, 24, RADIUS, "nearest", "head")
    np.testing.assert_array_equal((matrix @ values).reshape(24, 24)[mask], ref[mask])


def test_batch_is_one_matmul_and_constant_maps_stay_constant():
    topo = topomap_interpolator(EMOTIV14, 16)
    batch = np.random.default_rng(2).normal(size=(5, 14, 4))  # (n_windows, n_channels, n_bands)
    images = topo(batch)
    assert images.shape == (5, 4, 16, 16)
    np.testing.assert_allclose(images[3, 2].ravel(), topo.matrix @ batch[3, :, 2], atol=1e-12)
    # a constant is reproduced (border='mean' extends it outwards) up to SciPy's iterative
    # Clough-Tocher gradient estimate (tolerance 1e-6)
    const = topo(np.full((14, 1), 7.0))[0]
    np.testing.assert_allclose(const[topo.mask], 7.0, rtol=1e-6)
    assert (const[~topo.mask] == 0).all()


def test_mask_is_the_head_disc_nose_up():
    topo = topomap_interpolator(EMOTIV14, 32)
    m = topo.mask
    assert m[16, 16] and not m[0, 0] and not m[31, 31] and (m == m[:, ::-1]).all()
    # AF3 (front) is strongest near the top rows of its own image
    unit = topo(np.eye(14)[:, [EMOTIV14.index("AF3")]])[0]
    assert np.unravel_index(np.argmax(unit), unit.shape)[0] < 16


def test_errors():
    topo = topomap_interpolator(EMOTIV14, 8, image_interp="linear")
    with pytest.raises(DataError, match="14 channels"):
        topo(np.ones((3, 13, 2)))
    pos = projected_positions(EMOTIV14)
    with pytest.raises(ConfigError, match="image_interp"):
        interpolation_matrix(pos, image_interp="spline")
    with pytest.raises(ConfigError, match="extrapolate"):
        interpolation_matrix(pos, extrapolate="far")
    with pytest.raises(ConfigError, match="border"):
        interpolation_matrix(pos, border=1.0)
