"""How the service answers what goes wrong: client errors that name the field and never
echo a value, storage faults as 503 with ``Retry-After``, and refusals in the audit log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from earlywarn.serving.audit import safe_target
from earlywarn.serving.deps import (
    HELD_BACK,
    NO_KEY,
    RETRY_SECONDS,
    audit_refusal,
    needs_a_key,
)
from earlywarn.serving.store import store_cause
from earlywarn.serving.store_open import is_store_fault

logger = logging.getLogger(__name__)
_LOC_PART = 64  # characters of a location part kept (a key in a body may be anything)
STORE_UNAVAILABLE = "the store is unavailable; try again shortly"
PAGE_PREFIX = "/office"  # the office page's addresses: answered with pages, not JSON
# How the office page answers a refusal made before or outside its routes: (the request,
# the status, headers to keep such as Retry-After) -> a page in the reader's language.
PageError = Callable[[Request, int, Mapping[str, str] | None], Response]


def field_error(loc: list[str | int], message: str, kind: str = "value_error") -> dict[str, Any]:
    """One item of a 422 body, in FastAPI's documented shape."""
    return {"loc": loc, "msg": message, "type": kind}


def unprocessable(errors: list[dict[str, Any]]) -> JSONResponse:
    return JSONResponse({"detail": errors}, status_code=422)


def _plain_part(part: object) -> str | int:
    if isinstance(part, int):
        return part
    text = "".join(
        c if c.isprintable() and not 0xD800 <= ord(c) <= 0xDFFF else "?" for c in str(part)
    )
    return text[:_LOC_PART]


def _plain_message(message: str) -> str:
    """Pydantic's message without the value it may quote (``Value error, ...`` keeps the
    rule; a quoted input never comes back)."""
    return message.split(": '", 1)[0][:300]


# What the integrator should send, after pydantic's rule, in both languages: its words
# say what is wrong ("invalid date separator"), not what is expected.
_MOMENT_HINT = "expected ISO 8601, e.g. 2025-03-04T09:30:00+08:00 (时间应为 ISO 8601 格式)"
_HINTS = {
    "datetime_from_date_parsing": _MOMENT_HINT,
    "datetime_parsing": _MOMENT_HINT,
    "datetime_type": _MOMENT_HINT,
    "extra_forbidden": "not a field of this request: see /docs (不是该请求的字段，请核对字段名)",
    "missing": "required (必填)",
    "int_parsing": "expected a whole number, not text (应为整数)",
    "int_from_float": "expected a whole number (应为整数)",
    "int_type": "expected a whole number (应为整数)",
    "model_attributes_type": "expected a JSON object; send the body as Content-Type: "
    "application/json, in UTF-8 (请求体应为 UTF-8 编码的 JSON 对象)",
    "dict_type": "expected a JSON object (应为 JSON 对象)",
}


def validation_errors(error: RequestValidationError) -> list[dict[str, Any]]:
    """Where and which rule, never the input: a 1 MB value, an ID number or a NaN that
    JSON cannot carry must not come back in the answer; with what is expected, where
    pydantic's words say only what is wrong."""
    found = []
    for item in error.errors():
        kind = str(item.get("type", "value_error"))
        message = _plain_message(str(item.get("msg", "invalid")))
        hint = _HINTS.get(kind)
        found.append(
            field_error(
                [_plain_part(part) for part in item.get("loc", ())],
                f"{message}; {hint}" if hint else message,
                kind,
            )
        )
    return found


def install_error_handlers(app: FastAPI, page_error: PageError | None = None) -> None:
    """JSON answers for the API; under ``PAGE_PREFIX`` the page's own (``page_error``)."""

    def on_page(request: Request) -> PageError | None:
        return page_error if request.url.path.startswith(PAGE_PREFIX) else None

    def refused(request: Request, body: Callable[[], Response]) -> Response:
        """A call refused before its route ran: audited, and answered with ``body`` (a
        422), unless its route needs a key the caller did not show."""
        status, headers = audit_refusal(request, 422, action_of(request), needs_a_key(request))
        if (page := on_page(request)) is not None:
            return page(request, status, headers)
        if status == 422:
            return body()
        detail = {401: NO_KEY, 429: HELD_BACK}.get(status, STORE_UNAVAILABLE)
        return JSONResponse({"detail": detail}, status, headers=headers)

    @app.exception_handler(RequestValidationError)
    def invalid_request(request: Request, error: RequestValidationError) -> Response:
        return refused(request, lambda: unprocessable(validation_errors(error)))

    @app.exception_handler(StarletteHTTPException)
    def http_error(request: Request, error: StarletteHTTPException) -> Response:
        page = on_page(request)
        if error.status_code == 400:  # an unparseable body: a 422 like any other bad body
            return refused(
                request, lambda: unprocessable([field_error(["body"], "the body cannot be parsed")])
            )
        headers = getattr(error, "headers", None)
        if page is not None:
            return page(request, error.status_code, headers)
        if error.status_code == 422 and isinstance(error.detail, str):
            return unprocessable([field_error(["body"], error.detail)])
        return JSONResponse({"detail": error.detail}, error.status_code, headers=headers)

    @app.exception_handler(DBAPIError)
    def storage_fault(request: Request, error: DBAPIError) -> Response:
        if not is_store_fault(error):  # our own bug: the gate answers 500 and logs it
            raise error
        answer = unavailable(request, error)  # logs the cause either way
        if (page := on_page(request)) is not None:
            return page(request, 503, {"Retry-After": str(RETRY_SECONDS)})
        return answer


def unavailable(request: Request, error: Exception) -> Response:
    """The store is busy, read-only or gone: say so, ask to retry, keep the process."""
    logger.error("store unavailable on %s: %s", request.url.path, store_cause(error))
    return JSONResponse(
        {"detail": STORE_UNAVAILABLE},
        status_code=503,
        headers={"Retry-After": str(RETRY_SECONDS)},
    )


def _unsafe(text: str) -> bool:
    return any(ord(c) < 32 or 0xD800 <= ord(c) <= 0xDFFF or c in _DIRECTION_OVERRIDES for c in text)


# Characters that make a text show other than it is (a case id read reversed).
_DIRECTION_OVERRIDES = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def unsafe_characters(request: Request) -> list[dict[str, Any]]:
    """Path and query values no store can keep (a NUL byte, a control character, a lone
    surrogate), refused before any route runs."""
    errors = []
    if _unsafe(request.url.path):
        errors.append(field_error(["path"], "contains a control character or a NUL byte"))
    for name, value in request.query_params.multi_items():
        if _unsafe(name) or _unsafe(value):
            errors.append(field_error(["query", _plain_part(name)], "contains a control character"))
    return errors


def action_of(request: Request) -> str:
    """An audit record's action for a call refused before or by its route: the method and
    the route's template, or before routing (the gate) the path as a target is kept
    (``safe_target``: it may hold an ID number or a NUL byte)."""
    route = request.scope.get("route")
    return f"{request.method} {getattr(route, 'path', None) or safe_target(request.url.path)}"
