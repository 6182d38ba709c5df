"""How well and how fast imconv.learn learns: kernel recovery under noise, and the digits network.

    python benchmarks/bench_learn.py            # writes benchmarks/results/learn.md and learned_filters.png

1. `fit_kernel` on scikit-image's camera (512 x 512): every bank kernel, targets
   in float64 plus Gaussian noise of each sigma (grey levels 0-255); the largest
   error of any weight, relative to the kernel's largest weight, and the seconds.
2. `train_digits` (30 epochs, Adam, 8 filters 3x3) for five seeds: test accuracy
   and seconds; the first-layer filters of seed 0 beside the bank's.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from skimage import data

import imconv
from imconv.learn import filters_picture, fit_kernel, train_digits

RESULTS = Path(__file__).parent / "results"
SIGMAS = (0.0, 0.5, 2.0, 8.0)


def recovery_table() -> list[str]:
    camera = data.camera()
    rng = np.random.default_rng(0)
    lines = ["| kernel | size | " + " | ".join(f"σ = {s:g}" for s in SIGMAS) + " | lstsq s | gd s (steps) |",
             "|---|---|" + "---:|" * (len(SIGMAS) + 2)]
    for name, kernel in imconv.kernels.BANK.items():
        clean = imconv.correlate(camera, kernel, dtype=np.float64)
        errors = []
        for sigma in SIGMAS:
            fit = fit_kernel(camera, clean + rng.normal(0, sigma, camera.shape), kernel.shape)
            errors.append(f"{np.abs(fit.kernel - kernel).max() / np.abs(kernel).max():.1e}")
        started = time.perf_counter()
        fit_kernel(camera, clean, kernel.shape)
        lstsq_s = time.perf_counter() - started
        started = time.perf_counter()
        descended = fit_kernel(camera, clean, kernel.shape, method="gd")
        gd_s = time.perf_counter() - started
        lines.append(f"| {name} | {kernel.shape[0]}x{kernel.shape[1]} | " + " | ".join(errors)
                     + f" | {lstsq_s:.2f} | {gd_s:.2f} ({descended.steps}) |")
        print(lines[-1], flush=True)
    return lines


def digits_table(seeds) -> tuple[list[str], np.ndarray]:
    lines = ["| seed | test accuracy | train accuracy | seconds |", "|---:|---:|---:|---:|"]
    filters = None
    for seed in seeds:
        training = train_digits(seed=seed)
        lines.append(f"| {seed} | {training.test_accuracy:.2%} | {training.train_accuracy:.2%} | "
                     f"{training.seconds:.1f} |")
        print(lines[-1], flush=True)
        if filters is None:
            filters = training.network.layers[0].weight[:, 0]
    return lines, filters


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=5, help="digits runs (default: 5)")
    args = parser.parse_args()
    imconv.warm(echo=None)
    recovery = recovery_table()
    digits, filters = digits_table(range(args.seeds))
    RESULTS.mkdir(exist_ok=True)
    imconv.write_image(RESULTS / "learned_filters.png", filters_picture(filters))
    text = ["# imconv.learn", "",
            "Largest weight error / largest weight, `fit_kernel` (lstsq) on camera 512 x 512, "
            "Gaussian noise of σ grey levels added to float64 targets; times without noise:", "",
            *recovery, "", "`imconv learn digits` (30 epochs, Adam lr 0.01, batch 32, 8 filters 3x3; "
            "1347 training and 450 test images):", "", *digits, ""]
    (RESULTS / "learn.md").write_text("\n".join(text))
    print(f"wrote {RESULTS / 'learn.md'} and learned_filters.png")


if __name__ == "__main__":
    main()
