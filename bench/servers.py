"""The mock servers a benchmark talks to, each in a process of its own.

A mock served from a thread of the measuring process would share its interpreter
lock: the server's work would be timed as client work, and a load generator would
throttle the server it loads. So each mock runs ``carrier_mocks.server.serve`` in a
child process (``python -m bench.servers NAME``, a registry name) that prints its origin and serves
until its stdin closes; the parent drives it through a ``MockServer`` handle, over
HTTP on 127.0.0.1, exactly as a handle from ``serve()`` would. Tests may ask for
an in-process server instead, which starts faster.
"""

from __future__ import annotations

import select
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from carrier_mocks.server import MockServer, MockServerError, serve
from carriers.registry import names

__all__ = ["ROOT", "mock_server"]

ROOT = Path(__file__).resolve().parent.parent

_START_SECONDS = 30.0
_STOP_SECONDS = 15.0


def _read_origin(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], _START_SECONDS)
    line = process.stdout.readline().strip() if ready else ""
    if not line.startswith("http://127.0.0.1:"):
        raise MockServerError(f"the mock server process did not start (said {line!r})")
    return line


@contextmanager
def mock_server(api: str, *, separate_process: bool = True) -> Iterator[MockServer]:
    """A running mock of carrier ``api`` on a free port of 127.0.0.1, stopped on exit."""
    if not separate_process:
        with serve(api, host="127.0.0.1") as server:
            yield server
        return
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.servers", api],
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


def _child(api: str) -> None:
    with serve(api, host="127.0.0.1") as server:
        print(server.origin, flush=True)
        sys.stdin.read()  # until the parent closes the pipe (or exits)


if __name__ == "__main__":
    name = sys.argv[1] if len(sys.argv) == 2 else ""
    if name not in names():
        raise SystemExit(f"usage: python -m bench.servers {'|'.join(names())}")
    _child(name)
