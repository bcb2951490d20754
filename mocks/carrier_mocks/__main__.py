"""``python -m carrier_mocks``: serve both mocks until interrupted.

Prints the two base URLs, one per line, then waits for Ctrl-C (or SIGTERM). A
port that is taken or a bad fixtures file ends it at once with a one-line error
and exit status 1.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from contextlib import ExitStack
from types import FrameType

from carrier_mocks.fixtures import FixturesError, default_fixtures, load_fixtures
from carrier_mocks.server import MockServerError, serve

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m carrier_mocks",
        description="Serve the Nova Post and Shipyo mock servers until interrupted.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    parser.add_argument("--novapost-port", type=int, default=8010, help="0 picks a free port")
    parser.add_argument("--shipyo-port", type=int, default=8020, help="0 picks a free port")
    parser.add_argument("--fixtures", metavar="FILE", help="fixtures JSON (default: packaged)")
    return parser


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        fixtures = load_fixtures(args.fixtures) if args.fixtures else default_fixtures()
    except FixturesError as exc:
        print(f"carrier_mocks: {exc}", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, _stop)
    try:
        with ExitStack() as stack:
            novapost = stack.enter_context(
                serve("novapost", fixtures=fixtures, host=args.host, port=args.novapost_port)
            )
            shipyo = stack.enter_context(
                serve("shipyo", fixtures=fixtures, host=args.host, port=args.shipyo_port)
            )
            print(f"Nova Post mock: {novapost.base_url}", flush=True)
            print(f"Shipyo mock:    {shipyo.base_url}", flush=True)
            print("Press Ctrl-C to stop.", flush=True)
            threading.Event().wait()
    except MockServerError as exc:
        print(f"carrier_mocks: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
