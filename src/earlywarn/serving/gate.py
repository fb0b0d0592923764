"""Every HTTP call's way in and out: size and character checks, store faults, page headers,
metrics.

Plain ASGI rather than Starlette's ``BaseHTTPMiddleware``, which runs the rest of the
application in a task of its own and streams every answer back through a memory
channel. (Measured: the score API's throughput did not move measurably with it, 0.10x a
bare endpoint before and after; the work per call is elsewhere, see BENCHMARKS.md.)
"""

from __future__ import annotations

import logging
import time

from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from earlywarn.serving.api.health import ServiceMetrics
from earlywarn.serving.audit import safe_target
from earlywarn.serving.deps import HELD_BACK, audit_refusal
from earlywarn.serving.errors import (
    PAGE_PREFIX,
    PageError,
    action_of,
    unavailable,
    unprocessable,
    unsafe_characters,
)
from earlywarn.serving.store_open import is_store_fault

logger = logging.getLogger(__name__)
MAX_BODY_BYTES = 5 * 1024 * 1024
# The page draws everything itself (no script, no frame, nothing from elsewhere).
PAGE_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}
# A page holds cases: after signing out on an office's shared computer, Back must not show
# them again from the browser's cache. The style sheet and scripts may be kept.
NOT_KEPT = {"Cache-Control": "no-store"}
STATIC_PREFIX = "/office/static/"


class BodyTooLargeError(HTTPException):
    """Raised by the gate's ``receive`` once a body has grown past ``MAX_BODY_BYTES``: an
    ``HTTPException``, so that FastAPI passes it on from its body reading to the error
    handlers (any other error there becomes a 400) and the answer is a 413."""

    def __init__(self) -> None:
        super().__init__(413, f"body larger than {MAX_BODY_BYTES} bytes")


class ServiceGate:
    """Refuses a body over ``MAX_BODY_BYTES`` (413, whether it announces its length or
    comes in chunks) and a path or query no store can keep (422, audited); answers 503
    when the store fails where no handler sees it, 500 for our own bugs (logged, no
    trace); under ``/office`` answers those refusals with the page's own (``page_error``)
    and adds the page's security headers; counts and times every call by route."""

    def __init__(
        self, app: ASGIApp, metrics: ServiceMetrics, page_error: PageError | None = None
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.page_error = page_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        page = request.url.path.startswith(PAGE_PREFIX)
        answered: list[int] = []  # the status, once the answer has begun

        async def send_on(message: Message) -> None:
            if message["type"] == "http.response.start":
                answered.append(message["status"])
                if page:
                    headers = MutableHeaders(scope=message)
                    headers.update(PAGE_HEADERS)
                    if not request.url.path.startswith(STATIC_PREFIX):
                        headers.update(NOT_KEPT)
            await send(message)

        def refusal(status: int, api_answer: Response) -> Response:
            if page and self.page_error is not None:
                retry = api_answer.headers.get("retry-after")
                return self.page_error(request, status, {"Retry-After": retry} if retry else None)
            return api_answer

        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > MAX_BODY_BYTES:
            await refusal(413, _too_large())(scope, receive, send_on)
            return
        received = 0

        async def receive_counted() -> Message:
            # A chunked body announces no length: its bytes are counted as they arrive,
            # and it is refused before it is held whole in memory.
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > MAX_BODY_BYTES:
                    raise BodyTooLargeError()
            return message

        started = time.perf_counter()
        unsafe = unsafe_characters(request)
        try:
            if unsafe:
                status, headers = audit_refusal(request, 422, action_of(request))
                answer = unprocessable(unsafe) if status == 422 else _held_back(status, headers)
                await refusal(status, answer)(scope, receive, send_on)
            else:
                await self.app(scope, receive_counted, send_on)
        except BodyTooLargeError:  # read where no handler sees it
            if answered:
                raise
            await refusal(413, _too_large())(scope, receive, send_on)
        except Exception as error:
            if is_store_fault(error):  # the store, raised where no handler sees it
                if answered:
                    raise
                await refusal(503, unavailable(request, error))(scope, receive, send_on)
            else:  # our bug: log it, answer without a trace
                logger.exception("unhandled error on %s", safe_target(request.url.path))
                if answered:
                    raise
                internal = JSONResponse({"detail": "internal error"}, status_code=500)
                await refusal(500, internal)(scope, receive, send_on)
        name = getattr(scope.get("route"), "path", "unmatched")
        self.metrics.requests.labels(name, str(answered[0] if answered else 500)).inc()
        self.metrics.latency.labels(name).observe(time.perf_counter() - started)


def _held_back(status: int, headers: dict[str, str] | None) -> JSONResponse:
    """A refusal without a key answered as the back-off says (429 while the address
    waits), or 503 when the store could not record it."""
    detail = HELD_BACK if status == 429 else "the store is unavailable; try again shortly"
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def _too_large() -> JSONResponse:
    return JSONResponse({"detail": BodyTooLargeError().detail}, status_code=413)
