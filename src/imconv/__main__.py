"""``python -m imconv``: the same command line as ``imconv``."""

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
