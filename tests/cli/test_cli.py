"""The ``carriers`` command line as a real process against running mock servers.

Every command runs as ``python -m carriers`` (and once as the installed
``carriers`` script) with the API keys in the environment and the key store in a
temporary directory. Each error path is one line on stderr with the documented
exit status, and no stderr ever carries an API key or a JWT. ``mock`` and
``contract`` hand their arguments to the mock servers' and the contract suite's own
command lines, which are imported only when those commands run.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import queue
import re
import shlex
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import carriers.cli.progress as progress_module
import httpx
import pytest
from carrier_mocks.server import MockServer
from carriers import __version__
from carriers.cli import main
from carriers.cli.common import duration
from carriers.cli.jwt_inspect import decode_jwt
from carriers.cli.progress import progress
from carriers.redaction import REDACTED, hide_secrets

from ..hostile.secret_servers import TokenHandler, fixed_handler
from ..hostile.serving import serve

NP_KEY = "np_test_4f1c2b9e8a7d6c5b"
NP_PHONE = "498213437654"
SH_KEY = "ak_1234567890abcdef"
CREATE = "POST /test-api-keys"
MINT_NP = "GET /clients/authorization"
COMMAND = [sys.executable, "-m", "carriers"]
SCRIPT = Path(sys.executable).parent / "carriers"
JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
GUARD_SECONDS = 60  # only bounds a broken run; nothing asserts on time
TENANT_KEY = "ak_tenanta000000000"  # belongs to tenant-a in the default fixtures
SECRETS = (NP_KEY, SH_KEY, TENANT_KEY, "np_test_wrong0000000000", "ak_wrong000000000000")
HEAVY = ("carrier_mocks", "carriers_contract", "starlette", "uvicorn", "schemathesis", "httpx")
BLOCKING_RUN = """
import sys
from importlib.abc import MetaPathFinder

blocked = set(sys.argv[1].split(","))


class Block(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in blocked:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, Block())
from carriers.cli import main

sys.exit(main(sys.argv[2:]))
"""
"""``python -c BLOCKING_RUN MODULES ARGS...``: ``carriers ARGS`` as if MODULES were not installed."""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A clean environment: no keys from the caller, the key store in tmp_path."""
    clean = {
        name: value
        for name, value in os.environ.items()
        if name not in ("NOVAPOST_API_KEY", "SHIPYO_API_KEY", "CARRIERS_KEY_STORE")
    }
    clean["CARRIERS_KEY_STORE"] = str(tmp_path / "store" / "keys.json")
    return clean


def keyed(env: dict[str, str], **keys: str) -> dict[str, str]:
    return {**env, **keys}


def carriers(
    *args: str, env: dict[str, str], stdin: str = "", timeout: float = GUARD_SECONDS
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMMAND, *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text
    assert not JWT.search(text), text


def assert_error(result: subprocess.CompletedProcess[str], code: int) -> str:
    """One line on stderr, nothing on stdout, the exit status, no secret; the line."""
    assert result.returncode == code, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("carriers: error: ")
    assert "Traceback" not in result.stderr
    assert_no_secret(result.stderr)
    return lines[0]


def one_jwt(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    assert JWT.fullmatch(result.stdout.removesuffix("\n")), result.stdout
    assert result.stdout.count("\n") == 1
    assert_no_secret(result.stderr)
    return result.stdout.strip()


def whoami_np(server: MockServer, token: str) -> int:
    return httpx.get(
        server.origin + "/__mock__/whoami", headers={"Authorization": token}
    ).status_code


def whoami_sh(server: MockServer, token: str) -> int:
    headers = {"x-api-key": SH_KEY, "Authorization": f"Bearer {token}"}
    return httpx.get(server.origin + "/__mock__/whoami", headers=headers).status_code


def fake_jwt(claims: dict[str, object]) -> str:
    def part(value: dict[str, object]) -> str:
        raw = json.dumps(value).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJlLXNlY3JldA"


# --- token ---------------------------------------------------------------------------------


def test_token_novapost_prints_only_a_working_jwt(
    novapost_mock: MockServer, env: dict[str, str]
) -> None:
    result = carriers(
        "token",
        "novapost",
        "--base-url",
        novapost_mock.base_url,
        env=keyed(env, NOVAPOST_API_KEY=NP_KEY),
    )
    token = one_jwt(result)
    assert result.stderr == ""
    assert whoami_np(novapost_mock, token) == 200


def test_token_shipyo_prints_only_a_working_jwt(
    shipyo_mock: MockServer, env: dict[str, str]
) -> None:
    result = carriers(
        "token", "shipyo", "--base-url", shipyo_mock.base_url, env=keyed(env, SHIPYO_API_KEY=SH_KEY)
    )
    token = one_jwt(result)
    assert result.stderr == ""
    assert whoami_sh(shipyo_mock, token) == 200


def test_token_key_from_a_file_or_stdin(
    shipyo_mock: MockServer, env: dict[str, str], tmp_path: Path
) -> None:
    key_file = tmp_path / "shipyo-key"
    key_file.write_text(SH_KEY + "\n")
    base = ["token", "shipyo", "--base-url", shipyo_mock.base_url]
    one_jwt(carriers(*base, "--api-key-file", str(key_file), env=env))
    one_jwt(carriers(*base, "--api-key-file", "-", env=env, stdin=SH_KEY + "\n"))
    missing = assert_error(carriers(*base, "--api-key-file", str(tmp_path / "nope"), env=env), 2)
    assert "cannot read the API key file" in missing


def test_export_with_the_installed_script(novapost_mock: MockServer, env: dict[str, str]) -> None:
    program = shlex.join([str(SCRIPT)] if SCRIPT.exists() else COMMAND)
    script = (
        f"set -e; export TOKEN=$({program} token novapost --base-url {novapost_mock.base_url}); "
        'printf "%s" "$TOKEN"'
    )
    result = subprocess.run(
        ["sh", "-c", script],
        env=keyed(env, NOVAPOST_API_KEY=NP_KEY),
        capture_output=True,
        text=True,
        timeout=GUARD_SECONDS,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert JWT.fullmatch(result.stdout)
    assert whoami_np(novapost_mock, result.stdout) == 200


def test_slow_mint_shows_progress_on_stderr_only(
    novapost_mock: MockServer, env: dict[str, str]
) -> None:
    base = ["token", "novapost", "--base-url", novapost_mock.base_url]
    novapost_mock.fault(MINT_NP, delay=1.5)
    result = carriers(*base, env=keyed(env, NOVAPOST_API_KEY=NP_KEY))
    one_jwt(result)
    assert result.stderr == "carriers: minting a Nova Post token...\n"
    novapost_mock.fault(MINT_NP, delay=1.5)
    quiet = carriers(*base, "--quiet", env=keyed(env, NOVAPOST_API_KEY=NP_KEY))
    one_jwt(quiet)
    assert quiet.stderr == ""


def test_token_passes_the_tenant_to_a_carrier_that_has_tenants(
    shipyo_mock: MockServer, env: dict[str, str]
) -> None:
    base = ["token", "shipyo", "--base-url", shipyo_mock.base_url]
    tenant_env = keyed(env, SHIPYO_API_KEY=TENANT_KEY)
    one_jwt(carriers(*base, "--tenant-id", "tenant-a", env=tenant_env))
    assert "403" in assert_error(carriers(*base, "--tenant-id", "tenant-b", env=tenant_env), 1)


# --- inspect -------------------------------------------------------------------------------


def test_inspect_shows_claims_and_time_left_but_not_the_signature(
    shipyo_mock: MockServer, env: dict[str, str]
) -> None:
    token = one_jwt(
        carriers(
            "token",
            "shipyo",
            "--base-url",
            shipyo_mock.base_url,
            env=keyed(env, SHIPYO_API_KEY=SH_KEY),
        )
    )
    signature = token.rsplit(".", 1)[1]
    result = carriers("inspect", env=env, stdin=token + "\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "alg:        HS256" in out
    assert re.search(r"^  iss +shipyo$", out, re.M)
    assert re.search(r"^  exp +\d+  \(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)$", out, re.M)
    assert re.search(r"^time left:  (59m \d+s|1h 0m)$", out, re.M)
    assert "not verified" in out
    assert signature not in out
    assert token not in out
    as_json = json.loads(carriers("inspect", "--json", env=env, stdin=f"Bearer {token}").stdout)
    assert as_json["header"]["alg"] == "HS256"
    assert as_json["claims"]["iss"] == "shipyo"
    assert 3500 < as_json["seconds_left"] <= 3600
    assert as_json["verified"] is False


def test_inspect_expired_token_and_secret_claims(env: dict[str, str]) -> None:
    token = fake_jwt(
        {"exp": int(time.time()) - 125, "apiKey": NP_KEY, "sub": "me", "ctx": {"api_key": SH_KEY}}
    )
    result = carriers("inspect", env=env, stdin=token)
    assert result.returncode == 0, result.stderr
    assert re.search(r"^time left:  none, expired 2m \d+s ago$", result.stdout, re.M)
    assert "[REDACTED]" in result.stdout
    assert NP_KEY not in result.stdout
    assert SH_KEY not in result.stdout
    assert "c2lnbmF0dXJlLXNlY3JldA" not in result.stdout
    as_json = carriers("inspect", "--json", env=env, stdin=token).stdout
    assert json.loads(as_json)["claims"]["ctx"] == {"api_key": "[REDACTED]"}
    assert NP_KEY not in as_json
    no_exp = carriers("inspect", env=env, stdin=fake_jwt({"sub": "me"}))
    assert "expires:    unknown" in no_exp.stdout


@pytest.mark.parametrize("text", ["", "not-a-jwt", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.WzFd.x"])
def test_inspect_refuses_what_is_not_a_jwt(env: dict[str, str], text: str) -> None:
    assert "JWT" in assert_error(carriers("inspect", env=env, stdin=text), 2)


# --- sandbox-key ---------------------------------------------------------------------------


def test_sandbox_key_created_then_reused(
    novapost_mock: MockServer, env: dict[str, str], tmp_path: Path
) -> None:
    base = ["sandbox-key", "--phone", NP_PHONE, "--base-url", novapost_mock.base_url]
    first = carriers(*base, env=env)
    assert first.returncode == 0, first.stderr
    assert "status:     created" in first.stdout
    assert re.search(r"^expires:    \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(in \d+d", first.stdout, re.M)
    store = tmp_path / "store" / "keys.json"
    assert f"stored in:  {store}" in first.stdout
    assert NP_KEY not in first.stdout + first.stderr
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    assert novapost_mock.stats()[CREATE] == 1

    second = carriers(*base, "--show", env=env)
    assert second.returncode == 0, second.stderr
    assert "status:     reused" in second.stdout
    assert second.stdout.splitlines()[-1] == f"key:        {NP_KEY}"
    assert_no_secret(second.stderr)
    assert novapost_mock.stats()[CREATE] == 1  # no second POST

    # token --phone takes the stored key: still one POST, and a working JWT
    token = one_jwt(
        carriers(
            "token", "novapost", "--phone", NP_PHONE, "--base-url", novapost_mock.base_url, env=env
        )
    )
    assert whoami_np(novapost_mock, token) == 200
    assert novapost_mock.stats()[CREATE] == 1


def test_sandbox_key_store_path_option(
    novapost_mock: MockServer, env: dict[str, str], tmp_path: Path
) -> None:
    store = tmp_path / "elsewhere.json"
    result = carriers(
        "sandbox-key",
        "--phone",
        "491000000001",
        "--base-url",
        novapost_mock.base_url,
        "--key-store",
        str(store),
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert f"stored in:  {store}" in result.stdout
    assert store.exists()
    assert not (tmp_path / "store" / "keys.json").exists()


# --- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize("api", ["novapost", "shipyo"])
def test_missing_key_is_a_usage_error(env: dict[str, str], api: str) -> None:
    line = assert_error(carriers("token", api, "--base-url", "http://127.0.0.1:1", env=env), 2)
    assert ("NOVAPOST_API_KEY" if api == "novapost" else "SHIPYO_API_KEY") in line


@pytest.mark.parametrize("phone", ["+498213437654", "4982134376", "380501234567", "49821343765x"])
def test_wrong_phone_is_a_usage_error(
    novapost_mock: MockServer, env: dict[str, str], phone: str
) -> None:
    url = novapost_mock.base_url
    assert_error(carriers("sandbox-key", "--phone", phone, "--base-url", url, env=env), 2)
    assert_error(carriers("token", "novapost", "--phone", phone, "--base-url", url, env=env), 2)
    assert novapost_mock.stats()[CREATE] == 0


def test_unknown_client_phone_is_an_api_error(
    novapost_mock: MockServer, env: dict[str, str]
) -> None:
    line = assert_error(
        carriers(
            "sandbox-key", "--phone", "491999999999", "--base-url", novapost_mock.base_url, env=env
        ),
        1,
    )
    assert "404" in line


@pytest.mark.parametrize("api", ["novapost", "shipyo"])
def test_unreachable_server_is_an_api_error(env: dict[str, str], api: str) -> None:
    keys = {"NOVAPOST_API_KEY": NP_KEY, "SHIPYO_API_KEY": SH_KEY}
    line = assert_error(
        carriers(
            "token",
            api,
            "--base-url",
            "http://127.0.0.1:1",
            "--max-retries",
            "0",
            env=keyed(env, **keys),
        ),
        1,
    )
    assert "Connection" in line


def test_unreachable_sandbox_key_server_is_an_api_error(env: dict[str, str]) -> None:
    assert_error(
        carriers(
            "sandbox-key",
            "--phone",
            NP_PHONE,
            "--base-url",
            "http://127.0.0.1:1/v.1.0",
            "--max-retries",
            "0",
            env=env,
        ),
        1,
    )


def test_refused_keys_are_api_errors(
    novapost_mock: MockServer, shipyo_mock: MockServer, env: dict[str, str]
) -> None:
    np = carriers(
        "token",
        "novapost",
        "--base-url",
        novapost_mock.base_url,
        env=keyed(env, NOVAPOST_API_KEY="np_test_wrong0000000000"),
    )
    assert "401" in assert_error(np, 1)
    sh = carriers(
        "token",
        "shipyo",
        "--base-url",
        shipyo_mock.base_url,
        env=keyed(env, SHIPYO_API_KEY="ak_wrong000000000000"),
    )
    assert re.search(r"HTTP 40[013]", assert_error(sh, 1))


@pytest.mark.parametrize(
    "args",
    [
        ["token", "ups"],
        ["token"],
        ["token", "novapost", "--environment", "moon"],
        ["token", "shipyo", "--base-url", "ftp://example.com"],
        ["token", "novapost", "--api-key", NP_KEY],
        ["token", "shipyo", "--phone", NP_PHONE],
        ["token", "novapost", "--key-store", "x.json"],
        ["token", "novapost", "--phone", NP_PHONE, "--environment", "production"],
        ["token", "shipyo", "--key-store", "x.json"],
        ["token", "novapost", "--tenant-id", "t-1"],
        ["sandbox-key"],
        ["frobnicate"],
        ["--debug", "frobnicate"],
        ["mock", "--api-key", NP_KEY],
        ["contract", f"--token={NP_KEY}"],
    ],
)
def test_usage_errors(env: dict[str, str], args: list[str]) -> None:
    keys = {"NOVAPOST_API_KEY": NP_KEY, "SHIPYO_API_KEY": SH_KEY}
    assert_error(carriers(*args, env=keyed(env, **keys)), 2)


@pytest.mark.parametrize(
    ("args", "carrier"),
    [
        (["token", "shipyo", "--phone", NP_PHONE], "Shipyo"),
        (["token", "shipyo", "--key-store", "x.json"], "Shipyo"),
        (["token", "novapost", "--tenant-id", "t-1"], "Nova Post"),
    ],
)
def test_options_a_carrier_has_no_use_for_name_it(
    env: dict[str, str], args: list[str], carrier: str
) -> None:
    keys = {"NOVAPOST_API_KEY": NP_KEY, "SHIPYO_API_KEY": SH_KEY}
    assert carrier in assert_error(carriers(*args, env=keyed(env, **keys)), 2)


@pytest.mark.parametrize(
    "args",
    [
        ["mock", "--novapost-port", "x"],
        ["contract", "--target", "moon"],
        ["--debug", "contract", "--frobnicate"],
    ],
)
def test_delegated_usage_errors_are_reported_by_their_own_parser(
    env: dict[str, str], args: list[str]
) -> None:
    result = carriers(*args, env=env)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    command = next(item for item in args if not item.startswith("-"))
    assert result.stderr.startswith(f"usage: carriers {command} ")
    assert result.stderr.splitlines()[-1].startswith(f"carriers {command}: error: ")
    assert "Traceback" not in result.stderr


def test_no_command_prints_help_and_exits_2(env: dict[str, str]) -> None:
    result = carriers(env=env)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "usage: carriers" in result.stderr


def test_debug_shows_a_redacted_traceback(novapost_mock: MockServer, env: dict[str, str]) -> None:
    result = carriers(
        "token",
        "novapost",
        "--base-url",
        novapost_mock.base_url,
        "--debug",
        env=keyed(env, NOVAPOST_API_KEY="np_test_wrong0000000000"),
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert "Traceback (most recent call last)" in result.stderr
    assert "AuthenticationError" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("carriers: error: HTTP 401")
    assert_no_secret(result.stderr)


# --- help ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command", [[], ["token"], ["inspect"], ["sandbox-key"], ["mock"], ["contract"]]
)
def test_help_with_an_example(env: dict[str, str], command: list[str]) -> None:
    result = carriers(*command, "--help", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: {' '.join(['carriers', *command])}")
    assert "examples:\n  carriers" in result.stdout or "examples:\n  export" in result.stdout
    assert result.stderr == ""


def test_version(env: dict[str, str]) -> None:
    for program in ([str(SCRIPT)] if SCRIPT.exists() else [], COMMAND):
        if not program:
            continue
        result = subprocess.run(
            [*program, "--version"],
            env=env,
            capture_output=True,
            text=True,
            timeout=GUARD_SECONDS,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout == f"carriers {__version__}\n"
        assert result.stderr == ""


def test_mock_help_is_the_mock_servers_own(env: dict[str, str]) -> None:
    result = carriers("mock", "--help", env=env)
    assert result.returncode == 0, result.stderr
    assert "--novapost-port PORT" in result.stdout
    assert "--shipyo-port PORT" in result.stdout
    assert "--fixtures FILE" in result.stdout
    contract = carriers("contract", "-h", env=env)
    assert "--novapost-url URL" in contract.stdout
    assert "--max-examples" in contract.stdout


def test_delegated_help_in_process_returns_instead_of_exiting(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["mock", "--help"]) == 0
    assert capsys.readouterr().out.startswith("usage: carriers mock")
    assert main(["contract", "--target", "moon"]) == 2
    assert "carriers contract: error:" in capsys.readouterr().err


def test_the_parser_imports_no_extra_and_no_http_stack(env: dict[str, str]) -> None:
    script = (
        "import sys\n"
        "import carriers.cli\n"
        "from carriers.cli.parser import build_parser\n"
        "build_parser().format_help()\n"
        "try:\n"
        "    carriers.cli.main(['--version'])\n"
        "except SystemExit:\n"
        "    pass\n"
        f"heavy = {HEAVY!r}\n"
        "print(sorted(m for m in sys.modules if m.partition('.')[0] in heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=GUARD_SECONDS,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "[]"


@pytest.mark.parametrize(
    ("blocked", "args", "extra"),
    [
        ("uvicorn", ["mock", "--novapost-port", "0", "--shipyo-port", "0"], "mock"),
        ("carrier_mocks", ["mock"], "mock"),
        ("carriers_contract", ["contract"], "contract"),
        ("schemathesis", ["--debug", "contract", "--target", "url"], "contract"),
    ],
)
def test_a_missing_extra_says_what_to_install(
    env: dict[str, str], tmp_path: Path, blocked: str, args: list[str], extra: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-c", BLOCKING_RUN, blocked, *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=GUARD_SECONDS,
        check=False,
    )
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    last = result.stderr.splitlines()[-1]
    # Said by the command itself ("carriers mock: error: ...") when its module loads,
    # by carriers when the module is what is missing.
    assert re.match(r"carriers( mock| contract)?: error: ", last), last
    assert f"pip install 'carriers[{extra}]'" in last
    if "--debug" not in args:
        assert len(result.stderr.splitlines()) == 1, result.stderr


def test_a_missing_extra_found_by_the_mock_itself(env: dict[str, str]) -> None:
    script = (
        "import sys\n"
        "sys.modules['uvicorn'] = None\n"
        "from carriers.cli import main\n"
        "sys.exit(main(['mock']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=GUARD_SECONDS,
        check=False,
    )
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.startswith("carriers mock: error: ")
    assert "pip install 'carriers[mock]'" in result.stderr


# --- mock and contract ---------------------------------------------------------------------


def test_mock_serves_until_terminated(env: dict[str, str], tmp_path: Path) -> None:
    process = subprocess.Popen(
        [*COMMAND, "mock", "--novapost-port", "0", "--shipyo-port", "0"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()

    def collect() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip("\n"))

    threading.Thread(target=collect, daemon=True).start()
    try:
        novapost = re.fullmatch(
            r"Nova Post mock: (http://127\.0\.0\.1:\d+/v\.1\.0)", lines.get(timeout=GUARD_SECONDS)
        )
        shipyo = re.fullmatch(
            r"Shipyo mock: +(http://127\.0\.0\.1:\d+)", lines.get(timeout=GUARD_SECONDS)
        )
        assert novapost and shipyo
        response = httpx.get(
            novapost.group(1) + "/clients/authorization", params={"apiKey": NP_KEY}
        )
        assert response.status_code == 200
        token = one_jwt(
            carriers(
                "token",
                "shipyo",
                "--base-url",
                shipyo.group(1),
                env=keyed(env, SHIPYO_API_KEY=SH_KEY),
            )
        )
        assert token
        process.send_signal(signal.SIGTERM)
        assert process.wait(GUARD_SECONDS) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(GUARD_SECONDS)


def test_contract_against_a_running_mock(
    novapost_mock: MockServer, env: dict[str, str], tmp_path: Path
) -> None:
    result = carriers(
        "contract",
        "--novapost-url",
        novapost_mock.base_url,
        "--report-dir",
        str(tmp_path / "reports"),
        env={**env, "MAX_EXAMPLES": "5"},
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Nova Post (url, " in result.stdout
    assert "Shipyo: skipped" in result.stdout
    assert "contract: passed" in result.stdout.splitlines()
    assert (tmp_path / "reports" / "novapost-junit.xml").exists()


# --- helpers, in process -------------------------------------------------------------------


def test_duration_and_decode() -> None:
    assert duration(0) == "0s"
    assert duration(59.9) == "59s"
    assert duration(3599) == "59m 59s"
    assert duration(90061) == "1d 1h"
    assert duration(-125) == "2m 5s"
    header, claims = decode_jwt("Bearer " + fake_jwt({"sub": "x"}) + "\n")
    assert header == {"alg": "HS256", "typ": "JWT"}
    assert claims == {"sub": "x"}


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_spinner_on_a_terminal_is_erased(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress_module, "PROGRESS_DELAY", 0.05)
    terminal = FakeTerminal()
    with progress("minting", stream=terminal):
        time.sleep(0.4)
    assert "\r| minting..." in terminal.getvalue()
    assert terminal.getvalue().endswith("\r\033[K")
    quick = FakeTerminal()
    with progress("minting", stream=quick):
        pass
    assert quick.getvalue() == ""


def test_hide_secrets_by_name_and_by_shape() -> None:
    jwt = fake_jwt({"sub": "x"})
    assert hide_secrets("apiKey", NP_KEY) == REDACTED
    assert hide_secrets("client_secret", 42) == REDACTED
    assert hide_secrets("note", f"Bearer {jwt}") == f"Bearer {REDACTED}"
    assert hide_secrets("ctx", {"api_key": SH_KEY, "n": [1, jwt]}) == {
        "api_key": REDACTED,
        "n": [1, REDACTED],
    }
    assert hide_secrets("sub", "me") == "me"


# --- hostile input: odd claims, odd servers, endless files ---------------------------------

UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""Control characters (newline aside) that must never reach the terminal raw."""


def raw_jwt(payload: bytes) -> str:
    def part(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    header = part(b'{"alg": "HS256"}')
    return f"{header}.{part(payload)}.c2ln"


def strict_json(text: str) -> object:
    def refuse(constant: str) -> object:
        raise AssertionError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize(
    ("payload", "expires"),
    [
        (b'{"exp": 1' + b"0" * 400 + b', "iat": 1e308}', "unknown"),
        (b'{"exp": 1e308, "nbf": -1e300}', "unknown"),
        (b'{"exp": 1e400, "iat": NaN, "auth_time": -Infinity}', "unknown"),
        (b'{"exp": "1700000000", "iat": "yesterday"}', "unknown"),
        (b'{"exp": -1, "iat": -1}', "1969-12-31T23:59:59Z"),
        (b'{"exp": null}', "unknown"),
    ],
)
def test_inspect_prints_any_time_claim_cleanly(
    env: dict[str, str], payload: bytes, expires: str
) -> None:
    token = raw_jwt(payload)
    result = carriers("inspect", env=env, stdin=token)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert re.search(rf"^expires:    {expires}", result.stdout, re.M), result.stdout
    as_json = carriers("inspect", "--json", env=env, stdin=token)
    assert as_json.returncode == 0, as_json.stderr
    report = strict_json(as_json.stdout)
    assert isinstance(report, dict)
    assert (report["expires_at"] is None) == (expires == "unknown")


@pytest.mark.parametrize("timeout", ["inf", "nan", "1e300", "-inf", "0", "-1", "86401", "soon"])
@pytest.mark.parametrize("command", [["token", "novapost"], ["sandbox-key", "--phone", NP_PHONE]])
def test_a_timeout_that_is_no_number_of_seconds_is_one_usage_line(
    env: dict[str, str], timeout: str, command: list[str]
) -> None:
    # checked while parsing: the endless key file is never read
    result = carriers(
        *command,
        f"--timeout={timeout}",
        "--base-url",
        "http://127.0.0.1:1/v.1.0",
        *(["--api-key-file", "/dev/zero"] if command[0] == "token" else []),
        env=env,
        timeout=20,
    )
    assert "--timeout" in assert_error(result, 2)


def test_an_endless_key_file_is_a_usage_error(env: dict[str, str]) -> None:
    base = ["token", "novapost", "--base-url", "http://127.0.0.1:1/v.1.0"]
    endless = carriers(*base, "--api-key-file", "/dev/zero", env=env, timeout=20)
    assert "64 KiB" in assert_error(endless, 2)
    long_stdin = carriers(*base, "--api-key-file", "-", env=env, stdin="k" * 70_000)
    assert "64 KiB" in assert_error(long_stdin, 2)
    assert "64 KiB" in assert_error(carriers("inspect", env=env, stdin="e" * 70_000), 2)


HOSTILE_TEXT = "\x1b[2J\x1b]0;owned\x07 \x9b31m \u202egnp.exe \x00\x7f"


def test_inspect_escapes_control_characters_from_the_token(env: dict[str, str]) -> None:
    token = fake_jwt({"sub": HOSTILE_TEXT, f"x{HOSTILE_TEXT}": ["ok", HOSTILE_TEXT], "exp": 1})
    result = carriers("inspect", env=env, stdin=token)
    assert result.returncode == 0, result.stderr
    assert not UNSAFE.search(result.stdout), result.stdout
    assert "\\x1b[2J\\x1b]0;owned\\x07 \\x9b31m \\u202egnp.exe" in result.stdout
    as_json = carriers("inspect", "--json", env=env, stdin=token)
    assert not UNSAFE.search(as_json.stdout)
    claims = json.loads(as_json.stdout)["claims"]
    assert claims["sub"] == HOSTILE_TEXT


@pytest.mark.parametrize("carrier", ["novapost", "shipyo"])
def test_a_server_token_with_control_characters_is_not_printed(
    env: dict[str, str], carrier: str
) -> None:
    TokenHandler.token = fake_jwt({"sub": "x"}) + HOSTILE_TEXT
    keys = {"NOVAPOST_API_KEY": NP_KEY, "SHIPYO_API_KEY": SH_KEY}
    with serve(TokenHandler) as origin:
        url = origin + ("/v.1.0" if carrier == "novapost" else "")
        result = carriers("token", carrier, "--base-url", url, env=keyed(env, **keys))
    line = assert_error(result, 1)
    assert "a token with characters no HTTP header can carry" in line
    assert not UNSAFE.search(result.stderr)


def test_a_server_token_with_hostile_claims_inspects_cleanly(env: dict[str, str]) -> None:
    TokenHandler.token = fake_jwt({"sub": HOSTILE_TEXT, "exp": int(time.time()) + 600})
    with serve(TokenHandler) as origin:
        token = one_jwt(
            carriers("token", "shipyo", "--base-url", origin, env=keyed(env, SHIPYO_API_KEY=SH_KEY))
        )
    result = carriers("inspect", env=env, stdin=token)
    assert result.returncode == 0, result.stderr
    assert not UNSAFE.search(result.stdout)
    assert re.search(r"^time left:  (9m \d+s|10m 0s)$", result.stdout, re.M)


@pytest.mark.parametrize("debug", [[], ["--debug"]])
def test_a_server_message_with_control_characters_is_escaped_on_stderr(
    env: dict[str, str], debug: list[str]
) -> None:
    body = json.dumps({"errors": [f"bad key {HOSTILE_TEXT}"]}).encode()
    with serve(fixed_handler(401, body)) as origin:
        result = carriers(
            *debug,
            "token",
            "novapost",
            "--base-url",
            origin + "/v.1.0",
            env=keyed(env, NOVAPOST_API_KEY=NP_KEY),
        )
    assert result.returncode == 1
    assert not UNSAFE.search(result.stderr), result.stderr
    last = result.stderr.splitlines()[-1]
    assert last.startswith("carriers: error: HTTP 401")
    assert "bad key \\x1b[2J" in last
    if not debug:
        assert_error(result, 1)


def test_key_store_warnings_are_single_lines_around_a_one_line_error(
    env: dict[str, str], tmp_path: Path
) -> None:
    store = tmp_path / "store" / "keys.json"
    store.parent.mkdir()
    store.write_text("{not json\n  at all")
    store.chmod(0o644)
    result = carriers(
        "token",
        "novapost",
        "--phone",
        NP_PHONE,
        "--base-url",
        "http://127.0.0.1:1/v.1.0",
        "--max-retries",
        "0",
        env=env,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    *warnings, error = result.stderr.splitlines()
    assert error.startswith("carriers: error: Connection failed")
    assert warnings, "the key store was expected to warn"
    assert all(line.startswith("carriers: warning: key store ") for line in warnings), warnings
    assert len(set(warnings)) == len(warnings)
    assert_no_secret(result.stderr)


def test_in_process_runs_leave_logging_as_they_found_it(monkeypatch: pytest.MonkeyPatch) -> None:
    loggers = [logging.getLogger(name) for name in ("carriers", "httpx")]
    before = [(target.level, list(target.handlers)) for target in loggers]
    for debug in ([], ["--debug"]):
        monkeypatch.setattr(sys, "stdin", io.StringIO(fake_jwt({"sub": "x"})))
        assert main([*debug, "inspect"]) == 0
    assert [(target.level, list(target.handlers)) for target in loggers] == before
