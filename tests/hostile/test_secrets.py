"""Secrets a hostile server sends back in odd shapes stay out of errors and logs.

The servers (``secret_servers``) echo the API key upper-cased, JSON-escaped,
percent-encoded or in headers, and hand out tokens holding CR/LF or quotes. The
key and the tokens hold characters every escaping changes; each ends in a random
part that any leak, whatever its shape, would show as it is.
"""

from __future__ import annotations

import logging
import secrets
import traceback
from collections.abc import Iterator

import httpx
import pytest
from carriers import NovaPost, Shipyo, errors
from carriers.redaction import REDACTED

from .secret_servers import ECHO_SHAPES, EchoHandler, TokenHandler, fixed_handler
from .serving import serve


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    for name in ("httpx", "httpcore", "carriers"):
        caplog.set_level(logging.DEBUG, logger=name)
    yield caplog


def texts(error: BaseException, caplog: pytest.LogCaptureFixture) -> list[str]:
    """Every text of an error a user may see, its public attributes, and the logs."""
    out = [
        str(error),
        repr(error),
        "".join(traceback.format_exception(error)),
        *map(str, error.args),
    ]
    if isinstance(error, errors.APIError):
        out.append(error.message)
        if error.request is not None:
            out += [repr(error.request), str(error.request.url), repr(error.request.headers)]
    if isinstance(error, errors.APIStatusError):
        out += error.messages
        out += [error.body.decode("latin-1"), repr(error.headers), repr(error.request_id)]
        out += [f"{name}: {value}" for name, value in error.headers.multi_items()]
    for linked in (error.__cause__, error.__context__):
        if linked is not None:
            out += [str(linked), repr(linked)]
    formatter = logging.Formatter("%(name)s %(message)s")
    out += [caplog.text, *(formatter.format(record) for record in caplog.records)]
    return out


def assert_hidden(texts: list[str], *marks: str) -> None:
    for text in texts:
        for mark in marks:
            assert mark.lower() not in text.lower(), f"{mark} leaked into: {text[:400]}"


# --- row 1: an error body nested too deeply for json.loads -------------------------------------


@pytest.mark.parametrize("status", [401, 422, 500])
def test_a_deeply_nested_error_body_is_the_typed_error(status: int) -> None:
    body = b"[" * 100_000
    with serve(fixed_handler(status, body)) as origin:
        np = NovaPost(api_key="np_test_deep0000", base_url=origin + "/v.1.0", max_retries=0)
        with np, pytest.raises(errors.APIStatusError) as caught:
            np.jwt()
    assert caught.value.status_code == status
    assert caught.value.body == body
    assert caught.value.request_id is None
    assert [message[:3] for message in caught.value.messages] == ["[[["]


# --- row 11: echoed keys and odd tokens ---------------------------------------------------------


@pytest.fixture
def echo() -> Iterator[tuple[str, str, str]]:
    """An echo server, its key and its token, each with characters escaping changes."""
    key_mark, token_mark = secrets.token_hex(8), secrets.token_hex(8)
    EchoHandler.key = f"np_\"q\u00e9/+%&'\\ke<y>{key_mark}"
    EchoHandler.token = f"tok\"'\\/+%&<{token_mark}"
    with serve(EchoHandler) as origin:
        yield origin, key_mark, token_mark


def test_the_echo_server_does_echo(echo: tuple[str, str, str]) -> None:
    """Without redaction, each shape would show the marks: the tests below mean something."""
    origin, key_mark, token_mark = echo
    for shape in ECHO_SHAPES:
        response = httpx.get(f"{origin}/v.1.0/echo/{shape}")
        raw = f"{response.headers.multi_items()} {response.text}".lower()
        assert key_mark in raw or token_mark in raw, shape


@pytest.mark.parametrize("shape", ECHO_SHAPES)
def test_an_echoed_key_or_token_is_redacted_in_every_attribute(
    echo: tuple[str, str, str], shape: str, debug_logs: pytest.LogCaptureFixture
) -> None:
    origin, key_mark, token_mark = echo
    with NovaPost(api_key=EchoHandler.key, base_url=origin + "/v.1.0", max_retries=0) as np:
        with pytest.raises(errors.APIStatusError) as caught:
            np.request("GET", f"/echo/{shape}")
    assert REDACTED in "".join(texts(caught.value, debug_logs))
    assert_hidden(texts(caught.value, debug_logs), key_mark, token_mark)


@pytest.mark.parametrize("odd", ["\r\n", "\n", "\x1b[31m", '"\\'])
@pytest.mark.parametrize("carrier", [NovaPost, Shipyo])
def test_a_token_with_characters_that_get_escaped_is_redacted(
    odd: str,
    carrier: type[NovaPost] | type[Shipyo],
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    mark = secrets.token_hex(8)
    TokenHandler.token = f"opaque{odd}tok-{mark}"
    with serve(TokenHandler) as origin:
        base = origin + ("/v.1.0" if carrier is NovaPost else "")
        with carrier(api_key="key-0123456789", base_url=base, max_retries=0) as client:
            with pytest.raises(errors.CarrierError) as caught:
                client.request("GET", "/parcels")
    assert_hidden(texts(caught.value, debug_logs), mark)
