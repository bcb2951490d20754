"""Memory figures of the measuring process: resident size, peak, live allocations.

Resident size alone moves in steps (allocator arenas, page reuse), so a mark also
records the interpreter's count of allocated blocks and of objects the collector
tracks, after a full collection: a leak of one client or token per call shows in
those long before it shows in pages.
"""

from __future__ import annotations

import gc
import resource
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MemoryMark", "mark", "peak_rss_kib", "rss_kib"]


def _status_kib(field: str) -> int | None:
    try:
        text = Path("/proc/self/status").read_text(encoding="ascii")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return None


def rss_kib() -> int:
    """Current resident set size in KiB (0 where /proc is not available)."""
    return _status_kib("VmRSS") or 0


def peak_rss_kib() -> int:
    """Peak resident set size of this process in KiB (Linux reports ru_maxrss in KiB)."""
    return _status_kib("VmHWM") or int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


@dataclass(frozen=True)
class MemoryMark:
    """The process's memory after ``calls`` calls."""

    calls: int
    rss_kib: int
    allocated_blocks: int
    gc_objects: int


def mark(calls: int) -> MemoryMark:
    """Collect garbage, then read the resident size and the live allocation counts."""
    for _ in range(3):
        gc.collect()
    return MemoryMark(
        calls=calls,
        rss_kib=rss_kib(),
        allocated_blocks=sys.getallocatedblocks(),
        gc_objects=len(gc.get_objects()),
    )
