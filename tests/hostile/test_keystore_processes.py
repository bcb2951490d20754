"""Several processes sharing one sandbox key store: no entry may be lost.

Each child imports the package first, says "ready", then waits for a line on stdin,
so that the writers really overlap instead of running one after the other.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from carrier_mocks import serve
from carriers import KeyStore

PUTS = 300
ROUNDS = 12
PAIRS = [("491000000001", "498213437654"), ("491000000002", "491000000003")]
URL = "http://127.0.0.1:9/v.1.0"

WRITER = """
import datetime, sys
from carriers import KeyStore
path, who, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
store = KeyStore(path)
exp = datetime.datetime(2100, 1, 1, tzinfo=datetime.UTC)
print("ready", flush=True)
sys.stdin.readline()
for n in range(count):
    store.put(f"49{who}{n:09d}", sys.argv[4], f"key-{who}-{n}", exp)
print("done", flush=True)
"""

SANDBOX = """
import json, sys
from carriers import NovaPost
print("ready", flush=True)
for line in sys.stdin:
    job = json.loads(line)
    NovaPost.sandbox(job["phone"], key_store=job["store"], base_url=job["base_url"]).close()
    print("done", flush=True)
"""


@contextmanager
def children(*argvs: list[str]) -> Iterator[list[subprocess.Popen[str]]]:
    """Started children that have said "ready"; killed if still running at the end."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", *argv],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for argv in argvs
    ]
    try:
        for proc in procs:
            expect(proc, "ready")
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.communicate()


def expect(proc: subprocess.Popen[str], word: str) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if line != word:
        proc.kill()
        _, err = proc.communicate()
        raise AssertionError(f"child said {line!r}, not {word!r}:\n{err}")


def send(procs: list[subprocess.Popen[str]], line: str) -> None:
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(line + "\n")
        proc.stdin.flush()


def test_two_writers_keep_every_entry(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    with children(
        [WRITER, str(path), "1", str(PUTS), URL], [WRITER, str(path), "2", str(PUTS), URL]
    ) as procs:
        send(procs, "go")
        for proc in procs:
            expect(proc, "done")
    keys = json.loads(path.read_text())["keys"][URL]
    assert len(keys) == 2 * PUTS
    store = KeyStore(path)
    for who in ("1", "2"):
        for n in (0, PUTS // 2, PUTS - 1):
            stored = store.get(f"49{who}{n:09d}", URL)
            assert stored is not None
            assert stored.api_key == f"key-{who}-{n}"


def test_two_concurrent_sandbox_calls_keep_both_keys(tmp_path: Path) -> None:
    with serve("novapost") as server, children([SANDBOX], [SANDBOX]) as procs:
        for round_ in range(ROUNDS):
            server.reset()
            path = tmp_path / f"keys-{round_}.json"
            phones = PAIRS[round_ % len(PAIRS)]
            for proc, phone in zip(procs, phones, strict=True):
                job = {"phone": phone, "store": str(path), "base_url": server.base_url}
                send([proc], json.dumps(job))
            for proc in procs:
                expect(proc, "done")
            store = KeyStore(path)
            kept = [store.get(phone, server.base_url) for phone in phones]
            assert all(kept), f"round {round_}: a key was lost"
            assert server.stats()["POST /test-api-keys"] == 2
