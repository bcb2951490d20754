"""Run a small standalone server of a test's own making: stdlib ``http.server``, a thread.

Hostile servers misbehave in ways the mock never would (bombs, trickles, deep JSON,
odd tokens), so they are written here from scratch, not as the mock plus a
middleware. ``serve(Handler)`` yields the origin (``http://127.0.0.1:PORT``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["QuietHandler", "serve"]


class QuietHandler(BaseHTTPRequestHandler):
    """A handler that logs nothing (request lines may carry keys) and speaks HTTP/1.1.

    Nagle's algorithm is off: the headers and the body go out as two writes, and on
    a kept-alive connection the second would wait for the client's delayed ACK
    (about 40 ms a response), which made each contract run here take seconds more.
    """

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:
        pass

    def send_body(
        self, status: int, body: bytes, content_type: str = "application/json", **headers: str
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve ``handler`` on a free loopback port for the block; yield the origin."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
