"""The ``carriers`` argument parser.

Built from the registry, so a carrier added there is a ``carriers token`` choice
without touching this file. It imports only the standard library and the
registry: ``carriers --help`` and ``--version`` load no HTTP stack, and the mock
servers and the contract suite are not imported at all (their commands hand
every argument to them, see :data:`DELEGATES`).
"""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NoReturn, Protocol

from .. import registry
from .._version import __version__
from .common import EXIT_USAGE, PROG, printable

__all__ = ["DELEGATES", "SECRET_OPTIONS", "Delegate", "build_parser", "delegated", "unrecognized"]

_EXIT_CODES = """\
exit status:
  0  success
  1  the API or the network failed (HTTP error, unreachable server, bad response)
  2  usage error (bad arguments or configuration, no API key)
"""


@dataclass(frozen=True)
class Delegate:
    """A command that is another package's command line, run as ``carriers NAME``."""

    module: str
    """Imported when the command runs; its ``main(argv, *, prog=...)`` does the work."""
    extra: str
    """The ``carriers[...]`` extra that installs what the module needs."""
    what: str
    help: str


DELEGATES: dict[str, Delegate] = {
    "mock": Delegate(
        "carrier_mocks.cli", "mock", "the mock servers", "serve the mock servers until interrupted"
    ),
    "contract": Delegate(
        "carriers_contract.cli", "contract", "the contract suite", "run the contract suite"
    ),
}
"""Commands whose arguments, ``--help`` included, all go to another module's ``main``."""


SECRET_OPTIONS = frozenset({"--api-key", "--key", "--token"})
"""Options people try for an API key; refused with a pointer to the safe ways."""


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line on stderr, exit status 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)  # '--api-key' must not mean '--api-key-file'
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        hint = f" (see '{self.prog} --help')"
        line = printable(" ".join(message.split()))
        self.exit(EXIT_USAGE, f"{PROG}: error: {line}{hint}\n")


_MAX_SECONDS = 86400.0
"""The longest timeout taken, as the facades' own check: a day."""


class Commands(Protocol):
    """What ``ArgumentParser.add_subparsers()`` returns, as far as used here (argparse
    names no public type for it)."""

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser: ...


def _seconds(text: str) -> float:
    """A ``--timeout``: finite, above 0, at most a day; checked before any key is read."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text[:40]!r}") from None
    if not 0 < value <= _MAX_SECONDS:  # NaN fails both comparisons
        raise argparse.ArgumentTypeError(
            f"must be more than 0 and at most {_MAX_SECONDS:.0f} seconds, not {text[:40]!r}"
        )
    return value


def _common() -> argparse.ArgumentParser:
    """Options every command takes after its name too (defaults come from the top level)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks"
    )
    common.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=argparse.SUPPRESS,
        help="no progress indication on stderr",
    )
    return common


def _network_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timeout", type=_seconds, default=30.0, metavar="SECONDS", help="per request (default 30)"
    )
    parser.add_argument(
        "--max-retries", type=int, default=2, metavar="N", help="retries of a failed call"
    )


def _wrap(text: str) -> str:
    return textwrap.fill(text, 78)


def _epilog(text: str) -> str:
    return f"{text}\n\n{_EXIT_CODES}"


def _key_variables() -> str:
    return " / ".join(info.api_key_env for info in registry.all_carriers())


def _environments() -> str:
    """``Nova Post: sandbox (default), production; Shipyo: ...``."""
    return "; ".join(
        f"{info.title}: "
        + ", ".join(
            f"{name} (default)" if name == info.default_environment else name
            for name in info.environments
        )
        for info in registry.all_carriers()
    )


def _add_token(commands: Commands, common: argparse.ArgumentParser) -> None:
    carriers = registry.all_carriers()
    sandboxes = " / ".join(c.title for c in carriers if c.sandbox_phone_env) or "none"
    token = commands.add_parser(
        "token",
        parents=[common],
        help="print a fresh JWT on stdout",
        description=_wrap(
            f"Mint a JWT and print it, and only it, on stdout. The API key comes from "
            f"{_key_variables()}, --api-key-file, --prompt, or (a sandbox key store: "
            f"{sandboxes}) the key store with --phone; never from a command-line value."
        ),
        epilog=_epilog(
            "examples:\n"
            "  export TOKEN=$(carriers token novapost)\n"
            "  carriers token novapost --phone 498213437654\n"
            "  carriers token shipyo --environment staging --api-key-file ~/.shipyo-key\n"
            "  carriers token novapost --base-url http://127.0.0.1:8010/v.1.0"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    token.add_argument("carrier", choices=registry.names(), help="which carrier")
    token.add_argument("--environment", help=_environments())
    token.add_argument("--base-url", metavar="URL", help="another server, e.g. a mock")
    source = token.add_mutually_exclusive_group()
    source.add_argument(
        "--api-key-file", metavar="FILE", help="read the API key from FILE ('-': stdin)"
    )
    source.add_argument("--prompt", action="store_true", help="ask for the API key (no echo)")
    source.add_argument(
        "--phone",
        metavar="PHONE",
        help=f"{sandboxes}: use (or create) the stored sandbox key of this phone",
    )
    token.add_argument(
        "--key-store", metavar="PATH", help="key store file (default: $CARRIERS_KEY_STORE or cache)"
    )
    token.add_argument("--tenant-id", help="the tenant, for a carrier with tenants (Shipyo)")
    _network_options(token)


def _add_inspect(commands: Commands, common: argparse.ArgumentParser) -> None:
    inspect = commands.add_parser(
        "inspect",
        parents=[common],
        help="show the claims and time left of a JWT read on stdin",
        description=_wrap(
            "Read a JWT on stdin and print its header algorithm, claims, expiry "
            "and time left. The signature is neither verified nor shown; claims named like "
            "secrets are redacted."
        ),
        epilog=_epilog(
            "examples:\n"
            "  carriers token novapost | carriers inspect\n"
            '  printf %s "$TOKEN" | carriers inspect --json'
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    inspect.add_argument("--json", action="store_true", help="print JSON instead of text")


def _add_sandbox_key(commands: Commands, common: argparse.ArgumentParser) -> None:
    sandbox = commands.add_parser(
        "sandbox-key",
        parents=[common],
        help="create or reuse the Nova Post sandbox API key",
        description=_wrap(
            "Create the Nova Post sandbox API key of a phone (POST /test-api-keys, "
            "allowed once a day) or reuse the unexpired one in the key store. Prints its "
            "status, expiry and where it is stored; the key itself only with --show."
        ),
        epilog=_epilog(
            "examples:\n"
            "  carriers sandbox-key --phone 498213437654\n"
            "  carriers sandbox-key --phone 498213437654 --show\n"
            "  carriers sandbox-key --phone 498213437654 --base-url http://127.0.0.1:8010/v.1.0"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sandbox.add_argument(
        "--phone", required=True, metavar="49XXXXXXXXX", help="the phone of your sandbox client"
    )
    sandbox.add_argument(
        "--base-url", metavar="URL", help="another sandbox server, e.g. a mock's /v.1.0 URL"
    )
    sandbox.add_argument(
        "--key-store", metavar="PATH", help="key store file (default: $CARRIERS_KEY_STORE or cache)"
    )
    sandbox.add_argument("--show", action="store_true", help="also print the key itself")
    _network_options(sandbox)


def build_parser() -> argparse.ArgumentParser:
    """The ``carriers`` argument parser; ``args.command`` names the command to run."""
    titles = [info.title for info in registry.all_carriers()]
    listed = ", ".join(titles[:-1]) + " and " + titles[-1] if len(titles) > 1 else titles[0]
    parser = _Parser(
        prog=PROG,
        description=_wrap(f"Tokens, sandbox keys, mock servers and contract runs for {listed}."),
        epilog=_epilog(
            "examples:\n"
            "  export TOKEN=$(carriers token novapost)\n"
            "  carriers token shipyo | carriers inspect\n"
            "  carriers sandbox-key --phone 498213437654\n"
            "  carriers mock --novapost-port 0\n\n"
            "'carriers COMMAND --help' describes each command."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no progress indication on stderr"
    )
    commands: Commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=_Parser
    )
    common = _common()
    _add_token(commands, common)
    _add_inspect(commands, common)
    _add_sandbox_key(commands, common)
    for name, delegate in DELEGATES.items():
        # no options of its own: 'carriers NAME ...' hands everything to the module
        commands.add_parser(name, help=delegate.help, add_help=False)
    return parser


def delegated(argv: Sequence[str]) -> int | None:
    """The index of a delegated command's name in ``argv``, or None.

    The command is the first argument that is not an option: the top-level
    options (``--debug``, ``-q``) take no values.
    """
    for index, item in enumerate(argv):
        if not item.startswith("-"):
            return index if item in DELEGATES else None
    return None


def unrecognized(extra: Sequence[str]) -> str:
    """Name unknown options without echoing values, which may be secrets."""
    names = [item.split("=", 1)[0] for item in extra if item.startswith("-")]
    if any(name in SECRET_OPTIONS for name in names):
        return (
            "an API key is never taken from the command line, where the process list "
            f"shows it: set {_key_variables()} or use --api-key-file or --prompt"
        )
    if not names:
        return f"{len(extra)} unexpected argument(s)"
    return f"unrecognized arguments: {' '.join(names)}"
