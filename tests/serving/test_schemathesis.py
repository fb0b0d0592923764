"""Schemathesis against the live OpenAPI document with every check it has: no server error,
answers that keep to the document, invalid data refused, unsupported methods answered 405,
and every unauthenticated call to the API refused; once with generated dates and case
ids, once with a real list's.

Operations are driven through Hypothesis directly: schemathesis' pytest plugin does
not yet run under pytest 9.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from tests.serving.conftest import DAY

pytestmark = pytest.mark.slow


ALL_CHECKS = [
    "not_a_server_error", "status_code_conformance", "content_type_conformance",
    "response_headers_conformance", "response_schema_conformance", "negative_data_rejection",
    "positive_data_acceptance", "missing_required_header", "unsupported_method",
    "ignored_auth", "use_after_free", "ensure_resource_availability",
]  # fmt: skip


def _each_operation(
    client: TestClient,
    examples: int,
    check: Callable[[Any], None],
    real: dict[str, str] | None = None,
) -> list[str]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    schema.config.checks.update(included_check_names=ALL_CHECKS)
    # Schema-valid data the service still refuses, as the document says: a list date
    # without a list or a case not on it (404), and a case the contract's rules refuse
    # (history after as_of, duplicate ids, an as_of outside the calendar, personal data:
    # 422 naming the field). Everything else schema-valid must be accepted.
    schema.config.checks.positive_data_acceptance.expected_statuses = ["2xx", "404", "422"]
    seen = []
    for result in schema.get_all_operations():
        operation = result.ok()
        seen.append(f"{operation.method.upper()} {operation.path}")

        @given(case=operation.as_strategy())
        @settings(
            max_examples=examples,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            for name, value in (real or {}).items():
                if case.path_parameters and name in case.path_parameters:
                    case.path_parameters[name] = value
            check(case)

        run()
    return seen


def test_no_server_error_and_answers_match_the_document(
    client: TestClient, keys: dict[str, str]
) -> None:
    seen = _each_operation(
        client, 15, lambda case: case.call_and_validate(headers={"X-API-Key": keys["admin"]})
    )
    assert "POST /v1/score" in seen and "GET /v1/risk-lists/{list_date}" in seen


def test_with_a_real_list_date_and_case(client: TestClient, keys: dict[str, str]) -> None:
    page = client.get(f"/v1/risk-lists/{DAY}", headers={"X-API-Key": keys["admin"]}).json()
    real = {"list_date": DAY.isoformat(), "case_id": page["items"][0]["case_id"]}
    _each_operation(
        client,
        15,
        lambda case: case.call_and_validate(headers={"X-API-Key": keys["admin"]}),
        real,
    )


def test_every_unauthenticated_call_is_refused(client: TestClient) -> None:
    def check(case: Any) -> None:
        response = case.call()
        if case.path.startswith("/v1/"):
            status = response.status_code
            if status == 422:  # unstorable characters are refused before anything else
                assert response.json()["detail"][0]["loc"][0] in ("path", "query"), case.path
            else:
                assert status in (401, 413), (case.path, status)
        else:
            assert response.status_code < 500

    _each_operation(client, 5, check)
