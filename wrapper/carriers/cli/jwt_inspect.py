"""``carriers inspect``: what a JWT says, without trusting or repeating it.

The token is decoded, not verified: it is for reading the claims and the time
left. The signature is never printed, and claims named or shaped like secrets are
redacted, so the output can be pasted into a ticket. Whatever the token says is
printed with control characters escaped, and a time claim that is no usable
date (a string, ``1e308``, ``10**400``) is shown as it is, its date as unknown.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import math
import sys
import time
from typing import Any

from ..redaction import hide_secrets
from .common import EXIT_OK, UsageError, duration, read_limited, say, utc

__all__ = ["cmd_inspect", "decode_jwt"]

_TIME_CLAIMS = ("exp", "iat", "nbf", "auth_time")


def _b64json(part: str, what: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        value = json.loads(raw)
    except (binascii.Error, ValueError, RecursionError):  # RecursionError: [[[[... nesting
        raise UsageError(f"not a JWT: the {what} is not base64url-encoded JSON") from None
    if not isinstance(value, dict):
        raise UsageError(f"not a JWT: the {what} is not a JSON object")
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
    """A time claim as POSIX seconds, or None when no date can be made of it."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        seconds = float(value)  # OverflowError for 10**400
        utc(seconds)  # OverflowError, OSError or ValueError out of the calendar's range
    except (OverflowError, OSError, ValueError):
        return None
    return seconds


def _finite(value: Any) -> Any:
    """``value`` with infinite and NaN numbers (JSON's ``1e400``) as strings, for JSON output."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {name: _finite(item) for name, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value


def _hidden(data: dict[str, Any]) -> dict[str, Any]:
    """Secrets hidden; nesting is bounded by ``hide_secrets``, so ``_finite`` can recurse."""
    return {name: _finite(hide_secrets(name, value)) for name, value in data.items()}


def cmd_inspect(args: argparse.Namespace) -> int:
    """Print a JWT's header, claims and time left, without verifying it."""
    if sys.stdin.isatty():
        sys.stderr.write("Paste a JWT, then press Enter and Ctrl-D.\n")
    header, claims = decode_jwt(read_limited(sys.stdin, "the JWT on stdin"))
    now = time.time()
    shown, shown_header = _hidden(claims), _hidden(header)
    exp = _timestamp(claims.get("exp"))
    left = exp - now if exp is not None else None
    if args.json:
        report = {
            "header": shown_header,
            "claims": shown,
            "expires_at": utc(exp) if exp is not None else None,
            "seconds_left": round(left) if left is not None else None,
            "verified": False,
        }
        print(json.dumps(report, indent=2, sort_keys=True))
        return EXIT_OK
    say(f"alg:        {shown_header.get('alg', '(none)')}")
    other = {k: v for k, v in shown_header.items() if k != "alg"}
    if other:
        say("header:     " + ", ".join(f"{k}={v}" for k, v in other.items()))
    say("claims:")
    width = max((len(name) for name in shown), default=0)
    for name, value in shown.items():
        text = json.dumps(value) if not isinstance(value, str) else value
        stamp = _timestamp(value) if name in _TIME_CLAIMS else None
        if stamp is not None:
            text += f"  ({utc(stamp)})"
        say(f"  {name.ljust(width)}  {text}")
    if exp is None or left is None:
        why = "no exp claim" if "exp" not in claims else "exp is not a usable time"
        say(f"expires:    unknown ({why})")
    else:
        say(f"expires:    {utc(exp)}")
        if left > 0:
            say(f"time left:  {duration(left)}")
        else:
            say(f"time left:  none, expired {duration(left)} ago")
    say("signature:  not verified (not shown)")
    return EXIT_OK
