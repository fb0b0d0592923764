"""The office page's answer to a refusal made before or outside its routes: a value that
fails validation, an address with no page, a body too large, a throttled caller, a busy
store, our own bug. A page in the reader's language with the same status, as the routes answer
their own refusals (``message.html``), never the API's JSON."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import Request, Response

from earlywarn.serving.web import i18n
from earlywarn.serving.web.deps import language, render

# A word of ``page_words.WORDS`` by status; any other status is a request not understood.
_WORDS = {
    403: "forbidden",
    404: "page_not_found",
    405: "page_not_found",
    413: "too_large",
    429: "too_many_attempts",
    500: "internal_error",
    503: "store_busy",
}


def page_error(request: Request, status: int, headers: Mapping[str, str] | None) -> Response:
    """Rendered without the signed-in viewer: finding them takes the store, which may be
    the very thing failing (and the gate answers on the event loop)."""
    lang = language(request)
    message = i18n.word(_WORDS.get(status, "bad_request"), lang)
    answer = render(request, "message.html", lang, status, who=None, message=message)
    answer.headers.update(headers or {})
    return answer
