"""The Shipyo mock: ``create_app(fixtures=None, clock=None)``."""

from __future__ import annotations

from carrier_mocks.shipyo.app import OPERATIONS, create_app

__all__ = ["OPERATIONS", "create_app"]
