"""The kernel bank against the tutorial's matrices, and the builders against OpenCV."""

import math

import numpy as np
import pytest

import cv2
from imconv import kernels

# The tutorial's convolutions.py, verbatim apart from the names.
TUTORIAL_BANK = {
    "small_blur": np.ones((7, 7), dtype="float") * (1.0 / (7 * 7)),
    "large_blur": np.ones((21, 21), dtype="float") * (1.0 / (21 * 21)),
    "sharpen": np.array(([0, -1, 0], [-1, 5, -1], [0, -1, 0]), dtype="int"),
    "laplacian": np.array(([0, 1, 0], [1, -4, 1], [0, 1, 0]), dtype="int"),
    "sobel_x": np.array(([-1, 0, 1], [-2, 0, 2], [-1, 0, 1]), dtype="int"),
    "sobel_y": np.array(([-1, -2, -1], [0, 0, 0], [1, 2, 1]), dtype="int"),
    "emboss": np.array(([-2, -1, 0], [-1, 1, 1], [0, 1, 2]), dtype="int"),
}


def test_bank_is_the_tutorials_bank_in_its_order():
    assert list(kernels.BANK) == list(TUTORIAL_BANK)
    for name, expected in TUTORIAL_BANK.items():
        np.testing.assert_array_equal(kernels.BANK[name], expected)
        np.testing.assert_array_equal(kernels.get(name), expected)


def test_bank_cannot_be_changed_by_accident():
    with pytest.raises(ValueError):
        kernels.BANK["sharpen"][1, 1] = 0
    with pytest.raises(TypeError):
        kernels.BANK["mine"] = np.ones((3, 3))
    copy = kernels.get("sharpen")
    copy[1, 1] = 0
    assert kernels.BANK["sharpen"][1, 1] == 5


@pytest.mark.parametrize("name, expected", [
    ("identity", [[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
    ("binomial5", np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]) / 256),
    ("unsharp", 2 * np.eye(3)[[1]].T @ np.eye(3)[[1]] - np.ones((3, 3)) / 9),
    ("outline", [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]),
    ("laplacian8", [[1, 1, 1], [1, -8, 1], [1, 1, 1]]),
    ("scharr_x", [[-3, 0, 3], [-10, 0, 10], [-3, 0, 3]]),
    ("scharr_y", [[-3, -10, -3], [0, 0, 0], [3, 10, 3]]),
    ("prewitt_x", [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]]),
    ("prewitt_y", [[-1, -1, -1], [0, 0, 0], [1, 1, 1]]),
    ("scharr_complex", [[-3 - 3j, -10j, 3 - 3j], [-10, 0, 10], [-3 + 3j, 10j, 3 + 3j]]),
    ("ripple", [[0, -1, math.sqrt(2)], [1, 0, -1], [-math.sqrt(2), 1, 0]]),
])
def test_named_kernels_have_their_textbook_values(name, expected):
    np.testing.assert_allclose(kernels.get(name), expected, rtol=0, atol=1e-15)


@pytest.mark.parametrize("name", kernels.names())
def test_every_named_kernel_has_a_one_line_description_and_true_factors(name):
    info = kernels.info(name)
    assert info.name == name
    assert info.description and "\n" not in info.description
    if info.factors is not None:
        column, row = info.factors
        np.testing.assert_allclose(np.outer(column, row), info.weights, rtol=1e-15, atol=0)


def test_separable_kernels_keep_their_factors():
    for name in ("small_blur", "large_blur", "sobel_x", "sobel_y", "binomial5", "scharr_x",
                 "scharr_y", "prewitt_x", "prewitt_y", "identity"):
        assert kernels.info(name).factors is not None, name


@pytest.mark.parametrize("order", [(1, 0), (0, 1)])
@pytest.mark.parametrize("name, ksize", [("sobel", 3), ("scharr", cv2.FILTER_SCHARR)])
def test_gradients_equal_opencvs_derivative_kernels(order, name, ksize):
    kx, ky = cv2.getDerivKernels(order[0], order[1], ksize)
    axis = "x" if order == (1, 0) else "y"
    np.testing.assert_array_equal(kernels.get(f"{name}_{axis}"), np.outer(ky, kx))


@pytest.mark.parametrize("n, sigma", [(3, 0.5), (5, 1.0), (9, 2.0), (31, 5.0)])
def test_gaussian_equals_opencv(n, sigma):
    expected = cv2.getGaussianKernel(n, sigma, ktype=cv2.CV_64F).ravel()
    np.testing.assert_allclose(kernels.gaussian_1d(n, sigma), expected, rtol=1e-12)
    np.testing.assert_allclose(kernels.gaussian(n, sigma), np.outer(expected, expected), rtol=1e-12)


def test_even_gaussians_are_symmetric_about_their_centre():
    weights = kernels.gaussian_1d(4, 1.5)
    np.testing.assert_allclose(weights[1] / weights[0], math.exp(-0.25 / 4.5) / math.exp(-2.25 / 4.5))
    np.testing.assert_array_equal(weights, weights[::-1])


@pytest.mark.parametrize("n", [11, 15, 21])
def test_gaussian_default_sigma_is_opencvs_rule(n):
    # OpenCV uses fixed tables for n <= 9 and sigma <= 0; from 11 up, the same formula
    expected = cv2.getGaussianKernel(n, 0, ktype=cv2.CV_64F).ravel()
    np.testing.assert_allclose(kernels.gaussian_1d(n), expected, rtol=1e-12)


def test_box_and_gaussian_can_be_rectangular():
    assert kernels.box((5, 3)).shape == (5, 3)
    np.testing.assert_allclose(kernels.box((5, 3)).sum(), 1.0)
    assert kernels.gaussian((7, 3), 1.0).shape == (7, 3)
    assert kernels.identity((2, 4))[1, 2] == 1.0


@pytest.mark.parametrize("call, message", [
    (lambda: kernels.box(0), "box size=0 must be a positive integer"),
    (lambda: kernels.box((3, -1)), "must be a positive integer or a (rows, cols) pair"),
    (lambda: kernels.box(2.5), "box size=2.5"),
    (lambda: kernels.gaussian(5, 0.0), "gaussian sigma=0.0 must be a positive finite number"),
    (lambda: kernels.gaussian(5, float("nan")), "sigma=nan"),
    (lambda: kernels.info("nope"), "kernel 'nope' is not known"),
])
def test_builders_refuse_bad_parameters(call, message):
    with pytest.raises(ValueError) as raised:
        call()
    assert message in str(raised.value)


def test_builders_are_listed_with_descriptions():
    for name, (builder, description) in kernels.BUILDERS.items():
        assert callable(builder) and description.startswith(name + "(")
