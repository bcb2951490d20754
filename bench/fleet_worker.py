"""One process of the fleet: a facade, a crowd of threads, one command per stdin line.

``python -m bench.fleet_worker`` answers each JSON command with one JSON line, so
that the parent can release every process's threads at one wall-clock instant and
then read what the mock counted. The facade's clock is wall time plus an offset
the parent moves (``build``, ``advance``) in step with the mock's clock, and its
``get_token`` is timed per call, so that a call that waited for a mint shows, along
with the expiry of the token the call used.
"""

from __future__ import annotations

import json
import random
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from carriers import _hooks
from carriers.auth import token_expiry
from carriers.registry import get

from bench.apis import WHOAMI, Facade
from bench.singleflight import OffsetClock

__all__ = ["Worker", "main"]

Record = tuple[float, float, float, float]
"""One call: wall time it started, its latency, its wait for a token (seconds), and the
wall time its token stops being usable on this facade's clock."""


def _until(at: float) -> None:
    time.sleep(max(0.0, at - time.time()))


class Worker:
    """The state one fleet process keeps between commands."""

    def __init__(self) -> None:
        self.clock = OffsetClock()
        self.facade: Facade | None = None
        self.url = ""
        self.threads = 1
        self._local = threading.local()
        self._expiries: dict[str, float] = {}

    def close(self) -> None:
        if self.facade is not None:
            self.facade.close()
            self.facade = None

    def build(self, command: dict[str, Any]) -> dict[str, Any]:
        """A new facade: carrier, key, base URL, token cache, refresh ahead, clock offset."""
        self.close()
        self.clock = OffsetClock()
        self.clock.advance(float(command.get("offset", 0.0)))
        self.threads = int(command["threads"])
        self.url = command["origin"] + WHOAMI
        facade_class = get(command["carrier"]).facade_class()
        with _hooks.replaced(clock=self.clock):
            facade: Facade = facade_class(
                command["key"],
                base_url=command["base_url"],
                token_cache=command["cache"],
                refresh_ahead=bool(command.get("refresh_ahead", True)),
            )
        self.facade = facade
        fetch = facade.auth.get_token

        def timed() -> str:
            start = time.perf_counter()
            try:
                self._local.token = token = fetch()
                return token
            finally:
                waited = getattr(self._local, "wait", 0.0)
                self._local.wait = waited + time.perf_counter() - start

        setattr(facade.auth, "get_token", timed)  # noqa: B010 (an instance attribute)
        return {}

    def _expiry(self, token: str) -> float:
        """When ``token`` stops being usable here, in wall time (decoded once per token)."""
        if token not in self._expiries:
            self._expiries[token] = token_expiry(token, self.clock()) - self.clock.offset
        return self._expiries[token]

    def _call(self) -> tuple[str, Record]:
        assert self.facade is not None, "build first"
        self._local.wait, self._local.token = 0.0, ""
        began, start = time.time(), time.perf_counter()
        try:
            status = self.facade.request("GET", self.url).status_code
            outcome = "ok" if status == 200 else f"HTTP {status}"
        except Exception as exc:
            outcome = type(exc).__name__
        latency = time.perf_counter() - start
        expiry = self._expiry(self._local.token) if self._local.token else 0.0
        return outcome, (began, latency, self._local.wait, expiry)

    def _crowd(self, body: Callable[[], None]) -> None:
        threads = [threading.Thread(target=body, daemon=True) for _ in range(self.threads)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def burst(self, at: float) -> dict[str, Any]:
        """Every thread sends one call at ``at`` (wall time)."""
        outcomes: list[str] = []

        def body() -> None:
            _until(at)
            outcomes.append(self._call()[0])

        self._crowd(body)
        return {"outcomes": dict(Counter(outcomes))}

    def load(self, at: float, until: float, pause: float, record: bool) -> dict[str, Any]:
        """Every thread calls from ``at`` to ``until``, ``pause`` seconds apart on average.

        Each thread starts at a random point of its first pause and its pauses vary,
        so that the calls arrive spread out rather than in waves of the whole crowd.
        """
        outcomes: list[str] = []
        records: list[Record] = []

        def body() -> None:
            _until(at + random.uniform(0.0, pause))
            while time.time() < until:
                outcome, timing = self._call()
                outcomes.append(outcome)
                if record and outcome == "ok":
                    records.append(timing)
                time.sleep(random.uniform(0.5, 1.5) * pause)

        self._crowd(body)
        return {"outcomes": dict(Counter(outcomes)), "calls": records}

    def handle(self, command: dict[str, Any]) -> dict[str, Any]:
        op = command["op"]
        if op == "build":
            return self.build(command)
        if op == "advance":
            self.clock.advance(float(command["seconds"]))
            return {}
        if op == "burst":
            return self.burst(float(command["at"]))
        if op == "load":
            return self.load(
                float(command["at"]),
                float(command["until"]),
                float(command["pause"]),
                bool(command.get("record", False)),
            )
        raise ValueError(f"unknown command {op!r}")


def main() -> None:
    """Commands until stdin closes; a failed command answers ``{"error": ...}``."""
    worker = Worker()
    try:
        for line in sys.stdin:
            try:
                reply = worker.handle(json.loads(line))
            except Exception as exc:
                reply = {"error": f"{type(exc).__name__}: {exc}"}
            print(json.dumps(reply), flush=True)
    finally:
        worker.close()


if __name__ == "__main__":
    main()
