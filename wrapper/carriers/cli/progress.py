"""A progress indication on stderr for steps that may wait on the network.

Only stderr: stdout carries the command's result (``TOKEN=$(carriers token ...)``).
Quick steps show nothing at all.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from .common import PROG

__all__ = ["PROGRESS_DELAY", "progress"]

PROGRESS_DELAY = 1.0
"""Seconds a step may take before a progress indication appears on stderr."""


@contextmanager
def progress(message: str, *, enabled: bool = True, stream: TextIO | None = None) -> Iterator[None]:
    """Show ``message`` on stderr if the block takes longer than ``PROGRESS_DELAY``.

    On a terminal it is a spinner, erased when the block ends; otherwise one line,
    which stays readable in a log.
    """
    out = stream if stream is not None else sys.stderr
    if not enabled:
        yield
        return
    done = threading.Event()
    shown = threading.Event()
    tty = out.isatty()

    def run() -> None:
        if done.wait(PROGRESS_DELAY):
            return
        if not tty:
            out.write(f"{PROG}: {message}...\n")
            out.flush()
            return
        shown.set()
        frames = "|/-\\"
        index = 0
        while not done.is_set():
            out.write(f"\r{frames[index % len(frames)]} {message}...")
            out.flush()
            index += 1
            done.wait(0.1)

    thread = threading.Thread(target=run, name="carriers-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
        if shown.is_set():
            out.write("\r\033[K")
            out.flush()
