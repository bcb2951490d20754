"""The facades' settings: one frozen object, given as keyword arguments.

``NovaPost(timeout=5)``, ``Shipyo(max_retries=0)``, ``np.with_options(timeout=60)``
and ``NovaPost.sandbox(..., transport=...)`` all take the keyword arguments of
:class:`Options`, checked before any network call.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TypedDict

import httpx

from . import _config
from .errors import ConfigurationError
from .retries import RetryPolicy
from .token_cache import TokenCache

__all__ = [
    "DEFAULT_DEADLINE",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "OptionArgs",
    "Options",
]

DEFAULT_TIMEOUT = 30.0
"""Seconds per phase of a request (connect, write, read, pool)."""
DEFAULT_MAX_RETRIES = 2
DEFAULT_DEADLINE = 120.0
"""Seconds a whole call may take: waiting for a token, minting it, retries, the body."""
DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024
"""The largest response body accepted, counted after decompression."""


class OptionArgs(TypedDict, total=False):
    """The keyword arguments of the facades and of ``with_options()``: see ``Options``."""

    timeout: float | httpx.Timeout
    deadline: float | None
    max_retries: int
    max_response_bytes: int
    retry_policy: RetryPolicy | None
    transport: httpx.BaseTransport | None
    async_transport: httpx.AsyncBaseTransport | None
    token_cache: TokenCache | str | None
    refresh_ahead: bool
    strict_responses: bool


@dataclass(frozen=True, kw_only=True)
class Options:
    """How a facade talks to its API.

    ``timeout``: seconds per phase, or an ``httpx.Timeout``. ``deadline``: seconds a
    whole call may take, mint, retries and body included (None: no limit beyond the
    phases). ``max_retries``: retries of a failed call that is safe to replay.
    ``max_response_bytes``: the largest body accepted, after decompression.
    ``retry_policy``: backoff and replayable routes (``None``: the carrier's own).
    ``transport`` / ``async_transport``: other httpx transports, e.g.
    ``httpx.ASGITransport`` for an in-process server. ``token_cache``: where tokens
    are shared with other processes: a ``carriers.token_cache`` cache or its URL
    (``redis://...``, ``file:///path``); None reads ``CARRIERS_TOKEN_CACHE``, else
    this process alone. ``refresh_ahead``: refresh a token in the background in the
    last minutes of its life, so that no caller waits for a mint.
    ``strict_responses``: raise ``ResponseValidationError`` on a 2xx body that does
    not fit the spec; off by default, such a body is returned as far as it parsed,
    with one warning naming the deepest mismatching path (minting is always strict).
    """

    timeout: float | httpx.Timeout = DEFAULT_TIMEOUT
    deadline: float | None = DEFAULT_DEADLINE
    max_retries: int = DEFAULT_MAX_RETRIES
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    retry_policy: RetryPolicy | None = None
    transport: httpx.BaseTransport | None = None
    async_transport: httpx.AsyncBaseTransport | None = None
    token_cache: TokenCache | str | None = None
    refresh_ahead: bool = True
    strict_responses: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "timeout", _config.check_timeout(self.timeout))
        _config.check_max_retries(self.max_retries)
        if self.deadline is not None:
            object.__setattr__(self, "deadline", _config.check_seconds(self.deadline, "deadline"))
        _config.check_positive_int(self.max_response_bytes, "max_response_bytes")
        if self.retry_policy is not None and not isinstance(self.retry_policy, RetryPolicy):
            raise ConfigurationError(
                "retry_policy must be a carriers.RetryPolicy, "
                f"not {type(self.retry_policy).__name__}"
            )
        if self.transport is not None and not isinstance(self.transport, httpx.BaseTransport):
            raise ConfigurationError("transport must be an httpx.BaseTransport")
        if not isinstance(self.refresh_ahead, bool):
            raise ConfigurationError("refresh_ahead must be True or False")
        if not isinstance(self.strict_responses, bool):
            raise ConfigurationError("strict_responses must be True or False")
        if self.async_transport is not None and not isinstance(
            self.async_transport, httpx.AsyncBaseTransport
        ):
            raise ConfigurationError("async_transport must be an httpx.AsyncBaseTransport")

    @classmethod
    def of(cls, args: OptionArgs) -> Options:
        """Options from keyword arguments; an unknown name is a ``TypeError`` naming it."""
        unknown = set(args) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise TypeError(f"unexpected keyword arguments: {', '.join(sorted(unknown))}")
        return cls(**args)

    def replace(self, args: OptionArgs) -> Options:
        """A copy with ``args`` changed (checked like new options); the token options stay:
        a copy shares its original's tokens."""
        Options.of(args)  # names checked before anything is copied
        fixed = sorted({"token_cache", "refresh_ahead"} & set(args))
        if fixed:
            raise TypeError(
                f"{', '.join(fixed)} cannot change in a copy: it shares the original's tokens"
            )
        return dataclasses.replace(self, **args)

    @property
    def httpx_timeout(self) -> httpx.Timeout:
        assert isinstance(self.timeout, httpx.Timeout)
        return self.timeout
