"""The generated ``AuthenticatedClient`` classes, building carrier HTTP clients.

The generated classes build plain httpx clients and a static ``Authorization``
header. These subclasses build ``CarrierClient``/``AsyncCarrierClient`` instead, from
the same fields, with the auth flow and the retrier carried in ``httpx_args``. Being
subclasses, they pass every ``isinstance`` check of the generated functions, and a
copy made by ``with_headers()`` or ``with_timeout()`` keeps auth, retries and typed
errors.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx
import novapost_client
import shipyo_client

from ._http import AsyncCarrierClient, CarrierClient

__all__ = ["NovaPostClient", "ShipyoClient"]

_create_lock = threading.Lock()


def _common(client: Any) -> dict[str, Any]:
    return {
        "base_url": client._base_url,
        "cookies": client._cookies,
        "headers": client._headers,
        "timeout": client._timeout,
        "verify": client._verify_ssl,
        "follow_redirects": client._follow_redirects,
    }


def _sync_client(client: Any) -> CarrierClient:
    args = dict(client._httpx_args)
    args.pop("async_transport", None)
    return CarrierClient(**_common(client), **args)


def _async_client(client: Any) -> AsyncCarrierClient:
    args = dict(client._httpx_args)
    args.pop("transport", None)
    transport = args.pop("async_transport", None)
    if transport is not None:
        args["transport"] = transport
    return AsyncCarrierClient(**_common(client), **args)


def _get_sync(client: Any) -> httpx.Client:
    with _create_lock:
        if client._client is None:
            client._client = _sync_client(client)
        result: httpx.Client = client._client
    return result


def _get_async(client: Any) -> httpx.AsyncClient:
    with _create_lock:
        if client._async_client is None:
            client._async_client = _async_client(client)
        result: httpx.AsyncClient = client._async_client
    return result


def _close(client: Any) -> None:
    if client._client is not None:
        client._client.close()


async def _aclose(client: Any) -> None:
    if client._async_client is not None:
        await client._async_client.aclose()
    _close(client)


class NovaPostClient(novapost_client.AuthenticatedClient):
    """``novapost_client.AuthenticatedClient`` with the carriers auth flow, retries and errors."""

    __slots__ = ()

    def get_httpx_client(self) -> httpx.Client:
        return _get_sync(self)

    def get_async_httpx_client(self) -> httpx.AsyncClient:
        return _get_async(self)

    def close(self) -> None:
        """Close the sync HTTP client if it was created."""
        _close(self)

    async def aclose(self) -> None:
        """Close both HTTP clients if they were created."""
        await _aclose(self)


class ShipyoClient(shipyo_client.AuthenticatedClient):
    """``shipyo_client.AuthenticatedClient`` with the carriers auth flow, retries and errors."""

    __slots__ = ()

    def get_httpx_client(self) -> httpx.Client:
        return _get_sync(self)

    def get_async_httpx_client(self) -> httpx.AsyncClient:
        return _get_async(self)

    def close(self) -> None:
        """Close the sync HTTP client if it was created."""
        _close(self)

    async def aclose(self) -> None:
        """Close both HTTP clients if they were created."""
        await _aclose(self)
