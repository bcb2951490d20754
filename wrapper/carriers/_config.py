"""Checks of user input, done before any network call.

Each error says what is accepted, and none repeats a secret it was given.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping

import httpx

from .errors import ConfigurationError
from .redaction import logger

__all__ = [
    "check_api_key",
    "check_base_url",
    "check_environment",
    "check_max_retries",
    "check_phone",
    "check_positive_int",
    "check_seconds",
    "check_tenant_id",
    "check_timeout",
]

PHONE_PATTERN = re.compile(r"^49[0-9]{9,10}$")
"""The sandbox phone format of the Nova Post spec (``49XXXXXXXXX``, digits only)."""


def check_api_key(value: str | None, env_var: str, service: str) -> str:
    """The API key passed, or the one in ``env_var``; non-empty and without whitespace."""
    source = "api_key"
    if value is None:
        value = os.environ.get(env_var)
        source = env_var
        if value is None:
            raise ConfigurationError(
                f"{service} needs an API key: pass api_key=... or set {env_var}"
            )
    if not isinstance(value, str):
        raise ConfigurationError(f"{service} {source} must be a string, not {type(value).__name__}")
    if not value.strip():
        raise ConfigurationError(
            f"{service} {source} is empty: pass a non-empty key or set {env_var}"
        )
    if any(ch.isspace() or ord(ch) < 32 for ch in value):
        raise ConfigurationError(
            f"{service} {source} contains whitespace or control characters; "
            "a key is a single token (check for a trailing newline)"
        )
    return value


def check_environment(environment: str, urls: Mapping[str, str], service: str) -> str:
    """One of the carrier's environment names."""
    if not isinstance(environment, str) or environment not in urls:
        accepted = ", ".join(repr(name) for name in urls)
        raise ConfigurationError(
            f"unknown {service} environment {environment!r}; accepted: {accepted}"
        )
    return environment


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(value: str, example: str) -> str:
    """An absolute http(s) URL without query or fragment, returned without trailing '/'."""
    accepted = f"an absolute http:// or https:// URL such as {example!r}"
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"base_url must be {accepted}")
    try:
        url = httpx.URL(value.strip())
    except (httpx.InvalidURL, TypeError, ValueError):
        raise ConfigurationError(f"base_url {value!r} is not a URL; expected {accepted}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigurationError(
            f"base_url {value!r} has no http(s) scheme or host; expected {accepted}"
        )
    if url.userinfo or url.query or url.fragment:
        raise ConfigurationError(
            f"base_url must not carry credentials, a query or a fragment; expected {accepted}"
        )
    if url.scheme == "http" and not _is_loopback(url.host):
        logger.warning("base_url %s is plain http: the API key travels unencrypted", url.host)
    return str(url).rstrip("/")


def check_phone(phone: str) -> str:
    """A Nova Post sandbox phone: ``49`` then 9 or 10 digits, no '+'; UA numbers refused."""
    accepted = "format 49XXXXXXXXX: digits only, starting with 49, no '+' or spaces"
    if not isinstance(phone, str):
        raise ConfigurationError(f"phone must be a string in {accepted}")
    digits = phone.strip()
    if re.sub(r"[\s()+-]", "", digits).startswith("380"):
        raise ConfigurationError(
            "Ukrainian phone numbers are not supported by the Nova Post sandbox "
            f"(no UA test keys); use the number registered in the Client Portal, {accepted}"
        )
    if not PHONE_PATTERN.fullmatch(digits):
        raise ConfigurationError(f"phone {phone!r} is not in the accepted {accepted}")
    return digits


MAX_SECONDS = 24 * 3600.0
"""The longest timeout or deadline accepted: a day (inf or 1e300 would overflow the
clocks and event loops they reach)."""


def check_seconds(value: object, name: str) -> float:
    """A finite positive number of seconds, at most ``MAX_SECONDS``."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not 0 < value <= MAX_SECONDS  # NaN fails both comparisons
    ):
        raise ConfigurationError(
            f"{name} must be a positive number of seconds up to {MAX_SECONDS:.0f}, not {value!r}"
        )
    return float(value)


def check_positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigurationError(f"{name} must be a positive integer, not {value!r}")
    return value


def check_timeout(timeout: float | httpx.Timeout) -> httpx.Timeout:
    """A finite positive number of seconds, or an ``httpx.Timeout`` with such phases."""
    if isinstance(timeout, httpx.Timeout):
        for phase in ("connect", "read", "write", "pool"):
            value = getattr(timeout, phase)
            if value is not None:
                check_seconds(value, f"timeout.{phase}")
        return timeout
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise ConfigurationError(
            f"timeout must be a positive number of seconds or an httpx.Timeout, not {timeout!r}"
        )
    return httpx.Timeout(check_seconds(timeout, "timeout"))


def check_max_retries(max_retries: int) -> int:
    """A non-negative integer."""
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise ConfigurationError(f"max_retries must be an integer >= 0, not {max_retries!r}")
    return max_retries


def check_tenant_id(tenant_id: str | None) -> str | None:
    """None, or a non-empty header-safe string."""
    if tenant_id is None:
        return None
    if (
        not isinstance(tenant_id, str)
        or not tenant_id.strip()
        or any(ch.isspace() or ord(ch) < 32 for ch in tenant_id)
    ):
        raise ConfigurationError("tenant_id must be None or a non-empty string without whitespace")
    return tenant_id
