"""The ``imconv`` command line: demo, bank, apply, kernels, match, warm, learn.

Every user error (a missing file, bad kernel text, an unknown name, a corrupt
image) prints one line on stderr and exits with status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import warnings
from pathlib import Path

import numpy as np

from . import __version__, kernels
from ._batch import DEFAULT_OUT, Recipe, UsageError, expand_inputs, plan_outputs, run_batch
from ._borders import resolve_border
from ._cli_learn import add_learn
from ._correlation import explain
from ._demo import run_bank
from ._image_files import SAMPLE_PATH, read_image, write_image
from ._kernel_spec import parse_kernel
from ._matching import METHODS, find_matches, match_template
from ._pictures import draw_boxes, heat_map
from ._warm import warm

EXAMPLES = """\
examples:
  imconv demo                                  the kernel bank on the bundled photograph
  imconv bank photo.jpg --color rgb -o bank/   the same on your photograph
  imconv apply photo.jpg -k sobel_x -o edges.png
  imconv apply photos/ -k gaussian:9:2.0 -k sharpen -o sharp/ --suffix _sharp
  imconv apply photo.png -k "0,-1,0;-1,5,-1;0,-1,0" --raw -o sharpened.npy
  imconv kernels                               list the named kernels and builders
  imconv kernels gaussian:7:1.5                show one kernel
  imconv match photo.jpg eye.png -n 3 -o found/
  imconv learn kernel photo.png blurred.npy --size 5x5
  imconv learn digits --seed 1 -o digits/
"""


class Reporter:
    """Prints to stdout by verbosity (0 quiet, 1 normal, 2 verbose); errors to stderr."""

    def __init__(self, level: int):
        self.level = level

    def __call__(self, message: str, level: int = 1) -> None:
        if self.level >= level:
            print(message, flush=True)

    def error(self, message: str) -> None:
        print(f"imconv: error: {message}", file=sys.stderr, flush=True)


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line instead of usage + message
        raise UsageError(f"{message} (see '{self.prog} --help')")


def main(argv=None) -> int:
    """Run the command line; returns the exit status (0 fine, 2 any error)."""
    parser = build_parser()
    say = Reporter(1)
    warnings.showwarning = lambda message, *_: print(f"imconv: warning: {message}", file=sys.stderr)
    try:
        args = parser.parse_args(argv)
        say.level = 0 if args.quiet else 2 if args.verbose else 1
        return args.command(args, say)
    except (OSError, ValueError, TypeError) as error:  # UsageError, ImageFileError, ... included
        say.error(str(error))
        return 2
    except KeyboardInterrupt:
        say.error("interrupted")
        return 130


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    loudness = common.add_mutually_exclusive_group()
    loudness.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    loudness.add_argument("-v", "--verbose", action="store_true", help="print more detail")
    parser = _Parser(prog="imconv", parents=[common], epilog=EXAMPLES,
                     formatter_class=argparse.RawDescriptionHelpFormatter,
                     description="Image convolution and cross-correlation, exact and fast.")
    parser.add_argument("--version", action="version", version=f"imconv {__version__}")
    parser.set_defaults(command=_no_command)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)
    for add in (_add_demo, _add_bank, _add_apply, _add_kernels, _add_match, _add_warm):
        add(commands, common)
    add_learn(commands, common, _subparser)
    return parser


def _subparser(commands, common, name, help_text, description=None):
    return commands.add_parser(name, parents=[common], help=help_text, epilog=EXAMPLES,
                               description=description or help_text,
                               formatter_class=argparse.RawDescriptionHelpFormatter)


def _no_command(args, say) -> int:
    raise UsageError("choose a command: demo, bank, apply, kernels, match, warm or learn")


# --- demo and bank ------------------------------------------------------------------

def _add_demo(commands, common):
    demo = _subparser(commands, common, "demo", "apply the kernel bank to the bundled photograph",
                      "Apply the tutorial's kernel bank to the bundled sample photograph; write each "
                      "result and a labelled contact sheet, print a table with timings and the "
                      "largest difference from cv2.filter2D when OpenCV is installed.")
    demo.add_argument("-o", "--out", default="imconv-demo", help="output folder (default: imconv-demo)")
    demo.add_argument("--border", default="replicate", help="border rule (default: replicate)")
    demo.set_defaults(command=lambda args, say: _bank(SAMPLE_PATH, "gray", args, say))


def _add_bank(commands, common):
    bank = _subparser(commands, common, "bank", "apply the kernel bank to your image")
    bank.add_argument("image", help="input image (PNG, JPEG, TIFF, BMP)")
    bank.add_argument("--color", choices=["gray", "rgb"], default="gray", help="default: gray")
    bank.add_argument("--border", default="replicate", help="border rule (default: replicate)")
    bank.add_argument("-o", "--out", default="imconv-bank", help="output folder (default: imconv-bank)")
    bank.set_defaults(command=lambda args, say: _bank(args.image, args.color, args, say))


def _bank(image, color, args, say) -> int:
    run_bank(image, args.out, border=args.border, color=color, echo=say)
    return 0


# --- apply --------------------------------------------------------------------------

def _add_apply(commands, common):
    apply = _subparser(
        commands, common, "apply", "filter images with one or more kernels",
        "Filter one image, or many (files, folders, globs) in parallel. KERNEL is a name "
        "(sobel_x), a builder (gaussian:9:2.0, box:5x3), an inline matrix "
        "('0,-1,0;-1,5,-1;0,-1,0') or a .txt/.csv/.npy/.json file; several -k apply in order.")
    apply.add_argument("inputs", nargs="+", metavar="INPUT", help="image files, folders or globs")
    apply.add_argument("-k", "--kernel", action="append", required=True, metavar="KERNEL")
    apply.add_argument("--border", default="replicate", help="border rule (default: replicate)")
    apply.add_argument("--fill", type=float, default=0.0, help="outside value for --border constant")
    apply.add_argument("--mode", choices=["same", "valid", "full"], default="same")
    apply.add_argument("--convolve", action="store_true", help="flip the kernel (true convolution)")
    apply.add_argument("--scale", choices=["clip", "abs", "rescale"],
                       help="to 8 bits; default: abs when a kernel sums to 0 (an edge map), else clip")
    apply.add_argument("--color", choices=["gray", "rgb", "keep"], default="keep",
                       help="default: keep the file's channels")
    apply.add_argument("-o", "--out", help=f"output file, or folder (default: {DEFAULT_OUT}/)")
    apply.add_argument("--suffix", default="", help="added to each output name, e.g. _edges")
    apply.add_argument("--raw", action="store_true",
                       help="write the unclipped float result (.npy, or a 32-bit float .tif)")
    apply.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)),
                       help="images processed at once (default: one per CPU)")
    apply.set_defaults(command=_apply)


def _apply(args, say) -> int:
    resolve_border(args.border)
    if args.jobs < 1:
        raise UsageError(f"--jobs {args.jobs} must be at least 1")
    recipe = Recipe(kernels=tuple((spec, parse_kernel(spec)) for spec in args.kernel),
                    border=args.border, fill=args.fill, mode=args.mode, convolve=args.convolve,
                    scale=args.scale, color=args.color, raw=args.raw)
    inputs, batch = expand_inputs(args.inputs)
    pairs = plan_outputs(inputs, batch, args.out, args.suffix, args.raw)
    if not args.raw and recipe.scale is None and recipe.zero_sum_kernel() is not None:
        say(f"kernel {recipe.zero_sum_kernel()!r} sums to 0 (an edge map): writing |value| "
            "(--scale abs) so negative responses are not clipped to black")
    with _one_thread_per_image(batch and args.jobs > 1):
        failures = run_batch(pairs, recipe, jobs=args.jobs if batch else 1, say=say)
    if batch:
        say(f"{len(pairs) - failures} written, {failures} failed -> {pairs[0][1].parent}/")
    elif not failures:
        say(f"wrote {pairs[0][1]}")
    return 2 if failures else 0


@contextlib.contextmanager
def _one_thread_per_image(enabled: bool):
    """Images in parallel, each on one engine thread; the setting is put back afterwards."""
    saved = os.environ.get("IMCONV_NUM_THREADS")
    if enabled:
        os.environ["IMCONV_NUM_THREADS"] = "1"
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("IMCONV_NUM_THREADS", None)
        else:
            os.environ["IMCONV_NUM_THREADS"] = saved


# --- kernels ------------------------------------------------------------------------

def _add_kernels(commands, common):
    listing = _subparser(commands, common, "kernels", "list the named kernels, or show one")
    listing.add_argument("name", nargs="?", help="a name, builder (gaussian:7:1.5) or matrix")
    listing.set_defaults(command=_kernels)


def _kernels(args, say) -> int:
    if args.name is None:
        for name in kernels.names():
            info = kernels.info(name)
            bank = "bank " if name in kernels.BANK else "     "
            say(f"{bank}{name:<15} {'x'.join(map(str, info.weights.shape)):>6}  {info.description}")
        say("")
        for name, (_, description) in kernels.BUILDERS.items():
            say(f"build {name:<15} {'':>6}  {description}")
        return 0
    weights = parse_kernel(args.name)
    description = (kernels.info(args.name).description if args.name in kernels.names()
                   else kernels.BUILDERS.get(args.name.split(":")[0], (None, "a kernel you wrote"))[1])
    say(f"{args.name}: {description}")
    say(np.array2string(weights, precision=6, suppress_small=True, max_line_width=120))
    say(f"size {weights.shape[0]} x {weights.shape[1]}, sum {weights.sum():.6g}, "
        f"{'separable (rank 1)' if _rank(weights) == 1 else f'rank {_rank(weights)}, not separable'}")
    typical = np.broadcast_to(np.float32(0), (4096, 4096))  # planning reads no pixels
    single = weights.astype(np.complex64 if weights.dtype.kind == "c" else np.float32)
    plan = explain(typical, single, echo=None)  # float32 throughout, as a name would run
    others = ", ".join(f"{m} {ms:.1f} ms" for m, ms in plan.predicted_ms.items() if m != plan.method)
    say(f"plan for a 4096 x 4096 float32 image: {plan.method} (predicted "
        f"{plan.predicted_ms[plan.method]:.1f} ms{'; ' + others if others else ''})")
    return 0


def _rank(weights: np.ndarray) -> int:
    singular = np.linalg.svd(weights, compute_uv=False)
    return int(np.sum(singular > 1e-10 * singular[0])) if singular[0] > 0 else 0


# --- match --------------------------------------------------------------------------

def _add_match(commands, common):
    match = _subparser(commands, common, "match", "find a template in an image",
                       "Template matching by cross-correlation: print the best N locations (x, y, "
                       "score), write the image with boxes drawn and the score map as a heat map.")
    match.add_argument("image")
    match.add_argument("template")
    match.add_argument("-n", type=int, default=1, help="how many matches (default: 1)")
    match.add_argument("--method", choices=METHODS, default="zncc",
                       help="zncc (OpenCV TM_CCOEFF_NORMED, default), ncc, ccorr")
    match.add_argument("--color", choices=["gray", "rgb"], default="gray")
    match.add_argument("-o", "--out", default="imconv-match", help="output folder (default: imconv-match)")
    match.set_defaults(command=_match)


def _match(args, say) -> int:
    image = read_image(args.image, color=args.color)
    template = read_image(args.template, color=args.color)
    scores = match_template(image, template, method=args.method)
    matches = find_matches(scores, n=args.n)
    th, tw = template.shape[:2]
    say(f"{'rank':>4} {'x':>6} {'y':>6} {'score':>10}")
    for rank, found in enumerate(matches, start=1):
        say(f"{rank:>4} {found.x:>6} {found.y:>6} {found.score:>10.4f}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    picture = image if image.dtype == np.uint8 else (image / max(image.max(), 1) * 255).astype(np.uint8)
    boxes = [(m.x, m.y, tw, th, f"#{rank}") for rank, m in enumerate(matches, start=1)]
    write_image(out / "matches.png", draw_boxes(picture, boxes))
    write_image(out / "scores.png", heat_map(scores))
    say(f"wrote matches.png and scores.png to {out}/", level=1)
    return 0


# --- warm -----------------------------------------------------------------------------

def _add_warm(commands, common):
    warm_command = _subparser(
        commands, common, "warm", "compile the common kernels now (once per install)",
        "Compile every method for the common image types now, so that first calls in later "
        "processes load machine code from numba's cache instead of compiling it (a few "
        "seconds per new type, once). Run it once after installing, e.g. in a Docker build.")
    warm_command.set_defaults(command=_warm)


def _warm(args, say) -> int:
    warm(echo=say)
    return 0
