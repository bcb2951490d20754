"""Driving several real worker processes (``worker.py``) at once from a test.

Every worker first imports the package and builds its facade, then waits; a
command is written to every worker before any answer is read, so that their
threads really overlap. Any wait is bounded: a stuck worker fails the test with its
stderr instead of hanging it.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WORKER = Path(__file__).with_name("worker.py")
ANSWER_SECONDS = 45.0  # only bounds a broken run
JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
NP_KEY = "np_test_4f1c2b9e8a7d6c5b"
SH_KEY = "ak_1234567890abcdef"
SH_LIMITED = "ak_ratelimited00000"
MINT_NP = "GET /clients/authorization"
MINT_SH = "GET /api/Token/generate-from-apikey"
WHOAMI = "GET /__mock__/whoami"


@dataclass
class Answer:
    """One worker's answer to one command."""

    results: list[dict[str, Any]]
    mints: int
    refreshes: int
    logs: list[str]
    cache: str
    auth: str

    @property
    def tokens(self) -> set[str]:
        return {r["ok"] for r in self.results if "ok" in r}

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [r for r in self.results if "error" in r]


@dataclass
class Worker:
    proc: subprocess.Popen[str]
    stderr: Any
    lines: queue.Queue[str | None] = field(default_factory=queue.Queue)

    def pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def send(self, command: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()

    def receive(self, timeout: float = ANSWER_SECONDS) -> dict[str, Any]:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            line = None
        if line is None:
            self.stderr.seek(0)
            raise AssertionError(f"worker {self.proc.pid} gave no answer:\n{self.stderr.read()}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


class Fleet:
    """Workers that have said they are ready."""

    def __init__(self, workers: list[Worker]) -> None:
        self.workers = workers

    def __len__(self) -> int:
        return len(self.workers)

    def run(self, op: str, *, only: list[int] | None = None, **args: Any) -> list[Answer]:
        """Send one command to every worker (or those ``only`` names), then collect."""
        chosen = [self.workers[n] for n in only] if only is not None else self.workers
        command = {"op": op, **args}
        for worker in chosen:
            worker.send(command)
        return [Answer(**worker.receive()) for worker in chosen]

    def jwt(self, threads: int, **kwargs: Any) -> list[Answer]:
        return self.run("jwt", threads=threads, **kwargs)

    def advance(self, seconds: float) -> None:
        self.run("advance", seconds=seconds)


def start(configs: list[dict[str, Any]], stack: list[Worker]) -> list[Worker]:
    workers = []
    for config in configs:
        stderr = tempfile.TemporaryFile("w+")
        proc = subprocess.Popen(
            [sys.executable, str(WORKER), json.dumps(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env={k: v for k, v in os.environ.items() if k != "CARRIERS_TOKEN_CACHE"},
        )
        worker = Worker(proc, stderr)
        stack.append(worker)
        threading.Thread(target=worker.pump, daemon=True).start()
        workers.append(worker)
    for worker in workers:
        assert worker.receive() == {"ready": True}
    return workers


@contextmanager
def fleet(*configs: dict[str, Any]) -> Iterator[Fleet]:
    """Workers for ``configs``, ready; killed at the end whatever happened."""
    started: list[Worker] = []
    try:
        yield Fleet(start(list(configs), started))
    finally:
        for worker in started:
            if worker.proc.poll() is None:
                try:
                    worker.send({"op": "exit"})
                except OSError:
                    pass
        deadline = time.monotonic() + 5
        for worker in started:
            try:
                worker.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.kill()
            worker.stderr.close()


def config(server: Any, cache: Any = None, **extra: Any) -> dict[str, Any]:
    """A worker's config for the mock ``server`` (Nova Post or Shipyo, docs' keys)."""
    carrier = server.api
    key = NP_KEY if carrier == "novapost" else SH_KEY
    return {
        "carrier": carrier,
        "api_key": key,
        "base_url": server.base_url,
        "token_cache": cache,
        **extra,
    }


def flatten(answers: list[Answer]) -> list[dict[str, Any]]:
    return [result for answer in answers for result in answer.results]


def tokens(answers: list[Answer]) -> set[str]:
    return {token for answer in answers for token in answer.tokens}


def assert_no_secrets(answers: list[Answer], *secrets: str) -> None:
    """No API key or JWT in any log line, error message or repr the workers reported."""
    for answer in answers:
        texts = [*answer.logs, answer.cache, answer.auth]
        texts += [r.get("message", "") for r in answer.results]
        for text in texts:
            assert not JWT.search(text), text
            for secret in (NP_KEY, SH_KEY, SH_LIMITED, *secrets):
                assert secret not in text, text
