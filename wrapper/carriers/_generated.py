"""Generated ``AuthenticatedClient`` classes that build carrier HTTP clients.

The generated classes build plain httpx clients and a static ``Authorization``
header. The subclasses made here build ``CarrierClient``/``AsyncCarrierClient``
instead, from the same fields, with the auth flow, the retrier and the shared
transports carried in ``httpx_args``. Being subclasses, they pass every
``isinstance`` check of the generated functions, and a copy made by
``with_headers()`` or ``with_timeout()`` keeps auth, retries and typed errors.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import threading
import weakref
from typing import Any

import httpx

from ._http import AsyncCarrierClient, CarrierClient

__all__ = ["carrier_client_class"]

_create_lock = threading.Lock()

_Clients = weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient]

_DEFAULTS: dict[str, Any] = {
    "cookies": {},
    "headers": {},
    "timeout": None,
    "verify_ssl": True,
    "follow_redirects": False,
}
"""The generated class's defaults for what its constructor passes on to httpx."""


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class _CarrierClientMixin:
    """What the generated ``AuthenticatedClient`` is given: carrier HTTP clients.

    Only the generated class's public surface is used: its constructor arguments
    (recorded here as they pass, so ``attrs.evolve`` copies record theirs too) and
    ``set_httpx_client``/``set_async_httpx_client``, through which the generated
    ``with_headers()`` and friends reach the clients made here.
    """

    carrier_args: dict[str, Any]
    """The constructor's keyword arguments: base URL, headers, timeout, httpx_args..."""
    carrier_clients: _Clients | None
    """The async clients by event loop; None once the user set one for every loop."""
    carrier_sync: httpx.Client | None
    carrier_async: httpx.AsyncClient | None
    """The async client used outside any loop, or the one the user set."""

    def __init__(self, **kwargs: Any) -> None:
        self.carrier_args = kwargs
        self.carrier_clients = weakref.WeakKeyDictionary()
        self.carrier_sync = None
        self.carrier_async = None
        super().__init__(**kwargs)

    def _httpx_kwargs(self, *, for_async: bool) -> dict[str, Any]:
        given = {**_DEFAULTS, **self.carrier_args}
        args = dict(given.get("httpx_args") or {})
        async_transport = args.pop("async_transport", None)
        if for_async:
            args.pop("transport", None)
            if async_transport is not None:
                args["transport"] = async_transport
        return {
            "base_url": given["base_url"],
            "cookies": given["cookies"],
            "headers": given["headers"],
            "timeout": given["timeout"],
            "verify": given["verify_ssl"],
            "follow_redirects": given["follow_redirects"],
            **args,
        }

    def get_httpx_client(self) -> httpx.Client:
        with _create_lock:
            if self.carrier_sync is None:
                self.set_httpx_client(CarrierClient(**self._httpx_kwargs(for_async=False)))
            assert self.carrier_sync is not None
            return self.carrier_sync

    def set_httpx_client(self, client: httpx.Client) -> Any:
        """Use ``client`` for every sync call (as in the generated class)."""
        self.carrier_sync = client
        return super().set_httpx_client(client)  # type: ignore[misc]

    def _new_async_client(self) -> AsyncCarrierClient:
        return AsyncCarrierClient(**self._httpx_kwargs(for_async=True))

    def get_async_httpx_client(self) -> httpx.AsyncClient:
        """The running event loop's async client: one per loop, since pooled connections
        belong to the loop that opened them (outside a loop: one kept for that case).

        A closed loop's client is dropped. A client given to ``set_async_httpx_client``
        serves every loop, as in the generated class.
        """
        loop = _running_loop()
        with _create_lock:
            per_loop = self.carrier_clients
            if loop is None or per_loop is None:
                if self.carrier_async is None:
                    self.carrier_async = self._new_async_client()
                    super().set_async_httpx_client(self.carrier_async)  # type: ignore[misc]
                return self.carrier_async
            for old in [old for old in per_loop if old.is_closed()]:
                del per_loop[old]  # a client with open connections keeps its loop alive
            result = per_loop.get(loop) or self._new_async_client()
            per_loop[loop] = result
        return result

    def set_async_httpx_client(self, async_client: httpx.AsyncClient) -> Any:
        """Use ``async_client`` for every call, in any event loop (its owner's choice)."""
        with _create_lock:
            self.carrier_async = async_client
            self.carrier_clients = None
        return super().set_async_httpx_client(async_client)  # type: ignore[misc]

    def close(self) -> None:
        """Close the sync HTTP client if it was created."""
        if self.carrier_sync is not None:
            self.carrier_sync.close()

    async def aclose(self) -> None:
        """Close the running loop's async client, the one made outside a loop, and the
        sync client, where created."""
        loop = _running_loop()
        with _create_lock:
            per_loop = self.carrier_clients
            own = per_loop.pop(loop, None) if per_loop and loop is not None else None
        if own is not None:
            await own.aclose()
        if self.carrier_async is not None:
            await self.carrier_async.aclose()
        self.close()


@functools.cache
def carrier_client_class(package: str) -> type[Any]:
    """``<package>.AuthenticatedClient`` with the carriers auth flow, retries and errors."""
    base = importlib.import_module(package).AuthenticatedClient
    return type(
        base.__name__,
        (_CarrierClientMixin, base),
        {
            "__slots__": (),
            "__module__": __name__,
            "__qualname__": f"{package}.{base.__name__}",
            "__doc__": f"``{package}.AuthenticatedClient`` with the carriers auth flow, "
            "retries and typed errors.",
        },
    )
