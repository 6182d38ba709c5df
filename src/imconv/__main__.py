"""``python -m imconv``: apply the kernel bank to a photograph (the bundled sample by default)."""

from __future__ import annotations

import argparse
import sys

from ._demo import run_bank
from ._image_files import SAMPLE_PATH


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="imconv",
        description="Apply the tutorial's kernel bank to a photograph, write the results and "
                    "a contact sheet, and compare with cv2.filter2D when OpenCV is installed.")
    parser.add_argument("--image", default=SAMPLE_PATH, help="input image (default: bundled sample)")
    parser.add_argument("-o", "--out", default="imconv-demo", help="output folder (default: imconv-demo)")
    parser.add_argument("--border", default="replicate", help="border rule (default: replicate)")
    parser.add_argument("--color", default="gray", choices=["gray", "rgb"])
    args = parser.parse_args(argv)
    try:
        run_bank(args.image, args.out, border=args.border, color=args.color)
    except (OSError, ValueError, TypeError) as error:
        print(f"imconv: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
