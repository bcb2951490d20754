"""Fixtures: one real ``redis-server`` per session, emptied before each test, and a
second short-lived one a test may pause, kill or restart.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from .redis_server import RedisServer, running_server


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """The session's server (skips the test when ``redis-server`` is missing)."""
    yield from running_server()


@pytest.fixture
def redis_db(redis_server: RedisServer) -> Iterator[redis.Redis]:
    """A client of the session's server, FLUSHALLed before the test."""
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    client.flushall()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def redis_url(redis_db: redis.Redis, redis_server: RedisServer) -> str:
    """The URL of the session's server, empty for this test."""
    return redis_server.url


@pytest.fixture
def spare_redis() -> Iterator[RedisServer]:
    """A server of this test's own, to stop, pause, kill or restart."""
    yield from running_server()
