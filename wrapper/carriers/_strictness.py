"""Minting is strict whatever ``strict_responses`` says: a token must be a usable token.

The auth flow runs the facade's ``mint`` inside :func:`strict_mint`; ``call()`` reads
:func:`forced` and then parses as ``strict_responses=True`` would, so a token route
answering a body that does not fit its model is a ``ResponseValidationError``, never
a leniently parsed model without a token.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar

__all__ = ["forced", "strict_amint", "strict_mint"]

_forced: ContextVar[bool] = ContextVar("carriers_strict_responses", default=False)

forced = _forced.get
"""Whether the current call must parse strictly (inside a mint)."""


def strict_mint(mint: Callable[[], str]) -> Callable[[], str]:
    """``mint`` with every call it makes parsed strictly."""

    def strict() -> str:
        token = _forced.set(True)
        try:
            return mint()
        finally:
            _forced.reset(token)

    return strict


def strict_amint(amint: Callable[[], Awaitable[str]]) -> Callable[[], Awaitable[str]]:
    """``strict_mint`` for the async mint."""

    async def strict() -> str:
        token = _forced.set(True)
        try:
            return await amint()
        finally:
            _forced.reset(token)

    return strict
