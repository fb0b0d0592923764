"""``/docs``: the API described on one page drawn here from its OpenAPI document.

FastAPI's own page loads Swagger UI from a CDN: blank on an office network without the
internet, and, online, a third party's script running on the same origin as the office
page. This one has no script; ``/openapi.json`` is the document for tools.
"""

from __future__ import annotations

import html
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

_STYLE = (
    "body{font-family:system-ui,'Noto Sans CJK SC',sans-serif;max-width:60em;margin:1em auto;"
    "padding:0 1em;color:#1f2933}code,pre{background:#f3f5f7;padding:.1em .3em}"
    "pre{padding:.6em;overflow-x:auto}h2{border-top:1px solid #d9e2ec;padding-top:.6em}"
    "table{border-collapse:collapse}td,th{border:1px solid #d9e2ec;padding:.2em .5em;"
    "text-align:left;vertical-align:top}"
)


def _e(value: object) -> str:
    return html.escape(str(value))


def _schema_name(schema: dict[str, Any]) -> str:
    ref = schema.get("$ref") or schema.get("items", {}).get("$ref", "")
    return ref.rsplit("/", 1)[-1] if ref else str(schema.get("type", ""))


def _meaning(parameter: dict[str, Any]) -> str:
    return str(parameter.get("description") or parameter.get("schema", {}).get("description", ""))


def _operation(path: str, method: str, operation: dict[str, Any]) -> str:
    parts = [f"<h2><code>{_e(method.upper())} {_e(path)}</code></h2>"]
    if operation.get("summary"):
        parts.append(f"<p><strong>{_e(operation['summary'])}</strong></p>")
    if operation.get("description"):
        parts.append(f"<p>{_e(operation['description'])}</p>")
    parameters = operation.get("parameters", [])
    if parameters:
        rows = "".join(
            f"<tr><td><code>{_e(p['name'])}</code></td><td>{_e(p['in'])}</td>"
            f"<td>{'yes' if p.get('required') else 'no'}</td><td>{_e(_meaning(p))}</td></tr>"
            for p in parameters
        )
        parts.append(
            "<table><tr><th>parameter</th><th>in</th><th>required</th><th>meaning</th></tr>"
            f"{rows}</table>"
        )
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body:
        parts.append(f"<p>body: <code>{_e(_schema_name(body.get('schema', {})))}</code></p>")
        if "example" in body:
            parts.append(
                f"<pre>{_e(json.dumps(body['example'], ensure_ascii=False, indent=2))}</pre>"
            )
    answers = "".join(
        f"<li><code>{_e(code)}</code> {_e(answer.get('description', ''))}</li>"
        for code, answer in operation.get("responses", {}).items()
    )
    parts.append(f"<ul>{answers}</ul>")
    return "".join(parts)


@router.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    """Every route, its parameters, body and answers, from the app's OpenAPI document."""
    document = request.app.openapi()
    info = document.get("info", {})
    sections = [
        _operation(path, method, operation)
        for path, methods in document.get("paths", {}).items()
        for method, operation in methods.items()
    ]
    page = (
        f"<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
        f"<title>{_e(info.get('title', 'API'))}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{_e(info.get('title', ''))} API</h1><p>{_e(info.get('description', ''))}</p>"
        "<p>OpenAPI document (for tools): <a href='/openapi.json'>/openapi.json</a>. Every "
        "call but <code>/live</code>, <code>/ready</code> and <code>/metrics</code> needs "
        "an <code>X-API-Key</code> header.</p>"
        f"{''.join(sections)}</body></html>"
    )
    return HTMLResponse(page)
