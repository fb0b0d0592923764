"""A request must arrive whole within a deadline: a client that opens connections and
sends its headers or body a byte at a time (slowloris) held each connection for as long
as it liked. uvicorn times out an idle kept-alive connection only: one that is open
and has not finished its request is never closed, so a few hundred of them exhaust the
process's file descriptors, or, with ``limit_concurrency``, turn every real call away.

``DeadlineProtocol`` is uvicorn's compiled-parser protocol with one timer: armed when a
connection opens and when a request's first byte arrives, stopped when the request has
been read whole (or answered early, as a call without a key is). When it fires first,
the client gets ``408 Request Timeout`` and the connection is closed; the route, if one
was waiting for the body, sees the client gone. Behind nginx, its own
``client_header_timeout`` and ``client_body_timeout`` do the same nearer the client.
"""

from __future__ import annotations

import asyncio
import logging

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

logger = logging.getLogger(__name__)

_WORDS = "request not received in time 请求接收超时\n".encode()
TIMED_OUT = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    + b"connection: close\r\ncontent-length: "
    + str(len(_WORDS)).encode()
    + b"\r\n\r\n"
    + _WORDS
)


class DeadlineProtocol(HttpToolsProtocol):
    """uvicorn's protocol, with a deadline on reading each request."""

    # Set once per worker process by ``serving.main.build_app`` from the settings
    # (``request_read_seconds``), before the first connection.
    read_seconds: float = 30.0
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None:  # the next request on a kept-alive connection
            self._arm()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def on_response_complete(self) -> None:
        self._disarm()  # answered before the body was read (no key, too large)
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.read_seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        # A kept-alive connection still holds its previous request's cycle, answered.
        cycle = self.cycle
        answering = cycle is not None and cycle.response_started and not cycle.response_complete
        if not answering:
            self.transport.write(TIMED_OUT)
        client = f"{self.client[0]}:{self.client[1]}" if self.client else "a client"
        logger.warning("%s did not send its request within %s s: closed", client, self.read_seconds)
        self.transport.close()
