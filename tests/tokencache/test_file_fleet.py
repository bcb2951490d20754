"""Processes of one machine sharing tokens through a ``file://`` cache."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from carrier_mocks.server import MockServer
from carriers.token_cache import cache_key

from .fleet import MINT_NP, NP_KEY, assert_no_secrets, config, flatten, fleet, tokens

PROCESSES = 4
THREADS = 8


def test_file_cache_fleet_mints_once_per_lifetime(
    novapost_mock: MockServer, tmp_path: Path
) -> None:
    """32 callers in 4 processes: 1 mint; after the token expired (clocks moved an hour
    on), 1 more. The file is 0600, keyed by the hash, and holds no API key."""
    path = tmp_path / "cache" / "tokens.json"
    url = path.as_uri()
    assert url.startswith("file:///")
    with fleet(*[config(novapost_mock, url)] * PROCESSES) as workers:
        first = workers.jwt(THREADS)
        assert [r for r in flatten(first) if "ok" not in r] == []
        assert len(tokens(first)) == 1
        assert novapost_mock.stats()[MINT_NP] == 1
        novapost_mock.advance(3600)
        workers.advance(3600)
        second = workers.jwt(THREADS)
    assert [r for r in flatten(second) if "ok" not in r] == []
    assert len(tokens(second)) == 1 and tokens(second) != tokens(first)
    assert novapost_mock.stats()[MINT_NP] == 2
    for made in (path, Path(str(path) + ".lock")):
        assert stat.S_IMODE(made.stat().st_mode) == 0o600, made
    text = path.read_text()
    assert NP_KEY not in text
    assert list(json.loads(text)) == [cache_key(novapost_mock.base_url, NP_KEY)]
    assert not [p.name for p in path.parent.iterdir() if p.name.startswith(".tokens-")]
    assert_no_secrets(first + second)
