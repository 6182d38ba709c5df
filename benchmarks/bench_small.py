"""imconv against cv2.filter2D on small images, where a call's fixed cost shows.

Usage::

    python benchmarks/bench_small.py [--rounds 31] [--out benchmarks/results]

A call to `imconv.correlate` checks its arguments, plans, derives the kernel's
tables and hands out bands before it sums a pixel; on a 4096 x 4096 image that
is lost in the filtering, on an 8 x 8 one it is all there is. For float32 and
uint8 images of 8 x 8 (the fixed cost), 512 x 512 and 1640 x 1190 (the
tutorial's photo), and the bank's 3 x 3 kernels, the small blur and a dense
5 x 5, it times in one process, interleaved, the median of ``--rounds`` runs:

* imconv.correlate, border reflect101, output of the image's type,
* cv2.filter2D with the same border,
* both into preallocated arrays (``out=`` and ``dst=``).

It prints a markdown table of times (microseconds) and ratios (above 1: imconv
is faster) and writes it to ``--out``/small.md. A benchmark, not a test: this
is a noisy 2-core VM; read the ratios.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

import cv2
import imconv

SIZES = [(8, 8), (512, 512), (1190, 1640)]
KERNELS = ["sharpen", "sobel_x", "emboss", "small_blur", "dense_5"]


def kernel(name: str, rng) -> np.ndarray:
    if name == "dense_5":
        return rng.normal(size=(5, 5)).astype(np.float32)
    return imconv.kernels.get(name).astype(np.float32)


def median_us(calls: dict, rounds: int) -> dict[str, float]:
    for call in calls.values():
        call()  # warm-up
    runs = {name: [] for name in calls}
    for round_ in range(rounds):
        for name in (list(calls) if round_ % 2 == 0 else list(calls)[::-1]):
            start = time.perf_counter()
            calls[name]()
            runs[name].append(time.perf_counter() - start)
    return {name: 1e6 * statistics.median(times) for name, times in runs.items()}


def run(rounds: int) -> list[str]:
    rng = np.random.default_rng(0)
    lines = ["| image | kernel | imconv µs | filter2D µs | vs filter2D | imconv out= µs | "
             "filter2D dst= µs | vs filter2D, both into arrays |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for height, width in SIZES:
        for dtype in (np.float32, np.uint8):
            image = (rng.random((height, width)) * 255).astype(dtype)
            out, dst = np.empty_like(image), np.empty_like(image)
            for name in KERNELS:
                weights = kernel(name, rng)
                times = median_us({
                    "imconv": lambda: imconv.correlate(image, weights, border="reflect101", dtype=dtype),
                    "filter2D": lambda: cv2.filter2D(image, -1, weights, borderType=cv2.BORDER_REFLECT_101),
                    "out": lambda: imconv.correlate(image, weights, border="reflect101", out=out),
                    "dst": lambda: cv2.filter2D(image, -1, weights, dst=dst,
                                                borderType=cv2.BORDER_REFLECT_101),
                }, rounds)
                lines.append(
                    f"| {height} x {width} {np.dtype(dtype).name} | {name} | {times['imconv']:.1f} | "
                    f"{times['filter2D']:.1f} | {times['filter2D'] / times['imconv']:.2f}x | "
                    f"{times['out']:.1f} | {times['dst']:.1f} | {times['dst'] / times['out']:.2f}x |")
                print(lines[-1], flush=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=31)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    print("| image | kernel | ... (see small.md)")
    lines = run(args.rounds)
    args.out.mkdir(parents=True, exist_ok=True)
    header = (f"Median of {args.rounds}, border reflect101, output of the image's type; "
              f"imconv {imconv.__version__}, OpenCV {cv2.__version__} ({cv2.getNumThreads()} threads). "
              "Ratios above 1: imconv is faster.\n\n")
    (args.out / "small.md").write_text(header + "\n".join(lines) + "\n")
    print(f"wrote {args.out / 'small.md'}")


if __name__ == "__main__":
    main()
