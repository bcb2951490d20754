"""Serve every registered carrier's mock until interrupted.

``carriers mock`` and ``python -m carrier_mocks`` run :func:`main`. It prints one
base URL per carrier, then waits for Ctrl-C (or SIGTERM). A port that is taken or
a bad fixtures file ends it at once with a one-line error and exit status 1; a
missing ``carriers[mock]`` extra or a bad option, with exit status 2.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from types import FrameType
from typing import Any

from carriers import registry
from carriers.extras import MissingExtraError, require

__all__ = ["build_parser", "main"]

EXIT_FAILED = 1
EXIT_USAGE = 2


def _port_option(name: str) -> str:
    return f"{name}_port"


def _spec_option(name: str) -> str:
    return f"{name}_spec"


def build_parser(prog: str = "python -m carrier_mocks") -> argparse.ArgumentParser:
    """The options: ``--host``, ``--fixtures``, ``--<carrier>-port`` and ``-spec`` per carrier."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Serve the carriers' mock servers until interrupted.",
        epilog="examples:\n"
        f"  {prog}\n"
        f"  {prog} --novapost-port 0 --shipyo-port 0\n"
        f"  {prog} --fixtures my-fixtures.json\n"
        f"  {prog} --novapost-spec whole-api.json",
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
        parser.add_argument(
            f"--{info.name}-spec",
            dest=_spec_option(info.name),
            metavar="FILE",
            help=f"serve this {info.title} spec (JSON or YAML) instead of the client's",
        )
    parser.add_argument("--fixtures", metavar="FILE", help="fixtures JSON (default: packaged)")
    return parser


class _SpecError(ValueError):
    pass


def _read_spec(path: str) -> dict[str, Any]:
    """A spec file as data: JSON or YAML, an OpenAPI document with paths."""
    import yaml  # with the mock extra, checked before this runs

    try:
        text = Path(path).read_text(encoding="utf-8")
        data = json.loads(text) if path.endswith(".json") else yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as exc:
        raise _SpecError(f"{path}: cannot read the spec: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("paths"), dict):
        raise _SpecError(f"{path}: not an OpenAPI document (no 'paths' object)")
    return data


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
        specs = {
            info.name: _read_spec(getattr(args, _spec_option(info.name)))
            for info in registry.all_carriers()
            if getattr(args, _spec_option(info.name))
        }
    except (FixturesError, _SpecError) as exc:
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
                        spec=specs.get(info.name),
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
