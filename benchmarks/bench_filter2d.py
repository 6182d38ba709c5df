"""imconv.correlate against cv2.filter2D on large images: time ratios, measured in one run.

Usage::

    python benchmarks/bench_filter2d.py [--size 4096] [--repeats 7]

For each image type (float32 and uint8) and kernel (the tutorial's bank, plus a
5 x 5 binomial and a dense random 5 x 5), both libraries filter the same image
with the same border (reflect101, OpenCV's default) into the same output type
(float32 -> float32, uint8 -> uint8). Runs are interleaved, imconv and OpenCV
alternating which goes first, and each time is the median of `--repeats` runs
after one warm-up. The speed-up is OpenCV's time over imconv's: above 1, imconv
is faster. This is a benchmark, not a test: numbers move with the machine's load.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np

import cv2
import imconv


def kernels_to_time(rng) -> dict[str, np.ndarray]:
    cases = {name: weights for name, weights in imconv.kernels.BANK.items()}
    cases["binomial5"] = imconv.kernels.get("binomial5")
    cases["dense_5x5"] = rng.normal(size=(5, 5))
    return {name: weights.astype(np.float32) for name, weights in cases.items()}


def median_times(calls, repeats: int) -> list[float]:
    """Median seconds of each call, run interleaved; the first of each round alternates."""
    for call in calls:
        call()  # warm-up: numba cache load, OpenCV's thread pool
    samples = [[] for _ in calls]
    for round_ in range(repeats):
        order = range(len(calls)) if round_ % 2 == 0 else reversed(range(len(calls)))
        for index in order:
            start = time.perf_counter()
            calls[index]()
            samples[index].append(time.perf_counter() - start)
    return [statistics.median(s) for s in samples]


def machine() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as info:
            model = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (f"{model}, {len(os.sched_getaffinity(0))} cores; imconv {imconv.__version__}, "
            f"OpenCV {cv2.__version__} ({cv2.getNumThreads()} threads), NumPy {np.__version__}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    base = rng.random((args.size, args.size))
    print(f"{args.size} x {args.size}, border reflect101, median of {args.repeats}; {machine()}\n")
    print("| image | kernel | size | imconv ms | cv2.filter2D ms | speed-up |")
    print("|---|---|---|---:|---:|---:|")
    for dtype in (np.float32, np.uint8):
        image = (base * 255).astype(dtype)
        for name, weights in kernels_to_time(rng).items():
            ours, theirs = median_times([
                lambda: imconv.correlate(image, weights, border="reflect101", dtype=dtype),
                lambda: cv2.filter2D(image, -1, weights, borderType=cv2.BORDER_REFLECT_101),
            ], args.repeats)
            size = "x".join(map(str, weights.shape))
            print(f"| {np.dtype(dtype).name} | {name} | {size} | {ours * 1e3:.1f} | "
                  f"{theirs * 1e3:.1f} | {theirs / ours:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
