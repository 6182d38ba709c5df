"""Results written by non-temporal stores are the results written plainly, to the bit."""

from unittest import mock

import numba
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import imconv
from imconv import _box, _compiled, _direct, _results
from imconv._direct import store_rule
from oracles import BORDERS, images, kernels

# (kernel, methods): a 3 x 3 summed in registers, a sparse 5 x 4 by tap passes, a rank-1 and
# a rank-2 kernel, a box
KERNELS = {
    "3x3": (np.array([[1.0, -2, 0.5], [0, 3, 1], [-1, 0.25, 2]]), ["direct"]),
    "sparse 5x4": (np.where(np.arange(20).reshape(5, 4) % 3 == 0, 0.0, np.linspace(-2, 3, 20).reshape(5, 4)),
                   ["direct"]),
    "rank 1": (np.outer([1.0, 2, -1], [0.5, 0, 1, 3]), ["direct", "separable"]),
    "rank 2": (np.array([[0.0, -1, 0], [-1, 5, -1], [0, -1, 0]]), ["lowrank"]),
    "box": (np.full((3, 7), 1 / 21), ["box", "separable"]),
}


def plainly_and_streamed(call):
    """call()'s result with plain stores, then with every float result streamed."""
    with mock.patch.object(_direct, "STREAM_BYTES", 1 << 62):
        plain = call()
    # small arrays may lie on new pages, which would not stream
    with mock.patch.object(_direct, "STREAM_BYTES", 0), mock.patch.object(_direct, "pages_written",
                                                                          lambda out: True):
        return plain, call()


@pytest.mark.parametrize("name", KERNELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("width", [1, 15, 16, 17, 50, 131])
@pytest.mark.parametrize("channels", [None, 3])
def test_streamed_results_equal_plain_ones(rng, name, dtype, width, channels):
    kernel, methods = KERNELS[name]
    shape = (23, width) if channels is None else (23, width, channels)
    finite = rng.normal(size=shape).astype(dtype)
    with_nan = finite.copy()
    with_nan[5, :3] = np.nan  # the NaN rule holds the same way
    for method in methods:
        image = finite if method in ("lowrank", "box") else with_nan  # they refuse NaN
        for border in BORDERS:
            plain, streamed = plainly_and_streamed(
                lambda: imconv.correlate(image, kernel, method=method, border=border, fill=1.5))
            np.testing.assert_array_equal(streamed, plain, err_msg=f"{method}, {border}")


@pytest.mark.parametrize("offset", [0, 4, 8, 12, 60])
@pytest.mark.parametrize("name", KERNELS)
def test_streams_into_out_arrays_anywhere_in_a_line(rng, offset, name):
    """out= arrays that start at any float32 position in a cache line, and strided ones."""
    kernel, methods = KERNELS[name]
    image = rng.normal(size=(19, 77)).astype(np.float32)
    raw = np.zeros(19 * 77 * 4 + 128, np.uint8)
    start = -raw.ctypes.data % 64 + offset
    out = raw[start:start + 19 * 77 * 4].view(np.float32).reshape(19, 77)
    strided = np.zeros((19, 154), np.float32)[:, ::2]
    for method in methods:
        for target in (out, strided):
            plain, streamed = plainly_and_streamed(
                lambda: imconv.correlate(image, kernel, method=method, out=target).copy())
            np.testing.assert_array_equal(streamed, plain, err_msg=method)


@given(image=images(dtype=np.float32, max_side=40), kernel=kernels(max_side=6),
       border=st.sampled_from(BORDERS))
def test_streamed_results_equal_plain_ones_for_any_kernel(image, kernel, border):
    plain, streamed = plainly_and_streamed(lambda: imconv.correlate(image, kernel, border=border))
    np.testing.assert_array_equal(streamed, plain)


@numba.njit
def _stream(values, row):
    _compiled.stream_row(values, row)
    _compiled.end_stores(_compiled.STORE_STREAM)


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.float32, np.float64])
def test_stream_row_writes_every_element_and_nothing_else(dtype):
    itemsize = np.dtype(dtype).itemsize
    raw = np.zeros(16384, np.uint8)
    base = -raw.ctypes.data % 64
    for start in range(base, base + 64, itemsize):
        for n in (0, 1, 63 // itemsize, 64 // itemsize, 64 // itemsize + 1, 300 // itemsize, 1000):
            raw[:] = 0
            row = raw[start:start + n * itemsize].view(dtype)
            values = np.arange(1, n + 1).astype(dtype)
            _stream(values, row)
            np.testing.assert_array_equal(row, values)
            assert not raw[:start].any() and not raw[start + n * itemsize:].any()


def test_stream_row_copies_rows_not_aligned_to_their_own_type():
    raw = np.zeros(1000, np.uint8)
    start = -raw.ctypes.data % 64 + 2  # a float32 row two bytes into a line
    row = raw[start:start + 4 * 200].view(np.float32)
    values = np.linspace(-1, 1, 200).astype(np.float32)
    _stream(values, row)
    np.testing.assert_array_equal(row, values)


def test_only_large_float_results_on_written_pages_stream():
    big, small = np.ones((2048, 1024), np.float32), np.ones((1024, 1024), np.float32)
    assert big.nbytes >= _direct.STREAM_BYTES > small.nbytes
    float32 = np.dtype(np.float32)
    assert store_rule(big, float32, False)[0] == _compiled.STORE_STREAM
    assert store_rule(small, float32, False)[0] == _compiled.STORE_COPY
    assert store_rule(big, float32, True)[0] == _compiled.STORE_ADD  # adding reads the output anyway
    assert store_rule(np.ones((4096, 4096), np.uint8), float32, False)[0] == _compiled.STORE_CLAMP_SINGLE
    fresh = np.empty((4096, 4096), np.float32)  # 64 MiB: new pages, which the kernel zeroes on first write
    assert store_rule(fresh, float32, False)[0] == _compiled.STORE_COPY


def test_results_stream_once_their_memory_is_reused():
    """A kept result block is new pages the first time (plain stores), written pages after."""
    image = np.ones((4096, 2048), np.float32)
    chosen = []

    def spy(out, *args, **kwargs):
        store = store_rule(out, *args, **kwargs)
        chosen.append(store[0])
        return store
    with mock.patch.object(_box, "store_rule", spy), mock.patch.object(_results, "_blocks", []):
        imconv.correlate(image, "small_blur", method="box")  # 32 MiB: a new kept block, dropped
        imconv.correlate(image, "small_blur", method="box")
    assert chosen == [_compiled.STORE_COPY, _compiled.STORE_STREAM]
