"""Schemathesis, every phase and every check, against each mock in-process.

Only the spec's operations are generated, so the ``/__mock__`` routes (not in the
specs) are never called; the run asserts that too.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from carrier_mocks.novapost import create_app as novapost_app
from carrier_mocks.shipyo import create_app as shipyo_app
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import StopReason, events, from_schema
from starlette.applications import Starlette

from .spec import SPECS
from .support import SHIPYO_KEY

CHECKS = {
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "positive_data_acceptance",
    "negative_data_rejection",
    "use_after_free",
    "ensure_resource_availability",
    "missing_required_header",
    "ignored_auth",
    "unsupported_method",
}


@dataclass
class Run:
    phases: dict[str, str] = field(default_factory=dict)
    checks: set[str] = field(default_factory=set)
    statuses: collections.Counter[int] = field(default_factory=collections.Counter)
    problems: list[str] = field(default_factory=list)
    stop_reason: StopReason | None = None


def run(api: str, app: Starlette, settings: dict[str, Any] | None = None) -> Run:
    config = SchemathesisConfig.from_dict(
        {
            "seed": 20251114,
            "generation": {"max-examples": 60},
            "cache": {"enabled": False},
            **(settings or {}),
        }
    )
    schema = schemathesis.openapi.from_path(SPECS[api][0], config=config)
    schema.app = app
    result = Run()
    for event in from_schema(schema).execute():
        recorder = getattr(event, "recorder", None)
        if recorder is not None:
            for interaction in recorder.interactions.values():
                if interaction.response is not None:
                    result.statuses[interaction.response.status_code] += 1
            for nodes in recorder.checks.values():
                for node in nodes:
                    result.checks.add(node.name)
                    if node.failure_info is not None:
                        result.problems.append(f"{node.name}: {node.failure_info.failure}")
        if isinstance(event, events.PhaseFinished):
            # by the member's name: its value changed within 4.x ('Examples', 'examples')
            result.phases[event.phase.name.name.lower()] = event.status.value
        elif isinstance(event, events.NonFatalError):
            result.problems.append(f"error: {event.value}")
        elif isinstance(event, events.FatalError):
            result.problems.append(f"fatal: {event.exception!r}")
        elif isinstance(event, events.EngineFinished):
            result.stop_reason = event.stop_reason
            result.problems.extend(f"failure: {failure}" for failure in event.failures)
    return result


def mock_stats(app: Starlette) -> dict[str, int]:
    counts: dict[str, int] = app.state.runtime.stats.snapshot()
    return counts


def test_novapost_mock_passes_every_check() -> None:
    app = novapost_app()
    result = run("novapost", app)
    assert result.problems == []
    assert result.stop_reason is StopReason.COMPLETED
    for phase in ("examples", "coverage", "fuzzing", "stateful_testing"):
        assert result.phases[phase] == "success", result.phases
    assert CHECKS <= result.checks
    assert {200, 400, 401, 404, 405, 422} <= set(result.statuses)
    stats = mock_stats(app)
    assert stats["GET /__mock__/whoami"] == 0
    assert stats["POST /test-api-keys"] > 0 and stats["GET /clients/authorization"] > 0


def test_shipyo_mock_passes_every_check_with_a_key() -> None:
    app = shipyo_app()
    result = run("shipyo", app, {"headers": {"x-api-key": SHIPYO_KEY}})
    assert result.problems == []
    assert result.stop_reason is StopReason.COMPLETED
    for phase in ("coverage", "fuzzing"):
        assert result.phases[phase] == "success", result.phases
    assert CHECKS <= result.checks
    assert {200, 401, 403, 405} <= set(result.statuses)  # ignored_auth probes without the key
    assert mock_stats(app)["GET /__mock__/whoami"] == 0


def test_shipyo_mock_passes_every_check_without_a_key() -> None:
    result = run("shipyo", shipyo_app())
    assert result.problems == []
    assert result.stop_reason is StopReason.COMPLETED
    assert {401, 405} <= set(result.statuses)
