"""Calls that repeat one reuse its checked request and method: never a stale kernel, never a
skipped check, never a method chosen for other data."""

import numpy as np
import pytest

import imconv
from imconv import _recent_calls, reference


@pytest.fixture(autouse=True)
def no_kept_calls():
    _recent_calls._kept.clear()
    yield
    _recent_calls._kept.clear()


def test_a_kernel_changed_in_place_gives_the_new_result(rng):
    image = rng.random((40, 50)).astype(np.float32)
    kernel = rng.normal(size=(3, 5))
    first = imconv.correlate(image, kernel)
    kernel[1, 2] += 1.0
    second = imconv.correlate(image, kernel)
    np.testing.assert_allclose(second, reference.correlate(image, kernel), rtol=0, atol=1e-5)
    assert not np.allclose(first, second)


def test_a_kept_call_holds_its_own_copy_of_the_kernel(rng):
    """A float64 kernel is used without a copy; the kept request must not see it change."""
    image = rng.random((30, 30))
    kernel = rng.normal(size=(5, 5))
    original = kernel.copy()
    imconv.correlate(image, kernel)
    kernel[:] = 0  # the caller reuses the array for something else ...
    again = imconv.correlate(image, original.copy())  # ... and later asks for the old values
    np.testing.assert_allclose(again, reference.correlate(image, original), rtol=0, atol=1e-12)


def test_checks_still_run_for_arguments_equal_to_kept_ones():
    image = np.zeros((8, 8), np.float32)
    imconv.correlate(image, np.ones((3, 3)), anchor=(1, 1))
    with pytest.raises(TypeError, match="anchor"):
        imconv.correlate(image, np.ones((3, 3)), anchor=(1.0, 1))  # == (1, 1) in Python
    out = np.empty_like(image)
    imconv.correlate(image, np.ones((3, 3)), out=out)
    out.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        imconv.correlate(image, np.ones((3, 3)), out=out)


def test_convolution_and_correlation_are_kept_apart(rng):
    image = rng.random((20, 24))
    kernel = rng.normal(size=(3, 4))
    imconv.correlate(image, kernel, border="wrap")
    np.testing.assert_allclose(imconv.convolve(image, kernel, border="wrap"),
                               reference.convolve(image, kernel, border="wrap"), rtol=0, atol=1e-12)


def test_a_method_chosen_for_finite_data_is_not_kept_for_other_data(rng):
    """A large dense kernel goes to FFT on finite data; an image of the same kind with a NaN
    must still get the NaN rule (FFT would spread it over the whole result)."""
    kernel = rng.normal(size=(31, 31)).astype(np.float32)
    finite = rng.random((300, 300)).astype(np.float32)
    assert imconv.explain(finite, kernel, echo=None).method == "fft"
    imconv.correlate(finite, kernel)
    with_nan = finite.copy()
    with_nan[150, 150] = np.nan
    result = imconv.correlate(with_nan, kernel)
    assert np.isnan(result[135:166, 135:166]).all()
    assert np.isfinite(result[:130]).all()
    assert not _recent_calls._kept


def test_a_repeated_call_reuses_its_request(rng):
    image = rng.random((16, 16)).astype(np.float32)
    for _ in range(3):
        np.testing.assert_allclose(imconv.correlate(image, "sobel_x", border="reflect101"),
                                   reference.correlate(image, imconv.kernels.get("sobel_x"),
                                                       border="reflect101"), rtol=0, atol=1e-5)
    assert len(_recent_calls._kept) == 1


@pytest.mark.parametrize("arguments", [
    dict(anchor=[1, 1]),                  # a list: cannot be hashed
    dict(kernel=[[0.0, 1.0], [1.0, 0.0]]),  # not an array: converted every call
    dict(image=np.zeros((6, 6), ">f8")),    # not in the machine's byte order
])
def test_calls_that_cannot_be_recognised_are_not_kept(arguments):
    call = {"image": np.zeros((6, 6)), "kernel": np.ones((2, 2)), **arguments}
    imconv.correlate(call.pop("image"), call.pop("kernel"), **call)
    assert not _recent_calls._kept
