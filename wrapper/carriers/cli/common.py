"""What the command modules share: the program name, exit statuses, the usage error.

Standard library only, so that ``carriers --version`` and ``--help`` stay fast.
"""

from __future__ import annotations

import datetime
from typing import TextIO

__all__ = [
    "EXIT_API",
    "EXIT_OK",
    "EXIT_USAGE",
    "MAX_INPUT",
    "PROG",
    "UsageError",
    "duration",
    "printable",
    "read_limited",
    "say",
    "utc",
]

PROG = "carriers"

EXIT_OK = 0
EXIT_API = 1
"""The API or the network failed: any ``CarrierError`` but a ``ConfigurationError``."""
EXIT_USAGE = 2
"""Bad arguments, bad configuration, no API key."""


MAX_INPUT = 64 * 1024
"""Characters read at most from a key file or stdin: ``/dev/zero`` must not hang a command."""


class UsageError(Exception):
    """A usage problem found by the command line itself (exit status 2)."""


_UNSAFE = (
    *range(0x20),
    *range(0x7F, 0xA0),  # DEL and the C1 controls (0x9b opens a sequence like ESC [)
    0x061C,
    0x200E,
    0x200F,
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),  # bidirectional controls, which reorder what follows
    0x2028,
    0x2029,
)
_ESCAPES = {code: ascii(chr(code))[1:-1] for code in _UNSAFE}
_ESCAPES_BUT_NEWLINE = {code: text for code, text in _ESCAPES.items() if code != 0x0A}


def printable(text: str, *, lines: bool = False) -> str:
    """``text`` with control characters escaped as ``\\x1b``, ``\\n``, ``\\u202e``.

    For whatever came from a server or a token: printed raw, an escape sequence
    would drive the terminal. ``lines`` keeps newlines (a traceback).
    """
    return text.translate(_ESCAPES_BUT_NEWLINE if lines else _ESCAPES)


def say(line: str) -> None:
    """Print one line of output, control characters escaped."""
    print(printable(line))


def read_limited(stream: TextIO, what: str) -> str:
    """All of ``stream``, up to ``MAX_INPUT`` characters; a usage error beyond."""
    text = stream.read(MAX_INPUT + 1)
    if len(text) > MAX_INPUT:
        raise UsageError(f"{what} is longer than {MAX_INPUT // 1024} KiB")
    return text


def utc(seconds: float) -> str:
    """A POSIX time as ``2024-01-31T12:00:00Z``."""
    moment = datetime.datetime.fromtimestamp(seconds, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def duration(seconds: float) -> str:
    """``90061`` -> ``1d 1h``: the two largest units, never empty, sign dropped."""
    total = int(abs(seconds))
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if total >= size or (unit == "s" and not parts):
            parts.append(f"{total // size}{unit}")
            total %= size
    return " ".join(parts[:2])
