"""A real ``redis-server`` for the token-cache tests: started, paused, killed, restarted.

No persistence (``--save ""``, no AOF), bound to 127.0.0.1 on a free port, its
working directory a temporary one. ``redis-server`` missing: the tests that need
it skip with one line saying so.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator

import pytest

REDIS_SERVER = shutil.which("redis-server")
START_SECONDS = 10.0
MISSING = (
    "redis-server is not installed (Debian: apt-get install redis-server; or make system-deps)"
)


def free_port() -> int:
    """A TCP port nothing listens on (for a server to start on, or a closed-port URL)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _ping(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """One ``redis-server`` process; ``url`` stays the same across ``restart()``."""

    def __init__(self, port: int | None = None) -> None:
        if REDIS_SERVER is None:
            pytest.skip(MISSING)
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._dir = tempfile.TemporaryDirectory(prefix="carriers-redis-")
        self._proc: subprocess.Popen[bytes] | None = None
        self.start()

    def __repr__(self) -> str:
        return f"RedisServer({self.url!r})"

    def start(self) -> None:
        """Start on ``port`` and wait until it answers PING."""
        assert REDIS_SERVER is not None
        args = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--save", "", "--appendonly", "no", "--protected-mode", "yes"]
        self._proc = subprocess.Popen(
            args, cwd=self._dir.name, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + START_SECONDS
        while not _ping(self.port):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"redis-server did not start on port {self.port}", pytrace=False)
            time.sleep(0.02)

    def stop(self) -> None:
        """``SHUTDOWN NOSAVE``; terminated, then killed, if it does not exit at once."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGCONT)  # a paused server cannot shut down
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"SHUTDOWN NOSAVE\r\n")
                    sock.recv(64)
            except OSError:
                pass
            try:
                proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                proc.terminate()
                try:
                    proc.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()

    def kill(self) -> None:
        """SIGKILL: the server vanishes without a word, as a crashed host's would."""
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.kill()
            proc.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    def pause(self) -> None:
        """SIGSTOP: connections still open (the kernel accepts them) but nothing answers."""
        assert self._proc is not None
        os.kill(self._proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self._proc is not None
        os.kill(self._proc.pid, signal.SIGCONT)

    def close(self) -> None:
        self.stop()
        self._dir.cleanup()


def running_server() -> Iterator[RedisServer]:
    """A server for the fixture's scope, stopped at its end."""
    server = RedisServer()
    try:
        yield server
    finally:
        server.close()
