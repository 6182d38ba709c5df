"""Measure every method on this machine and store the planner's cost model.

Usage::

    python benchmarks/calibrate_planner.py [--size 4096] [--rounds 11] [--only-box]

Times, in nanoseconds per output pixel:

* one direct pass for kernels of 1 to 361 non-zero taps on each input type,
  fitted as ``ns = per_pixel + per_tap * taps`` by least squares of the
  relative error (so that the small kernels, where direct meets separable, and
  the large ones, where it meets the FFT, both fit), and a 3 x 3 kernel,
  summed its own way, as ``dense_3x3_ns``;
* the separable method on rank-1 kernels, keeping what it costs beyond its two
  passes as the direct model prices them as ``buffer_ns`` (negative: it costs
  less than two direct passes);
* the box method, as ``box_ns`` plus ``box_step_ns`` per step along the rows
  (`imconv._box.window_steps`), and the NaN scan as ``scan_ns``;
* the FFT method in float32 and float64 transforms, as ``transform_ns`` per
  pixel the transforms go through (tiles cut, transformed both ways and stored).

The planner compares these costs with one another, so they are measured in the
same rounds: each round runs every measurement once, in an order that
alternates, and each cost is the median over the rounds. (On this shared VM the
whole machine's speed drifts by 1.5x over minutes; measured one after another,
a direct pass and an FFT could be timed in different weather.)

Writes src/imconv/data/cost_model.json, which `imconv.explain` and
method="auto" read. ``--only-box`` measures the box method again and keeps the
rest of the stored model.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import numpy as np

from imconv._borders import REFLECT101
from imconv._box import correlate_box, window_steps
from imconv._compiled import all_finite
from imconv._direct import correlate_direct
from imconv._fft import correlate_fft, transformed_per_pixel
from imconv._separable import correlate_separable

from bench_peers import median_times

OUT = Path(__file__).resolve().parent.parent / "src" / "imconv" / "data" / "cost_model.json"
DTYPES = ("uint8", "uint16", "float32", "float64")
TAPS = (1, 2, 4, 9, 16, 25, 36, 49, 81, 169, 361)
SEPARABLE_SIDES = (3, 5, 7, 9)
BOX_SIDES = (3, 7, 21, 31, 64)
FFT_SIDES = (15, 19, 25, 31, 49)  # where it meets direct, and beyond


def direct_kernel(taps: int, rng) -> np.ndarray:
    """Random taps: square where it can be, but not 3 x 3, whose sums take their own path."""
    side = int(round(taps ** 0.5))
    return rng.normal(size=(side, side) if side * side == taps and side != 3 else (1, taps))


def measurements(size: int, rng, only_box: bool = False) -> dict[tuple, callable]:
    """(what, type, size) -> a call that runs it once on a size x size image."""
    calls = {}
    for dtype in DTYPES:
        src = (rng.random((size, size, 1)) * 255).astype(dtype)
        accumulator = np.dtype(np.float64 if dtype == "float64" else np.float32)
        out = np.empty(src.shape, accumulator)
        options = dict(border=REFLECT101, fill=0.0, accumulator=accumulator, accumulate=False)

        def run(method, *args, side, src=src, out=out, options=options):
            return lambda: method(src, *args, out, origin=(side // 2, side // 2), **options)

        for n in BOX_SIDES:
            calls["box", dtype, n] = run(correlate_box, 1.0 / (n * n), (n, n), side=n)
        if only_box:
            continue
        for taps in TAPS:
            kernel = direct_kernel(taps, rng)
            calls["direct", dtype, taps] = run(correlate_direct, kernel, side=kernel.shape[1])
        calls["dense_3x3", dtype, 9] = run(correlate_direct, rng.normal(size=(3, 3)), side=3)
        for n in SEPARABLE_SIDES:
            calls["separable", dtype, n] = run(correlate_separable, [(np.ones(n), np.ones(n))], side=n)
        calls["scan", dtype, 0] = lambda flat=src.reshape(size, size): all_finite(flat)
    if not only_box:
        for real in ("float32", "float64"):
            src = rng.random((size, size, 1)).astype(real)
            out = np.empty(src.shape, real)
            for n in FFT_SIDES:
                calls["fft", real, n] = lambda kernel=rng.normal(size=(n, n)), n=n, src=src, out=out: (
                    correlate_fft(src, kernel, out, origin=(n // 2, n // 2), border=REFLECT101, fill=0.0,
                                  accumulator=out.dtype, accumulate=False))
    return calls


def interleaved_ns_per_pixel(calls: dict, rounds: int, pixels: int) -> dict:
    """key -> median ns per pixel over `rounds` rounds, each running every call once."""
    return {key: seconds * 1e9 / pixels for key, (seconds, _) in median_times(calls, rounds).items()}


def direct_model(ns: dict, dtype: str) -> dict[str, float]:
    cost = np.array([ns["direct", dtype, taps] for taps in TAPS])
    per_tap, per_pixel = np.polyfit(TAPS, cost, 1, w=1 / cost)  # relative residuals
    print(dtype, "direct ns per pixel by taps:", dict(zip(TAPS, cost.round(3))))
    return {"per_pixel_ns": float(per_pixel), "per_tap_ns": float(per_tap),
            "dense_3x3_ns": ns["dense_3x3", dtype, 9]}


def separable_buffer_ns(ns: dict, dtype: str, model: dict) -> float:
    """Separable time beyond its two passes as the direct model prices them: below zero where
    the two passes cost less than two direct passes (each pays ``per_pixel_ns``, which holds
    laying out and storing rows; separable lays out and stores once)."""
    source, buffer = model[dtype], model["float64" if dtype == "float64" else "float32"]
    extra = [ns["separable", dtype, n] - (source["per_pixel_ns"] + source["per_tap_ns"] * n
                                         + buffer["per_pixel_ns"] + buffer["per_tap_ns"] * n)
             for n in SEPARABLE_SIDES]
    return statistics.median(extra)


def box_model(ns: dict, dtype: str) -> dict[str, float]:
    """A fixed part plus one per step along the rows (window_steps), fitted to the relative error."""
    cost = np.array([ns["box", dtype, n] for n in BOX_SIDES])
    per_step, fixed = np.polyfit([window_steps(n) for n in BOX_SIDES], cost, 1, w=1 / cost)
    print(dtype, "box ns per pixel by side:", dict(zip(BOX_SIDES, cost.round(3))))
    return {"box_ns": float(max(fixed, 0.0)), "box_step_ns": float(max(per_step, 0.0))}


def fft_model(ns: dict, real: str, size: int) -> dict[str, float]:
    """ns per pixel the transforms go through, the median over the kernel sizes."""
    return {"transform_ns": statistics.median(
        ns["fft", real, n] / transformed_per_pixel((n, n), (size, size)) for n in FFT_SIDES)}


def rounded(model):
    if isinstance(model, dict):
        return {key: rounded(value) for key, value in model.items()}
    return round(model, 4) if isinstance(model, float) else model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--only-box", action="store_true",
                        help="measure the box method again, keep the rest of the stored model")
    args = parser.parse_args()
    calls = measurements(args.size, np.random.default_rng(0), args.only_box)
    ns = interleaved_ns_per_pixel(calls, args.rounds, args.size * args.size)
    if args.only_box:
        stored = json.loads(OUT.read_text())
        for dtype in DTYPES:
            stored["direct"][dtype].update(rounded(box_model(ns, dtype)))
            print(dtype, "box:", stored["direct"][dtype])
        OUT.write_text(json.dumps(stored, indent=2) + "\n")
        print(f"wrote {OUT}")
        return
    model = {dtype: direct_model(ns, dtype) for dtype in DTYPES}
    for dtype in DTYPES:
        model[dtype]["buffer_ns"] = separable_buffer_ns(ns, dtype, model)
        model[dtype].update(box_model(ns, dtype))
        model[dtype]["scan_ns"] = ns["scan", dtype, 0] if dtype.startswith("float") else 0.0
    fft = {real: fft_model(ns, real, args.size) for real in ("float32", "float64")}
    stored = rounded({"direct": model, "fft": fft, "measured_on": f"{args.size} x {args.size}"})
    print(json.dumps(stored, indent=2))
    OUT.write_text(json.dumps(stored, indent=2) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
