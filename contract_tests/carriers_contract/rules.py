"""What the docs say in words, as schemathesis checks: bodies can fit the schemas and still lie.

Registered by the hooks for the carrier under test (``CONTRACT_CARRIER``), in every
run: mock, URL and live. A failure names the rule (the check's name) and says
what the docs promise. Times allow ``SKEW`` seconds of clock difference.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import schemathesis
from schemathesis import Case, CheckContext, Response

__all__ = ["RULES", "register"]

SKEW = 120.0
"""Seconds of clock difference tolerated between the server and this machine."""
HOUR = 3600.0
HOUR_SLACK = 300.0
"""Nova Post documents a JWT "valid for ~1 hour": up to 65 minutes is accepted."""

Rule = Callable[[CheckContext, Response, Case[Any]], None]


def _json(response: Response) -> Any:
    try:
        return json.loads(response.content or b"")
    except (ValueError, RecursionError):
        return None


def _b64_json(part: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (binascii.Error, ValueError, RecursionError):
        return None


def jwt_claims(token: object, what: str) -> dict[str, Any]:
    """The claims of ``token``, or an AssertionError saying why it is not a JWT."""
    if not isinstance(token, str) or token.count(".") != 2:
        raise AssertionError(f"{what} is not a JWT: expected three dot-separated parts")
    header, payload, _ = token.split(".")
    decoded_header, claims = _b64_json(header), _b64_json(payload)
    if not isinstance(decoded_header, dict) or not isinstance(claims, dict):
        raise AssertionError(f"{what} is not a JWT: header and payload must be base64url JSON")
    if not isinstance(decoded_header.get("alg"), str):
        raise AssertionError(f"{what} is not a JWT: its header names no 'alg'")
    return claims


def _number(claims: dict[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _is(case: Case[Any], label: str) -> bool:
    return bool(case.operation.label == label)


# --- Nova Post ---------------------------------------------------------------------------------

_MINT = "GET /clients/authorization"
_CREATE = "POST /test-api-keys"


def novapost_jwt_is_a_jwt(ctx: CheckContext, response: Response, case: Case[Any]) -> None:
    """The 200 of GET /clients/authorization carries a JWT (three base64url parts, an alg)."""
    if _is(case, _MINT) and response.status_code == 200:
        body = _json(response)
        jwt_claims(body.get("jwt") if isinstance(body, dict) else None, "jwt")


def novapost_jwt_lives_about_an_hour(
    ctx: CheckContext, response: Response, case: Case[Any]
) -> None:
    """The docs: "the jwt is valid for ~1 hour". Its exp is ahead, and about an hour after iat."""
    if not (_is(case, _MINT) and response.status_code == 200):
        return
    body = _json(response)
    try:
        claims = jwt_claims(body.get("jwt") if isinstance(body, dict) else None, "jwt")
    except AssertionError:
        return  # novapost_jwt_is_a_jwt says so
    now = time.time()
    exp, iat = _number(claims, "exp"), _number(claims, "iat")
    if exp is None:
        raise AssertionError("jwt has no numeric exp, so its ~1 hour validity cannot hold")
    if exp <= now - SKEW:
        raise AssertionError(f"jwt is already expired (exp {exp:.0f}, now {now:.0f})")
    start = iat if iat is not None else now
    if exp - start > HOUR + HOUR_SLACK:
        raise AssertionError(
            f"jwt lives {(exp - start) / 60:.0f} minutes; the docs say about one hour"
        )


class _SameDayKeys:
    """Keys seen per phone and UTC day."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.keys: dict[tuple[str, str], str] = {}


_same_day = _SameDayKeys()


def novapost_same_day_same_key(ctx: CheckContext, response: Response, case: Case[Any]) -> None:
    """The docs: "a repeated call within the same day will return the same key"."""
    if not (_is(case, _CREATE) and response.status_code == 200):
        return
    body, sent = _json(response), case.body
    if not isinstance(body, dict) or not isinstance(sent, dict):
        return
    phone, key = sent.get("phone"), body.get("apiKey")
    if not isinstance(phone, str) or not isinstance(key, str):
        return
    day = datetime.now(UTC).date().isoformat()
    with _same_day.lock:
        first = _same_day.keys.setdefault((phone, day), key)
    if first != key:
        raise AssertionError(
            "a repeated POST /test-api-keys for the same phone on the same day returned "
            "another key; the docs say it returns the same key"
        )


class _Accepted:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.checked: dict[str, int] = {}


_accepted = _Accepted()


def novapost_new_key_is_accepted(ctx: CheckContext, response: Response, case: Case[Any]) -> None:
    """A key POST /test-api-keys returns is the apiKey GET /clients/authorization takes."""
    if not (_is(case, _CREATE) and response.status_code == 200):
        return
    body = _json(response)
    if not isinstance(body, dict) or body.get("status") != "Active":
        return
    key = body.get("apiKey")
    if not isinstance(key, str) or not key:
        return
    with _accepted.lock:
        status = _accepted.checked.get(key)
    if status is None:
        url = case.operation.base_url.rstrip("/") + "/clients/authorization"
        try:
            status = httpx.get(url, params={"apiKey": key}, timeout=10).status_code
        except httpx.HTTPError:
            return  # the network, not the rule
        with _accepted.lock:
            _accepted.checked[key] = status
    if status != 200:
        raise AssertionError(
            f"the Active key POST /test-api-keys returned gets {status} from "
            "GET /clients/authorization; the docs exchange it for a JWT"
        )


def novapost_active_key_is_unexpired(
    ctx: CheckContext, response: Response, case: Case[Any]
) -> None:
    """A key with status Active has an expDate in the future."""
    if not (_is(case, _CREATE) and response.status_code == 200):
        return
    body = _json(response)
    if not isinstance(body, dict) or body.get("status") != "Active":
        return
    try:
        expires = datetime.fromisoformat(str(body.get("expDate")).replace("Z", "+00:00"))
    except ValueError:
        return  # the schema check reports a bad date-time
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=UTC)
    if expires.timestamp() <= time.time() - SKEW:
        raise AssertionError(f"the key is Active but its expDate {body['expDate']} has passed")


def novapost_error_is_not_success(ctx: CheckContext, response: Response, case: Case[Any]) -> None:
    """An ErrorResponse ({success, errors: [...]}) has success false."""
    if response.status_code < 400:
        return
    body = _json(response)
    if isinstance(body, dict) and isinstance(body.get("errors"), list) and "success" in body:
        if body["success"] is not False:
            raise AssertionError(f"HTTP {response.status_code} ErrorResponse with success true")


# --- Shipyo ------------------------------------------------------------------------------------


def shipyo_token_is_a_live_jwt(ctx: CheckContext, response: Response, case: Case[Any]) -> None:
    """The 200 of the token call carries a JWT in data, with an exp still ahead."""
    if not (_is(case, "GET /api/Token/generate-from-apikey") and response.status_code == 200):
        return
    body = _json(response)
    claims = jwt_claims(body.get("data") if isinstance(body, dict) else None, "data")
    exp = _number(claims, "exp")
    if exp is None:
        raise AssertionError("the JWT in data has no numeric exp (clients read its lifetime)")
    if exp <= time.time() - SKEW:
        raise AssertionError(f"the JWT in data is already expired (exp {exp:.0f})")


def shipyo_success_mirrors_status(ctx: CheckContext, response: Response, case: Case[Any]) -> None:
    """The envelope's success is true on every 2xx and false on every error."""
    body = _json(response)
    if not isinstance(body, dict) or "success" not in body:
        return
    expected = response.status_code < 400
    if body["success"] is not expected:
        raise AssertionError(
            f"HTTP {response.status_code} with success {json.dumps(body['success'])}; "
            f"the docs' envelope says {json.dumps(expected)}"
        )


RULES: dict[str, tuple[Rule, ...]] = {
    "novapost": (
        novapost_jwt_is_a_jwt,
        novapost_jwt_lives_about_an_hour,
        novapost_same_day_same_key,
        novapost_new_key_is_accepted,
        novapost_active_key_is_unexpired,
        novapost_error_is_not_success,
    ),
    "shipyo": (shipyo_token_is_a_live_jwt, shipyo_success_mirrors_status),
}
"""The docs' rules per carrier; a carrier without an entry has only the schema checks."""


def register(carrier: str) -> None:
    for rule in RULES.get(carrier, ()):
        schemathesis.check(rule)
