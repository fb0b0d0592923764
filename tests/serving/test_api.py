"""The API: who may call what, the same probability on every path, errors a client can act on."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from earlywarn.contract import load_dataset
from earlywarn.resources import sample_dataset
from earlywarn.serving.access import verify_chain
from earlywarn.serving.main import WARM_UP
from earlywarn.serving.scorer import Scorer
from earlywarn.serving.store import AuditRecord
from earlywarn.settings import Settings
from tests.serving.helpers import case_body

pytestmark = pytest.mark.slow
DAY = dt.date(2025, 10, 31)


def _list_case(client: TestClient, keys: dict[str, str], band: str = "high") -> dict[str, Any]:
    page = client.get(
        f"/v1/risk-lists/{DAY}",
        params={"band": band, "county": "330211"},
        headers={"X-API-Key": keys["analyst"]},
    )
    assert page.status_code == 200, page.text
    return dict(page.json()["items"][0])


def test_same_probability_on_every_path(client: TestClient, keys: dict[str, str]) -> None:
    item = _list_case(client, keys)
    body = case_body(item["case_id"])
    one = client.post("/v1/score", json=body, headers={"X-API-Key": keys["case_system"]})
    assert one.status_code == 200, one.text
    batch = client.post(
        "/v1/score/batch", json={"cases": [body, body]}, headers={"X-API-Key": keys["case_system"]}
    )
    assert batch.status_code == 200, batch.text
    for target in ("escalation", "collective"):
        listed = item[f"{target}_probability"]
        assert abs(one.json()[target]["probability"] - listed) < 1e-9
        assert abs(batch.json()["results"][1][target]["probability"] - listed) < 1e-9
    answer = one.json()
    assert answer["risk_band"] == "high" and answer["recommended_steps"]
    assert answer["escalation"]["reasons"] or answer["collective"]["reasons"]


ROUTES = [
    ("post", "/v1/score", {"case_system", "analyst", "admin"}),
    ("get", f"/v1/risk-lists/{DAY}", {"office", "analyst", "admin"}),
    ("get", f"/v1/risk-lists/{DAY}/export", {"office", "analyst", "admin"}),
    ("post", "review", {"office", "admin"}),
]


@pytest.mark.parametrize(("method", "route", "allowed"), ROUTES)
def test_authorization_matrix(
    client: TestClient, keys: dict[str, str], method: str, route: str, allowed: set[str]
) -> None:
    item = _list_case(client, keys, band="medium")
    body: dict[str, Any] | None = None
    if route == "/v1/score":
        body = case_body(item["case_id"])
    if route == "review":
        route = f"/v1/risk-lists/{DAY}/cases/{item['case_id']}/review"
        body = {"decision": "acknowledged"}
    call = getattr(client, method)

    def status(key: str | None) -> int:
        headers = {"X-API-Key": key} if key else {}
        response = call(route, headers=headers, **({"json": body} if body is not None else {}))
        return int(response.status_code)

    assert status(None) == 401
    assert status("ew_not-a-key") == 401
    for role in ("case_system", "office", "analyst", "admin"):
        assert (status(keys[role]) == 200) == (role in allowed), role
        if role not in allowed:
            assert status(keys[role]) == 403
    if "office" in allowed and route != "/v1/score":
        # Another county's office: the case or list is not found for it.
        other = status(keys["other_office"])
        assert other == (404 if "review" in route else 200)


def test_office_sees_only_its_county(client: TestClient, keys: dict[str, str]) -> None:
    page = client.get(
        f"/v1/risk-lists/{DAY}", params={"page_size": 500}, headers={"X-API-Key": keys["office"]}
    )
    assert {item["county_code"] for item in page.json()["items"]} == {"330211"}
    refused = client.get(
        f"/v1/risk-lists/{DAY}", params={"county": "330212"}, headers={"X-API-Key": keys["office"]}
    )
    assert refused.status_code == 404


def test_client_errors_name_the_field(
    client: TestClient, keys: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    item = _list_case(client, keys)
    body = case_body(item["case_id"])
    body["contacts"][0]["level"] = "moon"
    bad = client.post("/v1/score", json=body, headers={"X-API-Key": keys["case_system"]})
    assert bad.status_code == 422
    assert ["body", "contacts", 0, "level"] in [error["loc"] for error in bad.json()["detail"]]
    too_many = client.post(
        "/v1/score/batch",
        json={"cases": [WARM_UP.model_dump(mode="json")] * 6},
        headers={"X-API-Key": keys["admin"]},
    )
    assert too_many.status_code == 413 and "cases" in too_many.text
    far = case_body(item["case_id"]) | {"as_of": "1990-01-01T00:00:00"}
    out_of_range = client.post("/v1/score", json=far, headers={"X-API-Key": keys["analyst"]})
    assert out_of_range.status_code == 422
    assert out_of_range.json()["detail"][0]["loc"] == ["body", "as_of"]
    with sessions() as session:  # refused score calls are audited too
        results = {
            (r.action, r.result)
            for r in session.scalars(select(AuditRecord).order_by(AuditRecord.id.desc()).limit(5))
        }
    assert {("score_batch", "refused 413"), ("score", "refused 422")} <= results
    review = client.post(
        f"/v1/risk-lists/{DAY}/cases/{item['case_id']}/review",
        json={"decision": "dismissed"},
        headers={"X-API-Key": keys["admin"]},
    )
    assert review.status_code == 422
    assert (
        client.get("/v1/risk-lists/1999-01-01", headers={"X-API-Key": keys["admin"]}).status_code
        == 404
    )


def test_review_shows_on_the_list_and_everything_is_audited(
    client: TestClient, keys: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    item = _list_case(client, keys)
    done = client.post(
        f"/v1/risk-lists/{DAY}/cases/{item['case_id']}/review",
        json={"decision": "action_taken", "step": "senior_owner"},
        headers={"X-API-Key": keys["office"]},
    )
    assert done.status_code == 200, done.text
    reviewed = client.get(
        f"/v1/risk-lists/{DAY}", params={"reviewed": True}, headers={"X-API-Key": keys["office"]}
    )
    assert item["case_id"] in {i["case_id"] for i in reviewed.json()["items"]}
    with sessions() as session:
        check = verify_chain(session)
    assert check.ok and check.records >= 5


def test_health_and_metrics(client: TestClient) -> None:
    assert client.get("/live").status_code == 200
    assert client.get("/ready").json()["status"] == "ready"
    metrics = client.get("/metrics").text
    assert "earlywarn_requests_total" in metrics and "earlywarn_model_info" in metrics


def test_alias_move_switches_models_and_a_failed_load_keeps_the_old(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from earlywarn.training import registry

    scorer = Scorer(settings, sample_dataset())
    scorer.load_sources()
    assert scorer.refresh_models()
    before = scorer.versions
    assert not scorer.refresh_models()  # nothing moved
    client = registry.connect(settings)
    target = "collective"
    current = registry.champion_version(client, target)
    assert current is not None
    model, _ = registry.load(target, current)
    import mlflow

    from earlywarn.features.build import build_features

    sample = build_features(load_dataset(sample_dataset()), [dt.datetime(2025, 11, 1)]).head(50)
    with mlflow.start_run():
        newer = registry.register(model, sample, {})
    assert registry.promote(client, target, newer, force=True, reason="reload drill").promoted
    answers = scorer.score(WARM_UP)  # still answers while the alias moves
    assert answers.model_versions == before
    assert scorer.refresh_models()
    assert scorer.versions[target].endswith(f"/{newer}") and scorer.versions != before

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("artifact store unreachable")

    monkeypatch.setattr(registry, "load", broken)
    assert not scorer.refresh_models()
    assert scorer.versions[target].endswith(f"/{newer}")
    assert scorer.score(WARM_UP).model_versions == scorer.versions
