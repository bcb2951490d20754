"""The stock httpx clients a facade sends through: one sync, one async per event loop.

Unmodified ``httpx.Client`` / ``httpx.AsyncClient`` objects, opened on first use,
with the facade's auth flow as their ``auth``. Everything else a call needs
(retries, deadline, origin rule, size limit, typed errors) is the request loop's
(``_loop``), so ``with_options()`` copies share these clients and their pools.
Pooled async connections belong to the event loop that opened them, hence one
async client per running loop (and one for use outside any loop).
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from typing import Any

import httpx

__all__ = ["Clients"]


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class Clients:
    """The httpx clients of one facade (and of the copies made with ``with_options``)."""

    def __init__(
        self,
        *,
        base_url: str,
        auth: httpx.Auth | None,
        timeout: httpx.Timeout,
        transport: httpx.BaseTransport | None,
        async_transport: httpx.AsyncBaseTransport | None,
    ) -> None:
        self._args: dict[str, Any] = {"base_url": base_url, "auth": auth, "timeout": timeout}
        self._transport = transport
        self._async_transport = async_transport
        self._lock = threading.Lock()
        self._sync: httpx.Client | None = None
        self._unbound: httpx.AsyncClient | None = None
        self._per_loop = weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient]()

    def __repr__(self) -> str:
        return f"<Clients base_url={self._args['base_url']!r}>"

    def sync(self) -> httpx.Client:
        """The sync client, opened on first use."""
        client = self._sync
        if client is None:
            with self._lock:
                if self._sync is None:
                    self._sync = httpx.Client(transport=self._transport, **self._args)
                client = self._sync
        return client

    def _new_async(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self._async_transport, **self._args)

    def unbound(self) -> httpx.AsyncClient:
        """The async client made for use outside ``for_loop`` (the generated client's)."""
        with self._lock:
            if self._unbound is None:
                self._unbound = self._new_async()
            return self._unbound

    def for_loop(self) -> httpx.AsyncClient:
        """The running event loop's async client (outside a loop: ``unbound()``).

        A client whose loop has closed is dropped with it; a closed client is replaced.
        """
        loop = _running_loop()
        if loop is None:
            return self.unbound()
        client = self._per_loop.get(loop)
        if client is None or client.is_closed:
            with self._lock:
                client = self._per_loop.get(loop)
                if client is None or client.is_closed:
                    client = self._per_loop[loop] = self._new_async()
        return client

    def close(self) -> None:
        """Close the sync client, if opened (a later sync call fails as httpx says)."""
        if self._sync is not None:
            self._sync.close()

    async def aclose(self) -> None:
        """Close the running loop's async client, the unbound one and the sync one."""
        loop = _running_loop()
        with self._lock:
            own = self._per_loop.pop(loop, None) if loop is not None else None
        for client in (own, self._unbound):
            if client is not None:
                await client.aclose()
        self.close()
