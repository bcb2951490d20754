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

_PER_LOOP = "_carriers_async_clients"
"""Slot holding the async clients by event loop (None: one client set by the user)."""

_Clients = weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient]


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _per_loop(client: Any) -> _Clients | None:
    """The async clients by loop (made on first use); None once the user set one."""
    try:
        clients: _Clients | None = getattr(client, _PER_LOOP)
    except AttributeError:  # a new instance, or a copy made by attrs.evolve
        clients = weakref.WeakKeyDictionary()
        setattr(client, _PER_LOOP, clients)
    return clients


def _common(client: Any) -> dict[str, Any]:
    return {
        "base_url": client._base_url,
        "cookies": client._cookies,
        "headers": client._headers,
        "timeout": client._timeout,
        "verify": client._verify_ssl,
        "follow_redirects": client._follow_redirects,
    }


class _CarrierClientMixin:
    """What the generated ``AuthenticatedClient`` is given: carrier HTTP clients."""

    __slots__ = ()

    def get_httpx_client(self) -> httpx.Client:
        client: Any = self
        with _create_lock:
            if client._client is None:
                args = dict(client._httpx_args)
                args.pop("async_transport", None)
                client._client = CarrierClient(**_common(client), **args)
            result: httpx.Client = client._client
        return result

    def _new_async_client(self) -> AsyncCarrierClient:
        client: Any = self
        args = dict(client._httpx_args)
        args.pop("transport", None)
        transport = args.pop("async_transport", None)
        if transport is not None:
            args["transport"] = transport
        return AsyncCarrierClient(**_common(client), **args)

    def get_async_httpx_client(self) -> httpx.AsyncClient:
        """The running event loop's async client: one per loop, since pooled connections
        belong to the loop that opened them (outside a loop: one kept for that case).

        A closed loop's client is dropped. A client given to ``set_async_httpx_client``
        serves every loop, as in the generated class.
        """
        client: Any = self
        loop = _running_loop()
        with _create_lock:
            per_loop = _per_loop(client)
            if loop is None or per_loop is None:
                if client._async_client is None:
                    client._async_client = self._new_async_client()
                result: httpx.AsyncClient = client._async_client
                return result
            for old in [old for old in per_loop if old.is_closed()]:
                del per_loop[old]  # a client with open connections keeps its loop alive
            result = per_loop.get(loop) or self._new_async_client()
            per_loop[loop] = result
        return result

    def set_async_httpx_client(self, async_client: httpx.AsyncClient) -> Any:
        """Use ``async_client`` for every call, in any event loop (its owner's choice)."""
        client: Any = self
        with _create_lock:
            client._async_client = async_client
            setattr(client, _PER_LOOP, None)
        return self

    def close(self) -> None:
        """Close the sync HTTP client if it was created."""
        client: Any = self
        if client._client is not None:
            client._client.close()

    async def aclose(self) -> None:
        """Close the running loop's async client, the one made outside a loop, and the
        sync client, where created."""
        client: Any = self
        loop = _running_loop()
        with _create_lock:
            per_loop = _per_loop(client)
            own = per_loop.pop(loop, None) if per_loop and loop is not None else None
        if own is not None:
            await own.aclose()
        if client._async_client is not None:
            await client._async_client.aclose()
        self.close()


@functools.cache
def carrier_client_class(package: str) -> type[Any]:
    """``<package>.AuthenticatedClient`` with the carriers auth flow, retries and errors."""
    base = importlib.import_module(package).AuthenticatedClient
    return type(
        base.__name__,
        (_CarrierClientMixin, base),
        {
            "__slots__": (_PER_LOOP,),
            "__module__": __name__,
            "__qualname__": f"{package}.{base.__name__}",
            "__doc__": f"``{package}.AuthenticatedClient`` with the carriers auth flow, "
            "retries and typed errors.",
        },
    )
