"""Pull the Nova Post docs pages from the portal into specs/novapost/pages/, all or nothing.

The portal lists its pages in an index (``/llms.txt``) and publishes each page as
Markdown at its address plus ``.md``. ``specs/novapost/pages.toml`` says which
pages are the API reference. Every selected page is downloaded (timeout, bounded
retries, a size limit) into a staging directory, which must vendor cleanly before
it replaces the committed pages; ``manifest.json`` beside the pages records where
each came from, when, and its sha256. Any failure names the page and leaves the
committed pages as they were.

Usage: ``python -m tools.pull [--portal URL] [--config FILE] [--pages DIR] [--no-vendor]
[vendoring options]``, the same as ``python -m tools.vendor pull ...``: after the
pull, the vendoring runs and prints its changelog.
"""

from __future__ import annotations

import argparse
import datetime
import fnmatch
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import httpx

from tools import vendor

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = ROOT / "specs" / "novapost" / "pages.toml"
MANIFEST = "manifest.json"
PORTAL_ENV = "NOVAPOST_PORTAL"

# A page of the whole API is some tens of KB; anything near this is not a docs page.
MAX_BYTES = 4 * 1024 * 1024
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
ATTEMPTS = 3
BACKOFF = 0.5  # seconds, doubled per retry
RETRY_STATUSES = {408, 429, 500, 502, 503, 504}
LINK = re.compile(r"\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


class PullError(Exception):
    """A pull that cannot complete; the message names the page (address) at fault."""


@dataclass(frozen=True)
class Config:
    portal: str
    index: str
    include: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    pages: tuple[str, ...] = ()


def _strings(doc: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = doc.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PullError(f"{where}: '{key}' must be a list of strings")
    return tuple(value)


def load_config(path: Path) -> Config:
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PullError(f"{path.name}: cannot read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise PullError(f"{path.name}: not TOML: {exc}") from None
    unknown = set(doc) - {"portal", "index", "include", "exclude", "pages"}
    if unknown:
        raise PullError(f"{path.name}: unknown keys {', '.join(sorted(unknown))}")
    for key in ("portal", "index"):
        if not isinstance(doc.get(key), str):
            raise PullError(f"{path.name}: '{key}' must be a string")
    config = Config(
        portal=doc["portal"],
        index=doc["index"],
        include=_strings(doc, "include", path.name),
        exclude=_strings(doc, "exclude", path.name),
        pages=_strings(doc, "pages", path.name),
    )
    if not config.include and not config.pages:
        raise PullError(f"{path.name}: no 'include' pattern and no 'pages': nothing to pull")
    return config


# --------------------------------------------------------------------------- fetch


@dataclass
class Fetcher:
    """GETs with a timeout, bounded retries on transient failures, and a size limit."""

    client: httpx.Client
    attempts: int = ATTEMPTS
    backoff: float = BACKOFF
    max_bytes: int = MAX_BYTES
    sleep: Callable[[float], None] = time.sleep

    def get_text(self, url: str, what: str) -> str:
        last = ""
        for attempt in range(self.attempts):
            if attempt:
                self.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                status, body = self._get(url)
            except httpx.TimeoutException:
                last = "timed out"
                continue
            except httpx.TransportError as exc:
                last = f"cannot connect ({type(exc).__name__})"
                continue
            except (httpx.HTTPError, httpx.InvalidURL) as exc:  # redirects, bad URL: no retry
                raise PullError(f"{what} ({url}): {type(exc).__name__}: {exc}") from None
            if status in RETRY_STATUSES:
                last = f"HTTP {status}"
                continue
            if status != 200:
                raise PullError(f"{what} ({url}): HTTP {status}")
            try:
                return body.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise PullError(f"{what} ({url}): not UTF-8 text (byte {exc.start})") from None
        raise PullError(f"{what} ({url}): {last} after {self.attempts} attempts")

    def _get(self, url: str) -> tuple[int, bytes]:
        with self.client.stream("GET", url) as response:
            if response.status_code != 200:
                return response.status_code, b""
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > self.max_bytes:
                    raise PullError(f"{url}: larger than {self.max_bytes} bytes")
                chunks.append(chunk)
            return 200, b"".join(chunks)


# --------------------------------------------------------------------------- select


def page_links(index_text: str, portal: str) -> list[str]:
    """The page paths the index links to on the portal (without '.md'), in index order."""
    origin = urlsplit(portal)
    out: list[str] = []
    for target in LINK.findall(index_text):
        url = urlsplit(urljoin(portal.rstrip("/") + "/", target))
        if (url.scheme, url.netloc) != (origin.scheme, origin.netloc):
            continue
        path = unquote(url.path).rstrip("/")
        path = path.removesuffix(".md")
        if path and path not in out:
            out.append(path)
    return out


def select(links: list[str], config: Config) -> list[str]:
    """The index's pages that the config asks for; a listed page missing is an error."""
    missing = [p for p in config.pages if p.rstrip("/") not in links]
    if missing:
        raise PullError(
            f"{', '.join(missing)}: listed in pages.toml but not in the portal's index "
            "(renamed or removed?)"
        )

    def wanted(path: str) -> bool:
        if path in (p.rstrip("/") for p in config.pages):
            return True
        return any(fnmatch.fnmatchcase(path, pat) for pat in config.include) and not any(
            fnmatch.fnmatchcase(path, pat) for pat in config.exclude
        )

    chosen = [path for path in links if wanted(path)]
    if not chosen:
        raise PullError("the portal's index lists no page that pages.toml selects")
    return chosen


def file_name(path: str) -> str:
    name = path.rstrip("/").rpartition("/")[2]
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,100}", name):
        raise PullError(f"{path}: no usable file name in the page's address")
    return f"{name}.md"


# --------------------------------------------------------------------------- pull


@dataclass
class Result:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [
            f"{len(names)} {what}"
            + (f" ({', '.join(names)})" if names and what != "unchanged" else "")
            for what, names in (
                ("added", self.added),
                ("changed", self.changed),
                ("removed", self.removed),
                ("unchanged", self.unchanged),
            )
        ]
        return "pull: pages " + ", ".join(parts)


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat()


def download(config: Config, fetcher: Fetcher, staging: Path) -> dict[str, Any]:
    """Write every selected page into ``staging``; return the manifest."""
    base = config.portal.rstrip("/")
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(base))  # page paths are absolute
    index_url = urljoin(base + "/", config.index.lstrip("/"))
    index = fetcher.get_text(index_url, "the portal's index")
    entries: list[dict[str, str | int]] = []
    owners: dict[str, str] = {}
    for path in select(page_links(index, base), config):
        name = file_name(path)
        if name in owners:
            raise PullError(f"{path} and {owners[name]} would both be saved as {name}")
        owners[name] = path
        url = f"{origin}{path}.md"
        text = fetcher.get_text(url, path)
        if not _has_fragment(text):
            hint = "" if path in config.pages else " (not an API page? add it to 'exclude')"
            raise PullError(f"{path} ({url}): the page holds no ```json OpenAPI fragment{hint}")
        data = text.encode("utf-8")
        (staging / name).write_bytes(data)
        entries.append(
            {
                "file": name,
                "address": f"{origin}{path}",
                "source": url,
                "fetched_at": _now(),
                "sha256": hashlib.sha256(data).hexdigest(),
                "bytes": len(data),
            }
        )
    entries.sort(key=lambda e: str(e["file"]))
    return {"portal": base, "index": index_url, "pages": entries}


def _has_fragment(text: str) -> bool:
    """A ```json fence opens somewhere on the page (vendoring checks the rest)."""
    return any(
        (m := vendor.FENCE.match(line)) is not None and m.group("info").lower() == "json"
        for line in text.splitlines()
    )


def _check(staging: Path, manifest: dict[str, Any]) -> None:
    """The staged pages vendor cleanly; an error names the page and its address."""
    try:
        vendor.build(staging)
    except vendor.VendorError as exc:
        message = str(exc)
        named = [
            f"{entry['file']} from {entry['source']}"
            for entry in manifest["pages"]
            if re.search(rf"(^|\s){re.escape(entry['file'])}(:|\s|$)", message)
        ]
        if named:
            message += f" ({'; '.join(named)})"
        raise PullError(f"the pulled pages do not vendor: {message}") from None


def _swap(staging: Path, pages_dir: Path) -> None:
    """Replace ``pages_dir`` by ``staging`` with two renames; put it back if the second fails."""
    old = pages_dir.with_name(f".{pages_dir.name}.old-{os.getpid()}")
    shutil.rmtree(old, ignore_errors=True)
    if pages_dir.exists():
        pages_dir.rename(old)
    try:
        staging.rename(pages_dir)
    except BaseException:
        if old.exists():
            old.rename(pages_dir)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _compare(old_dir: Path, new_dir: Path) -> Result:
    result = Result()
    old = {p.name: p.read_bytes() for p in old_dir.glob("*.md")} if old_dir.is_dir() else {}
    new = {p.name: p.read_bytes() for p in new_dir.glob("*.md")}
    for name in sorted(old.keys() | new.keys()):
        if name not in old:
            result.added.append(name)
        elif name not in new:
            result.removed.append(name)
        elif old[name] != new[name]:
            result.changed.append(name)
        else:
            result.unchanged.append(name)
    return result


def pull(config: Config, pages_dir: Path, fetcher: Fetcher) -> Result:
    """Download, check and install the selected pages; raise PullError, touching nothing."""
    pages_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{pages_dir.name}.pull-", dir=pages_dir.parent))
    try:
        manifest = download(config, fetcher, staging)
        _check(staging, manifest)
        text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
        (staging / MANIFEST).write_text(text, encoding="utf-8")
        for page in staging.iterdir():
            page.chmod(0o644)
        staging.chmod(0o755)
        result = _compare(pages_dir, staging)
        _swap(staging, pages_dir)
        return result
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def portal_of(config: Config, override: str | None) -> Config:
    portal = override or os.environ.get(PORTAL_ENV) or config.portal
    if urlsplit(portal).scheme not in ("http", "https") or not urlsplit(portal).netloc:
        raise PullError(f"portal {portal!r} is not an http(s) URL")
    return Config(portal, config.index, config.include, config.exclude, config.pages)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pull", description=__doc__.splitlines()[0])
    parser.add_argument("--portal", help=f"the docs portal (default: ${PORTAL_ENV}, pages.toml)")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--pages", type=Path, default=vendor.DEFAULT_PAGES)
    parser.add_argument(
        "--no-vendor", action="store_true", help="only pull; by default the vendoring follows"
    )
    # Everything else (--out, --format, --fail-on, --client) is the vendoring's.
    args, rest = parser.parse_known_args(argv)
    try:
        config = portal_of(load_config(args.config), args.portal)
        with httpx.Client(timeout=TIMEOUT, follow_redirects=True) as client:
            result = pull(config, args.pages, Fetcher(client, backoff=BACKOFF))
    except (PullError, OSError) as exc:
        print(f"pull: error: {exc}", file=sys.stderr)
        print("pull: the committed pages are unchanged", file=sys.stderr)
        return 1
    print(result.summary(), file=sys.stderr)  # stdout is the changelog
    if args.no_vendor:
        return 0
    return vendor.main(["--pages", str(args.pages), *rest])


if __name__ == "__main__":
    raise SystemExit(main())
