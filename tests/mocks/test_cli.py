"""``python -m carrier_mocks`` as a real process: start, serve, stop, and its errors."""

from __future__ import annotations

import queue
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .support import NP_KEY, SHIPYO_KEY, TOKEN_URL

COMMAND = [sys.executable, "-m", "carrier_mocks"]
FREE_PORTS = ["--novapost-port", "0", "--shipyo-port", "0"]
GUARD_SECONDS = 30  # only bounds a broken run; nothing asserts on time


class Running:
    """The mock process, its output lines collected by a thread."""

    def __init__(self, tmp_path: Path) -> None:
        self.process = subprocess.Popen(
            [*COMMAND, *FREE_PORTS],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def line(self) -> str:
        return self.lines.get(timeout=GUARD_SECONDS)

    def urls(self) -> tuple[str, str]:
        novapost = re.fullmatch(r"Nova Post mock: (http://127\.0\.0\.1:\d+/v\.1\.0)", self.line())
        shipyo = re.fullmatch(r"Shipyo mock: +(http://127\.0\.0\.1:\d+)", self.line())
        assert novapost and shipyo
        return novapost.group(1), shipyo.group(1)


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    mock = Running(tmp_path)
    try:
        yield mock
    finally:
        if mock.process.poll() is None:
            mock.process.kill()
            mock.process.wait(GUARD_SECONDS)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_serves_both_until_stopped(running: Running, stop: signal.Signals) -> None:
    novapost, shipyo = running.urls()
    assert running.line() == "Press Ctrl-C to stop."
    assert httpx.get(f"{novapost}/clients/authorization", params={"apiKey": NP_KEY}).is_success
    assert httpx.get(shipyo + TOKEN_URL, headers={"x-api-key": SHIPYO_KEY}).is_success
    running.process.send_signal(stop)
    assert running.process.wait(GUARD_SECONDS) == 0
    assert running.process.stderr is not None
    assert running.process.stderr.read() == ""
    with pytest.raises(httpx.ConnectError):
        httpx.get(shipyo + TOKEN_URL)


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMMAND, *args], cwd=tmp_path, capture_output=True, text=True, timeout=GUARD_SECONDS
    )


def test_taken_port_is_a_one_line_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run(tmp_path, "--novapost-port", "0", "--shipyo-port", str(port))
    assert result.returncode == 1
    assert result.stderr == (
        f"python -m carrier_mocks: error: port {port} on 127.0.0.1 is already in use\n"
    )
    assert result.stdout == ""


def test_bad_fixtures_file_names_the_entry(tmp_path: Path) -> None:
    path = tmp_path / "fixtures.json"
    path.write_text('{"shipyo": {"keys": [{"api_key": "ak_x"}]}}', encoding="utf-8")
    result = run(tmp_path, *FREE_PORTS, "--fixtures", str(path))
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "shipyo.keys[0]: missing required field 'name'" in result.stderr


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        ("spec.json", "{not json", "cannot read the spec"),
        ("spec.yaml", "openapi: 3.0.0\n", "not an OpenAPI document (no 'paths' object)"),
    ],
)
def test_a_bad_spec_file_is_named(tmp_path: Path, name: str, text: str, says: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = run(tmp_path, *FREE_PORTS, "--shipyo-spec", str(path))
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert f"{path}: {says}" in result.stderr


def test_help(tmp_path: Path) -> None:
    result = run(tmp_path, "--help")
    assert result.returncode == 0
    for option in ("--host", "--novapost-port", "--shipyo-port", "--fixtures", "--novapost-spec"):
        assert option in result.stdout
