"""Stoplight Prism's mock server, for comparing the built-in mocks with it (tests and bench).

Prism is an npm package: it is installed on first use into ``.cache/prism/`` under
the project (git-ignored) and reused afterwards. Without npm, or when the install
fails, :func:`install` raises :class:`PrismUnavailable` saying why in one line.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

__all__ = ["PACKAGE", "PrismUnavailable", "install", "serve"]

PACKAGE = "@stoplight/prism-cli@5"
ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache" / "prism"
_INSTALL_TIMEOUT = 300
_START_TIMEOUT = 60


class PrismUnavailable(RuntimeError):
    """Prism cannot run here; the message says why."""


def install(cache: Path = CACHE) -> Path:
    """The ``prism`` executable, installed with npm into ``cache`` when missing."""
    exe = cache / "node_modules" / ".bin" / "prism"
    if exe.exists():
        return exe
    npm = shutil.which("npm")
    if npm is None:
        raise PrismUnavailable("npm is not installed, so Prism cannot be installed")
    cache.mkdir(parents=True, exist_ok=True)
    try:
        result = subprocess.run(
            [
                npm,
                "install",
                "--silent",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(cache),
                PACKAGE,
            ],
            capture_output=True,
            text=True,
            timeout=_INSTALL_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise PrismUnavailable(f"npm install {PACKAGE} took over {_INSTALL_TIMEOUT} s") from None
    if result.returncode != 0 or not exe.exists():
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise PrismUnavailable(f"npm install {PACKAGE} failed: {last[:200]}")
    return exe


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve(spec: Path, *, dynamic: bool = False) -> Iterator[str]:
    """Run ``prism mock`` on ``spec`` for the block; yields its base URL."""
    exe = install()
    port = _free_port()
    cmd = [str(exe), "mock", "-h", "127.0.0.1", "-p", str(port), str(spec)]
    if dynamic:
        cmd.append("--dynamic")
    log = tempfile.TemporaryFile("w+")  # a file, not a pipe: a full pipe would stall Prism
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + _START_TIMEOUT
        while True:
            if proc.poll() is not None:
                log.seek(0)
                err = log.read().strip().splitlines()
                raise PrismUnavailable(f"prism exited: {(err or ['no output'])[-1][:200]}")
            try:
                httpx.get(url + "/", timeout=1.0)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise PrismUnavailable(f"prism did not answer in {_START_TIMEOUT} s") from None
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
