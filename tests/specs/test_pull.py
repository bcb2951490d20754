"""The pull from the docs portal, end to end against a local portal: a real HTTP server
serving an index and pages in the published format (``/llms.txt``, each page as
Markdown at its address plus ``.md``)."""

from __future__ import annotations

import datetime
import hashlib
import http.server
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tools import pull, vendor

from .whole_api import REAL_PAGES, TEST_PAGES

ROOT = Path(__file__).resolve().parents[2]
METHODS = "/metodi-1/methods"
LIVE_PORTAL = "api-portal.novapost.com"


class Portal:
    """What the local portal serves: path -> (status, body), and what was asked."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[int, bytes]] = {}
        self.hits: list[str] = []
        self.failures: dict[str, int] = {}  # path -> how many 503s before the page
        self.delay: dict[str, float] = {}
        self.redirects: dict[str, str] = {}  # path -> Location
        self.origin = ""

    def page(self, name: str, body: bytes) -> None:
        self.files[f"{METHODS}/{name}.md"] = (200, body)

    def index(self, names: list[str], extra: str = "") -> None:
        lines = [
            "# Nova Post API",
            "",
            "> The docs of the Nova Post API v.1.0.",
            "",
            "## Methods",
            "",
        ]
        for name in names:
            address = f"{self.origin}{METHODS}/{name}.md"
            lines.append(f"- [{name.title()}]({address}): the {name} methods")
        lines += ["", "## Guides", "", extra or (
            f"- [How to generate a JWT token]({self.origin}/novaposhta-docs/integration-guide/"
            "how-to-generate-a-jwt-token.md)"
        ), "- [Elsewhere](https://example.org/metodi-1/methods/other.md)", ""]  # fmt: skip
        self.files["/llms.txt"] = (200, "\n".join(lines).encode())


@pytest.fixture
def portal() -> Iterator[Portal]:
    state = Portal()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            state.hits.append(path)
            time.sleep(state.delay.get(path, 0))
            if path in state.redirects:
                self.send_response(302)
                self.send_header("Location", state.redirects[path])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if state.failures.get(path, 0) > 0:
                state.failures[path] -= 1
                status, body = 503, b"busy"
            else:
                status, body = state.files.get(path, (404, b"not found"))
            self.send_response(status)
            self.send_header("Content-Type", "text/markdown; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.origin = f"http://127.0.0.1:{server.server_address[1]}"
    state.page("authorization", (REAL_PAGES / "authorization.md").read_bytes())
    for name in ("dictionaries", "shipments", "webhooks"):
        state.page(name, (TEST_PAGES / f"{name}.md").read_bytes())
    state.index(["authorization", "dictionaries", "shipments", "webhooks"])
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def committed(tmp_path: Path) -> tuple[Path, Path]:
    """A pages directory and a spec as committed before the pull: the Authorization page."""
    pages, out = tmp_path / "specs" / "pages", tmp_path / "specs" / "openapi.json"
    pages.mkdir(parents=True)
    (pages / "authorization.md").write_bytes((REAL_PAGES / "authorization.md").read_bytes())
    out.write_bytes((ROOT / "specs" / "novapost" / "openapi.json").read_bytes())
    return pages, out


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file under the directory's parent (pages, spec, anything left behind)."""
    return {
        str(p.relative_to(directory.parent)): p.read_bytes()
        for p in sorted(directory.parent.rglob("*"))
        if p.is_file()
    }


def run_pull(portal: Portal, pages: Path, out: Path, *extra: str) -> int:
    args = ["pull", "--portal", portal.origin, "--pages", str(pages), "--out", str(out)]
    return vendor.main([*args, *extra])


# --------------------------------------------------------------------------- success


def test_pull_writes_the_selected_pages_a_manifest_and_the_changelog(
    portal: Portal, committed: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    pages, out = committed
    before = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    assert run_pull(portal, pages, out) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines()[0] == (
        "pull: pages 3 added (dictionaries.md, shipments.md, webhooks.md), 0 changed, "
        "0 removed, 1 unchanged"
    )
    # byte for byte what the portal serves
    names = ["authorization", "dictionaries", "shipments", "webhooks"]
    assert sorted(p.name for p in pages.iterdir()) == sorted(
        [*(f"{n}.md" for n in names), "manifest.json"]
    )
    for name in names:
        assert (pages / f"{name}.md").read_bytes() == portal.files[f"{METHODS}/{name}.md"][1]
    # only the index and the selected pages were fetched, each once
    assert sorted(portal.hits) == sorted(["/llms.txt", *(f"{METHODS}/{n}.md" for n in names)])
    manifest = json.loads((pages / "manifest.json").read_text("utf-8"))
    assert manifest["portal"] == portal.origin
    assert manifest["index"] == f"{portal.origin}/llms.txt"
    assert [e["file"] for e in manifest["pages"]] == [f"{n}.md" for n in names]
    for entry, name in zip(manifest["pages"], names, strict=True):
        body = (pages / entry["file"]).read_bytes()
        assert entry["address"] == f"{portal.origin}{METHODS}/{name}"
        assert entry["source"] == f"{portal.origin}{METHODS}/{name}.md"
        assert entry["sha256"] == hashlib.sha256(body).hexdigest()
        assert entry["bytes"] == len(body)
        fetched = datetime.datetime.fromisoformat(entry["fetched_at"])
        assert before <= fetched <= datetime.datetime.now(datetime.UTC)
    # then the vendoring: the spec of the four pages, and what changed against the old one
    assert out.read_text("utf-8") == vendor.build(pages)
    lines = captured.out.splitlines()
    assert lines[0].startswith("vendor: wrote openapi.json (")
    assert (
        lines[1] == "API changelog: 14 changes, 0 breaking for a client, 14 breaking for a server"
    )
    assert "  ! endpoint-added: operation  [breaking: server]" in lines
    assert "GET /dictionaries/cities" in lines


def test_a_page_that_changed_and_a_page_that_vanished(
    portal: Portal, committed: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    pages, out = committed
    assert run_pull(portal, pages, out) == 0
    first = json.loads((pages / "manifest.json").read_text("utf-8"))
    capsys.readouterr()
    # The portal publishes a new optional field and drops the Webhooks page.
    path = f"{METHODS}/shipments.md"
    text = portal.files[path][1].decode()
    changed = text.replace(
        '"clientReference":{"type":"string","description":"Your own reference',
        '"packingType":{"type":"string"},"clientReference":{"type":"string",'
        '"description":"Your own reference',
        1,
    )
    assert changed != text
    portal.page("shipments", changed.encode())
    portal.index(["authorization", "dictionaries", "shipments"])
    assert run_pull(portal, pages, out) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines()[0] == (
        "pull: pages 0 added, 1 changed (shipments.md), 1 removed (webhooks.md), 2 unchanged"
    )
    assert not (pages / "webhooks.md").exists()
    assert (pages / "shipments.md").read_text("utf-8") == changed
    second = json.loads((pages / "manifest.json").read_text("utf-8"))
    sha = {e["file"]: e["sha256"] for e in second["pages"]}
    assert set(sha) == {"authorization.md", "dictionaries.md", "shipments.md"}
    assert sha["shipments.md"] == hashlib.sha256(changed.encode()).hexdigest()
    assert sha["shipments.md"] != {e["file"]: e["sha256"] for e in first["pages"]}["shipments.md"]
    out_lines = captured.out.splitlines()
    assert (
        out_lines[1] == "API changelog: 4 changes, 3 breaking for a client, 1 breaking for a server"
    )
    assert (
        "  ! new-optional-request-property: request body application/json: [].packingType "
        "(string)  [breaking: server]"
    ) in out_lines
    assert "DELETE /webhooks/{id}" in out_lines


# --------------------------------------------------------------------------- failures


def _conflicting(portal: Portal) -> None:
    # a page that defines the shared Error schema differently from the others
    body = (
        "# Extra\n\nProse.\n\n```json\n"
        + json.dumps(
            {
                "openapi": "3.0.0",
                "info": {"version": "1.0.0"},
                "paths": {},
                "components": {"schemas": {"Error": {"type": "string"}}},
            }
        )
        + "\n```\n"
    )
    portal.page("extra", body.encode())
    portal.index(["authorization", "shipments", "extra"])


def _replace(name: str, body: bytes) -> object:
    def apply(portal: Portal) -> None:
        portal.page(name, body)

    return apply


BROKEN = [
    (
        "no JSON",
        _replace("shipments", b"# Shipments\n\nComing soon.\n"),
        f"{METHODS}/shipments (",
        "holds no ```json OpenAPI fragment (not an API page? add it to 'exclude')",
    ),
    (
        "HTML instead of Markdown",
        _replace("shipments", b"<!doctype html><html><body>Shipments</body></html>"),
        f"{METHODS}/shipments (",
        "holds no ```json OpenAPI fragment",
    ),
    (
        "malformed JSON",
        _replace("shipments", b'# Shipments\n\n```json\n{"openapi": "3.0.0", "paths": {\n```\n'),
        "shipments.md:4: malformed JSON block",
        f"(shipments.md from {{origin}}{METHODS}/shipments.md)",
    ),
    (
        "conflicting component",
        _conflicting,
        "'Error' is defined differently in authorization.md:38",
        f"extra.md from {{origin}}{METHODS}/extra.md",
    ),
    (
        "missing page",
        lambda portal: portal.files.pop(f"{METHODS}/webhooks.md"),
        f"{METHODS}/webhooks ({{origin}}{METHODS}/webhooks.md): HTTP 404",
        "",
    ),
    (
        "a listed page gone from the index",
        lambda portal: portal.index(["dictionaries", "shipments", "webhooks"]),
        f"{METHODS}/authorization: listed in pages.toml but not in the portal's index",
        "",
    ),
    (
        "not UTF-8",
        _replace("webhooks", b"# Webhooks\n\xff\xfe\n```json\n{}\n```\n"),
        f"{METHODS}/webhooks (",
        "not UTF-8 text",
    ),
    (
        "two pages, one file name",
        lambda portal: (
            portal.page("v2/shipments", b"# v2\n"),
            portal.index(["authorization", "shipments", "v2/shipments"]),
        ),
        f"{METHODS}/v2/shipments and {METHODS}/shipments would both be saved as shipments.md",
        "",
    ),
    (
        "endless redirects",
        lambda portal: portal.redirects.update(
            {f"{METHODS}/webhooks.md": f"{METHODS}/webhooks.md?again"}
        ),
        f"{METHODS}/webhooks ({{origin}}{METHODS}/webhooks.md): TooManyRedirects",
        "",
    ),
    (
        "index unavailable",
        lambda portal: portal.files.pop("/llms.txt"),
        "the portal's index ({origin}/llms.txt): HTTP 404",
        "",
    ),
]


@pytest.mark.parametrize(
    ("breaks", "first", "second"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN]
)
def test_a_broken_pull_names_the_page_and_touches_nothing(
    portal: Portal,
    committed: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
    breaks: object,
    first: str,
    second: str,
) -> None:
    pages, out = committed
    assert run_pull(portal, pages, out, "--no-vendor") == 0  # committed pages and a manifest
    before = snapshot(pages)
    capsys.readouterr()
    breaks(portal)  # type: ignore[operator]
    assert run_pull(portal, pages, out) == 1
    err = capsys.readouterr().err
    assert err.startswith("pull: error: ")
    assert first.format(origin=portal.origin) in err
    assert second.format(origin=portal.origin) in err
    assert err.splitlines()[-1] == "pull: the committed pages are unchanged"
    assert snapshot(pages) == before  # nothing written, nothing left behind


def test_retries_a_busy_page_then_gives_up(
    portal: Portal,
    committed: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pages, out = committed
    monkeypatch.setattr(pull, "BACKOFF", 0.01)
    path = f"{METHODS}/dictionaries.md"
    portal.failures[path] = 2  # two 503s, then the page
    assert run_pull(portal, pages, out, "--no-vendor") == 0
    assert portal.hits.count(path) == 3
    before = snapshot(pages)
    portal.failures[path] = pull.ATTEMPTS
    portal.hits.clear()
    assert run_pull(portal, pages, out, "--no-vendor") == 1
    assert portal.hits.count(path) == pull.ATTEMPTS
    err = capsys.readouterr().err
    assert f"{METHODS}/dictionaries ({portal.origin}{path}): HTTP 503 after 3 attempts" in err
    assert snapshot(pages) == before


def test_a_moved_page_is_followed(portal: Portal, committed: tuple[Path, Path]) -> None:
    pages, out = committed
    portal.files["/moved/webhooks.md"] = portal.files.pop(f"{METHODS}/webhooks.md")
    portal.redirects[f"{METHODS}/webhooks.md"] = "/moved/webhooks.md"
    assert run_pull(portal, pages, out, "--no-vendor") == 0
    assert (pages / "webhooks.md").read_bytes() == portal.files["/moved/webhooks.md"][1]


def test_a_portal_address_with_a_path(portal: Portal, committed: tuple[Path, Path]) -> None:
    """The index is read under the portal's address; the pages where the index points."""
    pages, out = committed
    portal.files["/mirror/llms.txt"] = portal.files.pop("/llms.txt")
    args = ["pull", "--portal", f"{portal.origin}/mirror/", "--pages", str(pages), "--no-vendor"]
    assert vendor.main([*args, "--out", str(out)]) == 0
    manifest = json.loads((pages / "manifest.json").read_text("utf-8"))
    assert manifest["index"] == f"{portal.origin}/mirror/llms.txt"
    assert {e["source"] for e in manifest["pages"]} == {
        f"{portal.origin}{METHODS}/{n}.md"
        for n in ("authorization", "dictionaries", "shipments", "webhooks")
    }


def test_the_limits_the_readme_gives() -> None:
    assert (pull.TIMEOUT.connect, pull.TIMEOUT.read) == (10.0, 30.0)
    assert pull.ATTEMPTS == 3
    assert pull.MAX_BYTES == 4 * 1024 * 1024
    assert {408, 429, 500, 502, 503, 504} <= pull.RETRY_STATUSES
    assert not {400, 401, 403, 404} & pull.RETRY_STATUSES


def test_timeout_and_size_limit(portal: Portal) -> None:
    portal.delay[f"{METHODS}/webhooks.md"] = 1.0
    with httpx.Client(timeout=0.2) as client:
        fetcher = pull.Fetcher(client, attempts=2, sleep=lambda s: None)
        with pytest.raises(pull.PullError, match=r"webhooks .*: timed out after 2 attempts"):
            fetcher.get_text(f"{portal.origin}{METHODS}/webhooks.md", f"{METHODS}/webhooks")
        small = pull.Fetcher(client, max_bytes=1000)
        with pytest.raises(pull.PullError, match=r"shipments.md: larger than 1000 bytes"):
            small.get_text(f"{portal.origin}{METHODS}/shipments.md", f"{METHODS}/shipments")
        closed = socket.socket()
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        closed.close()
        with pytest.raises(pull.PullError, match=r"cannot connect \(ConnectError\) after 2"):
            fetcher.get_text(f"http://127.0.0.1:{port}/llms.txt", "the portal's index")


def test_selection_by_patterns_and_links(tmp_path: Path) -> None:
    index = (
        "- [A](https://p.example/metodi-1/methods/shipments.md): x\n"
        "- [B](/metodi-1/methods/pickups)\n"
        "- [C](https://p.example/metodi-1/methods/shipments.md)\n"  # twice: once
        "- [D](https://other.example/metodi-1/methods/evil.md)\n"  # another site: never
        "- [E](https://p.example/novaposhta-docs/guide.md)\n"
    )
    links = pull.page_links(index, "https://p.example")
    assert links == [
        "/metodi-1/methods/shipments",
        "/metodi-1/methods/pickups",
        "/novaposhta-docs/guide",
    ]
    config = pull.Config("https://p.example", "/llms.txt", ("/metodi-1/methods/*",), ("*/pickups",))
    assert pull.select(links, config) == ["/metodi-1/methods/shipments"]
    listed = pull.Config("https://p.example", "/llms.txt", (), (), ("/novaposhta-docs/guide",))
    assert pull.select(links, listed) == ["/novaposhta-docs/guide"]
    bad = tmp_path / "pages.toml"
    bad.write_text('portal = "https://p.example"\nindex = "/llms.txt"\nincldue = []\n', "utf-8")
    with pytest.raises(pull.PullError, match=r"pages\.toml: unknown keys incldue"):
        pull.load_config(bad)
    committed = pull.load_config(ROOT / "specs" / "novapost" / "pages.toml")
    assert committed.portal == "https://api-portal.novapost.com"
    assert committed.index == "/llms.txt"
    assert committed.include == ("/metodi-1/methods/*",)


def test_the_portal_from_the_environment(
    portal: Portal,
    committed: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pages, out = committed
    monkeypatch.setenv("NOVAPOST_PORTAL", portal.origin)
    assert vendor.main(["pull", "--pages", str(pages), "--out", str(out), "--no-vendor"]) == 0
    assert (pages / "webhooks.md").is_file()
    assert out.read_bytes() == (ROOT / "specs" / "novapost" / "openapi.json").read_bytes()
    capsys.readouterr()
    # then vendored, the changelog as JSON: stdout is the document, the rest goes to stderr
    assert vendor.main(["pull", "--pages", str(pages), "--out", str(out), "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["summary"] == {
        "changes": 14,
        "breaking_for_client": 0,
        "breaking_for_server": 14,
    }
    assert captured.err.startswith("pull: pages 0 added, 0 changed, 0 removed, 4 unchanged\n")


def test_make_vendor_pull_runs_the_pull(portal: Portal, committed: tuple[Path, Path]) -> None:
    """The Makefile target, as a user runs it (here against the local portal)."""
    pages, out = committed
    proc = subprocess.run(
        [
            # this interpreter, and no venv made: -o takes the install stamp as done
            "make", "--no-print-directory", "-s", "-o", ".venv/.installed-stamp", "vendor-pull",
            f"BIN={Path(sys.executable).parent}", f"PORTAL={portal.origin}",
            f"PULL_ARGS=--pages {pages} --out {out}", "FAIL_ON=breaking", "CLIENT=",
        ],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stdout + proc.stderr  # make's status for a failed step
    assert "Error 3" in proc.stderr  # --fail-on found breaking changes: 14 new operations
    assert "API changelog: 14 changes" in proc.stdout
    assert (pages / "manifest.json").is_file()


def _live_portal_reachable() -> bool:
    try:
        socket.create_connection((LIVE_PORTAL, 443), timeout=3).close()
    except OSError:
        return False
    return True


def test_pull_from_the_live_portal(tmp_path: Path) -> None:
    if not _live_portal_reachable():
        pytest.skip(f"{LIVE_PORTAL} cannot be reached from here")
    pages = tmp_path / "pages"
    assert pull.main(["--pages", str(pages), "--no-vendor"]) == 0
    manifest = json.loads((pages / "manifest.json").read_text("utf-8"))
    assert "authorization.md" in {e["file"] for e in manifest["pages"]}
    assert "```json" in (pages / "authorization.md").read_text("utf-8")
