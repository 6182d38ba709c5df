"""correlate and convolve against the plain reference, OpenCV and SciPy, on random inputs."""

import numpy as np
import pytest
import scipy.ndimage as ndi
import scipy.signal as signal
from hypothesis import assume, given
from hypothesis import strategies as st

import cv2
import imconv
from imconv import reference
from oracles import (BORDERS, MODES, NDIMAGE_MODES, OPENCV_BORDERS, SIGNAL_BOUNDARIES,
                     assert_close, images, kernels, per_channel, scale, views)

FUNCTIONS = {"correlate": (imconv.correlate, reference.correlate),
             "convolve": (imconv.convolve, reference.convolve)}


@st.composite
def anchors(draw, kernel):
    if draw(st.booleans()):
        return None
    return (draw(st.integers(0, kernel.shape[0] - 1)), draw(st.integers(0, kernel.shape[1] - 1)))


# --- the plain reference: every border x mode x function, complex, views ---------------

@given(data=st.data(), image=images(channels=(None, 1, 2, 3)), function=st.sampled_from(sorted(FUNCTIONS)),
       border=st.sampled_from(BORDERS), mode=st.sampled_from(MODES),
       fill=st.floats(-50, 50), complex_image=st.booleans())
def test_matches_reference_for_every_border_and_mode(data, image, function, border, mode, fill,
                                                     complex_image):
    per_channel_kernel = image.ndim == 3 and data.draw(st.booleans())
    kernel = data.draw(kernels(complex_=True, channels=image.shape[2] if per_channel_kernel else None))
    if complex_image:
        image = image + 1j * image[::-1]
    assume(mode != "valid" or (kernel.shape[0] <= image.shape[0] and kernel.shape[1] <= image.shape[1]))
    anchor = data.draw(anchors(kernel)) if mode == "same" else None
    fast, plain = FUNCTIONS[function]
    options = dict(border=border, fill=fill, mode=mode, anchor=anchor, dtype=np.complex128)
    expected = plain(image, kernel, **options)
    actual = fast(data.draw(views(image)), data.draw(views(kernel)), **options)
    assert actual.dtype == np.complex128
    assert_close(actual, expected, 1e-12 * scale(image, kernel, fill))


@given(image=images(dtype=np.float32), kernel=kernels(), border=st.sampled_from(BORDERS),
       mode=st.sampled_from(MODES))
def test_float32_matches_float64_reference_within_contract(image, kernel, border, mode):
    assume(mode != "valid" or (kernel.shape[0] <= image.shape[0] and kernel.shape[1] <= image.shape[1]))
    kernel32 = kernel.astype(np.float32)
    actual = imconv.correlate(image, kernel32, border=border, mode=mode)
    expected = reference.correlate(image.astype(np.float64), kernel32.astype(np.float64),
                                   border=border, mode=mode, dtype=np.float64)
    assert actual.dtype == np.float32
    assert_close(actual, expected, 1e-5 * scale(image, kernel32))


@given(image=images(dtype=np.uint8), kernel=kernels(), border=st.sampled_from(BORDERS),
       function=st.sampled_from(sorted(FUNCTIONS)))
def test_uint8_output_equals_reference_except_at_half_ties(image, kernel, border, function):
    fast, plain = FUNCTIONS[function]
    actual = fast(image, kernel, border=border, dtype=np.uint8)
    expected = plain(image, kernel, border=border, dtype=np.uint8)
    exact = plain(image, kernel, border=border, dtype=np.float64)
    # float32 sums may land on either side of an exact .5 within the accuracy contract
    near_tie = np.abs(exact - np.floor(exact) - 0.5) <= 1e-5 * scale(image, kernel)
    assert actual.dtype == np.uint8
    np.testing.assert_array_equal(actual[~near_tie], expected[~near_tie])
    assert np.abs(actual.astype(int) - expected)[near_tie].max(initial=0) <= 1


@pytest.mark.parametrize("border", BORDERS)
@pytest.mark.parametrize("kernel_shape", [(31, 31), (31, 2), (1, 31), (9, 12)])
def test_kernels_larger_than_the_image_repeat_the_border(border, kernel_shape, rng):
    image = rng.normal(size=(3, 4))
    kernel = rng.normal(size=kernel_shape)
    for mode in ("same", "full"):
        expected = reference.correlate(image, kernel, border=border, mode=mode, fill=2.0)
        actual = imconv.correlate(image, kernel, border=border, mode=mode, fill=2.0)
        assert_close(actual, expected, 1e-12 * scale(image, kernel, 2.0))


# --- OpenCV ----------------------------------------------------------------------------

@given(data=st.data(), dtype=st.sampled_from([np.float32, np.uint8]),
       border=st.sampled_from(sorted(OPENCV_BORDERS)), function=st.sampled_from(sorted(FUNCTIONS)))
def test_matches_opencv_filter2d(data, dtype, border, function):
    image = data.draw(images(dtype=dtype, max_side=40, channels=(None, 3)))
    kernel = data.draw(kernels(max_side=31 if data.draw(st.booleans()) else 7))
    anchor = data.draw(anchors(kernel))
    kh, kw = kernel.shape
    row, col = anchor if anchor is not None else (kh // 2, kw // 2)
    opencv_kernel, opencv_anchor = kernel.astype(np.float32), (col, row)  # OpenCV's anchor is (x, y)
    if function == "convolve":  # the rule of filter2D's documentation
        opencv_kernel = cv2.flip(opencv_kernel, -1)
        opencv_anchor = (kw - 1 - col, kh - 1 - row)
    fast = FUNCTIONS[function][0]
    if dtype == np.uint8:
        expected = cv2.filter2D(image, -1, opencv_kernel, anchor=opencv_anchor,
                                borderType=OPENCV_BORDERS[border])
        actual = fast(image, kernel.astype(np.float32), border=border, anchor=anchor, dtype=np.uint8)
        assert np.abs(actual.astype(int) - expected).max() <= 1
    else:
        expected = cv2.filter2D(image, cv2.CV_32F, opencv_kernel, anchor=opencv_anchor,
                                borderType=OPENCV_BORDERS[border])
        actual = fast(image, kernel.astype(np.float32), border=border, anchor=anchor)
        assert_close(actual, expected, 1e-4 * scale(image, kernel))


# --- scipy.ndimage ---------------------------------------------------------------------

@given(data=st.data(), image=images(channels=(None, 3)), mode=st.sampled_from(NDIMAGE_MODES),
       function=st.sampled_from(sorted(FUNCTIONS)), cval=st.floats(-10, 10))
def test_matches_ndimage_in_every_mode(data, image, mode, function, cval):
    kernel = data.draw(kernels(max_side=11, complex_=True))
    anchor = data.draw(anchors(kernel))
    kh, kw = kernel.shape
    row, col = anchor if anchor is not None else (kh // 2, kw // 2)
    origin = (row - kh // 2, col - kw // 2)
    if function == "correlate":  # ndimage.correlate conjugates complex weights; imconv does not
        expected = per_channel(ndi.correlate, image, np.conj(kernel), mode=mode, cval=cval, origin=origin)
    else:
        expected = per_channel(ndi.convolve, image, kernel, mode=mode, cval=cval, origin=origin)
    actual = FUNCTIONS[function][0](image, kernel, border=mode, fill=cval, anchor=anchor)
    assert actual.dtype == expected.dtype
    assert_close(actual, expected, 1e-9 * scale(image, kernel, cval))


# --- scipy.signal ----------------------------------------------------------------------

@given(data=st.data(), image=images(channels=(None, 3)), boundary=st.sampled_from(SIGNAL_BOUNDARIES),
       mode=st.sampled_from(["full", "valid"]), function=st.sampled_from(sorted(FUNCTIONS)),
       fillvalue=st.floats(-10, 10))
def test_matches_signal_full_and_valid_whatever_the_sizes(data, image, boundary, mode, function,
                                                          fillvalue):
    kernel = data.draw(kernels(max_side=14, complex_=True))
    too_big = kernel.shape[0] > image.shape[0] or kernel.shape[1] > image.shape[1]
    if mode == "valid" and too_big:
        with pytest.raises(ValueError, match="mode='valid' needs the kernel to fit"):
            FUNCTIONS[function][0](image, kernel, border=boundary, mode=mode)
        return
    if function == "correlate":  # correlate2d conjugates in2; imconv does not
        expected = per_channel(signal.correlate2d, image, np.conj(kernel), mode=mode,
                               boundary=boundary, fillvalue=fillvalue)
    else:
        expected = per_channel(signal.convolve2d, image, kernel, mode=mode, boundary=boundary,
                               fillvalue=fillvalue)
    actual = FUNCTIONS[function][0](image, kernel, border=boundary, fill=fillvalue, mode=mode)
    assert_close(actual, expected, 1e-9 * scale(image, kernel, fillvalue))


@given(data=st.data(), image=images(channels=(None, 3)), boundary=st.sampled_from(SIGNAL_BOUNDARIES),
       function=st.sampled_from(sorted(FUNCTIONS)))
def test_matches_signal_same(data, image, boundary, function):
    """Odd kernels agree with the default anchor; even ones with scipy.signal's ((k-1)//2)."""
    kernel = data.draw(kernels(max_side=9))
    kh, kw = kernel.shape
    anchor = None if kh % 2 and kw % 2 else ((kh - 1) // 2, (kw - 1) // 2)
    oracle = signal.correlate2d if function == "correlate" else signal.convolve2d
    expected = per_channel(oracle, image, kernel, mode="same", boundary=boundary, fillvalue=1.5)
    actual = FUNCTIONS[function][0](image, kernel, border=boundary, fill=1.5, anchor=anchor)
    assert_close(actual, expected, 1e-9 * scale(image, kernel, 1.5))


# --- the convolution rule, stated directly --------------------------------------------

@given(image=images(), kernel=kernels(complex_=True), border=st.sampled_from(BORDERS), data=st.data())
def test_convolve_is_correlate_with_the_flipped_kernel_and_mirrored_anchor(image, kernel, border, data):
    anchor = data.draw(anchors(kernel))
    kh, kw = kernel.shape
    row, col = anchor if anchor is not None else (kh // 2, kw // 2)
    convolved = imconv.convolve(image, kernel, border=border, anchor=anchor)
    correlated = imconv.correlate(image, kernel[::-1, ::-1], border=border,
                                  anchor=(kh - 1 - row, kw - 1 - col))
    np.testing.assert_array_equal(convolved, correlated)


# --- every accepted image dtype, and the degenerate shapes ------------------------------

IMAGE_DTYPES = [np.bool_, np.uint8, np.int8, np.uint16, np.int16, np.int32, np.uint32, np.int64,
                np.float16, np.float32, np.float64, np.complex64, np.complex128]


@given(data=st.data(), dtype=st.sampled_from(IMAGE_DTYPES), border=st.sampled_from(BORDERS),
       mode=st.sampled_from(MODES), function=st.sampled_from(sorted(FUNCTIONS)))
def test_every_image_dtype_matches_the_reference(data, dtype, border, mode, function):
    image = data.draw(images(dtype=np.float64 if np.dtype(dtype).kind == "c" else dtype))
    image = image.astype(dtype)
    kernel = data.draw(kernels(max_side=6))
    assume(mode != "valid" or (kernel.shape[0] <= image.shape[0] and kernel.shape[1] <= image.shape[1]))
    fast, plain = FUNCTIONS[function]
    actual = fast(image, kernel, border=border, mode=mode, fill=3.0)
    expected = plain(image, kernel, border=border, mode=mode, fill=3.0)
    assert actual.dtype == expected.dtype
    tolerance = (1e-12 if actual.dtype in (np.float64, np.complex128) else 1e-5)
    assert_close(actual, expected, tolerance * scale(image.astype(np.complex128), kernel, 3.0))


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (7, 1), (1, 1, 3), (2, 1, 2)])
@pytest.mark.parametrize("border", BORDERS)
@pytest.mark.parametrize("kernel_shape", [(1, 1), (3, 3), (2, 5), (6, 1)])
def test_degenerate_images_match_the_reference(rng, shape, border, kernel_shape):
    image = rng.normal(size=shape)
    kernel = rng.normal(size=kernel_shape)
    for mode in MODES:
        if mode == "valid" and (kernel_shape[0] > shape[0] or kernel_shape[1] > shape[1]):
            continue
        for fast, plain in FUNCTIONS.values():
            expected = plain(image, kernel, border=border, mode=mode, fill=-1.0)
            actual = fast(image, kernel, border=border, mode=mode, fill=-1.0)
            assert_close(actual, expected, 1e-12 * scale(image, kernel, -1.0))
