"""The contract suite's command line: ``carriers contract`` and ``python -m carriers_contract``.

Kept free of schemathesis and YAML imports, so that without ``carriers[contract]``
it still parses its options, shows its help and says what to install (exit 2).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from carriers import registry
from carriers.extras import MissingExtraError, require

__all__ = ["DEFAULT_MAX_EXAMPLES", "DEFAULT_REPORT_DIR", "build_parser", "main"]

DEFAULT_MAX_EXAMPLES = 300
DEFAULT_REPORT_DIR = Path("reports") / "contract"
EXIT_USAGE = 2


def build_parser(prog: str = "carriers contract") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Run the schemathesis contract suite against the built-in mocks, "
        "given URLs or the live sandboxes.",
        epilog="examples:\n"
        f"  {prog}\n"
        f"  {prog} --novapost-url http://127.0.0.1:8010/v.1.0\n"
        f"  MAX_EXAMPLES=5 {prog} --target live\n\n"
        "exit status: 0 every tested carrier passed, 1 a failure, 2 usage error",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--target",
        choices=["mock", "url", "live"],
        default=os.environ.get("TARGET") or "mock",
        help="mock (default): the built-in mocks; url: the servers of --<carrier>-url or "
        "<CARRIER>_URL; live: the real sandboxes",
    )
    for info in registry.all_carriers():
        parser.add_argument(
            f"--{info.name}-url",
            dest=f"url_{info.name}",
            metavar="URL",
            help=f"a running {info.title} server ({info.url_env})",
        )
    parser.add_argument(
        "--max-examples",
        type=int,
        # a string default goes through type=int: a bad MAX_EXAMPLES is a usage error
        default=os.environ.get("MAX_EXAMPLES") or str(DEFAULT_MAX_EXAMPLES),
        help=f"cases per operation and phase (MAX_EXAMPLES, default {DEFAULT_MAX_EXAMPLES})",
    )
    parser.add_argument("--seed", type=int, default=os.environ.get("SEED") or None)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--report-dir",
        type=Path,
        default=DEFAULT_REPORT_DIR,
        help=f"where reports go (default: {DEFAULT_REPORT_DIR} under the current directory)",
    )
    return parser


def main(argv: Sequence[str] | None = None, *, prog: str = "carriers contract") -> int:
    """Parse ``argv``, check the extra, run the suite; the exit status."""
    args = build_parser(prog).parse_args(argv)
    try:
        require("contract", "the contract suite")
    except MissingExtraError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from carriers_contract import run

    return run.run_all(args, prog=prog)
