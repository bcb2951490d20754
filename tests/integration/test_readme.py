"""The README's Python examples run, as written, against the mock servers."""

from __future__ import annotations

from pathlib import Path

from carrier_mocks.server import MockServer

from tests.integration.fresh import readme_blocks, run_python


def test_readme_client_examples_run_against_the_mocks(
    novapost_mock: MockServer, shipyo_mock: MockServer, tmp_path: Path
) -> None:
    block = next(b for b in readme_blocks() if b.startswith("from carriers import"))
    # The README points at `make mock`'s ports; these servers run on free ones.
    code = block.replace("http://127.0.0.1:8010", novapost_mock.origin).replace(
        "http://127.0.0.1:8020", shipyo_mock.origin
    )
    proc = run_python(
        "-c", code, env={"CARRIERS_KEY_STORE": str(tmp_path / "keys.json"), "PATH": "/usr/bin:/bin"}
    )
    assert proc.stdout.splitlines()[1:4] == [
        "JwtResponse",
        "{200}",
        "403 ['Invalid API Key.', 'API key validation failed']",
    ]
    assert "np_test_4f1c2b9e8a7d6c5b" not in proc.stdout + proc.stderr
    assert novapost_mock.stats()["GET /__mock__/whoami"] == 21


def test_readme_crowd_example_runs_over_aiohttp(novapost_mock: MockServer) -> None:
    block = next(b for b in readme_blocks() if "AiohttpTransport" in b)
    code = block.replace("http://127.0.0.1:8010", novapost_mock.origin)
    proc = run_python("-c", code, env={"PATH": "/usr/bin:/bin"})
    assert proc.stdout.splitlines() == ["{200}"]
    assert novapost_mock.stats()["GET /__mock__/whoami"] == 1000
    assert novapost_mock.stats()["GET /clients/authorization"] == 1
