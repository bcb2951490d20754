"""Real HS256 JWTs whose expiry follows the mock clock, and which can be revoked.

The signing secret is random per app and is replaced on revoke or reset, which
invalidates every token issued so far in one step: clients must then mint again,
exactly as after a server-side key rotation.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

import jwt

from carrier_mocks.clock import Clock

__all__ = ["TOKEN_TTL_SECONDS", "InvalidToken", "TokenSigner"]

#: Both APIs' JWTs live one hour (Nova Post documents ~1 h; Shipyo leaves it to ``exp``).
TOKEN_TTL_SECONDS = 3600
#: Verified tokens remembered, so a client reusing its token is not re-decoded each call.
_VERIFIED_CACHE_SIZE = 1024
_ALGORITHM = "HS256"


class InvalidToken(Exception):
    """The token is malformed, forged, revoked or expired; ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TokenSigner:
    """Issues and checks the JWTs of one mock."""

    def __init__(self, clock: Clock, *, issuer: str, ttl: int = TOKEN_TTL_SECONDS) -> None:
        self._clock = clock
        self._issuer = issuer
        self._ttl = ttl
        self._secret = secrets.token_bytes(32)
        self._verified: dict[str, dict[str, Any]] = {}

    def rotate(self) -> None:
        """Invalidate every token issued so far."""
        self._secret = secrets.token_bytes(32)
        self._verified = {}

    def issue(self, claims: Mapping[str, Any]) -> str:
        """Sign ``claims`` plus ``iss``, ``iat`` and ``exp = iat + ttl``."""
        issued_at = int(self._clock.now())
        payload = {
            "iss": self._issuer,
            "iat": issued_at,
            "exp": issued_at + self._ttl,
            **claims,
        }
        # The header as the docs print it: {"typ":"JWT","alg":"HS256"}.
        headers = {"typ": "JWT", "alg": _ALGORITHM}
        return jwt.encode(
            payload, self._secret, algorithm=_ALGORITHM, headers=headers, sort_headers=False
        )

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of a valid token; :class:`InvalidToken` otherwise.

        A token whose signature was checked under the current secret is remembered
        (until :meth:`rotate`); its expiry is checked against the clock every time.
        """
        claims = self._verified.get(token)
        if claims is None:
            claims = self._decode(token)
            if len(self._verified) >= _VERIFIED_CACHE_SIZE:
                self._verified.clear()
            self._verified[token] = claims
        if self._clock.now() >= claims["exp"]:
            raise InvalidToken("token expired")
        return dict(claims)

    def _decode(self, token: str) -> dict[str, Any]:
        """The claims of a token signed with the current secret; its expiry is not checked."""
        try:
            # Expiry is checked against the mock clock below, not the wall clock.
            claims: dict[str, Any] = jwt.decode(
                token,
                self._secret,
                algorithms=[_ALGORITHM],
                issuer=self._issuer,
                options={
                    "require": ["iss", "iat", "exp"],
                    "verify_exp": False,
                    "verify_iat": False,
                },
            )
        except jwt.InvalidTokenError:
            raise InvalidToken("invalid token") from None
        expires_at = claims["exp"]
        if isinstance(expires_at, bool) or not isinstance(expires_at, int):
            raise InvalidToken("invalid token")
        return claims
