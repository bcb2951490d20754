"""``carriers``: tokens, sandbox keys, mock servers and contract runs from the shell.

Commands::

    carriers token CARRIER           print a fresh JWT, and only the JWT, on stdout
    carriers inspect                 show the header, claims and time left of a JWT on stdin
    carriers sandbox-key --phone P   create or reuse the Nova Post sandbox key
    carriers mock ...                serve the mock servers until interrupted
    carriers contract ...            run the contract suite

Exit status: 0 success; 1 the API or the network failed (any ``CarrierError`` other
than a ``ConfigurationError``); 2 usage error (bad arguments, bad configuration, no
key). Errors are one line on stderr; ``--debug`` adds the (redacted) traceback.
Warnings the package logs while a command runs are one ``carriers: warning:`` line
each, printed once; ``--debug`` shows every log record instead. Control
characters from a server or a token are escaped in all of it.
API keys are never taken from a command-line value, which would show in the
process list: they come from the environment, a file, a prompt or the key store.

Only the parser is imported up front; a command's module (and with it the HTTP
stack, the mock servers or the contract suite) is imported when it runs.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from .. import registry
from .common import EXIT_API, EXIT_OK, EXIT_USAGE, PROG, UsageError, printable
from .parser import build_parser, delegated, unrecognized

__all__ = ["EXIT_API", "EXIT_OK", "EXIT_USAGE", "main", "run"]

Command = Callable[[argparse.Namespace], int]

_COMMANDS: dict[str, tuple[str, str]] = {
    "token": ("commands", "cmd_token"),
    "inspect": ("jwt_inspect", "cmd_inspect"),
    "sandbox-key": ("commands", "cmd_sandbox_key"),
    "mock": ("commands", "cmd_mock"),
    "contract": ("commands", "cmd_contract"),
}
"""Command -> (module of this package, function), imported when the command runs."""


def _command(name: str) -> Command:
    module, function = _COMMANDS[name]
    found: Command = getattr(importlib.import_module(f".{module}", __name__), function)
    return found


def _redact(text: str) -> str:
    try:
        from ..redaction import redact
    except ImportError:  # the error being reported may be this very import
        return text
    return redact(text)


def _one_line(text: str) -> str:
    """Redacted, on one line, control characters escaped: fit for a terminal."""
    return printable(" ".join(_redact(text).split()))


class _WarningLines(logging.Handler):
    """Each warning once, as one ``carriers: warning: ...`` line on stderr.

    Python's last-resort handler would print every record as it comes: a key
    store read three times warns three times, around the one-line error.
    """

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string still says something
            message = str(record.msg)
        line = _one_line(message)
        if line and line not in self.seen:
            self.seen.add(line)
            sys.stderr.write(f"{PROG}: warning: {line}\n")
            sys.stderr.flush()


class _DebugFormatter(logging.Formatter):
    """Log records as they are, but with control characters escaped."""

    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record), lines=True)


@contextmanager
def _command_logging(debug: bool) -> Iterator[None]:
    """Where log records go while a command runs; all as before once it ends."""
    from ..redaction import RedactingFilter

    handler: logging.Handler
    levels: dict[str, int] = {}
    if debug:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_DebugFormatter("%(levelname)s %(name)s: %(message)s"))
        levels = {"carriers": logging.DEBUG, "httpx": logging.INFO}
    else:
        handler = _WarningLines()
    handler.addFilter(RedactingFilter())
    loggers = [logging.getLogger(name) for name in ("carriers", *levels)]
    saved = [target.level for target in loggers]
    for target in loggers:
        target.addHandler(handler)
        target.setLevel(levels.get(target.name, target.level))
    try:
        yield
    finally:
        for target, level in zip(loggers, saved, strict=True):
            target.removeHandler(handler)
            target.setLevel(level)


def _fail(message: str, code: int, debug: bool) -> int:
    if debug:
        sys.stderr.write(printable(_redact(traceback.format_exc()), lines=True))
    line = _one_line(message) or "failed"
    sys.stderr.write(f"{PROG}: error: {line}\n")
    sys.stderr.flush()
    return code


def run(args: argparse.Namespace, func: Command) -> int:
    """Run a command; map its exceptions to one line on stderr and an exit status."""
    from ..errors import CarrierError, ConfigurationError

    debug: bool = args.debug
    try:
        return func(args)
    except KeyboardInterrupt:
        sys.stderr.write(f"\n{PROG}: interrupted\n")
        return 130
    except (UsageError, ConfigurationError, ValueError) as exc:
        return _fail(str(exc), EXIT_USAGE, debug)
    except CarrierError as exc:
        return _fail(str(exc), EXIT_API, debug)
    except OSError as exc:
        return _fail(f"{exc.strerror or exc}", EXIT_API, debug)
    except Exception as exc:
        hint = "" if debug else " (--debug shows the traceback)"
        return _fail(f"unexpected {type(exc).__name__}: {exc}{hint}", EXIT_API, debug)


def main(argv: Sequence[str] | None = None) -> int:
    """The ``carriers`` console script; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser()
    except registry.RegistryError as exc:  # a broken carrier plugin
        sys.stderr.write(f"{PROG}: error: {printable(' '.join(str(exc).split()))}\n")
        return EXIT_USAGE
    index = delegated(argv)
    if index is not None:
        # 'carriers [OPTIONS] mock REST...': REST, --help included, is the mock's
        args = parser.parse_args(argv[: index + 1])
        args.rest = argv[index + 1 :]
    else:
        args, extra = parser.parse_known_args(argv)
        if args.command is None:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        if extra:
            line = printable(unrecognized(extra))
            sys.stderr.write(f"{PROG}: error: {line} (see '{PROG} {args.command} --help')\n")
            return EXIT_USAGE
    args.progress = not args.quiet
    try:
        from ..redaction import install_redaction

        install_redaction()
        func = _command(args.command)
    except ImportError as exc:
        return _fail(f"cannot load the {args.command} command: {exc}", EXIT_API, args.debug)
    with _command_logging(args.debug):
        return run(args, func)
