"""The direct engine as a machine: threads, memory, views, concurrency."""

import threading

import numpy as np
import pytest
import scipy.ndimage as ndi

import imconv
from imconv import _compiled, _parallel
from oracles import bytes_beyond_result


@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64])
@pytest.mark.parametrize("method, rank", [("direct", 4), ("separable", 1), ("lowrank", 2)])
def test_row_bands_give_the_same_result_on_any_number_of_threads(monkeypatch, rng, dtype, method, rank):
    """Bands that start on odd rows too: separable and low-rank sum rows in pairs, a row alone
    in the same order as in its pair."""
    image = (rng.random((301, 257, 2)) * 255).astype(dtype)
    kernel = sum(np.outer(rng.normal(size=5), rng.normal(size=4)) for _ in range(rank))
    monkeypatch.setattr(_parallel, "MIN_WORK_PER_BAND", 1)  # a band per thread, however small
    results = []
    for threads in ("1", "2", "3", "7"):
        monkeypatch.setenv("IMCONV_NUM_THREADS", threads)
        results.append(imconv.correlate(image, kernel, border="reflect101", mode="full", method=method))
    for result in results[1:]:
        np.testing.assert_array_equal(result, results[0])


def test_large_image_matches_ndimage(rng):
    image = rng.normal(size=(517, 389))
    kernel = rng.normal(size=(9, 7))
    expected = ndi.correlate(image, kernel, mode="mirror")
    np.testing.assert_allclose(imconv.correlate(image, kernel, border="reflect101"), expected,
                               rtol=0, atol=1e-12 * np.abs(kernel).sum() * np.abs(image).max())


def test_bands_get_threads_only_for_enough_work(monkeypatch):
    monkeypatch.setenv("IMCONV_NUM_THREADS", "2")
    def bands(work_per_row):
        return _parallel.run_bands(lambda y_start, y_stop: (y_start, y_stop), 1000, work_per_row)
    two_bands = -(-2 * _parallel.MIN_WORK_PER_BAND // 1000)  # work per row for two full bands
    assert bands(two_bands - 1) == [(0, 1000)]
    assert bands(two_bands) == [(0, 500), (500, 1000)]


def test_bad_thread_setting_is_refused(monkeypatch):
    monkeypatch.setenv("IMCONV_NUM_THREADS", "many")
    with pytest.raises(ValueError, match="IMCONV_NUM_THREADS='many' must be a positive integer"):
        imconv.correlate(np.ones((600, 600)), np.ones((3, 3)))


def test_concurrent_calls_from_many_threads_are_independent(rng):
    images = [rng.normal(size=(200, 180)).astype(np.float32) for _ in range(8)]
    expected = [imconv.correlate(image, "sobel_x") for image in images]
    results = [None] * len(images)

    def work(index):
        results[index] = imconv.correlate(images[index], "sobel_x")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(images))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result, reference in zip(results, expected):
        np.testing.assert_array_equal(result, reference)


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_two_d_input_allocates_nothing_image_sized_beyond_the_output(dtype):
    image = np.ones((1024, 1024), dtype)
    imconv.correlate(image[:8, :8], "sharpen")  # compile outside the measurement
    extra = bytes_beyond_result(lambda: imconv.correlate(image, "sharpen", border="reflect"))
    # a few rows per thread (scratch, the rows laid out with their border), no image-sized buffer
    assert extra < image.nbytes // 16, f"{extra} bytes beyond the output"


@pytest.mark.parametrize("method, kernel", [("direct", "sharpen"), ("separable", "sobel_x"),
                                            ("lowrank", "laplacian"), ("box", np.ones((3, 4))),
                                            ("fft", np.arange(30.0).reshape(5, 6))])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.complex128])
def test_out_receives_the_result_of_every_method(rng, method, kernel, dtype):
    image = rng.random((37, 41, 3)) * 100
    expected = imconv.correlate(image, kernel, method=method, dtype=dtype, border="reflect101")
    out = np.full(expected.shape, 7, dtype)
    result = imconv.correlate(image, kernel, method=method, out=out, border="reflect101")
    assert result is out
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("function", [imconv.correlate, imconv.convolve])
def test_out_may_be_strided_or_the_image_itself(rng, function):
    image = rng.random((30, 20)).astype(np.float32)
    kernel = rng.normal(size=(3, 5)).astype(np.float32)
    expected = function(image, kernel, mode="full")
    canvas = np.zeros((64, 48), np.float32)
    window = canvas[1::2, 2:26]            # every other row: not contiguous
    assert function(image, kernel, mode="full", out=window) is window
    np.testing.assert_array_equal(window, expected)
    assert canvas[::2].sum() == 0 and canvas[1::2, :2].sum() == 0 and canvas[1::2, 26:].sum() == 0
    in_place = image.copy()
    function(in_place, kernel, out=in_place)
    np.testing.assert_array_equal(in_place, function(image, kernel))
    shifted = np.zeros((31, 20), np.float32)
    shifted[1:] = image
    function(shifted[1:], kernel, out=shifted[:-1])  # overlaps the image one row up
    np.testing.assert_array_equal(shifted[:-1], function(image, kernel))


def test_out_saves_the_result_allocation():
    image = np.ones((1024, 1024), np.float32)
    out = np.empty_like(image)
    imconv.correlate(image[:8, :8], "sharpen", out=out[:8, :8])  # compile outside the measurement
    extra = bytes_beyond_result(lambda: imconv.correlate(image, "sharpen", out=out)) + out.nbytes
    assert extra < image.nbytes // 16, f"{extra} bytes allocated"  # a few rows per thread


def test_results_are_new_contiguous_arrays(rng):
    image = rng.normal(size=(20, 30, 3))
    result = imconv.correlate(image, "sharpen")
    assert result.flags.c_contiguous and not np.shares_memory(result, image)
    assert imconv.correlate(image[:, :, 0], "sharpen").flags.c_contiguous


def test_compiled_kernels_release_the_gil_and_are_cached():
    assert _compiled.correlate_rows.targetoptions["nogil"] is True
    assert type(_compiled.correlate_rows._cache).__name__ == "FunctionCache"  # not NullCache
    # FMA contraction only: "nnan"/"ninf"/"fast" would let LLVM assume NaN and inf away
    assert set(_compiled.correlate_rows.targetoptions["fastmath"]) == {"contract"}


@pytest.mark.parametrize("make_view", [
    lambda a: a[::-1], lambda a: a[:, ::-1], lambda a: a[::2, 1::3], lambda a: np.asfortranarray(a),
    lambda a: a.transpose(1, 0, 2), lambda a: a[:, :, ::-1],
])
def test_views_give_the_same_result_as_their_copies(rng, make_view):
    base = rng.normal(size=(24, 24, 3)).astype(np.float32)
    view = make_view(base)
    np.testing.assert_array_equal(imconv.correlate(view, "emboss", border="wrap"),
                                  imconv.correlate(np.ascontiguousarray(view), "emboss", border="wrap"))


@pytest.mark.parametrize("make_odd", [
    lambda a: a.astype(a.dtype.newbyteorder(">")),                   # big-endian, as from FITS files
    lambda a: np.broadcast_to(a[:1], a.shape),                      # zero strides
    lambda a: np.frombuffer(a.tobytes(), a.dtype).reshape(a.shape),  # read-only buffer
])
@pytest.mark.parametrize("dtype", [np.float64, np.uint16])
def test_odd_memory_layouts_give_the_plain_result(rng, make_odd, dtype):
    odd = make_odd((rng.random((12, 9)) * 1000).astype(dtype))
    plain = np.array(odd, dtype=dtype, order="C")  # native byte order, own contiguous memory
    expected = imconv.correlate(plain, "sobel_y")
    actual = imconv.correlate(odd, "sobel_y")
    assert actual.dtype == expected.dtype
    np.testing.assert_array_equal(actual, expected)


def test_a_big_endian_float64_kernel_still_asks_for_a_float64_result():
    kernel = np.ones((3, 3), ">f8")
    assert imconv.correlate(np.ones((4, 4), np.float32), kernel).dtype == np.float64
