"""Where a connection's request stream stands: in a head, in a body, or between requests.

The header deadline and the answer to a broken request both depend on it, and
uvicorn's protocols keep it to themselves (their parser and request cycle are
attributes of theirs, not an API). So :class:`~carrier_mocks._connection.Connection`
follows the stream itself, from the bytes it hands on to uvicorn, through a
:class:`Framing` chosen by the stack:

- on httptools, :class:`~carrier_mocks._llhttp.LlhttpFraming`: a second llhttp parser
  that reads what uvicorn's reads;
- on h11, where httptools may not import, :class:`CountingFraming`: h11 reads one
  request at a time, so counting the apps started and ended says enough.

Requests are numbered from 1 per connection, in the order uvicorn runs their apps.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["MAX_HEAD_BYTES", "CountingFraming", "Framing", "next_to_answer"]

MAX_HEAD_BYTES = 16 * 1024
"""The largest request head (request line and headers) a connection may send.

h11's own limit (its ``max_incomplete_event_size``); llhttp has none, so without it
a client could make the server buffer one endless header.
"""


class Framing(Protocol):
    """What a connection needs to know about its request stream."""

    def feed(self, data: bytes) -> bool:
        """Follow ``data``, received next; True when the stream breaks in it."""

    def waiting(self, started: int, finished: int) -> bool:
        """Whether no request is in progress, so the client owes the next head.

        ``started`` requests had their app started, ``finished`` had it end.
        """

    def partial(self) -> bool:
        """Whether part of a request head came (while :meth:`waiting`)."""

    def idle(self) -> None:
        """Every app started has ended."""

    def broken_request(self, started: int, running: bool, began: bool) -> int:
        """The number of the request the stream broke in (or ends before), found now.

        ``running``: the latest started request's app has not ended; ``began``: it
        has begun its answer.
        """


def next_to_answer(started: int, running: bool, began: bool) -> int:
    """The request a broken byte belongs to where requests are read one at a time.

    The latest started one while its app runs and has not answered yet (its body
    broke); otherwise the one after it, which no app has seen.
    """
    return started if running and not began else started + 1


class CountingFraming:
    """h11's stream, from counts: h11 parses a request only once the one before is answered.

    Two approximations remain where h11 alone knows better: the head of a request sent
    while an earlier one was answered is not seen as part of a head (at the deadline
    its connection is closed without the 408), and the rest of a body its app left
    unread, arriving after the answer, counts as part of a head.
    """

    def __init__(self) -> None:
        self.received = False  # bytes came since the last app ended (or the connection opened)

    def feed(self, data: bytes) -> bool:
        self.received = True
        return False  # h11 finds every error itself, and uvicorn answers it

    def waiting(self, started: int, finished: int) -> bool:
        return started == finished

    def partial(self) -> bool:
        return self.received

    def idle(self) -> None:
        self.received = False

    def broken_request(self, started: int, running: bool, began: bool) -> int:
        return next_to_answer(started, running, began)
