"""Clock, sleeps and jitter of the facades, replaceable by tests without public arguments.

A facade reads the hooks current when it is built; ``replaced(...)`` sets them for
the facades built inside the block (thread and task local, via a context variable).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

__all__ = ["Hooks", "current", "replaced"]


async def _async_sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


@dataclass(frozen=True)
class Hooks:
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    async_sleep: Callable[[float], Awaitable[None]] = _async_sleep
    jitter: Callable[[float, float], float] = random.SystemRandom().uniform


_DEFAULT = Hooks()
_current: ContextVar[Hooks] = ContextVar("carriers_hooks", default=_DEFAULT)


def current() -> Hooks:
    return _current.get()


@contextmanager
def replaced(
    *,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], None] | None = None,
    async_sleep: Callable[[float], Awaitable[None]] | None = None,
    jitter: Callable[[float, float], float] | None = None,
) -> Iterator[Hooks]:
    """Facades built in this block use the given hooks (the others stay as they are)."""
    hooks = _current.get()
    hooks = Hooks(
        clock=clock or hooks.clock,
        sleep=sleep or hooks.sleep,
        async_sleep=async_sleep or hooks.async_sleep,
        jitter=jitter or hooks.jitter,
    )
    token = _current.set(hooks)
    try:
        yield hooks
    finally:
        _current.reset(token)
