"""Mock servers that behave like the Nova Post and Shipyo sandboxes.

One Starlette app per API (``carrier_mocks.novapost``, ``carrier_mocks.shipyo``),
seeded from fixtures, served by uvicorn (``carrier_mocks.server.serve``,
``python -m carrier_mocks``) or called in-process. This module stays free of
Starlette and uvicorn imports so the pytest plugin loads cheaply.
"""

from __future__ import annotations
