"""The servers a benchmark talks to, each in a process of its own: the mocks, Redis.

A mock served from a thread of the measuring process would share its interpreter
lock: the server's work would be timed as client work, and a load generator would
throttle the server it loads. So each mock runs ``carrier_mocks.server.serve`` in a
child process (``python -m bench.servers NAME [SPEC.json]``, a registry name) that
prints its origin and serves until its stdin closes; the parent drives it through a
``MockServer`` handle, over HTTP on 127.0.0.1, exactly as a handle from ``serve()``
would. Tests may ask for an in-process server instead, which starts faster.
``redis_server()`` runs a throwaway ``redis-server`` (no persistence) on a free
port, for the shared token cache.
"""

from __future__ import annotations

import json
import select
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from carrier_mocks.server import MockServer, MockServerError, serve
from carriers.registry import names

__all__ = ["REDIS_SERVER", "ROOT", "mock_server", "redis_server"]

ROOT = Path(__file__).resolve().parent.parent

_START_SECONDS = 30.0
_STOP_SECONDS = 15.0
REDIS_SERVER = shutil.which("redis-server")
"""The ``redis-server`` binary, or None when it is not installed."""


def _read_origin(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], _START_SECONDS)
    line = process.stdout.readline().strip() if ready else ""
    if not line.startswith("http://127.0.0.1:"):
        raise MockServerError(f"the mock server process did not start (said {line!r})")
    return line


@contextmanager
def mock_server(
    api: str, *, separate_process: bool = True, spec_path: Path | None = None
) -> Iterator[MockServer]:
    """A running mock of carrier ``api`` on a free port of 127.0.0.1, stopped on exit.

    ``spec_path`` (a JSON spec) replaces the spec the mock serves.
    """
    if not separate_process:
        with serve(api, host="127.0.0.1", spec=_spec(spec_path)) as server:
            yield server
        return
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.servers", api, *([str(spec_path)] if spec_path else [])],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    handle: MockServer | None = None
    try:
        handle = MockServer(api, _read_origin(process))
        yield handle
    finally:
        if handle is not None:
            handle.close()
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(_STOP_SECONDS)
        if process.stdout is not None:
            process.stdout.close()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _answers(url: str, process: subprocess.Popen[bytes]) -> bool:
    """Whether the server at ``url`` answers a PING before ``_START_SECONDS`` (or dies)."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
    deadline = time.monotonic() + _START_SECONDS
    try:
        while process.poll() is None and time.monotonic() < deadline:
            try:
                return bool(client.ping())
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        return False
    finally:
        client.close()


@contextmanager
def redis_server() -> Iterator[str]:
    """A fresh ``redis-server`` on a free port of 127.0.0.1: its ``redis://`` URL."""
    if REDIS_SERVER is None:
        raise MockServerError("redis-server is not installed (apt-get install redis-server)")
    port = _free_port()
    url = f"redis://127.0.0.1:{port}/0"
    options = ["--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(
        [REDIS_SERVER, *options], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        if not _answers(url, process):
            raise MockServerError(f"redis-server did not start on port {port}")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(_STOP_SECONDS)


def _spec(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    spec: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return spec


def _child(api: str, spec_path: Path | None) -> None:
    with serve(api, host="127.0.0.1", spec=_spec(spec_path)) as server:
        print(server.origin, flush=True)
        sys.stdin.read()  # until the parent closes the pipe (or exits)


if __name__ == "__main__":
    name = sys.argv[1] if len(sys.argv) in (2, 3) else ""
    if name not in names():
        raise SystemExit(f"usage: python -m bench.servers {'|'.join(names())} [SPEC.json]")
    _child(name, Path(sys.argv[2]) if len(sys.argv) == 3 else None)
