"""What the command modules share: the program name, exit statuses, the usage error.

Standard library only, so that ``carriers --version`` and ``--help`` stay fast.
"""

from __future__ import annotations

import datetime

__all__ = ["EXIT_API", "EXIT_OK", "EXIT_USAGE", "PROG", "UsageError", "duration", "utc"]

PROG = "carriers"

EXIT_OK = 0
EXIT_API = 1
"""The API or the network failed: any ``CarrierError`` but a ``ConfigurationError``."""
EXIT_USAGE = 2
"""Bad arguments, bad configuration, no API key."""


class UsageError(Exception):
    """A usage problem found by the command line itself (exit status 2)."""


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
