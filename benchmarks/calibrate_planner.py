"""Measure the direct engine on this machine and store the planner's cost model.

Usage::

    python benchmarks/calibrate_planner.py [--size 4096] [--only-box]

Times one direct pass (nanoseconds per output pixel) for kernels of 1 to 49
non-zero taps on each input type, fits ``ns = per_pixel + per_tap * taps`` by
least squares, and times a 3 x 3 kernel, summed its own way, as ``dense_3x3_ns``; then times the separable method on rank-1 kernels and keeps
what it costs beyond its two passes (its float buffer) as ``buffer_ns``, and
the box method's cost per pixel as ``box_ns`` plus ``box_step_ns`` per step along the
rows (`imconv._box.window_steps`), and the NaN scan's as ``scan_ns``; for
the FFT method, in float32 and float64 transforms, ``transform_ns`` per pixel the
transforms go through (tiles cut, transformed both ways and stored). Writes
src/imconv/data/cost_model.json, which `imconv.explain` and method="auto" read.
``--only-box`` measures the box method again and keeps the rest of the stored model.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

from imconv._borders import REFLECT101
from imconv._direct import correlate_direct
from imconv._box import correlate_box, window_steps
from imconv._compiled import all_finite
from imconv._fft import correlate_fft, transformed_per_pixel
from imconv._separable import correlate_separable

OUT = Path(__file__).resolve().parent.parent / "src" / "imconv" / "data" / "cost_model.json"
TAPS = (1, 2, 4, 9, 16, 25, 36, 49)


def nanoseconds_per_pixel(src, taps: int, accumulator, rng, shape=None) -> float:
    """One direct pass of a kernel of `taps` random taps: square where it can be, but not
    3 x 3, whose sums take their own path (or of `shape`, where given)."""
    side = int(round(taps ** 0.5))
    square = side * side == taps and side != 3
    kernel = rng.normal(size=shape or ((side, side) if square else (1, taps)))
    out = np.empty(src.shape, accumulator)
    run = lambda: correlate_direct(src, kernel, out, origin=(kernel.shape[0] // 2, kernel.shape[1] // 2),
                                   border=REFLECT101, fill=0.0, accumulator=np.dtype(accumulator),
                                   accumulate=False)
    return median_seconds(run) * 1e9 / src[..., 0].size


def median_seconds(run) -> float:
    run()
    times = []
    for _ in range(7):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def separable_buffer_ns(src, accumulator, model, size: int) -> float:
    """Separable time beyond its two passes as the direct model prices them, per pixel."""
    source, buffer = model[src.dtype.name], model[np.dtype(accumulator).name]
    extra = []
    for n in (3, 5, 7, 9):
        factors = [(np.ones(n), np.ones(n))]
        out = np.empty(src.shape, accumulator)
        run = lambda: correlate_separable(src, factors, out, origin=(n // 2, n // 2), border=REFLECT101,
                                          fill=0.0, accumulator=np.dtype(accumulator), accumulate=False)
        passes = (source["per_pixel_ns"] + source["per_tap_ns"] * n
                  + buffer["per_pixel_ns"] + buffer["per_tap_ns"] * n)
        extra.append(median_seconds(run) * 1e9 / (size * size) - passes)
    return max(0.0, statistics.median(extra))


def box_costs(src, accumulator, size: int) -> dict[str, float]:
    """The box method's ns per pixel: a fixed part plus one per step along the rows (window_steps)."""
    out = np.empty(src.shape, accumulator)
    sides, costs = (3, 7, 21, 31, 64), []
    for n in sides:
        run = lambda: correlate_box(src, 1.0 / (n * n), (n, n), out, origin=(n // 2, n // 2),
                                    border=REFLECT101, fill=0.0, accumulator=np.dtype(accumulator),
                                    accumulate=False)
        costs.append(median_seconds(run) * 1e9 / (size * size))
    per_step, fixed = np.polyfit([window_steps(n) for n in sides], costs, 1)
    return {"box_ns": round(float(max(fixed, 0.0)), 4), "box_step_ns": round(float(max(per_step, 0.0)), 4)}


def fft_costs(size: int, real, rng) -> dict[str, float]:
    """The FFT method's ns per pixel its transforms go through (median over three kernel sizes)."""
    src = rng.random((size, size, 1)).astype(real)
    out = np.empty(src.shape, real)
    costs = []
    for n in (15, 31, 49):
        kernel = rng.normal(size=(n, n))
        run = lambda: correlate_fft(src, kernel, out, origin=(n // 2, n // 2), border=REFLECT101,
                                    fill=0.0, accumulator=np.dtype(real), accumulate=False)
        costs.append(median_seconds(run) * 1e9 / (size * size) / transformed_per_pixel((n, n), (size, size)))
    return {"transform_ns": round(statistics.median(costs), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--only-box", action="store_true",
                        help="measure the box method again, keep the rest of the stored model")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    if args.only_box:
        stored = json.loads(OUT.read_text())
        for dtype, model in stored["direct"].items():
            src = (rng.random((args.size, args.size, 1)) * 255).astype(dtype)
            model.update(box_costs(src, np.float64 if dtype == "float64" else np.float32, args.size))
            print(dtype, "box:", model["box_ns"], "+", model["box_step_ns"], "a step, ns per pixel")
        OUT.write_text(json.dumps(stored, indent=2) + "\n")
        print(f"wrote {OUT}")
        return
    model = {}
    for dtype in ("uint8", "uint16", "float32", "float64"):
        src = (rng.random((args.size, args.size, 1)) * 255).astype(dtype)
        accumulator = np.float64 if dtype == "float64" else np.float32
        cost = [nanoseconds_per_pixel(src, taps, accumulator, rng) for taps in TAPS]
        per_tap, per_pixel = np.polyfit(TAPS, cost, 1)
        model[dtype] = {"per_pixel_ns": round(float(per_pixel), 4), "per_tap_ns": round(float(per_tap), 4),
                        "dense_3x3_ns": round(nanoseconds_per_pixel(src, 9, accumulator, rng, (3, 3)), 4)}
        print(dtype, model[dtype], "measured:", [round(c, 3) for c in cost])
    for dtype in model:
        src = (rng.random((args.size, args.size, 1)) * 255).astype(dtype)
        accumulator = np.float64 if dtype == "float64" else np.float32
        model[dtype]["buffer_ns"] = round(separable_buffer_ns(src, accumulator, model, args.size), 4)
        model[dtype].update(box_costs(src, accumulator, args.size))
        flat = src.reshape(args.size, args.size)
        model[dtype]["scan_ns"] = round(median_seconds(lambda: all_finite(flat)) * 1e9 / flat.size, 4)
        print(dtype, "separable buffer:", model[dtype]["buffer_ns"], "box:", model[dtype]["box_ns"], "+", model[dtype]["box_step_ns"], "a step,",
              "ns per pixel")
    fft = {real.__name__: fft_costs(args.size, real, rng) for real in (np.float32, np.float64)}
    print("fft:", fft)
    OUT.write_text(json.dumps({"direct": model, "fft": fft, "measured_on": f"{args.size} x {args.size}"},
                              indent=2) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
