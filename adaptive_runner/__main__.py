"""``python -m adaptive_runner``: the ``adaptive-runner`` command line."""

import sys

from adaptive_runner.cli import main

if __name__ == "__main__":
    sys.exit(main())
