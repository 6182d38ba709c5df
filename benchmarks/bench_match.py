"""imconv.match_template against cv2.matchTemplate: time ratios, measured in one run.

Usage::

    python benchmarks/bench_match.py [--size 2000] [--template 200] [--repeats 5]

Both score a uint8 grey image against a template cut from it, for each method,
interleaved, median of `--repeats` runs after a warm-up. The ratio is OpenCV's
time over imconv's: above 1, imconv is faster.
"""

from __future__ import annotations

import argparse

import numpy as np

import cv2
import imconv
from bench_peers import machine, median_times

OPENCV = {"zncc": cv2.TM_CCOEFF_NORMED, "ncc": cv2.TM_CCORR_NORMED, "ccorr": cv2.TM_CCORR}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--template", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    image = (np.random.default_rng(0).random((args.size, args.size)) * 255).astype(np.uint8)
    t = args.template
    template = image[args.size // 3: args.size // 3 + t, args.size // 2: args.size // 2 + t].copy()
    print(f"{args.size} x {args.size} uint8, template {t} x {t}, median of {args.repeats}; {machine()}\n")
    print("| method | imconv ms | cv2.matchTemplate ms | ratio |")
    print("|---|---:|---:|---:|")
    for method, code in OPENCV.items():
        times = median_times({
            "imconv": lambda: imconv.match_template(image, template, method=method),
            "cv2": lambda: cv2.matchTemplate(image, template, code),
        }, args.repeats)
        ours, theirs = times["imconv"][0], times["cv2"][0]
        print(f"| {method} | {ours * 1e3:.0f} | {theirs * 1e3:.0f} | {theirs / ours:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
