"""Reading a response body with a size limit, counted on the decoded (decompressed) bytes.

A 300 KB gzip body can inflate to 300 MB: ``response.read()`` would hold all of it.
These readers decode chunk by chunk and stop at ``limit``; the body is then stored
on the response as if ``read()`` had run, so httpx and the generated code use it as
usual.
"""

from __future__ import annotations

import httpx

from .errors import ResponseTooLargeError
from .redaction import safe_request

__all__ = ["aread_capped", "read_capped", "too_large"]


def too_large(response: httpx.Response, limit: int) -> ResponseTooLargeError:
    request = safe_request(response.request)
    return ResponseTooLargeError(
        f"HTTP {response.status_code} from {request.method} {request.url.path}: "
        f"the body is larger than max_response_bytes={limit}",
        limit=limit,
        request=request,
    )


def read_capped(response: httpx.Response, limit: int) -> bytes:
    """The decoded body, or ``ResponseTooLargeError`` (the response closed) past ``limit``."""
    if hasattr(response, "_content"):
        content: bytes = response.content
        if len(content) > limit:
            raise too_large(response, limit)
        return content
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > limit:
                raise too_large(response, limit)
            chunks.append(chunk)
    finally:
        response.close()
    response._content = b"".join(chunks)
    return response._content


async def aread_capped(response: httpx.Response, limit: int) -> bytes:
    """``read_capped`` for async responses."""
    if hasattr(response, "_content"):
        content: bytes = response.content
        if len(content) > limit:
            raise too_large(response, limit)
        return content
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise too_large(response, limit)
            chunks.append(chunk)
    finally:
        await response.aclose()
    response._content = b"".join(chunks)
    return response._content
