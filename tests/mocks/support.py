"""Constants and small helpers shared by the mock tests."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

#: A fixed "now", midday UTC, so day boundaries are exactly where the tests put them.
NOON = datetime(2025, 3, 14, 12, 0, 0, tzinfo=UTC)
NP_KEY = "np_test_4f1c2b9e8a7d6c5b"
NP_PHONE = "498213437654"
SHIPYO_KEY = "ak_1234567890abcdef"
TOKEN_URL = "/api/Token/generate-from-apikey"


async def advance(client: httpx.AsyncClient, seconds: float) -> None:
    """Move an in-process mock's clock through its control route."""
    response = await client.post("/__mock__/clock", json={"advance_seconds": seconds})
    assert response.status_code == 200, response.text
