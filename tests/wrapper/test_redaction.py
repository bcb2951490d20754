"""Neither the API key nor a JWT appears in logs, reprs, exception texts or tracebacks.

The fake servers here are hostile on purpose: they echo the key, the JWT and the
full URL back in their error messages, so that only real redaction passes.
"""

from __future__ import annotations

import html
import json
import logging
import threading
import traceback
import urllib.parse
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import respx
from carriers import (
    KeyStore,
    NovaPost,
    RedactingFilter,
    Shipyo,
    errors,
    install_redaction,
)
from carriers.redaction import (
    REDACTED,
    hide_secrets,
    redact,
    redact_bytes,
    redact_headers,
    redact_url,
    register_secret,
    safe_request,
    unregister_secret,
)
from novapost_client.api.authorization import post_test_api_keys
from novapost_client.models import PostTestApiKeysBody

from .conftest import FakeClock, TokenIssuer, make_jwt

# --- the filter and helpers ------------------------------------------------------------


def record(msg: str, *args: Any, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord("x", logging.INFO, __file__, 1, msg, args or None, exc_info)


def test_the_filter_redacts_message_arguments() -> None:
    token = make_jwt(exp=2_000_000_000)
    rec = record("headers %s url %s", {"Authorization": token}, "https://h/p?apiKey=abc123&x=1")
    assert RedactingFilter().filter(rec) is True
    message = rec.getMessage()
    assert token not in message and "abc123" not in message
    assert "apiKey=[REDACTED]&x=1" in message


def test_the_filter_leaves_clean_records_alone() -> None:
    rec = record("GET %s -> %d", "/parcels", 200)
    RedactingFilter().filter(rec)
    assert rec.args == ("/parcels", 200)
    assert rec.getMessage() == "GET /parcels -> 200"


def test_the_filter_redacts_tracebacks_and_stack_info() -> None:
    token = make_jwt(exp=2_000_000_000)
    try:
        raise RuntimeError(f"refused Authorization: {token}")
    except RuntimeError as exc:
        rec = record("boom", exc=exc)
    rec.stack_info = f"stack with {token}"
    RedactingFilter().filter(rec)
    assert rec.exc_text is not None
    assert token not in rec.exc_text and "RuntimeError" in rec.exc_text
    assert token not in rec.stack_info
    handler_output = logging.Formatter().format(rec)
    assert token not in handler_output


def test_install_redaction_is_idempotent_and_covers_httpcore_children() -> None:
    install_redaction()
    install_redaction()
    for name in ("carriers", "httpx", "httpcore", "httpcore.http11", "httpcore.connection"):
        filters = [f for f in logging.getLogger(name).filters if isinstance(f, RedactingFilter)]
        assert len(filters) == 1, name


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer s3cr3t-value", "s3cr3t-value"),
        ("x-api-key: ak_0123456789", "ak_0123456789"),
        ("GET /clients/authorization?apiKey=k-987654321", "k-987654321"),
        ('{"apiKey": "k-55555555"}', "k-55555555"),
        ("[(b'x-api-key', b'ak_deadbeef')]", "ak_deadbeef"),
        ("token=opaque-tok-1", "opaque-tok-1"),
    ],
)
def test_redact_patterns(text: str, secret: str) -> None:
    cleaned = redact(text)
    assert secret not in cleaned
    assert REDACTED in cleaned


def test_redact_url_and_safe_request() -> None:
    token = make_jwt(exp=2_000_000_000)
    url = redact_url("https://u:p@h.test/v.1.0/clients/authorization?apiKey=k-123456&page=2")
    assert "k-123456" not in str(url) and "u:p" not in str(url)
    assert url.params["page"] == "2"
    request = httpx.Request(
        "GET",
        "https://h.test/x?apiKey=k-123456",
        headers={"Authorization": token, "x-api-key": "ak_123456", "Accept": "application/json"},
    )
    safe = safe_request(request)
    text = f"{safe!r} {safe.url} {dict(safe.headers)}"
    assert "k-123456" not in text and token not in text and "ak_123456" not in text
    assert safe.headers["Accept"] == "application/json"


# --- every error path, both APIs --------------------------------------------------------------


def hostile(status: int, headers: dict[str, str] | None = None) -> Callable[..., httpx.Response]:
    """An error response quoting the request's secrets back."""

    def respond(request: httpx.Request) -> httpx.Response:
        quoted = (
            f"Authorization: {request.headers.get('authorization')} "
            f"x-api-key {request.headers.get('x-api-key')} url {request.url}"
        )
        body = {"success": False, "message": quoted, "errors": [quoted], "error": quoted}
        return httpx.Response(status, json=body, headers=headers or {})

    return respond


def raising(cls: type[httpx.TransportError]) -> Callable[..., httpx.Response]:
    def fail(request: httpx.Request) -> httpx.Response:
        raise cls(f"failed {request.method} {request.url} with {dict(request.headers)}")

    return fail


NP_SCENARIOS: dict[str, Callable[[NovaPost, respx.MockRouter, TokenIssuer], object]] = {}
SH_SCENARIOS: dict[str, Callable[[Shipyo, respx.MockRouter, TokenIssuer], object]] = {}


def np_scenario(name: str) -> Callable[[Any], Any]:
    def register(function: Any) -> Any:
        NP_SCENARIOS[name] = function
        return function

    return register


def sh_scenario(name: str) -> Callable[[Any], Any]:
    def register(function: Any) -> Any:
        SH_SCENARIOS[name] = function
        return function

    return register


@np_scenario("mint refused")
def _np_mint_refused(np: NovaPost, api: respx.MockRouter, tokens: TokenIssuer) -> object:
    api.get("/clients/authorization").mock(side_effect=hostile(401))
    return np.jwt()


@np_scenario("mint timeout")
def _np_mint_timeout(np: NovaPost, api: respx.MockRouter, tokens: TokenIssuer) -> object:
    api.get("/clients/authorization").mock(side_effect=raising(httpx.ConnectTimeout))
    return np.jwt()


@np_scenario("mint 503 after retries")
def _np_mint_503(np: NovaPost, api: respx.MockRouter, tokens: TokenIssuer) -> object:
    api.get("/clients/authorization").mock(side_effect=hostile(503))
    return np.request("GET", "/parcels")


@np_scenario("mint body invalid")
def _np_mint_invalid(np: NovaPost, api: respx.MockRouter, tokens: TokenIssuer) -> object:
    api.get("/clients/authorization").mock(
        side_effect=lambda request: httpx.Response(
            200, json={"jwt": 5, "echo": str(request.url), "apiKey": np._api_key}
        )
    )
    return np.jwt()


@np_scenario("call body invalid with the key in a date")
def _np_bad_date(np: NovaPost, api: respx.MockRouter, tokens: TokenIssuer) -> object:
    key = np._api_key
    api.post("/test-api-keys").respond(
        200, json={"apiKey": key, "createdAt": key, "expDate": key, "status": "Active"}
    )
    strict = np.with_options(strict_responses=True)  # lenient: tests/wrapper/test_lenient.py
    return strict.call(post_test_api_keys, body=PostTestApiKeysBody(phone="498213437654"))


@np_scenario("401 twice")
def _np_401_twice(np: NovaPost, api: respx.MockRouter, tokens: TokenIssuer) -> object:
    api.get("/parcels").mock(side_effect=hostile(401))
    return np.request("GET", "/parcels")


for _status in (400, 403, 404, 409, 422, 429, 500, 503):

    @np_scenario(f"status {_status}")
    def _np_status(
        np: NovaPost, api: respx.MockRouter, tokens: TokenIssuer, status: int = _status
    ) -> object:
        api.get("/parcels").mock(side_effect=hostile(status, {"Retry-After": "999"}))
        return np.request("GET", "/parcels", params={"apiKey": np._api_key})


@np_scenario("connect error")
def _np_connect(np: NovaPost, api: respx.MockRouter, tokens: TokenIssuer) -> object:
    api.get("/parcels").mock(side_effect=raising(httpx.ConnectError))
    return np.request("GET", "/parcels")


@np_scenario("read timeout, async")
def _np_read_timeout(np: NovaPost, api: respx.MockRouter, tokens: TokenIssuer) -> object:
    import asyncio

    api.get("/parcels").mock(side_effect=raising(httpx.ReadTimeout))

    async def run() -> object:
        try:
            return await np.arequest("GET", "/parcels")
        finally:
            await np.aclose()

    return asyncio.run(run())


@np_scenario("daily limit")
def _np_daily(np: NovaPost, api: respx.MockRouter, tokens: TokenIssuer) -> object:
    api.post("/test-api-keys").mock(side_effect=hostile(429))
    return np.call(post_test_api_keys, body=PostTestApiKeysBody(phone="498213437654"))


@sh_scenario("mint invalid key")
def _sh_mint_403(sh: Shipyo, api: respx.MockRouter, tokens: TokenIssuer) -> object:
    api.get("/api/Token/generate-from-apikey").mock(side_effect=hostile(403))
    return sh.jwt()


@sh_scenario("403 twice")
def _sh_403_twice(sh: Shipyo, api: respx.MockRouter, tokens: TokenIssuer) -> object:
    api.get("/api/Shipments").mock(side_effect=hostile(403))
    return sh.request("GET", "/api/Shipments")


@sh_scenario("401 twice")
def _sh_401_twice(sh: Shipyo, api: respx.MockRouter, tokens: TokenIssuer) -> object:
    api.get("/api/Shipments").mock(side_effect=hostile(401))
    return sh.request("GET", "/api/Shipments")


@sh_scenario("500")
def _sh_500(sh: Shipyo, api: respx.MockRouter, tokens: TokenIssuer) -> object:
    api.get("/api/Shipments").mock(side_effect=hostile(500))
    return sh.request("GET", "/api/Shipments")


@sh_scenario("read error")
def _sh_read_error(sh: Shipyo, api: respx.MockRouter, tokens: TokenIssuer) -> object:
    api.get("/api/Shipments").mock(side_effect=raising(httpx.ReadError))
    return sh.request("GET", "/api/Shipments")


@sh_scenario("invalid token body")
def _sh_invalid(sh: Shipyo, api: respx.MockRouter, tokens: TokenIssuer) -> object:
    api.get("/api/Token/generate-from-apikey").respond(
        200, json={"success": True, "data": ["x"], "message": sh._api_key}
    )
    return sh.jwt()


def texts_of(error: BaseException, *objects: object) -> list[str]:
    """Every text a user could see of an error and of the objects around it."""
    out = [str(error), repr(error), "".join(traceback.format_exception(error))]
    if isinstance(error, errors.APIError) and error.request is not None:
        request = error.request
        out += [repr(request), str(request.url), repr(dict(request.headers))]
    if isinstance(error, errors.APIStatusError):
        out += error.messages
        out += [error.body.decode("utf-8", "replace"), repr(error.headers), repr(error.request_id)]
    if error.__context__ is not None:
        out += [str(error.__context__), repr(error.__context__)]
    cause = error.__cause__
    if cause is not None:
        out += [str(cause), repr(cause)]
        if isinstance(cause, httpx.RequestError):
            out += [repr(cause.request), str(cause.request.url), repr(dict(cause.request.headers))]
    out += [repr(o) for o in objects]
    return out


def assert_clean(texts: list[str], secrets: list[str]) -> None:
    assert secrets, "nothing to look for"
    for text in texts:
        for secret in secrets:
            assert secret not in text, f"secret leaked into: {text[:300]}"


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "carriers"):
        caplog.set_level(logging.DEBUG, logger=name)
    yield caplog


def log_texts(caplog: pytest.LogCaptureFixture) -> list[str]:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return [caplog.text] + [formatter.format(r) for r in caplog.records]


@pytest.mark.parametrize("name", list(NP_SCENARIOS))
def test_novapost_error_paths_leak_nothing(
    name: str,
    make_np: Callable[..., NovaPost],
    np_api: respx.MockRouter,
    np_tokens: TokenIssuer,
    np_key: str,
    debug_logs: pytest.LogCaptureFixture,
    tmp_path: Any,
) -> None:
    np = make_np()
    with pytest.raises(errors.CarrierError) as caught:
        NP_SCENARIOS[name](np, np_api, np_tokens)
    logging.getLogger("carriers").error("call failed: %s", caught.value, exc_info=caught.value)
    secrets = [np_key, *np_tokens.issued]
    texts = texts_of(
        caught.value, np, np.client, np.auth, np.client.get_httpx_client(), KeyStore(tmp_path)
    )
    assert_clean(texts + log_texts(debug_logs), secrets)


@pytest.mark.parametrize("name", list(SH_SCENARIOS))
def test_shipyo_error_paths_leak_nothing(
    name: str,
    make_sh: Callable[..., Shipyo],
    sh_api: respx.MockRouter,
    sh_tokens: TokenIssuer,
    sh_key: str,
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    sh = make_sh(tenant_id="tenant-1")
    with pytest.raises(errors.CarrierError) as caught:
        SH_SCENARIOS[name](sh, sh_api, sh_tokens)
    logging.getLogger("carriers").error("call failed", exc_info=caught.value)
    secrets = [sh_key, *sh_tokens.issued]
    texts = texts_of(caught.value, sh, sh.client, sh.auth, sh.client.get_httpx_client())
    assert_clean(texts + log_texts(debug_logs), secrets)


def test_the_scenarios_do_see_the_secrets(
    make_np: Callable[..., NovaPost],
    np_api: respx.MockRouter,
    np_tokens: TokenIssuer,
    np_key: str,
) -> None:
    """The hostile server really quotes secrets: without redaction the texts would leak."""
    np = make_np()
    with pytest.raises(errors.AuthenticationError) as caught:
        _np_401_twice(np, np_api, np_tokens)
    raw = np_api.calls.last.response.content.decode()
    assert np_tokens.issued[-1] in raw
    assert np_tokens.issued[-1] not in caught.value.body.decode()
    with pytest.raises(errors.APIError) as caught_mint:
        _np_mint_timeout(make_np(), np_api, np_tokens)
    assert caught_mint.value.__context__ is None, "the raw error is not kept"
    assert f"apiKey={REDACTED}" in str(caught_mint.value.__cause__)


# --- real HTTP, so that httpcore logs too ----------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    token = ""
    api_key = ""
    refused = threading.Event()

    def _send(self, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        # echo the credentials back in headers: httpcore logs response headers
        self.send_header("X-Echo-Authorization", self.headers.get("Authorization", ""))
        self.send_header("X-Echo-Api-Key", self.headers.get("x-api-key", ""))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        if self.path.startswith("/v.1.0/clients/authorization"):
            ok = f"apiKey={self.api_key}" in self.path
            self._send(200 if ok else 401, {"jwt": self.token} if ok else {"errors": ["no"]})
        elif self.path.startswith("/v.1.0/protected"):
            if not self.refused.is_set():
                self.refused.set()
                self._send(401, {"errors": {"": f"token {self.headers.get('Authorization')}"}})
            else:
                self._send(200, {"ok": True})
        else:
            self._send(500, {"errors": [f"broken for {self.headers.get('Authorization')}"]})

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def real_server(clock: FakeClock, np_key: str) -> Iterator[str]:
    _Handler.token = make_jwt(exp=clock() + 3600)
    _Handler.api_key = np_key
    _Handler.refused = threading.Event()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v.1.0"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_real_http_debug_logs_of_httpx_and_httpcore_leak_nothing(
    real_server: str,
    np_key: str,
    clock: FakeClock,
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    with NovaPost(api_key=np_key, base_url=real_server, max_retries=1) as np:
        assert np.request("GET", "/protected").json() == {"ok": True}
        with pytest.raises(errors.InternalServerError) as caught:
            np.request("GET", "/other")
    secrets = [np_key, _Handler.token]
    assert_clean(texts_of(caught.value, np) + log_texts(debug_logs), secrets)
    names = {r.name for r in debug_logs.records}
    assert {"httpx", "httpcore.http11", "httpcore.connection"} <= names
    header_lines = [
        r.getMessage() for r in debug_logs.records if "X-Echo-Authorization" in r.getMessage()
    ]
    assert header_lines and all(REDACTED in line for line in header_lines)
    assert any(
        "apiKey=[REDACTED]" in r.getMessage() for r in debug_logs.records if r.name == "httpx"
    )


# --- secrets in unusual shapes -----------------------------------------------------------------

ODD_KEY = "np_\"q\u00e9/+%&'\\ke<y> \U0001f600z_9f3a7c21d4"
"""A key with characters every escaping changes; its last part is what a leak would show."""


def shapes(secret: str) -> dict[str, str]:
    """The forms a secret takes on its way back from a server or into a log."""
    latin1 = secret.encode().decode("latin-1")
    return {
        "as is": secret,
        "upper-cased": secret.upper(),
        "swapped case": secret.swapcase(),
        "repr": repr(secret),
        "ascii": ascii(secret),
        "bytes repr": repr(secret.encode()),
        "JSON": json.dumps(secret),
        "JSON, not ASCII": json.dumps(secret, ensure_ascii=False),
        "JSON, slashes escaped": json.dumps(secret).replace("/", "\\/"),
        "JSON in a repr": repr(json.dumps(secret)),
        "JSON of JSON": json.dumps(json.dumps(secret)),
        "percent-encoded": urllib.parse.quote(secret, safe=""),
        "percent-encoded, lower hex": urllib.parse.quote(secret, safe="/").lower(),
        "form-encoded": urllib.parse.quote_plus(secret),
        "HTML": html.escape(secret),
        "UTF-8 read as Latin-1": latin1,
        "that, in JSON": json.dumps(latin1),
    }


@pytest.fixture
def odd_key() -> Iterator[str]:
    register_secret(ODD_KEY)
    yield ODD_KEY
    unregister_secret(ODD_KEY)


@pytest.mark.parametrize("shape", list(shapes(ODD_KEY)))
def test_a_registered_secret_is_redacted_in_any_shape(odd_key: str, shape: str) -> None:
    text = f"server said: {shapes(odd_key)[shape]} (end)"
    cleaned = redact(text)
    assert "9f3a7c21d4" not in cleaned.lower(), cleaned
    assert cleaned.startswith("server said: ") and cleaned.endswith(" (end)")
    assert REDACTED in cleaned


def test_a_token_with_cr_lf_is_redacted_in_a_repr() -> None:
    token = "opaque\r\ntok-" + "5e1d0c9b8a"
    register_secret(token)
    try:
        for text in (repr(token), repr(token.encode()), json.dumps(token), f"{token!r}".upper()):
            assert "5e1d0c9b8a" not in redact(f"Illegal header value {text}").lower()
    finally:
        unregister_secret(token)
    assert redact(repr(token)) == repr(token)  # forgotten once unregistered


def test_redaction_leaves_other_text_alone(odd_key: str) -> None:
    text = 'plain text, "quotes", 100% of \\n escapes & <tags>, np_ and z_ fragments'
    assert redact(text) == text


def test_redact_bytes_keeps_what_is_not_utf8(odd_key: str) -> None:
    body = b"\xff\xfe " + json.dumps({"echo": odd_key.upper()}).encode() + b" \x80"
    cleaned = redact_bytes(body)
    assert cleaned.startswith(b"\xff\xfe ") and cleaned.endswith(b" \x80")
    assert b"9F3A7C21D4" not in cleaned and REDACTED.encode() in cleaned
    assert redact_bytes(b"\xff clean") == b"\xff clean"


def test_redact_headers_keeps_non_ascii_values(odd_key: str) -> None:
    raw = httpx.Headers([(b"X-Name", "Zoë".encode("latin-1")), (b"X-Echo", odd_key.encode())])
    cleaned = redact_headers(raw)
    assert cleaned["x-name"] == raw["x-name"]
    assert cleaned["x-echo"] == REDACTED
    assert redact_headers({"X-City": "Kraków"})["x-city"] == "Kraków"


def test_hide_secrets_bounds_nesting() -> None:
    nested: Any = "deep"
    for _ in range(5000):
        nested = [nested]
    shown = hide_secrets("claims", nested)
    depth = 0
    while isinstance(shown, list):
        shown, depth = shown[0], depth + 1
    assert shown == REDACTED and depth < 100


def test_every_attribute_of_a_status_error_is_redacted(odd_key: str) -> None:
    request = httpx.Request("GET", "https://h.test/v.1.0/parcels", params={"apiKey": odd_key})
    echoed = odd_key.upper()
    response = httpx.Response(
        422,
        request=request,
        json={"message": f"bad key {echoed}", "requestId": json.dumps(odd_key)},
        headers=[
            (b"X-Echo", urllib.parse.quote(odd_key).encode()),
            (b"X-Request-Id", f"r-{echoed}".encode()),
        ],
    )
    error = errors.status_error(response)
    texts = [
        str(error),
        repr(error),
        error.message,
        *error.messages,
        error.body.decode("utf-8", "replace"),
        repr(error.headers),
        str(error.request_id),
        repr(error.request),
        str(error.request.url if error.request else ""),
        *map(str, error.args),
    ]
    for text in texts:
        assert "9f3a7c21d4" not in text.lower(), text
    assert error.request_id == f"r-{REDACTED}"
    assert error.headers["x-echo"] == REDACTED


def test_registered_secrets_do_not_fill_the_re_module_cache() -> None:
    """A long-lived process mints a token an hour: none of their patterns may pile up in
    ``re``'s own cache (512 entries of long patterns: the soak's memory growth)."""
    import re

    from carriers.redaction import register_secret, unregister_secret

    re.purge()
    values = [f"tok-{i}-{'x' * 40}" for i in range(20)]
    for value in values:
        register_secret(value)
    try:
        assert len(re._cache) == 0  # type: ignore[attr-defined]
        assert redact(f"a {values[3].upper()} b") == f"a {REDACTED} b"
    finally:
        for value in values:
            unregister_secret(value)
