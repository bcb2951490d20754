"""``python -m carriers``: the ``carriers`` command, where the script is not on PATH."""

import sys

from carriers.cli import main

sys.exit(main())
