"""imconv against every peer a user would pick by hand: one command, one process, ratios.

Usage::

    python benchmarks/bench_peers.py [--sizes 2048 4096] [--repeats 5] [--out benchmarks/results]

For each image size, image type (float32 and uint8, output of the same type)
and kernel (the tutorial's bank of seven, a 31 x 31 Gaussian with sigma 5, and
dense random kernels of 5, 9, 15, 31 and 49), it times, in one process:

* imconv.correlate (method "auto"; the plan's choice is printed),
* cv2.filter2D with the same border (reflect101),
* cv2.sepFilter2D / cv2.blur / cv2.GaussianBlur where the kernel is separable, a box or a Gaussian,
* scipy.ndimage.correlate (mode "mirror" = reflect101),
* scipy.signal.oaconvolve (float32 only; "same", zero border),
* torch.nn.functional.conv2d on the CPU (float32 only; if torch is installed; zero border),
* imconv.correlate with its result on new memory ("new memory"): imconv reuses the
  memory of dropped results of 32 MiB or more, where every other call here gets
  new pages from the kernel, zeroed on first touch (for a 4096 x 4096 float32
  result about as long as a 3 x 3 filter takes); this call gets new pages too,
* a copy of the image by 2 threads into a preallocated array (the memory floor),
* imconv.correlate(out=...) and cv2.filter2D(dst=...) into preallocated arrays,

interleaved (the order alternates each round) and each the median of
``--repeats`` runs after a warm-up; a peer whose first timed run takes over 2 s
is timed once. The plain reference (``imconv.reference``, np.pad and a sliding window)
is timed against imconv on a 256 x 256 crop. It prints a markdown table and
writes it with a PNG chart of the speed-ups to ``--out``. Ratios are what to
read: this is a noisy 2-core VM, and a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import scipy.ndimage
import scipy.signal

import cv2
import imconv
import imconv._results
from imconv import reference
from imconv._separable import separable_factors

try:
    import torch
except ImportError:  # optional peer
    torch = None

SLOW_SECONDS = 2.0
BORDER = cv2.BORDER_REFLECT_101


def kernel_cases(rng) -> dict[str, np.ndarray]:
    cases = dict(imconv.kernels.BANK)
    cases["gaussian_31_s5"] = imconv.kernels.gaussian(31, 5.0)
    for side in (5, 9, 15, 31, 49):
        cases[f"dense_{side}"] = rng.normal(size=(side, side))
    return {name: kernel.astype(np.float32) for name, kernel in cases.items()}


def peers(image: np.ndarray, name: str, kernel: np.ndarray) -> dict:
    """Name -> call for every peer that computes this correlation for this image type."""
    calls = {"cv2.filter2D": lambda: cv2.filter2D(image, -1, kernel, borderType=BORDER)}
    factors = separable_factors(kernel.astype(np.float64), 1e-7)
    if factors is not None:
        column, row = (f.astype(np.float32) for f in factors)
        calls["cv2.sepFilter2D"] = lambda: cv2.sepFilter2D(image, -1, row, column, borderType=BORDER)
    if (kernel == kernel.flat[0]).all():
        calls["cv2.blur"] = lambda: cv2.blur(image, kernel.shape[::-1], borderType=BORDER)
    if name.startswith("gaussian"):
        calls["cv2.GaussianBlur"] = lambda: cv2.GaussianBlur(image, kernel.shape[::-1], 5.0, borderType=BORDER)
    calls["ndimage.correlate"] = lambda: scipy.ndimage.correlate(image, kernel, mode="mirror")
    if image.dtype == np.float32:
        flipped = np.ascontiguousarray(kernel[::-1, ::-1])
        calls["signal.oaconvolve"] = lambda: scipy.signal.oaconvolve(image, flipped, mode="same")
        if torch is not None:
            tensor = torch.from_numpy(image)[None, None]
            weight = torch.from_numpy(kernel)[None, None]
            padding = (kernel.shape[0] // 2, kernel.shape[1] // 2)

            def conv2d():
                with torch.no_grad():
                    return torch.nn.functional.conv2d(tensor, weight, padding=padding)
            calls["torch.conv2d"] = conv2d
    return calls


def copy_by_two_threads(image: np.ndarray, pool: ThreadPoolExecutor):
    target = np.empty_like(image)
    half = image.shape[0] // 2
    bands = [slice(0, half), slice(half, None)]
    return lambda: list(pool.map(lambda band: np.copyto(target[band], image[band]), bands))


def median_times(calls: dict, repeats: int) -> dict[str, tuple[float, int]]:
    """Name -> (median seconds, runs), interleaved; a call slower than SLOW_SECONDS runs once."""
    for call in calls.values():
        call()  # warm-up: numba's cache or compilation, OpenCV's and PyTorch's thread pools
    runs = {name: [] for name in calls}
    for round_ in range(repeats):
        names = list(calls) if round_ % 2 == 0 else list(calls)[::-1]
        for name in names:
            if round_ > 0 and runs[name][0] > SLOW_SECONDS:
                continue
            start = time.perf_counter()
            calls[name]()
            runs[name].append(time.perf_counter() - start)
    return {name: (statistics.median(times), len(times)) for name, times in runs.items()}


def machine() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as info:
            model = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    versions = [f"imconv {imconv.__version__}", f"OpenCV {cv2.__version__} ({cv2.getNumThreads()} threads)",
                f"SciPy {scipy.__version__}", f"NumPy {np.__version__}"]
    if torch is not None:
        versions.append(f"PyTorch {torch.__version__} ({torch.get_num_threads()} threads)")
    return f"{model}, {len(os.sched_getaffinity(0))} cores; " + ", ".join(versions)


def run(sizes, repeats, rng, only_kernels=None, dtypes=("float32", "uint8")) -> list[dict]:
    rows = []
    pool = ThreadPoolExecutor(2)
    kernels = kernel_cases(rng)
    if only_kernels:
        kernels = {name: kernels[name] for name in only_kernels}
    for size in sizes:
        base = rng.random((size, size))
        for dtype in map(np.dtype, dtypes):
            image = (base * 255).astype(dtype)
            for name, kernel in kernels.items():
                calls = {"imconv": lambda: imconv.correlate(image, kernel, border="reflect101", dtype=dtype)}
                calls[NEW_MEMORY] = lambda: on_new_memory(
                    lambda: imconv.correlate(image, kernel, border="reflect101", dtype=dtype))
                calls.update(peers(image, name, kernel))
                out, dst = np.empty_like(image), np.empty_like(image)
                calls[INTO_OUT] = lambda: imconv.correlate(image, kernel, border="reflect101", out=out)
                calls[INTO_DST] = lambda: cv2.filter2D(image, -1, kernel, dst=dst, borderType=BORDER)
                calls[COPY] = copy_by_two_threads(image, pool)  # in the same rounds: the same state of caches
                times = median_times(calls, repeats)
                crop = image[:256, :256]
                small = median_times({
                    "imconv": lambda: imconv.correlate(crop, kernel, border="reflect101", dtype=dtype),
                    "reference": lambda: reference.correlate(crop, kernel, border="reflect101", dtype=dtype),
                }, repeats)
                method = imconv.explain(image, kernel, border="reflect101", dtype=dtype, echo=None).method
                row = dict(size=size, dtype=np.dtype(dtype).name, kernel=name, shape=kernel.shape,
                           method=method, times=times, copy=times[COPY][0],
                           reference_ratio=small["reference"][0] / small["imconv"][0])
                rows.append(row)
                print(table_line(row), flush=True)
    return rows


INTO_OUT, INTO_DST = "imconv out=", "cv2.filter2D dst="  # into preallocated arrays
NEW_MEMORY, COPY = "imconv new memory", "2-thread copy"
HEADER = ("| size | image | kernel | imconv method | imconv ms | new memory ms | cv2.filter2D ms | best peer "
          "| best peer ms | vs filter2D | vs filter2D, new memory | vs best peer | imconv out= ms "
          "| filter2D dst= ms | vs filter2D, both into arrays | out= / 2-thread copy | vs reference (256²) |\n"
          "|---|---|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")


def on_new_memory(call):
    """call() with its result on new memory, as the peers' are, and imconv's kept blocks left as they are.

    (IMCONV_RESULT_MEMORY_MB=0 would also give back the block the plain call reuses.)
    """
    saved = imconv._results.SMALLEST
    imconv._results.SMALLEST = 1 << 62
    try:
        return call()
    finally:
        imconv._results.SMALLEST = saved


def table_line(row: dict) -> str:
    times = row["times"]
    ours = times["imconv"][0]
    others = fresh_peers(times)
    best = min(others, key=others.get)
    once = lambda name: "¹" if times[name][1] == 1 else ""
    kernel = f"{row['kernel']} {row['shape'][0]}x{row['shape'][1]}"
    into_out, into_dst, new = times[INTO_OUT][0], times[INTO_DST][0], times[NEW_MEMORY][0]
    return (f"| {row['size']} | {row['dtype']} | {kernel} | {row['method']} | {ours * 1e3:.1f} | "
            f"{new * 1e3:.1f} | {others['cv2.filter2D'] * 1e3:.1f} | {best}{once(best)} | "
            f"{others[best] * 1e3:.1f} | {others['cv2.filter2D'] / ours:.2f}x | "
            f"{others['cv2.filter2D'] / new:.2f}x | {others[best] / ours:.2f}x | "
            f"{into_out * 1e3:.1f} | {into_dst * 1e3:.1f} | {into_dst / into_out:.2f}x | "
            f"{into_out / row['copy']:.1f} | {row['reference_ratio']:.0f}x |")


def fresh_peers(times: dict) -> dict[str, float]:
    """Peer -> median seconds, for the calls that return a new array (as imconv's plain call does)."""
    return {name: t for name, (t, _) in times.items()
            if name not in ("imconv", NEW_MEMORY, INTO_OUT, INTO_DST, COPY)}


PEERS = ("cv2.filter2D", "cv2.sepFilter2D", "cv2.blur", "cv2.GaussianBlur", "ndimage.correlate",
         "signal.oaconvolve", "torch.conv2d", "reference (256²)")


def peer_table(rows: list[dict]) -> str:
    """Every peer's time in ms (— where it does not apply); the reference's is its ratio."""
    lines = ["| size | image | kernel | imconv | " + " | ".join(PEERS) + " |",
             "|---|---|---|---:|" + "---:|" * len(PEERS)]
    for row in rows:
        times = row["times"]
        cells = []
        for peer in PEERS[:-1]:
            if peer in times:
                seconds, runs = times[peer]
                cells.append(f"{seconds * 1e3:.1f}{'¹' if runs == 1 else ''}")
            else:
                cells.append("—")
        cells.append(f"{row['reference_ratio']:.0f}x slower")
        lines.append(f"| {row['size']} | {row['dtype']} | {row['kernel']} | "
                     f"{times['imconv'][0] * 1e3:.1f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def summary(rows: list[dict]) -> str:
    lines = []
    for size in sorted({row["size"] for row in rows}):
        bank = [row for row in rows if row["size"] == size and row["dtype"] == "float32"
                and row["kernel"] in imconv.kernels.BANK]
        for ours, theirs, how in (("imconv", "cv2.filter2D", "new results"),
                                  (NEW_MEMORY, "cv2.filter2D", "new results on new memory"),
                                  (INTO_OUT, INTO_DST, "both into preallocated arrays")):
            speedups = [row["times"][theirs][0] / row["times"][ours][0] for row in bank]
            if speedups:
                geomean = float(np.exp(np.mean(np.log(speedups))))
                lines.append(f"- {size}²: geometric mean speed-up over cv2.filter2D on the bank (float32, "
                             f"{how}): {geomean:.2f}x")
    return "\n".join(lines)


def chart(rows: list[dict], path: Path) -> None:
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = sorted({(row["size"], row["dtype"]) for row in rows})
    figure, axes = plt.subplots(len(groups), 1, figsize=(11, 3.2 * len(groups)), squeeze=False)
    for axis, (size, dtype) in zip(axes[:, 0], groups):
        chosen = [row for row in rows if (row["size"], row["dtype"]) == (size, dtype)]
        labels = [row["kernel"] for row in chosen]
        x = np.arange(len(chosen))
        versus_filter2d = [row["times"]["cv2.filter2D"][0] / row["times"]["imconv"][0] for row in chosen]
        versus_best = [min(fresh_peers(row["times"]).values()) / row["times"]["imconv"][0]
                       for row in chosen]
        axis.bar(x - 0.2, versus_filter2d, 0.4, label="vs cv2.filter2D")
        axis.bar(x + 0.2, versus_best, 0.4, label="vs best peer")
        axis.axhline(1.0, color="black", linewidth=0.8)
        axis.set_yscale("log")
        axis.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}x"))
        axis.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        axis.set_xticks(x, labels, rotation=30, ha="right", fontsize=8)
        axis.set_ylabel("speed-up (x)")
        axis.set_title(f"imconv speed-up, {size} x {size} {dtype}, border reflect101 (above 1: imconv faster)",
                       fontsize=10)
        axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=90)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2048, 4096])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--kernels", nargs="+", metavar="NAME",
                        help="only these cases (default: all): " + ", ".join(kernel_cases(np.random.default_rng(0))))
    parser.add_argument("--dtypes", nargs="+", choices=["float32", "uint8"], default=["float32", "uint8"])
    args = parser.parse_args()
    if args.kernels:
        unknown = set(args.kernels) - set(kernel_cases(np.random.default_rng(0)))
        if unknown:
            parser.error(f"unknown kernel case(s) {sorted(unknown)}")
    header = f"Median of {args.repeats}, border reflect101; {machine()}\n"
    print(header)
    print(HEADER, flush=True)
    rows = run(args.sizes, args.repeats, np.random.default_rng(0), args.kernels, args.dtypes)
    notes = ("\n¹ timed once (one run took over 2 s).\n"
             "Ratios above 1: imconv is faster. 'out= / 2-thread copy': imconv's time into a preallocated "
             "array over a 2-thread copy of the image into a preallocated array, timed in the same rounds. "
             "'new memory': imconv with its results of 32 MiB or more on new pages, as every peer's are, "
             "where the plain call reuses the memory of the result dropped before.\n" + summary(rows) + "\n")
    print(notes)
    args.out.mkdir(parents=True, exist_ok=True)
    table = "\n".join([header, HEADER, *map(table_line, rows), notes,
                       "Every peer's time (ms):\n", peer_table(rows), ""])
    (args.out / "peers.md").write_text(table)
    chart(rows, args.out / "peers.png")
    print(f"wrote {args.out / 'peers.md'} and {args.out / 'peers.png'}")


if __name__ == "__main__":
    main()
