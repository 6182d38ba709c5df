"""NaN and inf: in the kernel an error; in the image they reach exactly the outputs that weigh them."""

import numpy as np
import pytest
import scipy.ndimage as ndi
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import imconv
from imconv import reference
from oracles import BORDERS, kernels

# imconv border -> the scipy.ndimage mode used to predict where non-finite values land
NDIMAGE = {"constant": "constant", "replicate": "nearest", "reflect": "reflect",
           "reflect101": "mirror", "wrap": "grid-wrap"}


@given(data=st.data(), border=st.sampled_from(BORDERS), function=st.sampled_from(["correlate", "convolve"]),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_nonfinite_pixels_reach_exactly_the_outputs_that_weigh_them(data, border, function, dtype):
    shape = (data.draw(st.integers(1, 12)), data.draw(st.integers(1, 12)))
    image = data.draw(hnp.arrays(dtype, shape, elements=st.sampled_from(
        [0.0, 1.0, -3.0, 7.5, np.nan, np.inf, -np.inf])))
    kernel = data.draw(kernels(max_side=7))
    result = getattr(imconv, function)(image, kernel, border=border)
    # Predicted independently: correlate the "is non-finite" map with "weight is non-zero".
    weighed = (kernel != 0).astype(float)
    bad = (~np.isfinite(image)).astype(float)
    predict = ndi.correlate if function == "correlate" else ndi.convolve
    expected_bad = predict(bad, weighed, mode=NDIMAGE[border], cval=0.0) > 0
    np.testing.assert_array_equal(~np.isfinite(result), expected_bad)


def test_a_nan_under_a_zero_weight_changes_nothing():
    image = np.arange(25.0).reshape(5, 5)
    image[2, 2] = np.nan
    sobel = imconv.kernels.get("sobel_x")  # its middle column is zero
    result = imconv.correlate(image, sobel)
    clean = imconv.correlate(np.where(np.isnan(image), 0.0, image), sobel)
    # Outputs in column 2 put the NaN under the zero column; columns 1 and 3 weigh it.
    np.testing.assert_array_equal(result[:, 2], clean[:, 2])
    assert np.isnan(result[1:4, [1, 3]]).all()
    assert np.isfinite(result[:, [0, 4]]).all()


def test_nan_fill_reaches_the_outputs_whose_window_leaves_the_image():
    image = np.ones((4, 4))
    result = imconv.correlate(image, np.ones((3, 3)), border="constant", fill=np.nan)
    expected = np.full((4, 4), np.nan)
    expected[1:3, 1:3] = 9.0
    np.testing.assert_array_equal(result, expected)
    np.testing.assert_array_equal(result, reference.correlate(image, np.ones((3, 3)),
                                                              border="constant", fill=np.nan))


def test_infinity_saturates_an_integer_result_and_nan_is_refused():
    image = np.array([[np.inf, -np.inf, 1.0]])
    np.testing.assert_array_equal(imconv.correlate(image, [[1.0]], dtype=np.uint8), [[255, 0, 1]])
    with pytest.raises(ValueError, match="NaN at 1 pixels, which dtype=uint8 cannot hold"):
        imconv.correlate(np.array([[np.nan, 1.0]]), [[1.0]], dtype=np.uint8)
    with pytest.raises(ValueError, match="cannot hold"):
        reference.correlate(np.array([[np.nan, 1.0]]), [[1.0]], dtype=np.uint8)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nonfinite_kernels_are_refused(bad):
    kernel = np.ones((3, 3))
    kernel[1, 2] = bad
    for function in (imconv.correlate, imconv.convolve, reference.correlate):
        with pytest.raises(ValueError, match="kernel contains NaN or inf"):
            function(np.ones((4, 4)), kernel)
