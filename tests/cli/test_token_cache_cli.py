"""``carriers token`` with ``CARRIERS_TOKEN_CACHE``: separate runs share one token.

Each run is a real ``python -m carriers`` process; a real ``redis-server`` holds the
token between them. A cache URL the command cannot use is one line, exit status 2.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from carrier_mocks.server import MockServer

from ..tokencache.redis_server import RedisServer, free_port, running_server

NP_KEY = "np_test_4f1c2b9e8a7d6c5b"
MINT_NP = "GET /clients/authorization"
JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
GUARD_SECONDS = 60  # only bounds a broken run


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    yield from running_server()


def token(
    base_url: str, cache: str, tmp_path: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOVAPOST_", "CARRIERS_"))}
    env.update(
        NOVAPOST_API_KEY=NP_KEY,
        CARRIERS_TOKEN_CACHE=cache,
        CARRIERS_KEY_STORE=str(tmp_path / "keys.json"),
    )
    return subprocess.run(
        [sys.executable, "-m", "carriers", "token", "novapost", "--base-url", base_url, *extra],
        env=env,
        capture_output=True,
        text=True,
        timeout=GUARD_SECONDS,
        check=False,
    )


def printed_jwt(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    assert JWT.fullmatch(result.stdout.strip()), result.stdout
    return result.stdout.strip()


def test_two_runs_share_one_token_through_redis(
    novapost_mock: MockServer, redis_server: RedisServer, tmp_path: Path
) -> None:
    """The second run finds the first one's token in Redis: 1 mint, the same JWT."""
    import redis

    redis.Redis.from_url(redis_server.url).flushall()
    first = token(novapost_mock.base_url, redis_server.url, tmp_path)
    second = token(novapost_mock.base_url, redis_server.url, tmp_path)
    assert printed_jwt(first) == printed_jwt(second)
    assert first.stderr == second.stderr == ""
    assert novapost_mock.stats()[MINT_NP] == 1


def test_two_runs_share_one_token_through_a_file(novapost_mock: MockServer, tmp_path: Path) -> None:
    """The same with ``file:///path``."""
    url = (tmp_path / "tokens.json").as_uri()
    first = token(novapost_mock.base_url, url, tmp_path)
    second = token(novapost_mock.base_url, url, tmp_path)
    assert printed_jwt(first) == printed_jwt(second)
    assert novapost_mock.stats()[MINT_NP] == 1


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("ftp://user:s3cret-pass@cache.internal/x", "unknown scheme"),
        ("memcached://cache.internal:11211", "unknown scheme"),
        ("file://", "needs a path"),
    ],
)
def test_an_unusable_cache_url_is_one_line_exit_2(
    novapost_mock: MockServer, tmp_path: Path, url: str, says: str
) -> None:
    """Nothing is minted; the line names the problem and never a password."""
    result = token(novapost_mock.base_url, url, tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("carriers: error: "), result.stderr
    assert says in lines[0]
    assert "s3cret-pass" not in result.stderr and NP_KEY not in result.stderr
    assert novapost_mock.stats().get(MINT_NP, 0) == 0


def test_redis_unreachable_still_prints_a_token_with_one_warning(
    novapost_mock: MockServer, tmp_path: Path
) -> None:
    """Redis down is no reason to fail: the JWT is printed, stderr says why once."""
    result = token(novapost_mock.base_url, f"redis://127.0.0.1:{free_port()}/0", tmp_path)
    printed_jwt(result)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "unreachable" in lines[0], result.stderr
    assert NP_KEY not in result.stderr and not JWT.search(result.stderr)
