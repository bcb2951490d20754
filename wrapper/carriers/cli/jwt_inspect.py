"""``carriers inspect``: what a JWT says, without trusting or repeating it.

The token is decoded, not verified: it is for reading the claims and the time
left. The signature is never printed, and claims named or shaped like secrets are
redacted, so the output can be pasted into a ticket.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import sys
import time
from typing import Any

from ..redaction import hide_secrets
from .common import EXIT_OK, UsageError, duration, utc

__all__ = ["cmd_inspect", "decode_jwt"]

_TIME_CLAIMS = ("exp", "iat", "nbf", "auth_time")


def _b64json(part: str, what: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        value = json.loads(raw)
    except (binascii.Error, ValueError):
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
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _hidden(data: dict[str, Any]) -> dict[str, Any]:
    return {name: hide_secrets(name, value) for name, value in data.items()}


def cmd_inspect(args: argparse.Namespace) -> int:
    """Print a JWT's header, claims and time left, without verifying it."""
    if sys.stdin.isatty():
        sys.stderr.write("Paste a JWT, then press Enter and Ctrl-D.\n")
    header, claims = decode_jwt(sys.stdin.read())
    now = time.time()
    shown = _hidden(claims)
    exp = _timestamp(claims.get("exp"))
    left = exp - now if exp is not None else None
    if args.json:
        report = {
            "header": _hidden(header),
            "claims": shown,
            "expires_at": utc(exp) if exp is not None else None,
            "seconds_left": round(left) if left is not None else None,
            "verified": False,
        }
        print(json.dumps(report, indent=2, sort_keys=True))
        return EXIT_OK
    print(f"alg:        {header.get('alg', '(none)')}")
    other = _hidden({k: v for k, v in header.items() if k != "alg"})
    if other:
        print("header:     " + ", ".join(f"{k}={v}" for k, v in other.items()))
    print("claims:")
    width = max((len(name) for name in shown), default=0)
    for name, value in shown.items():
        text = json.dumps(value) if not isinstance(value, str) else value
        stamp = _timestamp(value) if name in _TIME_CLAIMS else None
        if stamp is not None:
            try:
                text += f"  ({utc(stamp)})"
            except (OverflowError, OSError, ValueError):
                pass
        print(f"  {name.ljust(width)}  {text}")
    if exp is None or left is None:
        print("expires:    unknown (no numeric exp claim)")
    else:
        print(f"expires:    {utc(exp)}")
        if left > 0:
            print(f"time left:  {duration(left)}")
        else:
            print(f"time left:  none, expired {duration(left)} ago")
    print("signature:  not verified (not shown)")
    return EXIT_OK
