"""Every bad argument gets a clear error naming the parameter, the value and what is allowed."""

import numpy as np
import pytest

import imconv
from imconv import reference

IMAGE = np.ones((4, 5), np.float32)

BAD_CALLS = [
    # (image, kernel, options, error type, message substring)
    (np.ones(5), [[1]], {}, ValueError, "image must be 2-D (H, W) or 3-D (H, W, C); got 1-D"),
    (np.ones((2, 2, 2, 2)), [[1]], {}, ValueError, "got 4-D"),
    (np.ones((0, 5)), [[1]], {}, ValueError, "image is empty (shape (0, 5))"),
    (np.ones((3, 3, 0)), [[1]], {}, ValueError, "image is empty"),
    (np.array([["a", "b"]]), [[1]], {}, TypeError, "image has dtype <U1, which is not numeric"),
    (np.array([[object(), 1]]), [[1]], {}, TypeError, "image has dtype object"),
    (np.ones((2, 2), np.longdouble), [[1]], {}, TypeError, "cast it to float64"),
    ("photo.png", [[1]], {}, TypeError, "image must be an array, not the string 'photo.png'"),
    ([[1, 2], [3]], [[1]], {}, TypeError, "image could not be read as an array"),
    (IMAGE, np.ones(3), {}, ValueError, "kernel must be 2-D (kh, kw) or 3-D (kh, kw, C); got 1-D"),
    (IMAGE, np.ones((0, 3)), {}, ValueError, "kernel is empty"),
    (IMAGE, np.array([["x"]]), {}, TypeError, "kernel has dtype <U1"),
    (IMAGE, "blurry", {}, ValueError, "kernel 'blurry' is not known; use one of 'small_blur'"),
    (IMAGE, np.ones((3, 3, 2)), {}, ValueError, "kernel has 2 channels (shape (3, 3, 2)) but the image has 1"),
    (np.ones((4, 5, 3)), np.ones((3, 3, 2)), {}, ValueError, "but the image has 3"),
    (IMAGE, [[np.nan]], {}, ValueError, "kernel contains NaN or inf"),
    (IMAGE, [[1]], {"border": "bogus"}, ValueError,
     "border='bogus' is not known; use one of 'constant', 'replicate', 'reflect', 'reflect101', 'wrap'"),
    (IMAGE, [[1]], {"border": 4}, ValueError, "border=4 is not known"),
    (IMAGE, [[1]], {"mode": "middle"}, ValueError, "mode='middle' is not known; use one of 'same', 'valid', 'full'"),
    (IMAGE, [[1]], {"fill": "white"}, TypeError, "fill='white' must be a number"),
    (IMAGE, [[1]], {"fill": 1 + 2j}, TypeError, "fill=(1+2j) is complex but the image is real"),
    (IMAGE, np.ones((3, 3)), {"anchor": (3, 0)}, ValueError,
     "anchor=(3, 0) lies outside the 3 x 3 kernel; use 0 <= row < 3 and 0 <= col < 3"),
    (IMAGE, np.ones((3, 3)), {"anchor": (-1, 0)}, ValueError, "lies outside"),
    (IMAGE, np.ones((3, 3)), {"anchor": (1,)}, TypeError, "anchor=(1,) must be a (row, col) pair of integers"),
    (IMAGE, np.ones((3, 3)), {"anchor": (1.5, 1)}, TypeError, "pair of integers"),
    (IMAGE, np.ones((3, 3)), {"anchor": (1, 1), "mode": "full"}, ValueError, "only applies to mode='same'"),
    (IMAGE, np.ones((5, 3)), {"mode": "valid"}, ValueError,
     "mode='valid' needs the kernel to fit inside the image, but the kernel is 5 x 3 and the image 4 x 5"),
    (IMAGE, [[1]], {"dtype": "bool"}, TypeError, "dtype='bool' is not allowed"),
    (IMAGE, [[1]], {"dtype": "float128"}, TypeError, "not supported"),
]


@pytest.mark.parametrize("function", [imconv.correlate, imconv.convolve, reference.correlate,
                                      reference.convolve])
@pytest.mark.parametrize("image, kernel, options, error, message", BAD_CALLS)
def test_bad_arguments_raise_clear_errors(function, image, kernel, options, error, message):
    with pytest.raises(error) as raised:
        function(image, kernel, **options)
    assert message in str(raised.value)


BAD_OUTS = [
    # (out, options, error type, message substring); the image is IMAGE (4 x 5 float32)
    ([[0.0] * 5] * 4, {}, TypeError, "out must be a NumPy array (or None), not list"),
    (np.empty((4, 5, 1), np.float32), {}, ValueError, "out has shape (4, 5, 1), but the result has shape (4, 5)"),
    (np.empty((4, 5), np.float32), {"mode": "full"}, ValueError, "but the result has shape (6, 7)"),
    (np.empty((4, 5), np.float32), {"dtype": np.uint8}, TypeError,
     "dtype=<class 'numpy.uint8'> and out of dtype float32 disagree; give one of them"),
    (np.empty((4, 5), bool), {}, TypeError, "out of dtype bool is not allowed; use an integer, float or complex"),
    (np.empty((4, 5), np.float32), {"kernel": [[1j]]}, TypeError,
     "out of dtype float32 cannot hold the complex result"),
    (np.broadcast_to(np.float32(0), (4, 5)), {}, ValueError, "out is read-only; pass a writeable array"),
]


@pytest.mark.parametrize("function", [imconv.correlate, imconv.convolve])
@pytest.mark.parametrize("out, options, error, message", BAD_OUTS)
def test_bad_out_arrays_raise_clear_errors_and_stay_untouched(function, out, options, error, message):
    before = np.array(out, copy=True)
    options = {"kernel": np.ones((3, 3)), **options}
    with pytest.raises(error) as raised:
        function(IMAGE, out=out, **options)
    assert message in str(raised.value)
    np.testing.assert_array_equal(np.asarray(out), before)


def test_options_after_the_kernel_are_keyword_only():
    with pytest.raises(TypeError):
        imconv.correlate(IMAGE, [[1]], "constant")


def test_unknown_bank_name_lists_every_known_name():
    with pytest.raises(ValueError) as raised:
        imconv.kernels.get("sobelx")
    for name in imconv.kernels.names():
        assert repr(name) in str(raised.value)


@pytest.mark.parametrize("alias, border", [
    ("nearest", "replicate"), ("edge", "replicate"), ("symmetric", "reflect"), ("symm", "reflect"),
    ("mirror", "reflect101"), ("reflect_101", "reflect101"), ("REFLECT-101", "reflect101"),
    ("fill", "constant"), ("zero", "constant"), ("circular", "wrap"), ("grid-wrap", "wrap"),
])
def test_border_aliases_give_the_same_result_as_the_name(alias, border, rng):
    image = rng.normal(size=(6, 7))
    kernel = rng.normal(size=(4, 3))
    np.testing.assert_array_equal(imconv.correlate(image, kernel, border=alias, fill=2.0),
                                  imconv.correlate(image, kernel, border=border, fill=2.0))
