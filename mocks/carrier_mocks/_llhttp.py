"""httptools' request stream, followed by an llhttp parser of the connection's own.

uvicorn on httptools reads requests ahead of their answers (pipelining), so whose
request a broken byte belongs to depends on how many heads were read and how many
answers given. This parser, httptools' public ``HttpRequestParser`` set up as uvicorn
sets up its own, meets the same requests and breaks on the same byte, so it can say.
It leaves out what uvicorn checks beyond llhttp (the request target's syntax, which
would cost a callback and a parse per request more): three callbacks per request
are all it takes. It also enforces the limit llhttp lacks: a head of at most
:data:`~carrier_mocks._framing.MAX_HEAD_BYTES`.

Imported only where httptools serves (it needs httptools).
"""

from __future__ import annotations

import httptools

from carrier_mocks._framing import MAX_HEAD_BYTES, next_to_answer

__all__ = ["LlhttpFraming"]


class LlhttpFraming:
    """httptools' stream, from a parser of its own that reads what uvicorn's reads."""

    def __init__(self) -> None:
        self.heads = 0  # request heads read to the end
        self.in_head = False  # a head began and has not ended
        self.in_body = False  # a head ended, the rest of its message has not
        self.broke = False  # this parser found the stream broken
        self._parser = httptools.HttpRequestParser(self)
        # as uvicorn's parser: a request after one with "Connection: close" is still read
        self._parser.set_dangerous_leniencies(lenient_data_after_close=True)
        self._head_bytes = 0  # bytes read since the current head began (see feed)
        self._fresh_head = False  # a head began in the current read
        self._body_bytes = 0  # body bytes of the current read

    def feed(self, data: bytes) -> bool:
        self._fresh_head = False
        self._body_bytes = 0
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            pass  # uvicorn, serving no websockets, ignores it too
        except httptools.HttpParserError:
            self.broke = True
            return True
        if self.in_head:
            # A head that began in an earlier read counts whole reads; one that began in
            # this read counts this read less the bodies in it, which may overstate it by
            # the head of a request pipelined before it: never by more than one read.
            self._head_bytes += len(data) - self._body_bytes if self._fresh_head else len(data)
            self.broke = self._head_bytes > MAX_HEAD_BYTES
            return self.broke
        return False

    def waiting(self, started: int, finished: int) -> bool:
        return not self.in_body and self.heads == finished

    def partial(self) -> bool:
        return self.in_head

    def idle(self) -> None:
        pass

    def broken_request(self, started: int, running: bool, began: bool) -> int:
        if self.broke:  # in a body: the request whose head came last; else one no app sees
            return self.heads if self.in_body else self.heads + 1
        # What only uvicorn refused (a target its URL parser cannot read, found once the
        # head is read): as if requests were read one at a time, since which request it
        # was is unknown here. One pipelined before it is then refused with it.
        return next_to_answer(started, running, began)

    # -- the parser's callbacks (httptools' documented callback interface) ---------------

    def on_message_begin(self) -> None:
        self.in_head = True
        self._fresh_head = True
        self._head_bytes = 0

    def on_headers_complete(self) -> None:
        self.in_head = False
        self.in_body = True
        self.heads += 1

    def on_body(self, body: bytes) -> None:
        self._body_bytes += len(body)

    def on_message_complete(self) -> None:
        self.in_body = False
