"""The Nova Post API as far as these tests know it: the published page plus the test pages."""

from __future__ import annotations

import shutil
from pathlib import Path

from tools import vendor

ROOT = Path(__file__).resolve().parents[2]
REAL_PAGES = ROOT / "specs" / "novapost" / "pages"
TEST_PAGES = ROOT / "tests" / "specs" / "pages"


def pages_dir(target: Path, *sources: Path) -> Path:
    """``target``, made, holding a copy of every page of ``sources``."""
    target.mkdir()
    for source in sources:
        for page in source.glob("*.md"):
            shutil.copyfile(page, target / page.name)
    return target


def vendor_whole_api(tmp: Path) -> Path:
    """The spec vendored from the real and the test pages, written to ``tmp/openapi.json``."""
    spec = tmp / "openapi.json"
    spec.write_text(vendor.build(pages_dir(tmp / "pages", REAL_PAGES, TEST_PAGES)), "utf-8")
    return spec
