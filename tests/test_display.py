"""to_uint8: clip, abs and rescale, including NaN, inf, constant and complex results."""

import numpy as np
import pytest

import imconv


def test_clip_rounds_half_to_even_and_saturates():
    values = np.array([-5.0, 0.5, 1.5, 254.5, 255.4, 1e9])
    np.testing.assert_array_equal(imconv.to_uint8(values), [0, 0, 2, 254, 255, 255])


def test_abs_shows_negative_edges_instead_of_black():
    edges = imconv.correlate(np.tile(np.arange(8.0) * 10, (4, 1))[:, ::-1], "sobel_x")
    assert (imconv.to_uint8(edges) == 0).all()          # clipping hides them
    assert (imconv.to_uint8(edges, how="abs")[:, 2:6] == 80).all()


def test_rescale_stretches_finite_values_over_all_channels_together():
    image = np.zeros((2, 2, 3))
    image[..., 0] = 10.0
    image[0, 0, 2] = 20.0
    result = imconv.to_uint8(image, how="rescale")
    assert result[0, 0, 2] == 255 and result[0, 1, 1] == 0 and result[0, 1, 0] == 128


@pytest.mark.parametrize("how", ["clip", "abs", "rescale"])
def test_nan_becomes_zero_and_infinities_saturate(how):
    values = np.array([np.nan, np.inf, -np.inf, 0.0, 100.0])
    result = imconv.to_uint8(values, how=how)
    assert result[0] == 0 and result[1] == 255
    assert result[2] == (255 if how == "abs" else 0)


def test_rescale_of_a_constant_image_is_zeros_not_nan():
    np.testing.assert_array_equal(imconv.to_uint8(np.full((3, 3), 42.0), how="rescale"), 0)
    np.testing.assert_array_equal(imconv.to_uint8(np.full(2, np.nan), how="rescale"), 0)


def test_complex_results_show_their_magnitude():
    assert imconv.to_uint8(np.array([3 + 4j]), how="abs")[0] == 5
    with pytest.raises(TypeError, match="result is complex; use how='abs'"):
        imconv.to_uint8(np.array([3 + 4j]))


def test_bad_arguments():
    with pytest.raises(ValueError, match="how='log' is not known; use one of 'clip', 'abs', 'rescale'"):
        imconv.to_uint8(np.zeros(3), how="log")
    with pytest.raises(TypeError, match="not numeric"):
        imconv.to_uint8(np.array(["a"]))
