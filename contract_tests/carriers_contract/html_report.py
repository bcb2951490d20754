"""``reports/contract/index.html``: one self-contained page a person reads after a run.

Per carrier: the target and its verdict, a matrix of operations by documented
statuses (seen and valid, seen with a failure, not seen; undocumented statuses
seen get a column too), then each failure with its check, the response excerpt
and a curl line that reproduces it. The run's settings and seed close the page.
Everything shown went through the run's secret scrubber first; no script, no
external resource.
"""

from __future__ import annotations

import datetime
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from carriers_contract.summary import Failure, OperationStats

__all__ = ["CarrierResult", "write"]

_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; color: #1d2330; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2.2rem; border-bottom: 2px solid #dde2ea; }
.verdict { display: inline-block; padding: .1rem .6rem; border-radius: .3rem; color: #fff; }
.passed { background: #1d7a3e; } .failed { background: #b42318; } .skipped { background: #6b7280; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #dde2ea; padding: .35rem .6rem; text-align: center; }
th.op, td.op { text-align: left; font-family: ui-monospace, monospace; }
td.ok { background: #d9f2e1; } td.bad { background: #fbd5d1; }
td.none { background: #f1f2f5; color: #6b7280; }
td.extra { background: #fff4cc; }
.legend span { margin-right: 1.2rem; }
.failure { border-left: 4px solid #b42318; padding: .2rem 1rem; margin: 1rem 0;
  background: #fdf3f2; }
pre { white-space: pre-wrap; word-break: break-all; background: #f6f7f9; padding: .6rem; }
dl.settings { display: grid; grid-template-columns: max-content auto; gap: .2rem 1rem; }
"""

_CELL = {
    "ok": ("ok", "✔ seen, valid"),
    "bad": ("bad", "✘ seen, failed"),
    "none": ("none", "- not seen"),
}


@dataclass
class CarrierResult:
    """What the page shows of one carrier."""

    title: str
    kind: str
    base_url: str | None
    verdict: str
    """passed, FAILED or skipped."""
    documented: Mapping[str, Sequence[str]]
    stats: Mapping[str, OperationStats]
    unreached: Sequence[str] = ()
    skip_reason: str | None = None
    seed: str | None = None


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _state(status: str, op: OperationStats) -> str:
    if status in op.failed_statuses:
        return "bad"
    return "ok" if status in op.statuses else "none"


def _matrix(result: CarrierResult) -> str:
    documented = {label: list(statuses) for label, statuses in result.documented.items()}
    labels = sorted(set(documented) | set(result.stats))
    columns = sorted({s for statuses in documented.values() for s in statuses})
    extra = sorted(
        {
            s
            for label in labels
            for s in result.stats.get(label, OperationStats()).statuses
            if s not in columns
        }
    )
    head = "".join(f"<th>{_e(c)}</th>" for c in columns)
    head += "".join(f'<th title="not documented">{_e(c)}*</th>' for c in extra)
    rows = []
    for label in labels:
        op = result.stats.get(label, OperationStats())
        cells = []
        for status in columns:
            if status not in documented.get(label, []):
                cells.append('<td class="none">n/a</td>')
                continue
            css, text = _CELL[_state(status, op)]
            cells.append(f'<td class="{css}" data-status="{_e(status)}">{text}</td>')
        for status in extra:
            if status in op.statuses:
                css = "bad" if status in op.failed_statuses else "extra"
                cells.append(f'<td class="{css}">seen</td>')
            else:
                cells.append('<td class="none"></td>')
        rows.append(
            f'<tr><td class="op">{_e(label)}</td><td>{op.cases}</td><td>{op.checks}</td>'
            f"<td>{op.failures}</td>{''.join(cells)}</tr>"
        )
    return (
        '<table class="matrix"><tr><th class="op">operation</th><th>cases</th><th>checks</th>'
        f"<th>failures</th>{head}</tr>{''.join(rows)}</table>"
    )


def _failures(failures: Sequence[Failure]) -> str:
    blocks = []
    for failure in failures:
        blocks.append(
            '<div class="failure">'
            f"<h4>{_e(failure.operation)}: <code>{_e(failure.check)}</code></h4>"
            f"<p><strong>{_e(failure.title)}</strong></p>"
            f"<p>{_e(failure.message)}</p>"
            f"<p>Response: HTTP {_e(failure.status)}</p><pre>{_e(failure.excerpt)}</pre>"
            f"<p>Reproduce with:</p><pre>{_e(failure.curl)}</pre>"
            "</div>"
        )
    return "".join(blocks)


def _section(result: CarrierResult) -> str:
    css = {"passed": "passed", "FAILED": "failed"}.get(result.verdict, "skipped")
    title = f'<h2>{_e(result.title)} <span class="verdict {css}">{_e(result.verdict)}</span></h2>'
    if result.skip_reason:
        return title + f"<p>Skipped: {_e(result.skip_reason)}</p>"
    seed = f", seed <code>{_e(result.seed)}</code>" if result.seed else ""
    parts = [
        title,
        f"<p>Target: {_e(result.kind)}, <code>{_e(result.base_url)}</code>{seed}</p>",
    ]
    parts.append(_matrix(result))
    if result.unreached:
        parts.append("<p>Documented but never reached: " + _e(", ".join(result.unreached)) + "</p>")
    failures = [d for op in result.stats.values() for d in op.details]
    if failures:
        parts.append(f"<h3>Failures ({len(failures)} shown)</h3>" + _failures(failures))
    return "".join(parts)


def render(results: Sequence[CarrierResult], settings: Mapping[str, object]) -> str:
    """The page as text."""
    failed = any(r.verdict == "FAILED" for r in results)
    legend = "".join(f'<span class="{css}">{text}</span>' for css, text in _CELL.values())
    settings_rows = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in settings.items())
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<title>Contract run: " + ("FAILED" if failed else "passed") + "</title>"
        f"<style>{_STYLE}</style></head><body>"
        f"<h1>Contract run: {'FAILED' if failed else 'passed'}</h1>"
        f'<p class="legend">{legend}<span>* a status the spec does not document</span></p>'
        + "".join(_section(r) for r in results)
        + f'<h2>Run</h2><dl class="settings">{settings_rows}</dl></body></html>'
    )


def write(
    report_dir: Path, results: Sequence[CarrierResult], settings: Mapping[str, object]
) -> Path:
    """Write ``index.html`` into ``report_dir``; its path."""
    settings = {
        **settings,
        "finished": datetime.datetime.now(datetime.UTC).isoformat(" ", "seconds"),
    }
    path = report_dir / "index.html"
    path.write_text(render(results, settings), encoding="utf-8")
    return path
