"""Serve a (possibly wrapped) mock app over real HTTP on a free local port."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn


@contextmanager
def serve_app(api: str, wrap: Callable[[Any], Any]) -> Iterator[str]:
    if api == "novapost":
        from carrier_mocks.novapost import create_app
    else:
        from carrier_mocks.shipyo import create_app
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        wrap(create_app()), lifespan="off", log_config=None, log_level="error", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}" + ("/v.1.0" if api == "novapost" else "")
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
