"""The README's Python examples run, as written, against the mock servers."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from carrier_mocks.server import MockServer

README = Path(__file__).resolve().parents[2] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_client_examples_run_against_the_mocks(
    novapost_mock: MockServer, shipyo_mock: MockServer, tmp_path: Path
) -> None:
    block = next(b for b in python_blocks() if b.startswith("from carriers import"))
    # The README points at `make mock`'s ports; these servers run on free ones.
    code = block.replace("http://127.0.0.1:8010", novapost_mock.origin).replace(
        "http://127.0.0.1:8020", shipyo_mock.origin
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env={"CARRIERS_KEY_STORE": str(tmp_path / "keys.json"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[1:4] == [
        "JwtResponse",
        "{200}",
        "403 ['Invalid API Key.', 'API key validation failed']",
    ]
    assert "np_test_4f1c2b9e8a7d6c5b" not in proc.stdout + proc.stderr
    assert novapost_mock.stats()["GET /__mock__/whoami"] == 21


def test_readme_crowd_example_runs_over_aiohttp(novapost_mock: MockServer) -> None:
    block = next(b for b in python_blocks() if "AiohttpTransport" in b)
    code = block.replace("http://127.0.0.1:8010", novapost_mock.origin)
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["{200}"]
    assert novapost_mock.stats()["GET /__mock__/whoami"] == 1000
    assert novapost_mock.stats()["GET /clients/authorization"] == 1
