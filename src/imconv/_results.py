"""Memory for large results, reused once the caller has dropped them.

A new result of 4096 x 4096 float32 is 64 MiB. glibc maps every block above
32 MiB afresh from the kernel, which zeroes each page when it is first written:
~3 ms for 64 MiB on the development machine, as long as a whole 3 x 3 filter of
that image. Smaller blocks need nothing from here: glibc keeps and reuses freed
blocks up to 32 MiB (its largest dynamic mmap threshold) by itself.

So results of `SMALLEST` bytes or more are views of blocks kept here. A block is
free again when nothing but this module refers to it: the caller has dropped the
result and every view of it, exactly when NumPy would have given the memory
back. Kept blocks, in use or free, take at most ``IMCONV_RESULT_MEMORY_MB`` MiB
(default 128; 0 keeps none) and a page each; beyond that results are ordinary new arrays. Free
blocks that a request does not fit are given back, the oldest first, when a new
block needs their room. A result's ``base`` is its block.

A kept result starts on a page (4096 bytes). glibc puts a large array 16 bytes
past a page, so an image and a new result of its own would start at the same
place in their pages, and with that relation the direct method's sums into the
result rows ran slower (why, not pinned down: caches index and alias addresses
by their place in a page). In one process on an AMD EPYC VM, 4096² float32,
dense 5 x 5 to 15 x 15 kernels ran 1.1-1.2x faster into page-aligned results;
see the commit that made them for the numbers.

Whether a result's memory has been written before, `pages_written` asks the
kernel (``mincore``), unless it is a kept block handed out again (written by the
call it was made for); the methods stream their rows (non-temporal stores, see
`_direct.store_rule`) only into pages that are. The kernel zeroes a new page
through the cache; a streaming store then has to push those zeroes out first,
and on new pages streamed results ran 0.91-0.97x as fast as plain ones.

>>> import numpy as np
>>> first = new_result((3000, 3000), np.float32)   # 36 MB: a kept block
>>> address = first.ctypes.data
>>> second = new_result((3000, 3000), np.float32)  # the first is still in use
>>> second.ctypes.data != address
True
>>> del first
>>> new_result((3000, 3000), np.float32).ctypes.data == address
True
"""

from __future__ import annotations

import ctypes
import math
import mmap
import os
import sys
import threading

import numpy as np

SMALLEST = 32 << 20          # bytes; glibc reuses smaller blocks itself
_DEFAULT_LIMIT_MB = 128

PAGE = 4096  # results start on a page: kept blocks hold one page more than their result
_blocks: list[np.ndarray] = []   # oldest first; uint8, one per kept result size
_reused: set[int] = set()        # ids of the kept blocks handed out more than once
_lock = threading.Lock()


def pages_written(array: np.ndarray) -> bool:
    """Whether the first and last pages of `array`'s memory are in RAM, i.e. written since the
    kernel gave them (False where ``mincore`` cannot tell: another system, or no data).

    >>> fresh = np.empty(64 << 20, np.uint8)   # 64 MiB: always new pages from the kernel
    >>> pages_written(fresh)
    False
    >>> fresh[:] = 1
    >>> pages_written(fresh)
    True
    """
    if array.base is not None and id(array.base) in _reused:
        return True  # a kept block (views of views refer to it) that an earlier result wrote
    if _mincore is None or array.nbytes == 0:
        return False
    size = mmap.PAGESIZE  # the system's page, which mincore asks to be aligned to
    first = array.ctypes.data & -size
    last = (array.ctypes.data + array.nbytes - 1) & -size
    resident = (ctypes.c_ubyte * 1)()
    for page in {first, last}:
        if _mincore(ctypes.c_void_p(page), size, resident) != 0 or not resident[0] & 1:
            return False
    return True


def _find_mincore():
    try:
        mincore = ctypes.CDLL(None).mincore
    except (OSError, AttributeError, TypeError):  # no C library to load, or no mincore in it
        return None
    mincore.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p)
    mincore.restype = ctypes.c_int
    return mincore


_mincore = _find_mincore()


def memory_limit() -> int:
    """Bytes the kept blocks may take: ``IMCONV_RESULT_MEMORY_MB`` (MiB) if set, else 128 MiB."""
    setting = os.environ.get("IMCONV_RESULT_MEMORY_MB", "").strip()
    if not setting:
        return _DEFAULT_LIMIT_MB << 20
    if not setting.isdigit():
        raise ValueError(f"IMCONV_RESULT_MEMORY_MB={setting!r} must be a whole number of MiB, 0 or more")
    return int(setting) << 20


def new_result(shape: tuple[int, ...], dtype) -> np.ndarray:
    """An uninitialised C-contiguous array, like ``np.empty(shape, dtype)``."""
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes < SMALLEST:
        return np.empty(shape, dtype)
    limit = memory_limit()
    with _lock:  # the view is made under the lock: no other call can take the block meanwhile
        _give_back_free(until=limit)  # the limit may have been lowered
        block = _free_block(nbytes)
        if block is None:
            _give_back_free(until=limit - nbytes)
            if _kept_bytes() + nbytes > limit:
                return np.empty(shape, dtype)
            block = np.empty(nbytes + PAGE, np.uint8)
            _blocks.append(block)
        return aligned_view(block, shape, dtype, PAGE)


def aligned_empty(shape: tuple[int, ...], dtype, alignment: int) -> np.ndarray:
    """Like ``np.empty(shape, dtype)``, its data starting at a multiple of `alignment` bytes.

    >>> aligned_empty((3, 5), np.float32, 64).ctypes.data % 64
    0
    """
    nbytes = math.prod(shape) * np.dtype(dtype).itemsize
    return aligned_view(np.empty(nbytes + alignment, np.uint8), shape, dtype, alignment)


def aligned_view(block: np.ndarray, shape: tuple[int, ...], dtype, alignment: int) -> np.ndarray:
    """A C-contiguous (shape, dtype) view of the bytes of `block` (uint8, alignment bytes more
    than the view needs) from its first address that is a multiple of `alignment`."""
    nbytes = math.prod(shape) * np.dtype(dtype).itemsize
    start = -block.ctypes.data % alignment
    return block[start:start + nbytes].view(dtype).reshape(shape)


def _is_free(index: int) -> bool:
    # References: the list, and getrefcount's own argument. A result, or any view
    # of it, refers to its block as its base.
    return sys.getrefcount(_blocks[index]) == 2


def _free_block(nbytes: int) -> np.ndarray | None:
    """A free kept block of exactly `nbytes`, now the newest; None if there is none."""
    for index in range(len(_blocks)):
        if _blocks[index].size == nbytes + PAGE and _is_free(index):
            _blocks.append(_blocks.pop(index))
            _reused.add(id(_blocks[-1]))
            return _blocks[-1]
    return None


def _kept_bytes() -> int:
    """The bytes of the results the kept blocks hold (not counting each one's page to align it)."""
    return sum(block.size - PAGE for block in _blocks)


def _give_back_free(until: int) -> None:
    """Drop free blocks, the oldest first, until the kept blocks take at most `until` bytes."""
    index = 0
    while index < len(_blocks) and _kept_bytes() > until:
        if _is_free(index):
            _reused.discard(id(_blocks[index]))
            del _blocks[index]
        else:
            index += 1
