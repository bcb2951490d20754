"""Run the contract suite: schemathesis against each API, then a per-operation summary.

``python -m contract_tests [--target mock|url|live] [--novapost-url URL] [--shipyo-url URL]``

Each API is tested by the schemathesis CLI in a subprocess with every check and the
phases examples, coverage, fuzzing and stateful; its own output (with a curl line
reproducing each failure) streams through, JUnit XML and a JSON report land in
``reports/contract/``, and a table per API closes the run. Exit status: 0 when every
tested API passed (skipped ones say why), 1 on any failure, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from carriers import KeyStore, NovaPost
from carriers.errors import CarrierError

from contract_tests import summary
from contract_tests.targets import ROOT, Target, TargetKind, UsageError, resolve

PHASES = "examples,coverage,fuzzing,stateful"
DEFAULT_MAX_EXAMPLES = 300
DEFAULT_REPORT_DIR = ROOT / "reports" / "contract"
LIVE_RATE_LIMIT = "2/s"


@dataclass
class Outcome:
    target: Target
    exit_code: int
    stats: dict[str, summary.OperationStats]

    @property
    def failed(self) -> bool:
        return self.exit_code != 0 or any(op.failures for op in self.stats.values())


@contextlib.contextmanager
def mock_servers(targets: list[Target]) -> Iterator[None]:
    """Start the built-in mock of every mock target on a free local port."""
    with contextlib.ExitStack() as stack:
        for target in targets:
            if target.kind == "mock":
                from carrier_mocks.server import serve

                server = stack.enter_context(serve(target.api.name))
                target.base_url = server.base_url
        yield


def schemathesis_command(
    target: Target,
    *,
    max_examples: int,
    report_dir: Path,
    seed: int | None,
    workers: int,
    events: Path,
    config: Path | None = None,
    exclude_operation_ids: Sequence[str] = (),
) -> list[str]:
    assert target.base_url is not None
    exe = Path(sys.executable).parent / "schemathesis"
    name = target.api.name
    cmd = [
        str(exe),
        *(["--config-file", str(config)] if config else []),
        "run",
        str(target.api.spec),
        "--url",
        target.base_url,
        "--checks",
        "all",
        "--phases",
        # Stateful runs follow the link out of POST /test-api-keys: without that
        # operation there is no link left to follow.
        PHASES.replace(",stateful", "") if exclude_operation_ids else PHASES,
        "--max-examples",
        str(max_examples),
        "--workers",
        str(workers),
        "--report",
        "junit,json,ndjson",
        "--report-dir",
        str(report_dir),
        "--report-junit-path",
        str(report_dir / f"{name}-junit.xml"),
        "--report-json-path",
        str(report_dir / f"{name}.json"),
        "--report-ndjson-path",
        str(events),
        "--output-sanitize",
        "true",
    ]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    if target.kind == "live":
        cmd += ["--rate-limit", os.environ.get("CONTRACT_RATE_LIMIT", LIVE_RATE_LIMIT)]
    for op_id in exclude_operation_ids:
        cmd += ["--exclude-operation-id", op_id]
    return cmd


def sandbox_key(phone: str, base_url: str) -> str:
    """The sandbox API key for ``phone``: the wrapper's key store, else one creation.

    The key store (``CARRIERS_KEY_STORE`` or the user cache dir) keeps the key, so
    ``POST /test-api-keys`` is called at most once per key's life, not per run.
    """
    with NovaPost.sandbox(phone=phone, base_url=base_url):
        pass
    stored = KeyStore().get(phone, base_url)
    assert stored is not None, "NovaPost.sandbox() stores the key it uses"
    return stored.api_key


def run_target(
    target: Target,
    *,
    max_examples: int,
    report_dir: Path,
    seed: int | None,
    workers: int,
) -> Outcome:
    assert target.base_url is not None
    exclude: list[str] = []
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "SCHEMATHESIS_HOOKS": "contract_tests.hooks",
        "CONTRACT_BASE_URL": target.base_url,
        "CONTRACT_WRAPPER_AUTH": "1",
        **target.known_good,
    }
    if target.kind == "live" and target.api.name == "novapost":
        if os.environ.get("ALLOW_TEST_KEY_FUZZ") != "1":
            # One creation request per day: never fuzz it against a real sandbox.
            exclude.append("post_test_api_keys")
        if "CONTRACT_NOVAPOST_API_KEY" not in env:
            try:
                env["CONTRACT_NOVAPOST_API_KEY"] = sandbox_key(
                    target.known_good["CONTRACT_NOVAPOST_PHONE"], target.base_url
                )
            except CarrierError as exc:
                print(f"contract: error: {target.api.title}: no sandbox key: {exc}", flush=True)
                return Outcome(target, 1, {})
    # The event stream holds raw bodies (tokens among them): it stays in a private
    # scratch directory that is gone when the run is.
    with tempfile.TemporaryDirectory(prefix="contract-") as scratch:
        events = Path(scratch) / "events.ndjson"
        config = None
        if "CONTRACT_SHIPYO_API_KEY" in target.known_good:
            # OpenAPI-aware auth: schemathesis knows the key is the credential, so it
            # still probes missing and invalid keys; the value is read from the env.
            config = Path(scratch) / "schemathesis.toml"
            config.write_text(
                '[auth.openapi.ApiKeyHeader]\napi_key = "${CONTRACT_SHIPYO_API_KEY}"\n',
                encoding="utf-8",
            )
        cmd = schemathesis_command(
            target,
            max_examples=max_examples,
            report_dir=report_dir,
            seed=seed,
            workers=workers,
            events=events,
            config=config,
            exclude_operation_ids=exclude,
        )
        sys.stdout.flush()
        proc = subprocess.run(cmd, env=env, cwd=ROOT, check=False)
        documented = summary.documented_statuses(target.api.spec)
        lines = events.read_text(encoding="utf-8").splitlines() if events.exists() else []
        stats = summary.read_events(lines, documented)
    return Outcome(target, proc.returncode, stats)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="contract",
        description="Run the schemathesis contract suite against the mocks, "
        "given URLs or the live sandboxes.",
    )
    parser.add_argument(
        "--target",
        choices=["mock", "url", "live"],
        default=os.environ.get("TARGET") or "mock",
        help="mock (default): the built-in mocks; url: NOVAPOST_URL / SHIPYO_URL; "
        "live: the real sandboxes",
    )
    parser.add_argument(
        "--novapost-url", help="a running Nova Post server, e.g. http://127.0.0.1:8010/v.1.0"
    )
    parser.add_argument("--shipyo-url", help="a running Shipyo server, e.g. http://127.0.0.1:8020")
    parser.add_argument(
        "--max-examples",
        type=int,
        default=int(os.environ.get("MAX_EXAMPLES") or DEFAULT_MAX_EXAMPLES),
        help=f"cases per operation and phase (MAX_EXAMPLES, default {DEFAULT_MAX_EXAMPLES})",
    )
    parser.add_argument(
        "--seed", type=int, default=int(os.environ["SEED"]) if os.environ.get("SEED") else None
    )
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--report-dir", type=Path, default=DEFAULT_REPORT_DIR)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    kind: TargetKind = args.target
    try:
        targets = resolve(kind, urls={"novapost": args.novapost_url, "shipyo": args.shipyo_url})
    except UsageError as exc:
        print(f"contract: error: {exc}", file=sys.stderr)
        return 2
    args.report_dir.mkdir(parents=True, exist_ok=True)
    outcomes: list[Outcome] = []
    with mock_servers(targets):
        for target in targets:
            if target.skip_reason:
                continue
            print(
                f"\n=== {target.api.title}: {target.kind} target {target.base_url} ===", flush=True
            )
            outcomes.append(
                run_target(
                    target,
                    max_examples=args.max_examples,
                    report_dir=args.report_dir,
                    seed=args.seed,
                    workers=args.workers,
                )
            )
    print("\n=== Contract summary ===")
    for target in targets:
        if target.skip_reason:
            print(f"{target.api.title}: skipped: {target.skip_reason}")
    for outcome in outcomes:
        t = outcome.target
        documented = summary.documented_statuses(t.api.spec)
        verdict = "FAILED" if outcome.failed else "passed"
        title = f"{t.api.title} ({t.kind}, {t.base_url}): {verdict}"
        print("\n".join(summary.render(title, documented, outcome.stats)))
        print()
    reports = args.report_dir
    print(f"Reports: {reports.relative_to(ROOT) if reports.is_relative_to(ROOT) else reports}/")
    if not outcomes:
        print("contract: nothing was tested")
        return 0
    failed = [o.target.api.title for o in outcomes if o.failed]
    if failed:
        print(f"contract: FAILED: {', '.join(failed)}")
        return 1
    print("contract: passed")
    return 0
