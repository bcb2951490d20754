"""``python -m carriers_contract``: the contract suite (``carriers contract``)."""

import sys

from carriers_contract.cli import main

sys.exit(main(prog="python -m carriers_contract"))
