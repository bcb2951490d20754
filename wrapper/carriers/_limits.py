"""Reading a response body with a size limit, counted on the decoded (decompressed) bytes.

A 300 KB gzip body can inflate to 300 MB: ``response.read()`` would hold all of it,
and even httpx's streaming decoder inflates each network read (64 KB of gzip: up
to 64 MB) in one go. These readers undo gzip and deflate themselves, at most
``STEP`` decoded bytes at a time whatever the ratio or the number of layers, and
stop at ``limit``. Other codings (``br``, ``zstd``, only decoded when their
libraries are installed) are left to httpx, one network read at a time.

They also stop once the call's deadline (``_deadline``) has passed, checked
between chunks: a body trickling one byte per read never trips a read timeout.
The body is then stored on the response as if ``read()`` had run, so httpx and
the generated code use it as usual.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import AsyncIterator, Iterator

import httpx

from . import _deadline
from .errors import ResponseTooLargeError
from .redaction import safe_request

__all__ = ["STEP", "aread_capped", "read_capped", "too_large"]

STEP = 64 * 1024
"""Most bytes a decoding step produces, and most raw bytes fed to one."""

_GZIP = zlib.MAX_WBITS | 16
_ZLIB = zlib.MAX_WBITS
_RAW_DEFLATE = -zlib.MAX_WBITS


def too_large(response: httpx.Response, limit: int) -> ResponseTooLargeError:
    request = safe_request(response.request)
    return ResponseTooLargeError(
        f"HTTP {response.status_code} from {request.method} {request.url.path}: "
        f"the body is larger than max_response_bytes={limit}",
        limit=limit,
        request=request,
    )


class _Inflater:
    """Undoes the gzip/deflate layers of a body, ``STEP`` output bytes per zlib call."""

    def __init__(self, codings: list[str], request: httpx.Request) -> None:
        self._codings = codings  # in the order they are undone
        self._layers: list[zlib._Decompress | None] = [None] * len(codings)
        self._request = request

    @classmethod
    def of(cls, response: httpx.Response) -> _Inflater | None:
        """None when a coding is not gzip or deflate (httpx then decodes)."""
        values = response.headers.get_list("content-encoding", split_commas=True)
        codings = [v.strip().lower() for v in values if v.strip().lower() != "identity"]
        if any(coding not in ("gzip", "deflate") for coding in codings):
            return None
        return cls(codings[::-1], response.request)

    def _layer(self, index: int, data: bytes) -> zlib._Decompress:
        layer = self._layers[index]
        if layer is None:
            if self._codings[index] != "deflate":
                wbits = _GZIP
            elif len(data) >= 2 and data[0] & 0x0F == 8 and int.from_bytes(data[:2]) % 31 == 0:
                wbits = _ZLIB  # "deflate" as the RFC has it: zlib framing
            else:
                wbits = _RAW_DEFLATE  # as some servers send it
            layer = self._layers[index] = zlib.decompressobj(wbits)
        return layer

    def _through(self, index: int, data: bytes) -> Iterator[bytes]:
        if index == len(self._layers):
            if data:
                yield data
            return
        if not data:
            return
        layer = self._layer(index, data)
        while True:
            try:
                out = layer.decompress(data, STEP)
            except zlib.error as exc:
                raise httpx.DecodingError(str(exc), request=self._request) from None
            yield from self._through(index + 1, out)
            data = layer.unconsumed_tail
            if not data and len(out) < STEP:
                return

    def feed(self, raw: bytes) -> Iterator[bytes]:
        """The decoded bytes of the next network read, in chunks of at most ``STEP``.

        Fed ``STEP`` raw bytes at a time: zlib copies the unconsumed rest at each step.
        """
        for start in range(0, len(raw), STEP):
            yield from self._through(0, raw[start : start + STEP])

    def finish(self) -> Iterator[bytes]:
        """What the layers still hold once the raw body has ended."""
        for index, layer in enumerate(self._layers):
            if layer is not None:
                yield from self._through(index + 1, layer.flush())


def _inflated(response: httpx.Response, inflater: _Inflater) -> Iterator[bytes]:
    for raw in response.iter_raw():
        yield from inflater.feed(raw)
    yield from inflater.finish()


def _decoded(response: httpx.Response) -> Iterator[bytes]:
    """The decoded body, chunk by chunk: without a Content-Encoding, the raw chunks
    themselves (what ``iter_bytes`` would yield, without its decoder and chunker)."""
    if "content-encoding" not in response.headers:
        return response.iter_raw()
    inflater = _Inflater.of(response)
    if inflater is None:
        return response.iter_bytes()
    return _inflated(response, inflater)


async def _ainflated(response: httpx.Response, inflater: _Inflater) -> AsyncIterator[bytes]:
    async for raw in response.aiter_raw():
        for chunk in inflater.feed(raw):
            yield chunk
    for chunk in inflater.finish():
        yield chunk


def _adecoded(response: httpx.Response) -> AsyncIterator[bytes]:
    if "content-encoding" not in response.headers:
        return response.aiter_raw()
    inflater = _Inflater.of(response)
    if inflater is None:
        return response.aiter_bytes()
    return _ainflated(response, inflater)


def read_capped(response: httpx.Response, limit: int) -> bytes:
    """The decoded body, or ``ResponseTooLargeError`` (the response closed) past ``limit``.

    ``APITimeoutError`` when the call's deadline passes while reading (checked after
    each chunk; the deadline cannot change meanwhile, so it is read once).
    """
    if hasattr(response, "_content"):  # already read: checked all the same
        content: bytes = response._content
        if len(content) > limit:
            raise too_large(response, limit)
        return content
    deadline = _deadline.current()
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in _decoded(response):
            size += len(chunk)
            if size > limit:
                raise too_large(response, limit)
            if deadline is not None and time.monotonic() >= deadline:
                raise _deadline.reached(response.request)
            chunks.append(chunk)
    finally:
        response.close()
    response._content = b"".join(chunks)
    return response._content


async def aread_capped(response: httpx.Response, limit: int) -> bytes:
    """``read_capped`` for async responses."""
    if hasattr(response, "_content"):  # already read: checked all the same
        content: bytes = response._content
        if len(content) > limit:
            raise too_large(response, limit)
        return content
    deadline = _deadline.current()
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in _adecoded(response):
            size += len(chunk)
            if size > limit:
                raise too_large(response, limit)
            if deadline is not None and time.monotonic() >= deadline:
                raise _deadline.reached(response.request)
            chunks.append(chunk)
    finally:
        await response.aclose()
    response._content = b"".join(chunks)
    return response._content
