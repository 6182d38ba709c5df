"""``imconv apply``: filter one image or many, in parallel, with a progress bar and a summary."""

from __future__ import annotations

import glob
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._correlation import convolve, correlate
from ._display import to_uint8
from ._image_files import atomic_write, read_image, write_image

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
RAW_SUFFIXES = (".npy", ".tif", ".tiff")
DEFAULT_OUT = "imconv-out"


class UsageError(ValueError):
    """A command line that cannot be carried out as given."""


@dataclass(frozen=True)
class Recipe:
    """What `apply` does to every image."""

    kernels: tuple[tuple[str, np.ndarray], ...]  # (as written, weights), applied in order
    border: str = "replicate"
    fill: float = 0.0
    mode: str = "same"
    convolve: bool = False
    scale: str | None = None   # None: abs if the last kernel sums to 0, else clip
    color: str = "keep"
    raw: bool = False

    def zero_sum_kernel(self) -> str | None:
        """The first kernel whose weights sum to 0, as written: the chain is then an edge map.

        (A chain's response to a flat image is the product of its kernels' sums.)
        """
        return next((spec for spec, w in self.kernels if abs(w.sum()) <= 1e-12 * np.abs(w).sum()), None)

    def display_scale(self) -> str:
        """`scale`, or abs for edge maps (negative values would clip to black), else clip."""
        if self.scale is not None:
            return self.scale
        return "abs" if self.zero_sum_kernel() is not None else "clip"

    def run(self, image: np.ndarray) -> np.ndarray:
        operation = convolve if self.convolve else correlate
        for _, weights in self.kernels:
            image = operation(image, weights, border=self.border, fill=self.fill, mode=self.mode)
        return image


def expand_inputs(patterns) -> tuple[list[Path], bool]:
    """Files named by `patterns` (files, folders, globs) and whether that is a batch."""
    files, batch = [], len(patterns) > 1
    for pattern in patterns:
        path = Path(pattern)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
            if not found:
                raise UsageError(f"folder {pattern!r} holds no {'/'.join(IMAGE_SUFFIXES)} files")
            files += found
            batch = True
        elif not path.exists() and glob.has_magic(pattern):
            found = sorted(Path(p) for p in glob.glob(pattern) if Path(p).is_file())
            if not found:
                raise UsageError(f"no file matches {pattern!r}")
            files += found
            batch = True
        else:
            files.append(path)
    return files, batch


def plan_outputs(inputs: list[Path], batch: bool, out: str | None, suffix: str, raw: bool):
    """(input, output) pairs; UsageError for outputs that would overwrite an input or each other."""
    wanted = RAW_SUFFIXES if raw else IMAGE_SUFFIXES
    out_suffix = Path(out).suffix.lower() if out is not None else ""
    if not batch and out_suffix in IMAGE_SUFFIXES + RAW_SUFFIXES:
        if out_suffix not in wanted:
            raise UsageError(f"-o {out!r}: {'--raw writes' if raw else 'images are written as'} "
                             f"{'/'.join(wanted)}")
        pairs = [(inputs[0], Path(out))]
    else:
        if batch and out is not None and Path(out).suffix.lower() in IMAGE_SUFFIXES + RAW_SUFFIXES:
            raise UsageError(f"-o {out!r} names a file, but several inputs need an output folder")
        folder = Path(out if out is not None else DEFAULT_OUT)
        pairs = [(source, folder / f"{source.stem}{suffix}{_output_suffix(source, raw)}") for source in inputs]
    _refuse_collisions(pairs)
    return pairs


def _output_suffix(source: Path, raw: bool) -> str:
    if raw:
        return ".npy"
    return source.suffix.lower() if source.suffix.lower() in IMAGE_SUFFIXES else ".png"


def _refuse_collisions(pairs) -> None:
    inputs = {os.path.realpath(source) for source, _ in pairs}
    seen = {}
    for source, target in pairs:
        real = os.path.realpath(target)
        if real in inputs:
            raise UsageError(f"output {str(target)!r} would overwrite the input {str(source)!r}; "
                             "choose another -o or a --suffix")
        if real in seen:
            raise UsageError(f"{str(seen[real])!r} and {str(source)!r} would both be written to "
                             f"{str(target)!r}; use a --suffix or separate runs")
        seen[real] = source


def process(source: Path, target: Path, recipe: Recipe) -> float:
    """Filter one file into `target`; returns seconds taken. Raises on any problem."""
    start = time.perf_counter()
    result = recipe.run(read_image(source, color=recipe.color))
    target.parent.mkdir(parents=True, exist_ok=True)
    if recipe.raw and target.suffix.lower() == ".npy":
        atomic_write(target, lambda file: np.save(file, result))
    elif recipe.raw:
        write_image(target, result)  # 32-bit float TIFF
    else:
        write_image(target, to_uint8(result, how=recipe.display_scale()))
    return time.perf_counter() - start


def run_batch(pairs, recipe: Recipe, *, jobs: int, say) -> int:
    """Process every pair, `jobs` at a time; report failures as they happen. Returns the failures."""
    progress = Progress(len(pairs), enabled=len(pairs) > 1 and sys.stderr.isatty() and say.level > 0)
    failures = 0
    pool = ThreadPoolExecutor(max_workers=max(1, jobs))
    try:
        futures = {pool.submit(process, source, target, recipe): (source, target)
                   for source, target in pairs}
        for future in as_completed(futures):
            source, target = futures[future]
            try:
                seconds = future.result()
                say(f"{source} -> {target} ({seconds * 1e3:.0f} ms)", level=2)
            except (OSError, ValueError, TypeError) as error:
                failures += 1
                progress.clear()
                message = str(error)  # read errors name the file already; others do not
                say.error(message if str(source) in message else f"{source}: {message}")
            progress.advance(source.name)
    finally:  # on Ctrl-C, drop the queued images; writes in flight finish whole or not at all
        pool.shutdown(wait=True, cancel_futures=True)
    progress.finish()
    return failures


class Progress:
    """A one-line progress bar on stderr, drawn only on a terminal."""

    def __init__(self, total: int, *, enabled: bool, width: int = 30, every: float = 0.1):
        self.total, self.done, self.enabled, self.width = total, 0, enabled, width
        self.every, self._drawn = every, -float("inf")

    def advance(self, label: str) -> None:
        """Count one item done; redraw at most every `every` seconds, and at the end."""
        self.done += 1
        now = time.perf_counter()
        if self.enabled and (now - self._drawn >= self.every or self.done == self.total):
            self._drawn = now
            filled = self.width * self.done // self.total
            bar = "#" * filled + "." * (self.width - filled)
            sys.stderr.write(f"\r[{bar}] {self.done}/{self.total} {label[:40]:<40}")
            sys.stderr.flush()

    def clear(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * (self.width + 60) + "\r")

    def finish(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")
