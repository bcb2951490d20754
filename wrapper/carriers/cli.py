"""``carriers``: tokens, sandbox keys, mock servers and contract runs from the shell.

Commands::

    carriers token novapost|shipyo   print a fresh JWT, and only the JWT, on stdout
    carriers inspect                 show the header, claims and time left of a JWT on stdin
    carriers sandbox-key --phone P   create or reuse the Nova Post sandbox key
    carriers mock                    serve both mock servers until interrupted
    carriers contract                run the contract suite

Exit status: 0 success; 1 the API or the network failed (any ``CarrierError`` other
than a ``ConfigurationError``); 2 usage error (bad arguments, bad configuration, no
key). Errors are one line on stderr; ``--debug`` adds the (redacted) traceback.
API keys are never taken from a command-line value, which would show in the
process list: they come from the environment, a file, a prompt or the key store.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import datetime
import getpass
import json
import logging
import os
import re
import sys
import textwrap
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn, TextIO

from . import _config
from .errors import CarrierError, ConfigurationError
from .keystore import KeyStore
from .novapost import NovaPost
from .redaction import REDACTED, RedactingFilter, install_redaction, redact, register_secret
from .shipyo import Shipyo

__all__ = ["EXIT_API", "EXIT_OK", "EXIT_USAGE", "main"]

EXIT_OK = 0
EXIT_API = 1
EXIT_USAGE = 2

PROG = "carriers"
PROGRESS_DELAY = 1.0
"""Seconds a step may take before a progress indication appears on stderr."""

_SECRET_CLAIM = re.compile(r"(?i)api[-_]?key|secret|passw(or)?d|token|jwt")

_EXIT_CODES = """\
exit status:
  0  success
  1  the API or the network failed (HTTP error, unreachable server, bad response)
  2  usage error (bad arguments or configuration, no API key)
"""


class UsageError(Exception):
    """A usage problem found by the command line itself (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line on stderr, exit status 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)  # '--api-key' must not mean '--api-key-file'
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        hint = f" (see '{self.prog} --help')"
        self.exit(EXIT_USAGE, f"{PROG}: error: {message}{hint}\n")


# --- progress ----------------------------------------------------------------------------


@contextmanager
def progress(message: str, *, enabled: bool = True, stream: TextIO | None = None) -> Iterator[None]:
    """Show ``message`` on stderr if the block takes longer than ``PROGRESS_DELAY``.

    On a terminal it is a spinner, erased when the block ends; otherwise one line.
    """
    out = stream if stream is not None else sys.stderr
    if not enabled:
        yield
        return
    done = threading.Event()
    shown = threading.Event()
    tty = out.isatty()

    def run() -> None:
        if done.wait(PROGRESS_DELAY):
            return
        if not tty:
            out.write(f"{PROG}: {message}...\n")
            out.flush()
            return
        shown.set()
        frames = "|/-\\"
        index = 0
        while not done.is_set():
            out.write(f"\r{frames[index % len(frames)]} {message}...")
            out.flush()
            index += 1
            done.wait(0.1)

    thread = threading.Thread(target=run, name="carriers-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
        if shown.is_set():
            out.write("\r\033[K")
            out.flush()


# --- helpers -----------------------------------------------------------------------------


def _utc(seconds: float) -> str:
    moment = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def duration(seconds: float) -> str:
    """``90061`` -> ``1d 1h 1m 1s``; the two largest units, never empty."""
    total = int(abs(seconds))
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if total >= size or (unit == "s" and not parts):
            parts.append(f"{total // size}{unit}")
            total %= size
    return " ".join(parts[:2])


def _read_key_file(path: str) -> str:
    try:
        if path == "-":
            text = sys.stdin.read()
        else:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
    except OSError as exc:
        raise UsageError(f"cannot read the API key file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"the API key file {path} is not UTF-8 text") from None
    key = text.strip()
    if not key:
        raise UsageError(f"the API key file {path} is empty")
    return key


def _api_key(args: argparse.Namespace, service: str, env_var: str) -> str | None:
    """The key from --api-key-file, --prompt or the environment; None if there is none."""
    if args.api_key_file is not None:
        return _read_key_file(args.api_key_file)
    if args.prompt:
        key = getpass.getpass(f"{service} API key: ").strip()
        if not key:
            raise UsageError("no API key entered")
        return key
    value = os.environ.get(env_var)
    if value is not None and not value.strip():
        raise UsageError(f"{env_var} is set but empty")
    return value.strip() if value is not None else None


# --- commands ----------------------------------------------------------------------------


def cmd_token(args: argparse.Namespace) -> int:
    """Mint a JWT and print it alone on stdout."""
    retry = {"timeout": args.timeout, "max_retries": args.max_retries}
    client: NovaPost | Shipyo
    if args.api == "novapost":
        if args.tenant_id is not None:
            raise UsageError("--tenant-id is a Shipyo option")
        environment = args.environment or "sandbox"
        if args.key_store is not None and args.phone is None:
            raise UsageError("--key-store goes with --phone")
        key = None if args.phone is not None else _api_key(args, "Nova Post", NovaPost.ENV_VAR)
        if args.phone is not None:
            if environment != "sandbox":
                raise UsageError("--phone uses the sandbox key store: drop --environment")
            with progress("getting the sandbox API key", enabled=args.progress):
                client = NovaPost.sandbox(
                    args.phone, key_store=KeyStore(args.key_store), base_url=args.base_url, **retry
                )
        elif key is None:
            raise UsageError(
                f"no Nova Post API key: set {NovaPost.ENV_VAR}, use --api-key-file FILE or "
                "--prompt, or --phone 49XXXXXXXXX for the sandbox key store"
            )
        else:
            register_secret(key)
            client = NovaPost(key, environment, args.base_url, **retry)
    else:
        if args.phone is not None or args.key_store is not None:
            raise UsageError("--phone and --key-store are for the Nova Post sandbox")
        key = _api_key(args, "Shipyo", Shipyo.ENV_VAR)
        if key is None:
            raise UsageError(
                f"no Shipyo API key: set {Shipyo.ENV_VAR}, or use --api-key-file FILE or --prompt"
            )
        register_secret(key)
        client = Shipyo(
            key, args.environment or "production", args.base_url, args.tenant_id, **retry
        )
    with client, progress(f"minting a {client.SERVICE} token", enabled=args.progress):
        token = client.jwt()
    sys.stdout.write(token + "\n")
    sys.stdout.flush()
    return EXIT_OK


def _b64json(part: str, what: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        value = json.loads(raw)
    except (binascii.Error, ValueError):
        raise UsageError(f"not a JWT: the {what} is not base64url-encoded JSON") from None
    if not isinstance(value, dict):
        raise UsageError(f"not a JWT: the {what} is not a JSON object")
    return value


def _hide(name: str, value: Any) -> Any:
    """``value`` with secret-looking fields (by name or by shape) redacted, recursively."""
    if _SECRET_CLAIM.search(name):
        return REDACTED
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {str(k): _hide(str(k), v) for k, v in value.items()}
    if isinstance(value, list):
        return [_hide(name, item) for item in value]
    return value


def decode_jwt(text: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and the claims of a JWT, unverified; a ``Bearer `` prefix is allowed."""
    token = text.strip()
    if token[:7].lower() == "bearer ":
        token = token[7:].strip()
    if not token:
        raise UsageError("no JWT on stdin (try: carriers token novapost | carriers inspect)")
    parts = token.split(".")
    if len(parts) != 3 or any(ch.isspace() for ch in token):
        raise UsageError("not a JWT: expected three dot-separated parts")
    return _b64json(parts[0], "header"), _b64json(parts[1], "payload")


def _timestamp(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def cmd_inspect(args: argparse.Namespace) -> int:
    """Print a JWT's header, claims and time left, without verifying it."""
    if sys.stdin.isatty():
        sys.stderr.write("Paste a JWT, then press Enter and Ctrl-D.\n")
    header, claims = decode_jwt(sys.stdin.read())
    now = time.time()
    shown = {name: _hide(name, value) for name, value in claims.items()}
    exp = _timestamp(claims.get("exp"))
    left = exp - now if exp is not None else None
    if args.json:
        report = {
            "header": {name: _hide(name, value) for name, value in header.items()},
            "claims": shown,
            "expires_at": _utc(exp) if exp is not None else None,
            "seconds_left": round(left) if left is not None else None,
            "verified": False,
        }
        print(json.dumps(report, indent=2, sort_keys=True))
        return EXIT_OK
    print(f"alg:        {header.get('alg', '(none)')}")
    other = {k: v for k, v in header.items() if k != "alg"}
    if other:
        print("header:     " + ", ".join(f"{k}={_hide(k, v)}" for k, v in other.items()))
    print("claims:")
    width = max((len(name) for name in shown), default=0)
    for name, value in shown.items():
        text = json.dumps(value) if not isinstance(value, str) else value
        stamp = _timestamp(value) if name in ("exp", "iat", "nbf", "auth_time") else None
        if stamp is not None:
            try:
                text += f"  ({_utc(stamp)})"
            except (OverflowError, OSError, ValueError):
                pass
        print(f"  {name.ljust(width)}  {text}")
    if exp is None or left is None:
        print("expires:    unknown (no numeric exp claim)")
    else:
        print(f"expires:    {_utc(exp)}")
        if left > 0:
            print(f"time left:  {duration(left)}")
        else:
            print(f"time left:  none, expired {duration(left)} ago")
    print("signature:  not verified (not shown)")
    return EXIT_OK


def cmd_sandbox_key(args: argparse.Namespace) -> int:
    """Create or reuse the Nova Post sandbox key for a phone; print where it is."""
    phone = _config.check_phone(args.phone)
    store = KeyStore(args.key_store)
    _, settings = NovaPost.settings(environment="sandbox", base_url=args.base_url)
    existing = store.get(phone, settings.base_url)
    with progress("creating a sandbox API key", enabled=args.progress and existing is None):
        client = NovaPost.sandbox(
            phone,
            key_store=store,
            base_url=args.base_url,
            timeout=args.timeout,
            max_retries=args.max_retries,
        )
    client.close()
    stored = store.get(phone, settings.base_url)
    if stored is None:  # the server gave a key that is already (nearly) expired
        raise CarrierError("the server returned a sandbox key that has already expired")
    left = stored.exp_date.timestamp() - time.time()
    print(f"status:     {'reused' if existing is not None else 'created'}")
    print(f"phone:      {phone}")
    print(f"server:     {settings.base_url}")
    print(f"expires:    {_utc(stored.exp_date.timestamp())} (in {duration(left)})")
    print(f"stored in:  {store.path}")
    if args.show:
        print(f"key:        {stored.api_key}")
    return EXIT_OK


def cmd_mock(args: argparse.Namespace) -> int:
    """Serve both mocks: the ``python -m carrier_mocks`` command."""
    try:
        from carrier_mocks.__main__ import main as mock_main
    except ImportError as exc:
        raise UsageError(
            f"the mock servers are not installed ({exc.name}); install carriers[mock]"
        ) from None
    return mock_main(args.rest)


def cmd_contract(args: argparse.Namespace) -> int:
    """Run the contract suite: the ``python -m contract_tests`` command."""
    try:
        from contract_tests.run import main as contract_main
    except ImportError as exc:
        raise UsageError(
            f"the contract suite is not installed ({exc.name}); install carriers[contract]"
        ) from None
    return contract_main(args.rest)


# --- the parser --------------------------------------------------------------------------


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
        "--timeout", type=float, default=30.0, metavar="SECONDS", help="per request (default 30)"
    )
    parser.add_argument(
        "--max-retries", type=int, default=2, metavar="N", help="retries of a failed call"
    )


def _wrap(text: str) -> str:
    return textwrap.fill(text, 78)


def _epilog(text: str) -> str:
    return f"{text}\n\n{_EXIT_CODES}"


def build_parser() -> argparse.ArgumentParser:
    """The ``carriers`` argument parser."""
    formatter = argparse.RawDescriptionHelpFormatter
    parser = _Parser(
        prog=PROG,
        description=_wrap(
            "Tokens, sandbox keys, mock servers and contract runs for Nova Post and Shipyo."
        ),
        epilog=_epilog(
            "examples:\n"
            "  export TOKEN=$(carriers token novapost)\n"
            "  carriers token shipyo | carriers inspect\n"
            "  carriers sandbox-key --phone 498213437654\n\n"
            "'carriers COMMAND --help' describes each command."
        ),
        formatter_class=formatter,
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no progress indication on stderr"
    )
    # Any: the parents include the mock's plain ArgumentParser
    commands: argparse._SubParsersAction[Any] = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=_Parser
    )
    common = _common()

    token = commands.add_parser(
        "token",
        parents=[common],
        help="print a fresh JWT on stdout",
        description=_wrap(
            "Mint a JWT and print it, and only it, on stdout. The API key comes "
            "from NOVAPOST_API_KEY / SHIPYO_API_KEY, --api-key-file, --prompt, or (Nova Post "
            "sandbox) the key store with --phone; never from a command-line value."
        ),
        epilog=_epilog(
            "examples:\n"
            "  export TOKEN=$(carriers token novapost)\n"
            "  carriers token novapost --phone 498213437654\n"
            "  carriers token shipyo --environment staging --api-key-file ~/.shipyo-key\n"
            "  carriers token novapost --base-url http://127.0.0.1:8010/v.1.0"
        ),
        formatter_class=formatter,
    )
    token.add_argument("api", choices=["novapost", "shipyo"], help="which API")
    token.add_argument(
        "--environment",
        help="Nova Post: sandbox (default) or production; Shipyo: production (default) or staging",
    )
    token.add_argument("--base-url", metavar="URL", help="another server, e.g. a mock")
    source = token.add_mutually_exclusive_group()
    source.add_argument(
        "--api-key-file", metavar="FILE", help="read the API key from FILE ('-': stdin)"
    )
    source.add_argument("--prompt", action="store_true", help="ask for the API key (no echo)")
    source.add_argument(
        "--phone",
        metavar="49XXXXXXXXX",
        help="Nova Post sandbox: use (or create) the stored test key of this phone",
    )
    token.add_argument(
        "--key-store", metavar="PATH", help="key store file (default: $CARRIERS_KEY_STORE or cache)"
    )
    token.add_argument("--tenant-id", help="Shipyo: sent as X-Tenant-Id")
    _network_options(token)
    token.set_defaults(func=cmd_token)

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
        formatter_class=formatter,
    )
    inspect.add_argument("--json", action="store_true", help="print JSON instead of text")
    inspect.set_defaults(func=cmd_inspect)

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
        formatter_class=formatter,
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
    sandbox.set_defaults(func=cmd_sandbox_key)

    mock_example = (
        "examples:\n"
        "  carriers mock\n"
        "  carriers mock --novapost-port 0 --shipyo-port 0\n"
        "  carriers mock --fixtures my-fixtures.json"
    )
    try:
        from carrier_mocks.__main__ import _parser as mock_parser

        mock_parents = [mock_parser()]
    except ImportError:
        mock_parents = []
        mock_example += "\n\nthe mock servers need: pip install 'carriers[mock]'"
    mock = commands.add_parser(
        "mock",
        parents=mock_parents,
        conflict_handler="resolve",
        help="serve both mock servers until interrupted",
        description=_wrap(
            "Serve the Nova Post and Shipyo mock servers until Ctrl-C: the same "
            "as 'make mock' and 'python -m carrier_mocks'. Prints the two base URLs."
        ),
        epilog=mock_example,
        formatter_class=formatter,
    )
    mock.set_defaults(func=cmd_mock)

    contract = commands.add_parser(
        "contract",
        help="run the contract suite",
        description=_wrap(
            "Run the schemathesis contract suite: the same as 'make contract' and "
            "'python -m contract_tests'. Other options of the suite (--max-examples N, "
            "--seed N, --workers N, --report-dir DIR) are passed on; MAX_EXAMPLES, SEED and "
            "the variables in the README apply."
        ),
        epilog="examples:\n"
        "  carriers contract\n"
        "  carriers contract --novapost-url http://127.0.0.1:8010/v.1.0\n"
        "  MAX_EXAMPLES=5 carriers contract --target live\n\n"
        "exit status: 0 every tested API passed, 1 a failure, 2 usage error",
        formatter_class=formatter,
    )
    contract.add_argument(
        "--target",
        choices=["mock", "url", "live"],
        help="mock (default): the built-in mocks; url: NOVAPOST_URL / SHIPYO_URL; "
        "live: the real sandboxes",
    )
    contract.add_argument("--novapost-url", metavar="URL", help="a running Nova Post server")
    contract.add_argument("--shipyo-url", metavar="URL", help="a running Shipyo server")
    contract.set_defaults(func=cmd_contract)
    return parser


def _rest(argv: Sequence[str], command: str) -> list[str]:
    """The arguments after the command name, passed on unchanged."""
    items = list(argv)
    return items[items.index(command) + 1 :]


def _unrecognized(extra: Sequence[str]) -> str:
    """Name unknown options without echoing values, which may be secrets."""
    names = [item.split("=", 1)[0] for item in extra if item.startswith("-")]
    if any(name in ("--api-key", "--key", "--token") for name in names):
        return (
            "an API key is never taken from the command line, where the process list "
            "shows it: set NOVAPOST_API_KEY / SHIPYO_API_KEY or use --api-key-file or --prompt"
        )
    if not names:
        return f"{len(extra)} unexpected argument(s)"
    return f"unrecognized arguments: {' '.join(names)}"


# --- main --------------------------------------------------------------------------------


def _debug_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    for name, level in (("carriers", logging.DEBUG), ("httpx", logging.INFO)):
        target = logging.getLogger(name)
        target.addHandler(handler)
        target.setLevel(level)


def _fail(message: str, code: int, debug: bool) -> int:
    if debug:
        sys.stderr.write(redact(traceback.format_exc()))
    line = " ".join(redact(message).split()) or "failed"
    sys.stderr.write(f"{PROG}: error: {line}\n")
    sys.stderr.flush()
    return code


def run(args: argparse.Namespace, func: Callable[[argparse.Namespace], int]) -> int:
    """Run a command; map its exceptions to one line on stderr and an exit status."""
    debug: bool = args.debug
    try:
        return func(args)
    except KeyboardInterrupt:
        sys.stderr.write(f"\n{PROG}: interrupted\n")
        return 130
    except UsageError as exc:
        return _fail(str(exc), EXIT_USAGE, debug)
    except ConfigurationError as exc:
        return _fail(str(exc), EXIT_USAGE, debug)
    except CarrierError as exc:
        return _fail(str(exc), EXIT_API, debug)
    except ValueError as exc:
        return _fail(str(exc), EXIT_USAGE, debug)
    except OSError as exc:
        return _fail(f"{exc.strerror or exc}", EXIT_API, debug)
    except Exception as exc:
        hint = "" if debug else " (--debug shows the traceback)"
        return _fail(f"unexpected {type(exc).__name__}: {exc}{hint}", EXIT_API, debug)


def main(argv: Sequence[str] | None = None) -> int:
    """The ``carriers`` console script; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    if args.command in ("mock", "contract"):
        args.rest = _rest(argv, args.command)
    elif extra:
        sys.stderr.write(
            f"{PROG}: error: {_unrecognized(extra)} (see '{PROG} {args.command} --help')\n"
        )
        return EXIT_USAGE
    if args.command == "mock":
        parser.parse_args(argv)  # the mock's own options: checked here, as 'carriers mock'
    args.progress = not args.quiet
    install_redaction()
    if args.debug:
        _debug_logging()
    return run(args, args.func)


if __name__ == "__main__":
    sys.exit(main())
