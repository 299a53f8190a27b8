"""``python -m models oof|holdout``: see :mod:`models.cli`."""

import sys

from models.cli import main

if __name__ == "__main__":
    sys.exit(main())
