"""Mock servers that behave like the carriers' sandboxes.

One Starlette app per carrier of the registry (``carrier_mocks.novapost``,
``carrier_mocks.shipyo``), seeded from fixtures, served by uvicorn
(``carrier_mocks.serve``, ``carriers mock``, ``python -m carrier_mocks``) or called
in-process. Needs ``carriers[mock]``; this module itself imports neither Starlette
nor uvicorn, so the pytest plugin loads cheaply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from carrier_mocks.server import MockServer, MockServerError, PortInUseError, serve

__all__ = ["MockServer", "MockServerError", "PortInUseError", "serve"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from carrier_mocks import server

        return getattr(server, name)
    raise AttributeError(f"module 'carrier_mocks' has no attribute {name!r}")
