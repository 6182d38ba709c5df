"""Row bands on threads.

The compiled kernels release the GIL, so plain Python threads run them in
parallel. The calling thread computes the first band itself, so a call never
waits on an idle pool, and nested or concurrent calls (Dask, user threads)
cannot deadlock: bands never wait on other bands.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

# Below this many multiply-adds per band a thread costs more than it saves. Handing a
# band to a pool thread that sleeps took 120-150 us on the 2-core VM of the benchmarks
# (waking the other virtual CPU), and two bands broke even with one at about 2.6 million
# multiply-adds each, for 3 x 3, box, dense 9 x 9 and Gaussian 31 kernels alike (a float32
# 3 x 3 at 512 x 512: 173 us on one thread, 341 us on two with the old 2**18).
MIN_WORK_PER_BAND = 1 << 21

_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()


def num_threads() -> int:
    """Threads a call may use: ``IMCONV_NUM_THREADS`` if set, else the CPUs this process may run on."""
    setting = os.environ.get("IMCONV_NUM_THREADS", "").strip()
    if not setting:
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if not setting.isdigit() or int(setting) < 1:
        raise ValueError(f"IMCONV_NUM_THREADS={setting!r} must be a positive integer")
    return int(setting)


def _executor(workers: int) -> ThreadPoolExecutor:
    """The shared pool, grown when a call needs more workers (an old pool finishes its tasks)."""
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size < workers:
            _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="imconv")
            _pool_size = workers
        return _pool


def run_bands(task, n_rows: int, work_per_row: int) -> list:
    """Call ``task(y_start, y_stop)`` on bands that cover ``range(n_rows)``; results in band order.

    One band per thread, and at least MIN_WORK_PER_BAND of work (multiply-adds) in each.
    """
    by_work = n_rows * work_per_row // MIN_WORK_PER_BAND
    n_bands = 1 if by_work <= 1 else min(num_threads(), n_rows, by_work)
    bounds = [n_rows * b // n_bands for b in range(n_bands + 1)]
    if n_bands == 1:
        return [task(0, n_rows)]
    pool = _executor(n_bands - 1)
    futures = [pool.submit(task, bounds[b], bounds[b + 1]) for b in range(1, n_bands)]
    first = task(bounds[0], bounds[1])
    return [first, *(future.result() for future in futures)]
