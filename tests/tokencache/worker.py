"""One process of a fleet: a facade and a few threads, driven line by line on stdin.

Run as ``python worker.py CONFIG_JSON``. It builds the facade, says ``{"ready": true}``
and then answers each command line with one JSON line:

- ``{"op": "jwt", "threads": N}``: N threads, released together, each call ``jwt()``;
- ``{"op": "get", "threads": N, "url": U}``: each GETs U through the facade's client
  (the mock's JWT-protected ``/__mock__/whoami``);
- ``{"op": "advance", "seconds": S}``: this process's clock jumps S seconds ahead;
- ``{"op": "exit"}``.

Each answer holds per-call outcomes (a digest of the token, or the error's type and
whether it is a ``carriers.errors`` one; how long it took and when it ended, by the
wall clock), the facade's mint and refresh counts and
every ``carriers`` log line (DEBUG and up) since the last answer. Tokens themselves
never leave the process: a digest is enough to compare them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import threading
import time
from typing import Any

from carriers import NovaPost, Shipyo, _hooks, errors
from carriers.retries import RetryPolicy
from carriers.token_cache import RedisTokenCache

offset = 0.0
lines: list[str] = []
lines_lock = threading.Lock()


class Collect(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        with lines_lock:
            lines.append(f"{record.levelname} {record.getMessage()}")


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def build(config: dict[str, Any]) -> NovaPost | Shipyo:
    cache: Any = config.get("token_cache")
    if config.get("lock_seconds") is not None:
        cache = RedisTokenCache(cache, lock_seconds=config["lock_seconds"])
    options: dict[str, Any] = {
        "base_url": config["base_url"],
        "max_retries": config.get("max_retries", 2),
        "retry_policy": RetryPolicy(base_delay=0.05, max_delay=0.2, max_retry_after=1.0),
        "timeout": config.get("timeout", 15.0),
        "refresh_ahead": config.get("refresh_ahead", True),
    }
    if cache is not None:
        options["token_cache"] = cache
    facade = NovaPost if config["carrier"] == "novapost" else Shipyo
    with _hooks.replaced(clock=lambda: time.time() + offset):
        return facade(config["api_key"], **options)


def one_call(client: NovaPost | Shipyo, command: dict[str, Any]) -> dict[str, Any]:
    started = time.monotonic()
    try:
        if command["op"] == "jwt":
            outcome: dict[str, Any] = {"ok": digest(client.jwt())}
        else:
            response = client.request("GET", command["url"])
            outcome = {"ok": response.status_code}
    except Exception as exc:
        outcome = {
            "error": type(exc).__name__,
            "typed": isinstance(exc, errors.CarrierError),
            "message": str(exc),
        }
    outcome["seconds"] = round(time.monotonic() - started, 3)
    outcome["ended"] = time.time()
    return outcome


def burst(client: NovaPost | Shipyo, command: dict[str, Any]) -> list[dict[str, Any]]:
    count = int(command.get("threads", 1))
    results: list[dict[str, Any]] = [{} for _ in range(count)]
    start = threading.Barrier(count)

    def run(index: int) -> None:
        start.wait()
        results[index] = one_call(client, command)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def main() -> None:
    global offset
    config = json.loads(sys.argv[1])
    logger = logging.getLogger("carriers")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(Collect())
    client = build(config)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        results: list[dict[str, Any]] = []
        if command["op"] == "exit":
            break
        if command["op"] == "advance":
            offset += float(command["seconds"])
        else:
            results = burst(client, command)
        with lines_lock:
            logged = lines[:]
            lines.clear()
        answer = {
            "results": results,
            "mints": client.auth.mint_count,
            "refreshes": client.auth.refresh_count,
            "logs": logged,
            "cache": repr(client.auth.cache),
            "auth": repr(client.auth),
        }
        print(json.dumps(answer), flush=True)
    client.close()


if __name__ == "__main__":
    main()
