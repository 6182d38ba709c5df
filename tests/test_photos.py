"""Every bank kernel on real photographs, grey and RGB, against OpenCV's filter2D."""

import numpy as np
import pytest

import cv2
import imconv
from oracles import OPENCV_BORDERS, scale


@pytest.mark.parametrize("photo", ["camera", "astronaut", "coffee"])
@pytest.mark.parametrize("color", ["gray", "rgb"])
@pytest.mark.parametrize("border", ["replicate", "reflect101", "constant"])
def test_bank_matches_opencv_on_photographs(photos, photo, color, border):
    image = photos[photo]
    if color == "gray" and image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    if color == "rgb" and image.ndim == 2:
        image = np.repeat(image[:, :, np.newaxis], 3, axis=2)
    for name, kernel in imconv.kernels.BANK.items():
        weights = kernel.astype(np.float32)
        expected = cv2.filter2D(image, cv2.CV_32F, weights, borderType=OPENCV_BORDERS[border])
        actual = imconv.correlate(image, name, border=border)
        assert actual.dtype == np.float32 and actual.shape == image.shape
        np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-4 * scale(image, weights))
        expected8 = cv2.filter2D(image, -1, weights, borderType=OPENCV_BORDERS[border])
        actual8 = imconv.correlate(image, name, border=border, dtype=np.uint8)
        assert np.abs(actual8.astype(int) - expected8).max() <= 1, name


def test_convolve_on_a_photograph_flips_an_asymmetric_kernel(photos):
    image = photos["camera"].astype(np.float32)
    emboss = imconv.kernels.get("emboss")
    flipped = cv2.filter2D(image, -1, cv2.flip(emboss, -1).astype(np.float32),
                           borderType=cv2.BORDER_REFLECT_101)
    np.testing.assert_allclose(imconv.convolve(image, emboss, border="reflect101"), flipped,
                               rtol=0, atol=1e-4 * scale(image, emboss))
