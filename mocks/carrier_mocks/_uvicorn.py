"""A uvicorn HTTP protocol that lets the app drop its connection without answering.

ASGI has no message for "close the connection now"; an app that raises gets a
500 from uvicorn instead. This protocol hands each request a callable (the
:data:`~carrier_mocks.middleware.DROP_EXTENSION` scope extension) that closes
the transport, which is what a ``drop`` fault needs.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from carrier_mocks.middleware import DROP_EXTENSION

__all__ = ["DroppableH11Protocol"]


class DroppableH11Protocol(H11Protocol):
    """uvicorn's h11 protocol plus the drop extension."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        inner = self.app

        async def app(scope: Any, receive: Any, send: Any) -> None:
            scope.setdefault("extensions", {})[DROP_EXTENSION] = self._drop
            await inner(scope, receive, send)

        self.app = app

    def _drop(self) -> None:
        self.transport.close()
