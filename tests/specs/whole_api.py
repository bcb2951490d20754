"""The Nova Post API as far as these tests know it: the published page plus the test pages."""

from __future__ import annotations

from pathlib import Path

from tools import vendor

ROOT = Path(__file__).resolve().parents[2]
REAL_PAGES = ROOT / "specs" / "novapost" / "pages"
TEST_PAGES = ROOT / "tests" / "specs" / "pages"


def vendor_whole_api(tmp: Path) -> Path:
    """The spec vendored from the real and the test pages, written to ``tmp/openapi.json``."""
    spec = tmp / "openapi.json"
    spec.write_text(vendor.build(REAL_PAGES, TEST_PAGES), "utf-8")
    return spec
