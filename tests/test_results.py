"""Kept result memory: never handed out while in use, results equal on reused memory."""

import threading

import numpy as np
import pytest

import imconv
from imconv import _results, reference
from oracles import assert_close, scale

MiB = 1 << 20


@pytest.fixture
def kept(monkeypatch):
    """No blocks kept from other tests; every result, however small, from a kept block."""
    monkeypatch.setattr(_results, "_blocks", [])
    monkeypatch.setattr(_results, "_reused", set())
    monkeypatch.setattr(_results, "SMALLEST", 0)
    monkeypatch.delenv("IMCONV_RESULT_MEMORY_MB", raising=False)
    return _results._blocks


def address(array) -> int:
    return array.__array_interface__["data"][0]


def test_a_block_in_use_is_never_handed_out(kept):
    first = _results.new_result((40, 50), np.float32)
    view = first[3:, ::2]
    del first
    second = _results.new_result((40, 50), np.float32)
    assert not np.shares_memory(second, view)
    assert len(kept) == 2


def test_a_dropped_result_lends_its_memory_to_the_next(kept):
    first = _results.new_result((40, 50), np.float32)
    where = address(first)
    del first
    assert address(_results.new_result((40, 50), np.float32)) == where
    assert address(_results.new_result((2000,), np.float32)) == where  # same size, other shape
    assert len(kept) == 1


def test_a_block_handed_out_again_counts_as_written_without_asking_the_kernel(kept, monkeypatch):
    monkeypatch.setattr(_results, "_mincore", None)  # the kernel cannot be asked: not written
    first = _results.new_result((40, 50), np.float32)
    assert not _results.pages_written(first)
    del first
    again = _results.new_result((40, 50), np.float32)
    assert _results.pages_written(again) and _results.pages_written(again[::2, 1:])
    assert not _results.pages_written(np.empty((40, 50), np.float32))
    monkeypatch.setenv("IMCONV_RESULT_MEMORY_MB", "0")
    del again
    _results.new_result((40, 50), np.float32)  # gives the free block back, and forgets it
    assert kept == [] and _results._reused == set()


def test_kept_blocks_stay_within_the_limit(kept, monkeypatch):
    monkeypatch.setenv("IMCONV_RESULT_MEMORY_MB", "3")
    held = _results.new_result((MiB,), np.uint8)
    dropped = _results.new_result((MiB,), np.uint8)
    del dropped
    # 2 MiB does not fit beside both: the free block is given back, the one in use kept
    big = _results.new_result((2 * MiB,), np.uint8)
    assert [b.size - _results.PAGE for b in kept] == [MiB, 2 * MiB]
    assert big.base is kept[1] and held.base is kept[0]
    # no room at all: an ordinary array, not kept
    assert _results.new_result((MiB,), np.uint8).base is None
    monkeypatch.setenv("IMCONV_RESULT_MEMORY_MB", "0")
    del held, big
    assert _results.new_result((MiB,), np.uint8).base is None
    assert kept == []


def test_only_results_of_32_mib_or_more_are_kept(monkeypatch):
    monkeypatch.setattr(_results, "_blocks", [])
    imconv.correlate(np.ones((64, 64), np.float32), "sharpen")
    assert _results._blocks == []
    result = imconv.correlate(np.ones((2048, 4096), np.float32), "sharpen")  # 32 MiB
    assert [block.size - _results.PAGE for block in _results._blocks] == [32 * MiB]
    assert result.ctypes.data % _results.PAGE == 0
    assert np.shares_memory(result, _results._blocks[0])


def test_bad_limit_is_refused(kept, monkeypatch):
    monkeypatch.setenv("IMCONV_RESULT_MEMORY_MB", "-1")
    with pytest.raises(ValueError, match=r"IMCONV_RESULT_MEMORY_MB='-1' must be a whole number of MiB"):
        imconv.correlate(np.ones((8, 8)), np.ones((3, 3)))


CASES = {  # method -> kernel it can do
    "direct": np.array([[1.0, -2.0, 0.5], [0.0, 3.0, 1.0], [2.0, 0.0, -1.0], [1.0, 1.0, 1.0]]),
    "separable": np.outer([1.0, 4.0, 6.0, 4.0, 1.0], [1.0, 0.0, -1.0]) / 16,
    "lowrank": imconv.kernels.BANK["sharpen"],
    "box": np.full((5, 7), 1 / 35),
    "fft": np.random.default_rng(7).normal(size=(9, 9)),
}


@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64, np.complex128])
@pytest.mark.parametrize("method", CASES)
@pytest.mark.parametrize("channels", [None, 3])
def test_results_on_reused_memory_equal_results_on_new_memory(kept, monkeypatch, rng, method, dtype, channels):
    """Every method writes every pixel: garbage left in a reused block never shows."""
    if dtype == np.complex128 and method in ("box", "fft"):
        pytest.skip("box and fft are for real images")
    shape = (37, 41) if channels is None else (37, 41, channels)
    image = (rng.random(shape) * 200).astype(dtype)
    kernel = CASES[method]
    options = dict(border="reflect101", method=method, mode="full")
    monkeypatch.setattr(_results, "SMALLEST", 1 << 62)
    on_new_memory = imconv.correlate(image, kernel, **options)
    monkeypatch.setattr(_results, "SMALLEST", 0)
    for poison in (0xFF, 0x7F, 0x00):  # NaN, large numbers, zeros
        garbage = imconv.correlate(image, kernel, **options)
        garbage.view(np.uint8).fill(poison)
        where = address(garbage)
        del garbage
        again = imconv.correlate(image, kernel, **options)
        assert address(again) == where
        np.testing.assert_array_equal(again, on_new_memory)
        del again
    if dtype != np.uint8:
        assert_close(on_new_memory, reference.correlate(image, kernel, border="reflect101", mode="full"),
                     1e-5 * scale(image, kernel))


def test_concurrent_calls_never_share_a_block(kept, rng):
    images = [rng.random((300, 400)).astype(np.float32) for _ in range(4)]
    expected = [imconv.correlate(image, "laplacian").copy() for image in images]
    results = [[] for _ in images]

    def worker(index):
        for _ in range(10):
            results[index].append(imconv.correlate(images[index], "laplacian"))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for index, kept_results in enumerate(results):
        for result in kept_results:
            np.testing.assert_array_equal(result, expected[index])
