"""Reading a response body with a size limit, counted on the decoded (decompressed) bytes.

A 300 KB gzip body can inflate to 300 MB: ``response.read()`` would hold all of it,
and even httpx's streaming decoder inflates each network read (64 KB of gzip: up
to 64 MB) in one go. These readers undo gzip and deflate themselves, at most
``STEP`` decoded bytes at a time whatever the ratio or the number of layers, and
stop at ``limit``. Other codings (``br``, ``zstd``, only decoded when their
libraries are installed) are left to httpx, one network read at a time.

They also stop once the call's deadline (``_deadline``) has passed, checked
between chunks: a body trickling one byte per read never trips a read timeout.
The raw body, once counted, is given back to the response, whose own ``read()``
then decodes it, so httpx and the generated code use it as usual (public httpx
APIs only: ``Response.stream``, ``Response.read()``).
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterator
from typing import Protocol

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


class _Decompressor(Protocol):
    """What ``zlib.decompressobj()`` returns (zlib names no public type for it)."""

    @property
    def unconsumed_tail(self) -> bytes: ...

    def decompress(self, data: bytes, max_length: int = ..., /) -> bytes: ...

    def flush(self, length: int = ..., /) -> bytes: ...


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
        self._layers: list[_Decompressor | None] = [None] * len(codings)
        self._request = request

    @classmethod
    def of(cls, response: httpx.Response) -> _Inflater | None:
        """None when a coding is not gzip or deflate (httpx then decodes)."""
        values = response.headers.get_list("content-encoding", split_commas=True)
        codings = [v.strip().lower() for v in values if v.strip().lower() != "identity"]
        if any(coding not in ("gzip", "deflate") for coding in codings):
            return None
        return cls(codings[::-1], response.request)

    def _layer(self, index: int, data: bytes) -> _Decompressor:
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


class _Counter:
    """Counts the decoded size of a body as its raw chunks arrive; raises past the limit
    or the call's deadline (checked after each chunk: it cannot change meanwhile)."""

    __slots__ = ("deadline", "inflater", "limit", "response", "size")

    def __init__(self, response: httpx.Response, limit: int) -> None:
        self.response = response
        self.limit = limit
        self.size = 0
        self.deadline = _deadline.current()
        encoded = "content-encoding" in response.headers
        self.inflater = _Inflater.of(response) if encoded else None

    def count(self, size: int) -> None:
        self.size += size
        if self.size > self.limit:
            raise too_large(self.response, self.limit)

    def feed(self, raw: bytes) -> None:
        if self.inflater is None:  # no coding, or one httpx decodes: raw bytes count
            self.count(len(raw))
        else:
            for chunk in self.inflater.feed(raw):
                self.count(len(chunk))
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise _deadline.reached(self.response.request)

    def finish(self) -> None:
        if self.inflater is not None:
            for chunk in self.inflater.finish():
                self.count(len(chunk))


def _checked(response: httpx.Response, content: bytes, limit: int) -> bytes:
    if len(content) > limit:
        raise too_large(response, limit)
    return content


def read_capped(response: httpx.Response, limit: int) -> bytes:
    """The decoded body, or ``ResponseTooLargeError`` past ``limit`` decoded bytes.

    The raw body is read from ``response.stream`` while its decoded size is counted,
    then handed back to the response as a ``ByteStream`` that ``response.read()``
    decodes: within the limit by then, so decoding it at once is safe. On a failure
    the response is left an empty body (its connection released), so that a later
    ``read()`` finds nothing rather than a closed stream. ``APITimeoutError`` when the
    call's deadline passes while reading.
    """
    if response.is_stream_consumed:  # already read: checked all the same
        return _checked(response, response.content, limit)
    stream = response.stream
    if not isinstance(stream, httpx.SyncByteStream):
        raise TypeError("read_capped() needs a response of a sync client")
    raw: list[bytes] = []
    body = b""
    try:
        if "content-encoding" in response.headers:
            counter = _Counter(response, limit)
            for chunk in stream:
                counter.feed(chunk)
                raw.append(chunk)
            counter.finish()
        else:  # as nearly always: the raw bytes are the body
            deadline = _deadline.current()
            size = 0
            for chunk in stream:
                size += len(chunk)
                if size > limit:
                    raise too_large(response, limit)
                if deadline is not None and time.monotonic() >= deadline:
                    raise _deadline.reached(response.request)
                raw.append(chunk)
        body = b"".join(raw)
    finally:
        stream.close()
        response.stream = httpx.ByteStream(body)
    return _checked(response, response.read(), limit)


async def aread_capped(response: httpx.Response, limit: int) -> bytes:
    """``read_capped`` for async responses."""
    if response.is_stream_consumed:
        return _checked(response, response.content, limit)
    stream = response.stream
    if not isinstance(stream, httpx.AsyncByteStream):
        raise TypeError("aread_capped() needs a response of an async client")
    raw: list[bytes] = []
    body = b""
    try:
        if "content-encoding" in response.headers:
            counter = _Counter(response, limit)
            async for chunk in stream:
                counter.feed(chunk)
                raw.append(chunk)
            counter.finish()
        else:
            deadline = _deadline.current()
            size = 0
            async for chunk in stream:
                size += len(chunk)
                if size > limit:
                    raise too_large(response, limit)
                if deadline is not None and time.monotonic() >= deadline:
                    raise _deadline.reached(response.request)
                raw.append(chunk)
        body = b"".join(raw)
    finally:
        await stream.aclose()
        response.stream = httpx.ByteStream(body)
    # the body is in memory now, and a ByteStream is a sync stream too: the sync read
    # decodes it without the async iterators' cost
    return _checked(response, response.read(), limit)
