"""The mock's JWTs: a verified token is remembered, but never past its expiry or a rotation."""

from __future__ import annotations

import jwt
import pytest
from carrier_mocks.clock import Clock
from carrier_mocks.tokens import InvalidToken, TokenSigner

from .support import NOON


def test_a_remembered_token_still_expires_and_dies_with_the_secret() -> None:
    clock = Clock.fixed(NOON)
    signer = TokenSigner(clock, issuer="np")
    token = signer.issue({"cid": "1"})
    assert signer.verify(token)["cid"] == "1"
    signer.verify(token)["cid"] = "tampered"  # callers get a copy
    assert signer.verify(token)["cid"] == "1"
    clock.advance(3600)
    with pytest.raises(InvalidToken, match="token expired"):
        signer.verify(token)
    fresh = signer.issue({"cid": "1"})
    signer.verify(fresh)
    signer.rotate()
    with pytest.raises(InvalidToken, match="invalid token"):
        signer.verify(fresh)


def test_a_token_signed_with_another_secret_is_never_remembered() -> None:
    signer = TokenSigner(Clock.fixed(NOON), issuer="np")
    forged = jwt.encode({"iss": "np", "iat": 0, "exp": 2**40}, b"x" * 32, algorithm="HS256")
    for _ in range(2):
        with pytest.raises(InvalidToken, match="invalid token"):
            signer.verify(forged)
