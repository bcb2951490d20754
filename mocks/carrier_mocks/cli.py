"""Serve every registered carrier's mock until interrupted.

``carriers mock`` and ``python -m carrier_mocks`` run :func:`main`. It prints one
base URL per carrier, then waits for Ctrl-C (or SIGTERM). A port that is taken or
a bad fixtures file ends it at once with a one-line error and exit status 1; a
missing ``carriers[mock]`` extra or a bad option, with exit status 2.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from contextlib import ExitStack
from types import FrameType

from carriers import registry
from carriers.extras import MissingExtraError, require

__all__ = ["build_parser", "main"]

EXIT_FAILED = 1
EXIT_USAGE = 2


def _port_option(name: str) -> str:
    return f"{name}_port"


def build_parser(prog: str = "python -m carrier_mocks") -> argparse.ArgumentParser:
    """The options: ``--host``, ``--fixtures`` and ``--<carrier>-port`` per carrier."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Serve the carriers' mock servers until interrupted.",
        epilog="examples:\n"
        f"  {prog}\n"
        f"  {prog} --novapost-port 0 --shipyo-port 0\n"
        f"  {prog} --fixtures my-fixtures.json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    for info in registry.all_carriers():
        parser.add_argument(
            f"--{info.name}-port",
            dest=_port_option(info.name),
            type=int,
            default=info.mock_port,
            metavar="PORT",
            help=f"{info.title} (default {info.mock_port or 'a free port'}; 0 picks a free port)",
        )
    parser.add_argument("--fixtures", metavar="FILE", help="fixtures JSON (default: packaged)")
    return parser


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None, *, prog: str = "python -m carrier_mocks") -> int:
    args = build_parser(prog).parse_args(argv)
    try:
        require("mock", "the mock servers")
    except MissingExtraError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from carrier_mocks.fixtures import FixturesError, default_fixtures, load_fixtures
    from carrier_mocks.server import MockServerError, serve

    try:
        fixtures = load_fixtures(args.fixtures) if args.fixtures else default_fixtures()
    except FixturesError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    signal.signal(signal.SIGTERM, _stop)
    carriers = registry.all_carriers()
    width = max(len(info.title) for info in carriers) + len(" mock:")
    try:
        with ExitStack() as stack:
            servers = [
                stack.enter_context(
                    serve(
                        info.name,
                        fixtures=fixtures,
                        host=args.host,
                        port=getattr(args, _port_option(info.name)),
                    )
                )
                for info in carriers
            ]
            # Printed once every server listens: a failure leaves stdout empty.
            for info, server in zip(carriers, servers, strict=True):
                print(f"{(info.title + ' mock:').ljust(width)} {server.base_url}", flush=True)
            print("Press Ctrl-C to stop.", flush=True)
            threading.Event().wait()
    except MockServerError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        pass
    return 0
