"""TARGET=live, pointed at local mocks posing as the sandboxes.

Same code path as a real live run (credentials, key store, wrapper auth, the
once-a-day rule for POST /test-api-keys, the rate limit); only the URLs and the
credentials differ.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from carrier_mocks.server import MockServer
from carriers.registry import NOVAPOST, SHIPYO
from carriers_contract import wrapper_auth


def live_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("NOVAPOST_", "SHIPYO_", "CONTRACT_")) and k != "TARGET"
    }
    env.update(
        {
            "TARGET": "live",
            "MAX_EXAMPLES": "10",
            "SEED": "1",
            "CONTRACT_RATE_LIMIT": "1000/s",
            "CARRIERS_KEY_STORE": str(tmp_path / "keys.json"),
        }
    )
    env.update(extra)
    return env


def run(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "carriers_contract", "--report-dir", str(tmp_path / "reports")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_live_without_credentials_skips_each_api_with_a_reason(tmp_path: Path) -> None:
    proc = run(live_env(tmp_path), tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Nova Post: skipped: no credentials (set NOVAPOST_API_KEY" in proc.stdout
    assert "Shipyo: skipped: no credentials (set SHIPYO_API_KEY)" in proc.stdout
    assert "contract: nothing was tested" in proc.stdout


def test_live_run_with_a_phone_uses_the_key_store_once(
    novapost_mock: MockServer, shipyo_mock: MockServer, tmp_path: Path
) -> None:
    env = live_env(
        tmp_path,
        NOVAPOST_URL=novapost_mock.base_url,
        SHIPYO_URL=shipyo_mock.base_url,
        NOVAPOST_PHONE="491000000001",
        SHIPYO_API_KEY="ak_1234567890abcdef",
    )
    first = run(env, tmp_path)
    out = first.stdout + first.stderr
    assert first.returncode == 0, out[-4000:]
    assert "Nova Post (live," in out and "Shipyo (live," in out
    stats = novapost_mock.stats()
    # The sandbox key was created once, through the key store; the operation itself
    # was not fuzzed (one creation request per day).
    assert stats["POST /test-api-keys"] == 1
    assert stats["GET /clients/authorization"] > 1
    stored = json.loads((tmp_path / "keys.json").read_text(encoding="utf-8"))
    keys = [v for v in json.dumps(stored).split('"') if v.startswith("np_test_")]
    assert keys, stored
    second = run(env, tmp_path)
    assert second.returncode == 0, (second.stdout + second.stderr)[-4000:]
    assert novapost_mock.stats()["POST /test-api-keys"] == 1  # reused, not created again
    for secret in [*keys, "ak_1234567890abcdef"]:
        assert secret not in out and secret not in second.stdout + second.stderr


def test_live_run_with_a_bad_key_fails(novapost_mock: MockServer, tmp_path: Path) -> None:
    env = live_env(tmp_path, NOVAPOST_URL=novapost_mock.base_url, NOVAPOST_API_KEY="np_wrong_key")
    proc = run(env, tmp_path)
    assert "Shipyo: skipped: no credentials" in proc.stdout
    # The given key is refused (401 in the summary); the run itself still passes, as
    # a 401 for an unknown key is what the spec documents.
    assert proc.returncode == 0, proc.stdout[-3000:]
    row = next(
        line for line in proc.stdout.splitlines() if line.startswith("GET /clients/authorization")
    )
    assert "401" in row.split()
    assert "np_wrong_key" not in proc.stdout + proc.stderr


class FakeCase:
    def __init__(self) -> None:
        self.headers: dict[str, str] = {}


def provider_for(info: Any, key: str, base_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The provider class ``register()`` makes for a carrier, instantiated as schemathesis does."""
    monkeypatch.setenv("CONTRACT_CARRIER", info.name)
    monkeypatch.setenv("CONTRACT_API_KEY", key)
    monkeypatch.setenv("CONTRACT_BASE_URL", base_url)
    registered: list[Any] = []
    monkeypatch.setattr(
        wrapper_auth.schemathesis,
        "auth",
        lambda **kw: _Recorder(registered, kw),
    )
    wrapper_auth.register()
    provider_class, options = registered[0]
    return provider_class(), options


class _Recorder:
    def __init__(self, registered: list[Any], options: dict[str, Any]) -> None:
        self.registered, self.options = registered, options

    def apply_to(self, matcher: Any) -> Any:
        return lambda cls: self.registered.append((cls, self.options))


def test_auth_provider_mints_with_the_wrapper_and_renews_after_a_refusal(
    novapost_mock: MockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider, options = provider_for(
        NOVAPOST, "np_test_4f1c2b9e8a7d6c5b", novapost_mock.base_url, monkeypatch
    )
    assert options["retry_on"] == [401]
    case: Any = FakeCase()
    first = provider.get(case, None)
    provider.set(case, first, None)
    assert case.headers["Authorization"] == first and not first.startswith("Bearer")
    # Schemathesis asks again after a 401: the refused token is dropped, a new one minted.
    second = provider.get(case, None)
    assert second != first
    assert novapost_mock.stats()["GET /clients/authorization"] == 2


def test_shipyo_provider_sends_key_and_bearer(
    shipyo_mock: MockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider, options = provider_for(
        SHIPYO, "ak_1234567890abcdef", shipyo_mock.base_url, monkeypatch
    )
    assert options["retry_on"] == [401, 403]
    case: Any = FakeCase()
    provider.set(case, provider.get(case, None), None)
    assert case.headers["Authorization"].startswith("Bearer ")
    assert case.headers["x-api-key"] == "ak_1234567890abcdef"
