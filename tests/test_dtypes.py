"""The dtype policy: result types, saturation, rounding, no overflow."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import imconv
from imconv import _compiled, reference
from imconv._direct import store_rule
from oracles import BORDERS, images, kernels


@pytest.mark.parametrize("image_dtype, kernel, expected", [
    (np.uint8, np.ones((3, 3), np.float32), np.float32),
    (np.uint8, np.ones((3, 3), np.int64), np.float32),
    (np.uint8, np.ones((3, 3), np.float64), np.float64),
    (np.uint8, [[1.0, 2.0]], np.float32),              # Python lists are weak
    (np.uint8, "small_blur", np.float32),              # names are weak
    (np.bool_, np.ones((2, 2), np.float32), np.float32),
    (np.int16, np.ones((2, 2), np.float32), np.float32),
    (np.uint16, np.ones((2, 2), np.float32), np.float32),
    (np.int32, np.ones((2, 2), np.float32), np.float32),
    (np.float16, np.ones((2, 2), np.float32), np.float32),
    (np.float32, np.ones((2, 2), np.float32), np.float32),
    (np.float32, np.ones((2, 2), np.float64), np.float64),
    (np.float64, [[1, 2]], np.float64),
    (np.float32, [[1j, 2]], np.complex64),
    (np.float32, np.ones((2, 2), np.complex128), np.complex128),
    (np.float64, [[1j, 2]], np.complex128),
    (np.complex64, [[1, 2]], np.complex64),
    (np.complex128, [[1, 2]], np.complex128),
])
def test_default_result_dtype(image_dtype, kernel, expected):
    image = np.ones((4, 5), image_dtype)
    assert imconv.correlate(image, kernel).dtype == expected
    assert reference.correlate(image, kernel).dtype == expected


def test_uint8_result_saturates_instead_of_wrapping():
    image = np.full((5, 5), 200, np.uint8)  # ndimage on uint8 would give 200 * 9 mod 256 = 8
    result = imconv.correlate(image, np.ones((3, 3)), dtype=np.uint8)
    np.testing.assert_array_equal(result, 255)
    negative = imconv.correlate(image, -np.ones((3, 3)), dtype=np.uint8)
    np.testing.assert_array_equal(negative, 0)


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32,
                                   np.int64, np.uint64])
def test_every_integer_result_saturates_to_its_range(dtype):
    info = np.iinfo(dtype)
    image = np.array([[1e30, -1e30, 3.0]], np.float32)
    result = imconv.correlate(image, [[1.0]], dtype=dtype)
    assert result.dtype == dtype
    assert result[0, 0] == info.max and result[0, 1] == info.min and result[0, 2] == 3
    np.testing.assert_array_equal(reference.correlate(image, [[1.0]], dtype=dtype), result)


def test_integer_rounding_is_half_to_even():
    image = np.array([[0.5, 1.5, 2.5, -0.5, -1.5, 3.49, 3.51]], np.float64)
    result = imconv.correlate(image, [[1.0]], dtype=np.int16)
    np.testing.assert_array_equal(result, [[0, 2, 2, 0, -2, 3, 4]])


@pytest.mark.parametrize("dtype", [np.uint16, np.int16, np.int32, np.uint8])
def test_integer_images_never_overflow(dtype):
    info = np.iinfo(dtype)
    image = np.full((6, 6), info.max, dtype)  # scipy.signal.correlate2d on uint16 overflows here
    result = imconv.correlate(image, np.ones((3, 3), np.float32))
    np.testing.assert_allclose(result, 9.0 * info.max, rtol=1e-6)


def test_bool_images_count_true_pixels():
    image = np.eye(4, dtype=bool)
    result = imconv.correlate(image, np.ones((3, 3)), border="constant")
    np.testing.assert_array_equal(result, reference.correlate(image.astype(float), np.ones((3, 3)),
                                                              border="constant"))


@given(image=images(dtype=np.int16), kernel=kernels(), border=st.sampled_from(BORDERS),
       dtype=st.sampled_from([np.int16, np.uint16, np.int8, np.int32]))
def test_integer_results_equal_the_rounded_saturated_reference(image, kernel, border, dtype):
    kernel = np.round(kernel)  # integer sums: no ties from float32 round-off
    actual = imconv.correlate(image, kernel, border=border, dtype=dtype)
    expected = reference.correlate(image, kernel, border=border, dtype=dtype)
    np.testing.assert_array_equal(actual, expected)


def test_float64_dtype_computes_in_double_precision():
    image = np.array([[1.0, 1e-9]], np.float32)
    result = imconv.correlate(image, np.array([[1.0, 1.0]], np.float32), border="constant",
                              dtype=np.float64)
    assert result.dtype == np.float64
    # anchor (0, 1): output (0, 1) sums pixels (0, 0) and (0, 1)
    assert result[0, 1] == np.float64(np.float32(1.0)) + np.float64(np.float32(1e-9))


def test_real_inputs_with_a_complex_dtype_have_zero_imaginary_part():
    result = imconv.correlate(np.ones((3, 3)), np.ones((2, 2)), dtype=np.complex64)
    assert result.dtype == np.complex64
    np.testing.assert_array_equal(result.imag, 0)
    np.testing.assert_array_equal(result.real, 4)


@pytest.mark.parametrize("dtype, message", [
    (np.bool_, "not allowed"),
    ("int9", "not a NumPy dtype"),
    (np.float32, "cannot hold the complex result"),
])
def test_bad_dtype_requests_are_refused(dtype, message):
    with pytest.raises(TypeError, match=message):
        imconv.correlate(np.ones((3, 3)), [[1j]], dtype=dtype)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.uint16, np.int16])
@pytest.mark.parametrize("scale", [1.0, 0.25, 8.0])
def test_float32_sums_round_and_clamp_in_float32_as_in_float64(rng, dtype, scale):
    """STORE_CLAMP_SINGLE (twice the SIMD lanes) stores the integers STORE_CLAMP stores."""
    info = np.iinfo(dtype)
    ties = np.arange(info.min - 3, info.max + 3) + 0.5
    sums = np.concatenate([
        rng.uniform(1.5 * info.min - 10, 1.5 * info.max + 10, 4000) / scale,
        ties / scale, np.nextafter(ties.astype(np.float32), 0) / scale,
        [np.nan, np.inf, -np.inf, 3e38, -3e38, 1e-45, -0.0]]).astype(np.float32)
    store, saturation = store_rule(np.empty(1, dtype), np.dtype(np.float32), False, scale)
    assert store == _compiled.STORE_CLAMP_SINGLE
    single, double = np.empty(sums.size, dtype), np.empty(sums.size, dtype)
    assert _compiled._store_row(sums, single, store, saturation) == 1  # the NaN
    assert _compiled._store_row(sums, double, _compiled.STORE_CLAMP, saturation) == 1
    np.testing.assert_array_equal(single, double)


def test_float32_clamps_only_where_float32_rounds_nowhere():
    float32, float64 = np.dtype(np.float32), np.dtype(np.float64)
    assert store_rule(np.empty(1, np.uint8), float32, False, 0.5)[0] == _compiled.STORE_CLAMP_SINGLE
    assert store_rule(np.empty(1, np.uint8), float32, False, 1 / 49)[0] == _compiled.STORE_CLAMP  # a box
    assert store_rule(np.empty(1, np.uint8), float32, False, 3.0)[0] == _compiled.STORE_CLAMP
    assert store_rule(np.empty(1, np.int32), float32, False)[0] == _compiled.STORE_CLAMP  # 2**31 - 1
    assert store_rule(np.empty(1, np.uint8), float64, False)[0] == _compiled.STORE_CLAMP
