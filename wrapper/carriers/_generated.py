"""Generated ``AuthenticatedClient`` classes that build carrier HTTP clients.

The generated classes build plain httpx clients and a static ``Authorization``
header. The subclasses made here build ``CarrierClient``/``AsyncCarrierClient``
instead, from the same fields, with the auth flow, the retrier and the shared
transports carried in ``httpx_args``. Being subclasses, they pass every
``isinstance`` check of the generated functions, and a copy made by
``with_headers()`` or ``with_timeout()`` keeps auth, retries and typed errors.
"""

from __future__ import annotations

import functools
import importlib
import threading
from typing import Any

import httpx

from ._http import AsyncCarrierClient, CarrierClient

__all__ = ["carrier_client_class"]

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

    def get_async_httpx_client(self) -> httpx.AsyncClient:
        client: Any = self
        with _create_lock:
            if client._async_client is None:
                args = dict(client._httpx_args)
                args.pop("transport", None)
                transport = args.pop("async_transport", None)
                if transport is not None:
                    args["transport"] = transport
                client._async_client = AsyncCarrierClient(**_common(client), **args)
            result: httpx.AsyncClient = client._async_client
        return result

    def close(self) -> None:
        """Close the sync HTTP client if it was created."""
        client: Any = self
        if client._client is not None:
            client._client.close()

    async def aclose(self) -> None:
        """Close both HTTP clients if they were created."""
        client: Any = self
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
            "__slots__": (),
            "__module__": __name__,
            "__qualname__": f"{package}.{base.__name__}",
            "__doc__": f"``{package}.AuthenticatedClient`` with the carriers auth flow, "
            "retries and typed errors.",
        },
    )
