"""The HTML report, read the way a person reads it: rendered by headless Chromium.

A real failing run (one server breaking a docs rule, one correct server) writes
``reports/contract/index.html``; Chromium renders it, and the test reads the text
on the page: verdicts, the matrix, the failure with its check and curl line, the
settings; no secret. A screenshot of the page is kept under ``reports/``.
"""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.contract.correct_servers import CORRECT_SERVERS, RULE_BREAKERS, run_suite

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACT = ROOT / "reports" / "contract-report-failing.png"

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium (Debian package chromium; make test installs it)"
)


def chromium(*args: str, tmp_path: Path) -> str:
    assert CHROMIUM is not None
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium'}",
    ]
    proc = subprocess.run(
        [CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


class _Text(HTMLParser):
    """The text a reader sees, in order, one line per block."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in ("style", "script"):
            self._skip += 1
        if tag in ("p", "h1", "h2", "h3", "h4", "tr", "pre", "dt", "dd", "div"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def page_text(dom: str) -> str:
    reader = _Text()
    reader.feed(dom)
    return " ".join("".join(reader.parts).split(" "))


@pytest.fixture(scope="module")
def failing_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """A run against a Nova Post server with wrong success flags and a correct Shipyo one."""
    home = tmp_path_factory.mktemp("report")
    breaker = next(s for s, rule in RULE_BREAKERS if s.name == "novapost-error-success-true")
    shipyo = next(s for s in CORRECT_SERVERS if s.name == "shipyo-stdlib")
    proc = run_suite([breaker, shipyo], home, MAX_EXAMPLES="10", SEED="3")
    assert proc.returncode == 1, proc.stdout[-3000:]
    keys = [breaker.last_key, shipyo.last_key]
    return home, proc.stdout, "\n".join(k for k in keys if k)


def test_the_run_prints_the_report_path_last(failing_run: tuple[Path, str, str]) -> None:
    home, out, _ = failing_run
    assert out.rstrip().splitlines()[-1] == "HTML report: reports/contract/index.html"
    assert (home / "reports" / "contract" / "index.html").is_file()


def test_a_person_reading_the_page_sees_the_verdicts_the_matrix_and_the_failure(
    failing_run: tuple[Path, str, str], tmp_path: Path
) -> None:
    home, _, keys = failing_run
    page = home / "reports" / "contract" / "index.html"
    text = page_text(chromium("--dump-dom", page.as_uri(), tmp_path=tmp_path))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert lines[0] == "Contract run: FAILED"
    assert "Nova Post FAILED" in lines and "Shipyo passed" in lines
    # The matrix: one row per operation, a cell per documented status.
    row = next(line for line in lines if line.startswith("POST /test-api-keys"))
    assert "✘ seen, failed" in row and "✔ seen, valid" in row and "- not seen" in row
    # The failure: the rule named, the response, and a curl line to reproduce it.
    assert any("novapost_error_is_not_success" in line for line in lines)
    assert "Reproduce with:" in lines
    assert any(line.startswith("curl -X POST") for line in lines)
    assert any('"success": true' in line for line in lines)
    # The run's settings, and the seed given.
    assert "seed" in lines and lines[lines.index("seed") + 1] == "3"
    assert any(line.endswith(", seed 3") for line in lines if line.startswith("Target: url"))
    # No key of the run on the page.
    for key in keys.split():
        assert key not in text


def test_a_screenshot_of_the_failing_page_is_kept(
    failing_run: tuple[Path, str, str], tmp_path: Path
) -> None:
    home, _, _ = failing_run
    page = home / "reports" / "contract" / "index.html"
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    chromium(
        f"--screenshot={ARTIFACT}", "--window-size=1200,1600", page.as_uri(), tmp_path=tmp_path
    )
    data = ARTIFACT.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000  # a page, not a blank
