"""The Nova Post sandbox mock: ``create_app(fixtures=None, clock=None)``."""

from __future__ import annotations

from carrier_mocks.novapost.app import API_PREFIX, OPERATIONS, create_app

__all__ = ["API_PREFIX", "OPERATIONS", "create_app"]
