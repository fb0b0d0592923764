"""The API: who may call what, the same probability on every path, errors a client can act on."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from earlywarn.contract import Dataset, load_dataset
from earlywarn.contract.rules import TARGETS, end_of_day
from earlywarn.features.build import build_features
from earlywarn.models import registry
from earlywarn.models.registry import LoadedModels
from earlywarn.models.scoring import score_table
from earlywarn.resources import sample_dataset
from earlywarn.serving.app import create_app
from earlywarn.serving.audit import audit_key, verify_chain
from earlywarn.serving.main import WARM_UP
from earlywarn.serving.scorer import Scorer
from earlywarn.serving.store import AuditRecord
from earlywarn.settings import Settings
from earlywarn.training import registry as training_registry
from tests.serving.conftest import DAY
from tests.serving.helpers import case_body


def _list_case(client: TestClient, keys: dict[str, str], band: str = "high") -> dict[str, Any]:
    page = client.get(
        f"/v1/risk-lists/{DAY}",
        params={"band": band, "county": "330211"},
        headers={"X-API-Key": keys["analyst"]},
    )
    assert page.status_code == 200, page.text
    return dict(page.json()["items"][0])


def _listed(client: TestClient, keys: dict[str, str], count: int) -> list[dict[str, Any]]:
    page = client.get(
        f"/v1/risk-lists/{DAY}",
        params={"page_size": count, "county": "330211"},
        headers={"X-API-Key": keys["analyst"]},
    )
    assert page.status_code == 200, page.text
    items = [i for i in page.json()["items"] if i["risk_band"] != "low"]
    assert items, "the test list has no medium or high case"
    return items


def test_same_scores_reasons_and_steps_on_every_path(
    client: TestClient, keys: dict[str, str], sample: Dataset, champions: LoadedModels
) -> None:
    """/v1/score, the batch route, the score file and the stored list agree on each case."""
    items = _listed(client, keys, 10)
    score_file = score_table(build_features(sample, [end_of_day(DAY)]), champions)
    for item in items:
        body = case_body(item["case_id"])
        one = client.post("/v1/score", json=body, headers={"X-API-Key": keys["case_system"]})
        assert one.status_code == 200, one.text
        batch = client.post(
            "/v1/score/batch", json={"cases": [body]}, headers={"X-API-Key": keys["case_system"]}
        )
        assert batch.status_code == 200, batch.text
        answers = [one.json(), batch.json()["results"][0]]
        (row,) = score_file.filter(pl.col("case_id") == item["case_id"]).to_dicts()
        for answer in answers:
            for target in TARGETS:
                listed = item[f"{target}_probability"]
                assert answer[target]["probability"] == pytest.approx(listed, abs=1e-9)
                assert 0 < answer[target]["probability"] < 1  # never certain
                assert row[f"{target}_probability"] == pytest.approx(listed, abs=1e-9)
            assert answer["risk_band"] == item["risk_band"] == row["risk_band"]
            assert [r["feature"] for r in answer["reasons"]] == [
                r["feature"] for r in item["reasons"]
            ]
            for given, stored in zip(answer["reasons"], item["reasons"], strict=True):
                assert given["value"] == pytest.approx(stored["value"])
                assert given["contribution"] == pytest.approx(stored["contribution"], abs=1e-9)
                for text in ("text_zh", "text_en"):
                    assert given[text] == stored[text]
            assert [(s["key"], s["unit"]) for s in answer["recommended_steps"]] == [
                (s["key"], s["unit"]) for s in item["recommended_steps"]
            ]
        in_words = "; ".join(f"{r['text_zh']} / {r['text_en']}" for r in item["reasons"])
        assert row["reasons"] == in_words
    assert any(item["recommended_steps"] for item in items)


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
    client: TestClient, keys: dict[str, str], sessions: sessionmaker[Session], settings: Settings
) -> None:
    item = _list_case(client, keys)
    done = client.post(
        f"/v1/risk-lists/{DAY}/cases/{item['case_id']}/review",
        json={"decision": "action_taken", "step": "senior_owner"},
        headers={"X-API-Key": keys["office"]},
    )
    assert done.status_code == 200, done.text
    assert done.json()["created_at"].endswith("+08:00")  # office time, as every moment
    route = f"/v1/risk-lists/{DAY}/cases/{item['case_id']}/review"
    for wrong in (
        {"decision": "dismissed", "reason": "   "},  # spaces say nothing
        {"decision": "acknowledged", "step": "dialogue"},  # a step goes with action_taken
    ):
        refused = client.post(route, json=wrong, headers={"X-API-Key": keys["office"]})
        assert refused.status_code == 422, wrong
    reviewed = client.get(
        f"/v1/risk-lists/{DAY}", params={"reviewed": True}, headers={"X-API-Key": keys["office"]}
    )
    assert item["case_id"] in {i["case_id"] for i in reviewed.json()["items"]}
    with sessions() as session:
        check = verify_chain(session, audit_key(settings, session))
    assert check.ok and check.records >= 5


def test_health_and_metrics(client: TestClient) -> None:
    assert client.get("/live").status_code == 200
    assert client.get("/ready").json()["status"] == "ready"
    metrics = client.get("/metrics").text
    assert "earlywarn_requests_total" in metrics and "earlywarn_model_info" in metrics
    # How old the data the service scores against is: alertable, as on /ready.
    line = next(
        x for x in metrics.splitlines() if x.startswith("earlywarn_context_files_timestamp")
    )
    assert float(line.split()[-1]) > 0


def test_alias_move_switches_models_and_a_failed_load_keeps_the_old(
    settings: Settings, sample: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    scorer = Scorer(settings, sample_dataset())
    scorer.load_sources(sample)
    assert scorer.refresh_models()
    before = scorer.versions
    assert not scorer.refresh_models()  # nothing moved
    client = registry.connect(settings)
    target = "collective"
    current = registry.champion_version(client, target)
    assert current is not None
    model, _ = registry.load(target, current)
    import mlflow

    rows = build_features(sample, [dt.datetime(2025, 11, 1)]).head(50)
    with mlflow.start_run():
        newer = training_registry.register(model, rows, {})
    promoted = training_registry.promote(client, target, newer, force=True, reason="reload drill")
    assert promoted.promoted
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


def test_the_export_is_the_ledger_in_either_language(
    client: TestClient, keys: dict[str, str]
) -> None:
    import io

    import openpyxl

    route = f"/v1/risk-lists/{DAY}/export"
    headers = {"X-API-Key": keys["office"]}
    for lang, rank, title in (
        ("zh", "排名", "330211 每日风险清单台账"),
        ("en", "rank", "330211 Daily"),
    ):
        answer = client.get(route, params={"format": "xlsx", "lang": lang}, headers=headers)
        assert answer.status_code == 200
        book = openpyxl.load_workbook(io.BytesIO(answer.content))
        sheet, notes = book.worksheets
        assert str(sheet["A1"].value).startswith(title) and sheet["A3"].value == rank
        meaning = str(notes["B2"].value)  # the explanation sheet in the ledger's language
        assert ("清单顺序" in meaning) if lang == "zh" else meaning.startswith("the list's order")
    csv_answer = client.get(route, params={"format": "csv", "lang": "en"}, headers=headers)
    assert csv_answer.text.lstrip("\ufeff").startswith("rank,today,case,county")
    assert (
        f'"risk-list-{DAY}-330211.csv"' in csv_answer.headers["content-disposition"]
    )  # office key
    # An analyst's export of one county's flagged rows is named as such.
    analyst = {"X-API-Key": keys["analyst"]}
    part = client.get(route, params={"county": "330211", "flag": "true"}, headers=analyst)
    assert f'"risk-list-{DAY}-330211-filtered.csv"' in part.headers["content-disposition"]


def test_every_api_route_documents_its_key_header(client: TestClient) -> None:
    """The score routes read the key on the event loop: the document still shows it."""
    spec = client.get("/openapi.json").json()
    api = [(m, p, op) for p, ops in spec["paths"].items() if p.startswith("/v1/")
           for m, op in ops.items()]  # fmt: skip
    assert any(p == "/v1/score" for _, p, _ in api)
    for method, path, operation in api:
        names = [parameter["name"].lower() for parameter in operation.get("parameters", [])]
        assert "x-api-key" in names, (method, path)


def test_a_score_while_the_models_load_is_refused_503_and_audited(
    settings: Settings, sessions: sessionmaker[Session], keys: dict[str, str]
) -> None:
    loading = TestClient(create_app(Scorer(settings, None), sessions))
    case_id = str(load_dataset(sample_dataset()).cases["case_id"][0])
    answer = loading.post(
        "/v1/score", json=case_body(case_id), headers={"X-API-Key": keys["case_system"]}
    )
    assert answer.status_code == 503 and "loading" in answer.json()["detail"]
    with sessions() as session:
        last = session.scalars(select(AuditRecord).order_by(AuditRecord.id.desc())).first()
    assert last is not None and (last.action, last.target, last.result) == (
        "score", case_id, "refused 503"
    )  # fmt: skip


def test_the_service_reads_its_dataset_again_when_the_files_change(
    settings: Settings, tmp_path: Path
) -> None:
    """The context (the county's recent group visits, the calendar) was read once at
    start-up: after a night's import the scores drifted from the stored list until the
    service was restarted. A change of the dataset's files is now read on the next look;
    a file caught half written keeps the context that serves."""
    import shutil

    data = tmp_path / "data"
    shutil.copytree(sample_dataset(), data)
    scorer = Scorer(settings, data)
    scorer.load_sources()
    before, read = scorer.sources, scorer.sources_read
    assert before is not None and set(read) == {"read_at", "files_modified"}
    assert not scorer.refresh_sources()  # nothing changed
    contacts = data / "contacts.csv"
    lines = contacts.read_text(encoding="utf-8").splitlines()
    kept = contacts.read_bytes()
    contacts.write_text("\n".join(lines[:-5]) + "\n", encoding="utf-8")
    assert scorer.refresh_sources()
    assert scorer.sources is not before
    assert scorer.dataset is not None and scorer.dataset.contacts.height == len(lines) - 6
    serving = scorer.sources
    contacts.write_text('contact_id,case_id\n"never closed\n', encoding="utf-8")
    with pytest.raises(Exception):  # noqa: B017 - whatever the reader raises, it is said
        scorer.refresh_sources()
    assert scorer.sources is serving  # the context that served still serves
    contacts.write_bytes(kept)
    assert scorer.refresh_sources() and scorer.dataset.contacts.height == len(lines) - 1


def test_a_part_added_to_a_table_in_parts_is_read_again(settings: Settings, tmp_path: Path) -> None:
    """A table written in parts (Spark's ``contacts.parquet/part-*``): a new part is a
    change of the dataset's files like any other."""
    import shutil

    data = tmp_path / "data"
    shutil.copytree(sample_dataset(), data)
    contacts = load_dataset(data).contacts.with_columns(pl.col(pl.Enum).cast(pl.String))
    (data / "contacts.csv").unlink()
    (data / "contacts.parquet").mkdir()
    contacts.head(-5).write_parquet(data / "contacts.parquet" / "part-00000.parquet")
    scorer = Scorer(settings, data)
    scorer.load_sources()
    assert scorer.dataset is not None and scorer.dataset.contacts.height == contacts.height - 5
    assert not scorer.refresh_sources()
    contacts.tail(5).write_parquet(data / "contacts.parquet" / "part-00001.parquet")
    assert scorer.refresh_sources() and scorer.dataset.contacts.height == contacts.height


def test_a_category_filter_is_a_code_or_a_name_and_nothing_else(
    client: TestClient, keys: dict[str, str]
) -> None:
    """category=nonsense answered 200 with no cases, as if the list held none."""
    route, headers = f"/v1/risk-lists/{DAY}", {"X-API-Key": keys["analyst"]}
    coded = client.get(route, params={"category": "land_requisition"}, headers=headers)
    named = client.get(route, params={"category": "征地补偿"}, headers=headers)
    assert coded.status_code == named.status_code == 200
    assert coded.json()["total"] == named.json()["total"] > 0
    wrong = client.get(route, params={"category": "nonsense"}, headers=headers)
    assert wrong.status_code == 422
    assert wrong.json()["detail"][0]["loc"] == ["query", "category"]
    # band=high&band=medium answered the medium band alone, without a word.
    twice = client.get(f"{route}?band=high&band=medium", headers=headers)
    assert twice.status_code == 422 and twice.json()["detail"][0]["loc"] == ["query", "band"]
    export = client.get(f"{route}/export?flag=true&flag=false", headers=headers)
    assert export.status_code == 422


def test_the_api_is_described_without_anyone_elses_script(client: TestClient) -> None:
    """FastAPI's page loaded Swagger UI from a CDN: blank offline, and a third party's
    script on the office page's origin online."""
    page = client.get("/docs")
    assert page.status_code == 200 and "<script" not in page.text and "http" not in page.text
    assert "POST /v1/score" in page.text and "/openapi.json" in page.text
    assert client.get("/redoc").status_code == 404


def test_an_unknown_list_parameter_is_refused_by_name(
    client: TestClient, keys: dict[str, str]
) -> None:
    """A typo in a filter (bnad=high) answered the whole list as if filtered, and an
    export of it went out as the part asked for."""
    headers = {"X-API-Key": keys["analyst"]}
    for path in (f"/v1/risk-lists/{DAY}?bnad=high", f"/v1/risk-lists/{DAY}/export?bnad=high"):
        refused = client.get(path, headers=headers)
        assert refused.status_code == 422, (path, refused.text[:200])
        assert ["query", "bnad"] in [e["loc"] for e in refused.json()["detail"]]
    fine = client.get(f"/v1/risk-lists/{DAY}?band=high&page=1&page_size=5", headers=headers)
    assert fine.status_code == 200, fine.text[:200]


def test_an_unknown_review_field_is_refused_by_name(
    client: TestClient, keys: dict[str, str]
) -> None:
    """A "reasons" for "reason" (or a note the route does not keep) was answered 200 and
    the words were lost without a sign."""
    item = _list_case(client, keys)
    route = f"/v1/risk-lists/{DAY}/cases/{item['case_id']}/review"
    headers = {"X-API-Key": keys["office"]}
    refused = client.post(
        route, json={"decision": "acknowledged", "note": "called"}, headers=headers
    )
    assert refused.status_code == 422, refused.text[:200]
    assert ["body", "note"] in [e["loc"] for e in refused.json()["detail"]]
    batch = client.post("/v1/score/batch", json={"cases": [], "case": {}}, headers=headers)
    assert batch.status_code == 422
    assert ["body", "case"] in [e["loc"] for e in batch.json()["detail"]]


def test_the_list_document_names_the_values_of_its_coded_fields(client: TestClient) -> None:
    """Band, category, review and change event were bare strings in /openapi.json: a
    client generated from it could not know the codes."""
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    item, change = schemas["ListItem"]["properties"], schemas["ListChange"]["properties"]
    assert item["risk_band"]["enum"] == ["high", "medium", "low"]
    assert "land_requisition" in item["category"]["enum"]
    assert item["review"]["enum"] == ["acknowledged", "action_taken", "dismissed", None]
    assert change["band_before"]["enum"] == ["high", "medium", "low", None]
    assert "new_contacts" in schemas["ChangeEvent"]["properties"]["event"]["enum"]


def test_a_list_date_is_a_date_as_lists_name_it(client: TestClient, keys: dict[str, str]) -> None:
    """A number of seconds (1735603200) and a midnight timestamp were read as a date and
    answered that day's list."""
    headers = {"X-API-Key": keys["analyst"]}
    assert client.get(f"/v1/risk-lists/{DAY}", headers=headers).status_code == 200
    seconds = int(dt.datetime.combine(DAY, dt.time(), dt.UTC).timestamp())
    for loose in (str(seconds), f"{DAY}T00:00:00", DAY.strftime("%Y%m%d")):
        for path in (f"/v1/risk-lists/{loose}", f"/v1/risk-lists/{loose}/export"):
            refused = client.get(path, headers=headers)
            assert refused.status_code == 422, (path, refused.text[:200])
            assert refused.json()["detail"][0]["loc"] == ["path", "list_date"]
            assert "YYYY-MM-DD" in refused.text and "年-月-日" in refused.text


def test_the_stored_days_are_listed_newest_first(
    client: TestClient, keys: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    """A case system had no way to learn which days have a list but to try dates."""
    headers = {"X-API-Key": keys["office"]}
    answer = client.get("/v1/risk-lists", headers=headers)
    assert answer.status_code == 200, answer.text[:200]
    lists = answer.json()["lists"]
    days = [dt.date.fromisoformat(stored["list_date"]) for stored in lists]
    assert DAY in days and days == sorted(days, reverse=True)
    first = lists[days.index(DAY)]
    assert first["as_of"].endswith("+08:00") and first["created_at"].endswith("+08:00")
    assert set(first) == {"list_date", "as_of", "model_versions", "created_at"}
    one = client.get("/v1/risk-lists", params={"limit": 1}, headers=headers).json()["lists"]
    assert one == lists[:1]
    assert client.get("/v1/risk-lists?limt=1", headers=headers).status_code == 422
    refused = client.get("/v1/risk-lists", headers={"X-API-Key": keys["case_system"]})
    assert refused.status_code == 403
    with sessions() as session:
        last = session.scalars(
            select(AuditRecord)
            .where(AuditRecord.action == "risk_list.days")
            .order_by(AuditRecord.id.desc())
        ).first()
    assert last is not None and last.result == "refused 403"


def test_one_cases_row_is_the_pages_row(client: TestClient, keys: dict[str, str]) -> None:
    """A case system showing one case's place on the day's list read pages until it
    found it. The row route answers the page's row, reasons included (computed on demand
    for a medium row beyond the capacity, which the job stores without them; none for a
    low row), for its own county only."""
    headers = {"X-API-Key": keys["office"]}
    for band in ("high", "medium", "low"):
        listed = _list_case(client, keys, band)
        row = client.get(f"/v1/risk-lists/{DAY}/cases/{listed['case_id']}", headers=headers)
        assert row.status_code == 200, row.text[:200]
        assert row.json() == listed
        assert bool(row.json()["reasons"]) is (band != "low"), band
    case = f"/v1/risk-lists/{DAY}/cases/{listed['case_id']}"
    assert client.get(case, headers={"X-API-Key": keys["other_office"]}).status_code == 404
    assert client.get(case, headers={"X-API-Key": keys["case_system"]}).status_code == 403
    assert (
        client.get(f"/v1/risk-lists/{DAY}/cases/no-such-case", headers=headers).status_code == 404
    )
    assert client.get(f"{case}?band=high", headers=headers).status_code == 422
