"""Run the contract suite: schemathesis against each carrier, then a per-operation summary.

``carriers contract [--target mock|url|live] [--<carrier>-url URL] [--report-dir DIR]``
(parsed by ``carriers_contract.cli``, which checks the extra before importing this).

Each carrier of the registry is tested by the schemathesis CLI in a subprocess
with every check and the phases examples, coverage, fuzzing and stateful, on the
spec its client was generated from (shipped in the client package). Its output
(with a curl line reproducing each failure) streams through; JUnit XML and a JSON
report land in ``reports/contract/`` under the current directory (or
``--report-dir``), and schemathesis' caches under the current directory too. A
table per carrier closes the run. Exit status: 0 when every tested carrier passed
(skipped ones say why), 1 on any failure, 2 on a usage error or a missing
``carriers[contract]`` extra.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from carriers import registry
from carriers.errors import CarrierError
from carriers.keystore import KeyStore
from carriers.redaction import redact, register_secret

from carriers_contract import html_report, summary
from carriers_contract.targets import Target, TargetKind, UsageError, example, resolve

PHASES = "examples,coverage,fuzzing,stateful"
LIVE_RATE_LIMIT = "2/s"
HOOKS_MODULE = "carriers_contract.hooks"

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


@dataclass
class Outcome:
    target: Target
    exit_code: int
    stats: dict[str, summary.OperationStats]
    documented: dict[str, list[str]]
    seed: str | None = None

    @property
    def unreached(self) -> list[str]:
        """Documented (operation, status) pairs no case reached, as "METHOD /path STATUS"."""
        return [
            f"{label} {status}"
            for label, statuses in sorted(self.documented.items())
            for status in statuses
            if status not in self.stats.get(label, summary.OperationStats()).statuses
        ]

    @property
    def failed(self) -> bool:
        """Any failed check; against the built-in mock, also any documented status unreached:
        the mock can produce every one, so a gap there is a gap in the suite."""
        if self.exit_code != 0 or any(op.failures for op in self.stats.values()):
            return True
        return self.target.kind == "mock" and bool(self.unreached)


@contextlib.contextmanager
def mock_servers(targets: list[Target]) -> Iterator[None]:
    """Start the built-in mock of every mock target on a free local port."""
    with contextlib.ExitStack() as stack:
        for target in targets:
            if target.kind == "mock":
                from carrier_mocks.server import serve

                server = stack.enter_context(serve(target.carrier.name))
                target.base_url = server.base_url
        yield


def schemathesis_command(
    target: Target,
    spec: Path,
    *,
    max_examples: int,
    report_dir: Path,
    seed: int | None,
    workers: int,
    events: Path,
    exclude_operation_ids: Sequence[str] = (),
    config: Path | None = None,
) -> list[str]:
    assert target.base_url is not None
    exe = Path(sys.executable).parent / "schemathesis"
    name = target.carrier.name
    cmd = [
        str(exe),
        *(["--config-file", str(config)] if config else []),
        "run",
        str(spec),
        "--url",
        target.base_url,
        "--checks",
        "all",
        "--phases",
        # Stateful runs follow links such as POST /test-api-keys -> apiKey: without
        # the excluded operations there may be none left to follow.
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


def _documented_outages(
    target: Target, documented: dict[str, list[str]], scratch: Path
) -> Path | None:
    """A schemathesis config accepting each operation's documented 5xx, for the mock only.

    The mock answers a documented 5xx when an example asks for it (``Prefer:
    code=503``), so its body is checked against the spec; there it is the answer
    asked for, not a server error. Other servers' 5xx stay failures. (The config has
    no [auth] section: one would unregister the hooks' auth providers.)
    """
    if target.kind != "mock":
        return None
    blocks = []
    for label, statuses in sorted(documented.items()):
        outages = [status for status in statuses if status.startswith("5")]
        if outages:
            expected = json.dumps(["2xx", "3xx", "4xx", *outages])
            blocks.append(
                f"[[operations]]\ninclude-name = {json.dumps(label)}\n"
                f"checks.not_a_server_error.expected-statuses = {expected}\n"
            )
    if not blocks:
        return None
    config = scratch / "schemathesis.toml"
    config.write_text("\n".join(blocks), encoding="utf-8")
    return config


def status_examples(text: str, name: str, documented: dict[str, list[str]]) -> list[dict[str, Any]]:
    """For the mock: a valid request per operation, and one per other documented status.

    The plain request must get a 2xx; the others carry ``Prefer: code=<status>``,
    which the mock answers with that documented response (hand-written routes with
    their 5xx), so every response the spec documents is reached and checked.
    """
    from carrier_mocks.openapi.examples import valid_requests

    requests = valid_requests(summary.load_spec(text, name))
    examples: list[dict[str, Any]] = []
    for label, statuses in sorted(documented.items()):
        request = requests.get(label)
        if request is None:
            continue
        examples.append({"operation": label, "case": request})
        for status in statuses:
            if status.isdigit() and not status.startswith("2"):
                headers = {**request.get("headers", {}), "Prefer": f"code={status}"}
                examples.append({"operation": label, "case": {**request, "headers": headers}})
    return examples


def sandbox_key(target: Target) -> str:
    """The sandbox API key for the target's phone: the wrapper's key store, else one creation.

    The key store (``CARRIERS_KEY_STORE`` or the user cache dir) keeps the key, so
    the creation route (once a day) is called at most once per key's life, not per run.
    """
    assert target.sandbox_phone is not None and target.base_url is not None
    facade = target.carrier.facade_class()
    with facade.sandbox(
        phone=target.sandbox_phone, base_url=target.base_url, strict_responses=True
    ):
        pass
    stored = KeyStore().get(target.sandbox_phone, target.base_url)
    assert stored is not None, "sandbox() stores the key it uses"
    key: str = stored.api_key
    return key


def _use_key(target: Target, key: str) -> None:
    """Make ``key`` the target's credential, and the example of inputs that take it."""
    target.api_key = key
    for item in target.carrier.known_inputs:
        if item.env == target.carrier.api_key_env:
            target.examples.append(example(item, key))


def _linked(spec: Path, carrier: str, scratch: Path) -> Path:
    """The spec with the links the resource model infers, for the stateful phase."""
    from carriers_contract.resources import with_links

    linked, added = with_links(summary.load_spec(spec.read_text("utf-8"), spec.name), carrier)
    if not added:
        return spec
    path = scratch / "openapi-linked.json"
    path.write_text(json.dumps(linked), encoding="utf-8")
    return path


def run_target(
    target: Target,
    *,
    max_examples: int,
    report_dir: Path,
    seed: int | None,
    workers: int,
) -> Outcome:
    assert target.base_url is not None
    info = target.carrier
    exclude: list[str] = []
    if target.kind == "live" and os.environ.get("ALLOW_TEST_KEY_FUZZ") != "1":
        # Daily-limited routes are never fuzzed against a real server.
        exclude.extend(info.live_exclude)
    if target.sandbox_phone is not None and target.api_key is None:
        try:
            _use_key(target, sandbox_key(target))
        except CarrierError as exc:
            print(f"contract: error: {info.title}: no sandbox key: {exc}", flush=True)
            return Outcome(target, EXIT_FAILED, {}, {})
    documented = summary.documented_statuses(info.spec_text(), info.spec)
    examples = list(target.examples)
    if target.kind == "mock":
        examples += status_examples(info.spec_text(), info.spec, documented)
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": HOOKS_MODULE,
        "CONTRACT_CARRIER": info.name,
        "CONTRACT_BASE_URL": target.base_url,
        "CONTRACT_EXAMPLES": json.dumps(examples),
    }
    if target.api_key:
        env["CONTRACT_API_KEY"] = target.api_key
    # The event stream holds raw bodies (tokens among them): it stays in a private
    # scratch directory that is gone when the run is.
    with tempfile.TemporaryDirectory(prefix="contract-") as scratch, info.spec_path() as shipped:
        events = Path(scratch) / "events.ndjson"
        spec = _linked(shipped, info.name, Path(scratch))
        env["CONTRACT_SPEC"] = str(spec)
        # Credentials come from the hooks' auth providers only (wrapper_auth): an
        # [auth] section in a schemathesis config would unregister them.
        cmd = schemathesis_command(
            target,
            spec,
            max_examples=max_examples,
            report_dir=report_dir,
            seed=seed,
            workers=workers,
            events=events,
            exclude_operation_ids=exclude,
            config=_documented_outages(target, documented, Path(scratch)),
        )
        sys.stdout.flush()
        proc = subprocess.run(cmd, env=env, check=False)
        lines = events.read_text(encoding="utf-8").splitlines() if events.exists() else []
        stats = summary.read_events(lines, documented, _scrubber(target))
    return Outcome(target, proc.returncode, stats, documented, _seed(lines))


_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


def _scrubber(target: Target) -> Callable[[str], str]:
    """What the report may show of a request or response: no key, no JWT."""
    if target.api_key:
        register_secret(target.api_key)
    return lambda text: _JWT.sub("[JWT]", redact(text))


def _seed(lines: Sequence[str]) -> str | None:
    """The seed schemathesis used (it draws one when none is given)."""
    for line in lines:
        if line.startswith('{"Initialize"'):
            seed = json.loads(line)["Initialize"].get("seed")
            return None if seed is None else str(seed)
    return None


def _shown(path: Path) -> str:
    """``path`` as the user can open it: relative to the current directory when inside it."""
    path = path.resolve()
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def run_all(args: argparse.Namespace, *, prog: str) -> int:
    """Test every carrier as ``args`` (from ``carriers_contract.cli``) asks; the exit status."""
    kind: TargetKind = args.target
    urls = {info.name: getattr(args, f"url_{info.name}") for info in registry.all_carriers()}
    try:
        targets = resolve(kind, urls=urls)
    except UsageError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    report_dir: Path = args.report_dir.resolve()
    report_dir.mkdir(parents=True, exist_ok=True)
    outcomes: list[Outcome] = []
    with mock_servers(targets):
        for target in targets:
            if target.skip_reason:
                continue
            title = target.carrier.title
            print(f"\n=== {title}: {target.kind} target {target.base_url} ===", flush=True)
            outcomes.append(
                run_target(
                    target,
                    max_examples=args.max_examples,
                    report_dir=report_dir,
                    seed=args.seed,
                    workers=args.workers,
                )
            )
    print("\n=== Contract summary ===")
    for target in targets:
        if target.skip_reason:
            print(f"{target.carrier.title}: skipped: {target.skip_reason}")
    for outcome in outcomes:
        t = outcome.target
        verdict = "FAILED" if outcome.failed else "passed"
        title = f"{t.carrier.title} ({t.kind}, {t.base_url}): {verdict}"
        print("\n".join(summary.render(title, outcome.documented, outcome.stats)))
        if t.kind == "mock" and outcome.unreached:
            print(f"documented but never reached: {', '.join(outcome.unreached)}")
        print()
    print(f"Reports: {_shown(report_dir)}{os.sep}")
    page = _html(report_dir, targets, outcomes, args)
    failed = [o.target.carrier.title for o in outcomes if o.failed]
    if not outcomes:
        print("contract: nothing was tested")
    elif failed:
        print(f"contract: FAILED: {', '.join(failed)}")
    else:
        print("contract: passed")
    print(f"HTML report: {_shown(page)}")
    return EXIT_FAILED if failed else EXIT_OK


def _html(
    report_dir: Path, targets: list[Target], outcomes: list[Outcome], args: argparse.Namespace
) -> Path:
    by_carrier = {o.target.carrier.name: o for o in outcomes}
    results = []
    for target in targets:
        outcome = by_carrier.get(target.carrier.name)
        if outcome is None:
            results.append(
                html_report.CarrierResult(
                    target.carrier.title,
                    target.kind,
                    target.base_url,
                    "skipped",
                    {},
                    {},
                    skip_reason=target.skip_reason,
                )
            )
            continue
        results.append(
            html_report.CarrierResult(
                target.carrier.title,
                target.kind,
                target.base_url,
                "FAILED" if outcome.failed else "passed",
                outcome.documented,
                outcome.stats,
                outcome.unreached if target.kind == "mock" else (),
                seed=outcome.seed,
            )
        )
    settings = {
        "target": args.target,
        "phases": PHASES,
        "checks": "all, plus the docs' rules (carriers_contract.rules)",
        "max examples": args.max_examples,
        "seed": args.seed if args.seed is not None else "drawn per carrier (shown above)",
        "workers": args.workers,
    }
    return html_report.write(report_dir, results, settings)
