"""How close the planner's choice comes to the fastest method: one command, one process, ratios.

Usage::

    python benchmarks/bench_planner.py [--size 4096] [--repeats 5] [--out benchmarks/results]

For each image type (output of the same type) and kernel (dense random kernels
of 3 to 49, Gaussians, boxes and the tutorial's bank), it times
``imconv.correlate`` with method "auto" and with every method that applies,
interleaved (the order alternates each round), each the median of ``--repeats``
runs after a warm-up; a method whose first timed run takes over 2 s is timed
once. It prints a markdown table, and writes it to ``--out``/planner.md: the
method chosen, the fastest, and the regret, auto's time over the fastest
method's (1.00: the planner chose the fastest, or one as fast). A method named
in ``method=`` that needs finite data (box, lowrank, fft) scans the image for
NaN and inf first, where auto's box does not (it checks as it goes): auto's box
can beat the forced box. Regrets within the noise of this 2-core VM (10% and
more, even for auto against its own method forced) mean little; a case far
above 1 is a cost model to measure again (benchmarks/calibrate_planner.py) or
to fix.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import imconv
from bench_peers import machine, median_times

METHODS = ("direct", "separable", "lowrank", "box", "fft")


def kernel_cases(rng) -> dict[str, np.ndarray]:
    cases = {f"dense_{side}": rng.normal(size=(side, side))
             for side in (3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 25, 31, 41, 49)}
    cases.update({f"gaussian_{side}": imconv.kernels.gaussian(side, side / 6) for side in (5, 9, 15, 31)})
    cases.update({f"box_{side}": np.full((side, side), 1.0 / side ** 2) for side in (3, 7, 15, 31)})
    cases.update(imconv.kernels.BANK)
    return {name: kernel.astype(np.float32) for name, kernel in cases.items()}


def method_calls(image: np.ndarray, kernel: np.ndarray) -> dict:
    """"auto" and every method that applies to this image and kernel -> call."""
    calls = {}
    for method in ("auto", *METHODS):
        call = (lambda method=method:
                imconv.correlate(image, kernel, border="reflect101", dtype=image.dtype, method=method))
        try:
            call()  # the warm-up, and the test that the method applies
        except ValueError:
            continue
        calls[method] = call
    return calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--dtypes", nargs="+", choices=["float32", "uint8"], default=["float32", "uint8"])
    parser.add_argument("--kernels", nargs="+", metavar="NAME", help="only these cases (default: all)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    kernels = kernel_cases(rng)
    if args.kernels:
        kernels = {name: kernels[name] for name in args.kernels}
    base = rng.random((args.size, args.size))
    lines = [f"{args.size} x {args.size}, border reflect101, median of {args.repeats}; {machine()}\n",
             "| image | kernel | chosen | auto ms | fastest | fastest ms | regret | every method (ms) |",
             "|---|---|---|---:|---|---:|---:|---|"]
    print(*lines, sep="\n", flush=True)
    regrets = []
    for dtype in args.dtypes:
        image = (base * 255).astype(dtype)
        for name, kernel in kernels.items():
            calls = method_calls(image, kernel)
            times = {name: seconds for name, (seconds, _) in median_times(calls, args.repeats).items()}
            chosen = imconv.explain(image, kernel, border="reflect101", dtype=image.dtype, echo=None).method
            forced = {method: ms for method, ms in times.items() if method != "auto"}
            fastest = min(forced, key=forced.get)
            regret = times["auto"] / forced[fastest]
            regrets.append((regret, dtype, name))
            every = ", ".join(f"{method} {ms * 1e3:.1f}" for method, ms in forced.items())
            lines.append(f"| {dtype} | {name} | {chosen} | {times['auto'] * 1e3:.1f} | {fastest} | "
                         f"{forced[fastest] * 1e3:.1f} | {regret:.2f} | {every} |")
            print(lines[-1], flush=True)
    values = [regret for regret, _, _ in regrets]
    worst = max(regrets)
    lines.append(f"\nRegret over {len(values)} cases: geometric mean {np.exp(np.mean(np.log(values))):.3f}, "
                 f"worst {worst[0]:.2f} ({worst[1]} {worst[2]}), above 1.10 in {sum(v > 1.10 for v in values)}")
    print(lines[-1])
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "planner.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out / 'planner.md'}")


if __name__ == "__main__":
    main()
