"""Where a connection's request stream stands: in a head, in a body, or between requests.

The header deadline and the answer to a broken request both depend on it, and
uvicorn's protocols keep it to themselves (their parser and request cycle are
attributes of theirs, not an API). So :class:`~carrier_mocks._connection.Connection`
follows the stream itself, from the bytes it hands on to uvicorn, through a
:class:`Framing` chosen by the stack:

- on httptools, :class:`~carrier_mocks._llhttp.LlhttpFraming`: a second llhttp parser
  that reads what uvicorn's reads;
- on h11, where httptools may not import, :class:`CountingFraming`: h11 reads one
  request at a time, so counting requests and answers says enough.

Requests are numbered from 1 per connection, in the order uvicorn runs their apps.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["MAX_HEAD_BYTES", "CountingFraming", "Framing"]

MAX_HEAD_BYTES = 16 * 1024
"""The largest request head (request line and headers) a connection may send.

h11's own limit (its ``max_incomplete_event_size``); llhttp has none, so without it
a client could make the server buffer one endless header.
"""


class Framing(Protocol):
    """What a connection needs to know about its request stream."""

    def feed(self, data: bytes) -> bool:
        """Follow ``data``, received next; True when the stream breaks in it."""

    def waiting(self, started: int, answered: int) -> bool:
        """Whether no request is in progress, so the client owes the next head."""

    def partial(self) -> bool:
        """Whether part of a request head came (while :meth:`waiting`)."""

    def broken_request(self, answered: int) -> int:
        """The number of the request a protocol error, found now, belongs to."""

    def answered(self, started: int, answered: int) -> None:
        """An answer ended: ``answered`` of the ``started`` requests have theirs."""


class CountingFraming:
    """h11's stream, from counts: h11 parses a request only once the one before is answered.

    Two approximations remain where h11 alone knows better: the head of a request sent
    while an earlier one was answered is not seen as part of a head (at the deadline
    its connection is closed without the 408), and the rest of a body its app left
    unread, arriving after the answer, counts as part of a head.
    """

    def __init__(self) -> None:
        self.received = False  # bytes came since the last answer (or the connection opened)

    def feed(self, data: bytes) -> bool:
        self.received = True
        return False  # h11 finds every error itself, and uvicorn answers it

    def waiting(self, started: int, answered: int) -> bool:
        return started == answered

    def partial(self) -> bool:
        return self.received

    def broken_request(self, answered: int) -> int:
        # one request at a time: the error is in the one after those answered
        return answered + 1

    def answered(self, started: int, answered: int) -> None:
        if started == answered:
            self.received = False
