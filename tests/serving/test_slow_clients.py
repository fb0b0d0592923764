"""A client that sends its request a byte at a time (slowloris) is answered 408 and
closed once ``request_read_seconds`` have passed, whether it stalls in the headers or
in the body; a request read whole in time is answered however long the route takes, and
a kept-alive connection's next request has a deadline of its own. A real uvicorn server
on a loopback port, with the service's protocol; the route is a small one that reads
the body, since the protocol does not know the application."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from earlywarn.serving.slow_clients import DeadlineProtocol
from tests.serving.helpers import free_port

DEADLINE = 0.6
seen: list[str] = []


async def _echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Reads the whole body, waits if asked (?slow), answers its length."""
    if scope["type"] != "http":
        return
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            seen.append("disconnect")
            return
        size += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    if scope["query_string"] == b"slow":
        await asyncio.sleep(DEADLINE * 2)
    body = str(size).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(body)).encode())]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})


class _Protocol(DeadlineProtocol):
    read_seconds = DEADLINE


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    free = free_port()
    config = uvicorn.Config(_echo, host="127.0.0.1", port=free, http=_Protocol, log_level="error",
                            lifespan="off")  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    yield free
    server.should_exit = True
    thread.join(timeout=10)


def _talk(port: int, parts: list[bytes], pause: float = 0.0) -> bytes:
    """Send the parts with ``pause`` seconds between them; everything the server said
    until it closed (or 5 s of silence)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        for part in parts:
            try:
                connection.sendall(part)
            except OSError:  # closed by the server while we dawdled
                break
            time.sleep(pause)
        said = b""
        while True:
            try:
                chunk = connection.recv(4096)
            except (TimeoutError, ConnectionResetError):
                break
            if not chunk:
                break
            said += chunk
    return said


def test_headers_sent_a_byte_at_a_time_are_cut_off(port: int) -> None:
    started = time.monotonic()
    said = _talk(port, [b"GET / HTTP/1.1\r\n", b"Host: x\r\n", b"X-A: 1\r\n", b"X-B: 2\r\n"],
                 pause=DEADLINE / 2)  # fmt: skip
    assert said.startswith(b"HTTP/1.1 408 "), said
    assert "请求接收超时".encode() in said
    assert time.monotonic() - started < 5


def test_a_body_that_never_ends_is_cut_off_and_the_route_sees_the_client_gone(
    port: int,
) -> None:
    seen.clear()
    head = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"
    said = _talk(port, [head, b"x" * 10, b"x" * 10, b"x" * 10, b"x" * 10], pause=DEADLINE / 2)
    assert said.startswith(b"HTTP/1.1 408 "), said
    for _ in range(50):
        if seen:
            break
        time.sleep(0.05)
    assert seen == ["disconnect"]


def test_a_request_read_in_time_is_answered_however_long_it_takes(port: int) -> None:
    said = _talk(port, [b"POST /?slow HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                        b"Connection: close\r\n\r\nabc"])  # fmt: skip
    assert said.startswith(b"HTTP/1.1 200 ") and said.endswith(b"\r\n\r\n3"), said


def test_a_kept_alive_connection_has_a_deadline_per_request(port: int) -> None:
    """The second request starts after the first's deadline would have passed: it is
    answered; a third that stalls is cut off."""
    first = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    said = _talk(port, [first, first, b"GET / HTTP/1.1\r\n"], pause=DEADLINE * 1.5)
    assert said.count(b"HTTP/1.1 200 ") == 2 and b"HTTP/1.1 408 " in said, said
