"""``imconv learn kernel`` and ``imconv learn digits``.

`imconv.learn` (and scipy.linalg, scikit-learn) is imported when a command
runs, so it costs the rest of the command line nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from ._batch import Progress, UsageError
from ._image_files import read_image, write_image

#: Below this normalised correlation no bank kernel is called close.
CLOSE = 0.9


def add_learn(commands, common, subparser) -> None:
    learn = subparser(commands, common, "learn", "learn kernels from examples",
                      "Recover a kernel from an (image, filtered image) pair, or train a small "
                      "convolutional network on handwritten digits and see the filters it learns.")
    actions = learn.add_subparsers(title="what to learn", metavar="WHAT", parser_class=type(learn))
    learn.set_defaults(command=_no_action)
    kernel = actions.add_parser("kernel", parents=[common], help="recover the kernel behind a filtered image",
                                description="Find the kernel K with correlate(INPUT, K) closest to TARGET "
                                            "(least squares), print it, the bank kernel it is closest to, "
                                            "and the residual.")
    kernel.add_argument("input", help="the original image (PNG, JPEG, TIFF, BMP or .npy)")
    kernel.add_argument("target", help="the filtered image, same size (a .npy or float TIFF keeps it exact)")
    kernel.add_argument("--size", default="3x3", help="kernel size, ROWSxCOLS or N (default: 3x3)")
    kernel.add_argument("--border", default="replicate", help="the border the target was made with")
    kernel.add_argument("--method", choices=["lstsq", "gd"], default="lstsq", help="default: lstsq")
    kernel.add_argument("--l2", type=float, default=0.0, help="ridge penalty (default: 0)")
    kernel.add_argument("--color", choices=["gray", "rgb"], default="gray",
                        help="read files as grey (default) or fit one kernel to all three channels")
    kernel.set_defaults(command=_kernel)
    digits = actions.add_parser("digits", parents=[common], help="train a small CNN on 8x8 digits",
                                description="Train Conv2D - ReLU - max pool - Dense on scikit-learn's "
                                            "bundled digits; save the model (.npz) and a picture of the "
                                            "learned filters beside the bank's.")
    digits.add_argument("--epochs", type=int, default=30, help="default: 30")
    digits.add_argument("--filters", type=int, default=8, help="first-layer filters (default: 8)")
    digits.add_argument("--size", type=int, default=3, help="filter size (default: 3)")
    digits.add_argument("--lr", type=float, default=0.01, help="Adam's learning rate (default: 0.01)")
    digits.add_argument("--seed", type=int, default=0, help="same seed, same result (default: 0)")
    digits.add_argument("-o", "--out", default="imconv-digits", help="output folder (default: imconv-digits)")
    digits.set_defaults(command=_digits)


def _no_action(args, say) -> int:
    raise UsageError("choose what to learn: kernel or digits (see 'imconv learn --help')")


def _kernel(args, say) -> int:
    from .learn import closest_bank_kernel, fit_kernel

    size = parse_size(args.size)
    image, target = _load(args.input, args.color), _load(args.target, args.color)
    fit = fit_kernel(image, target, size, border=args.border, method=args.method, l2=args.l2)
    say(f"recovered {size[0]} x {size[1]} kernel ({args.method}, border {args.border}):")
    shown = np.round(fit.kernel, 6) + 0.0  # + 0.0 turns -0.0 into 0.0
    say(np.array2string(shown, precision=6, suppress_small=True, max_line_width=120))
    name, score = closest_bank_kernel(fit.kernel)
    if abs(score) >= CLOSE:
        say(f"closest bank kernel: {_resembles(name, score)} (normalised correlation {abs(score):.4f})")
    else:
        say(f"no bank kernel is close (best: {name}, normalised correlation {score:.2f})")
    _note_clipping(target, say)
    steps = f", {fit.steps} gd steps" if args.method == "gd" else ""
    say(f"residual RMS {fit.residual_rms:.3g} (target values {target.min():.4g} to {target.max():.4g}), "
        f"condition number {fit.condition:.3g}{steps}")
    return 0


def _digits(args, say) -> int:
    from .learn import closest_bank_kernel, filters_picture, train_digits

    for name in ("epochs", "filters", "size"):
        if getattr(args, name) < 1:
            raise UsageError(f"--{name} {getattr(args, name)} must be at least 1")
    progress = Progress(1, enabled=sys.stderr.isatty() and say.level > 0)

    def report(step, steps, loss):
        progress.total = steps
        progress.advance(f"loss {loss:.4f}")

    try:
        training = train_digits(epochs=args.epochs, filters=args.filters, size=args.size, lr=args.lr,
                                seed=args.seed, progress=report)
    except ImportError as error:
        raise UsageError(str(error)) from None
    progress.finish()
    say(f"test accuracy {training.test_accuracy:.2%} (train {training.train_accuracy:.2%}) after "
        f"{args.epochs} epochs in {training.seconds:.1f} s, final loss {training.epoch_losses[-1]:.4f}")
    weights = training.network.layers[0].weight[:, 0]
    for index, kernel in enumerate(weights):
        name, score = closest_bank_kernel(kernel)
        say(f"  filter {index}: most like {_resembles(name, score)} ({abs(score):.2f})", level=2)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    training.network.save(out / "model.npz")
    write_image(out / "filters.png", filters_picture(weights))
    say(f"wrote model.npz and filters.png to {out}/")
    return 0


def _resembles(name: str, score: float) -> str:
    """A bank kernel's name, "minus" first when the kernel resembles it negated."""
    return f"minus {name}" if score < 0 else name


def _note_clipping(target: np.ndarray, say) -> None:
    """Saturated targets hide what the kernel did there; the fit cannot see past them."""
    if target.dtype.kind not in "iu":
        return
    info = np.iinfo(target.dtype)
    clipped = np.mean((target == info.min) | (target == info.max))
    if clipped > 0.01:
        say(f"note: {clipped:.0%} of the target's pixels are at {info.min} or {info.max} (clipped and "
            "rounded), so no kernel fits them exactly; save the target unclipped (apply --raw) for "
            "an exact fit")


def parse_size(text: str) -> tuple[int, int]:
    """"5x3" -> (5, 3); "5" -> (5, 5).

    >>> parse_size("5x3"), parse_size("7")
    ((5, 3), (7, 7))
    """
    parts = text.lower().split("x")
    if len(parts) not in (1, 2) or not all(p.strip().isdigit() and int(p) > 0 for p in parts):
        raise UsageError(f"--size {text!r} must be ROWSxCOLS or N with positive integers, e.g. 5x5")
    rows, cols = (int(parts[0]), int(parts[-1]))
    return rows, cols


def _load(path: str, color: str) -> np.ndarray:
    if Path(path).suffix.lower() != ".npy":
        return read_image(path, color=color)
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise UsageError(f"{path}: not a readable .npy array ({error})") from None
