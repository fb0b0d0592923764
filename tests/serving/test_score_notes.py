"""What an integrator's request means is what the answer says: a misspelt field is
refused by name, a category is taken as offices write it, and what the answer must be
read with (a category read as other, actions not given, a case the list leaves out)
is in its notes, not only in a lower score."""

from __future__ import annotations

import copy
from typing import Any

from fastapi.testclient import TestClient

from earlywarn.serving.request_notes import category_code
from tests.serving.conftest import DAY
from tests.serving.helpers import a_listed_case


def _score(client: TestClient, keys: dict[str, str], body: dict[str, Any]) -> Any:
    return client.post("/v1/score", json=body, headers={"X-API-Key": keys["case_system"]})


def test_a_misspelt_or_unknown_field_is_refused_by_name(
    client: TestClient, keys: dict[str, str]
) -> None:
    """``contact`` for ``contacts`` was scored as a case without contacts."""
    body = a_listed_case(client, keys)
    misspelt = copy.deepcopy(body)
    misspelt["contact"] = misspelt.pop("contacts")
    answer = _score(client, keys, misspelt)
    assert answer.status_code == 422
    said = {tuple(d["loc"]): d["msg"] for d in answer.json()["detail"]}
    assert "not a field of this request" in said[("body", "contact")]
    slashed = copy.deepcopy(body)
    slashed["contacts"][0]["occurred_at"] = "2024/10/02 09:30"  # with what is expected
    said = {tuple(d["loc"]): d["msg"] for d in _score(client, keys, slashed).json()["detail"]}
    assert (
        "expected ISO 8601, e.g. 2025-03-04T09:30:00+08:00"
        in said[("body", "contacts", 0, "occurred_at")]
    )
    deeper = copy.deepcopy(body)
    deeper["contacts"][0]["groupsize"] = 3
    locs = [d["loc"] for d in _score(client, keys, deeper).json()["detail"]]
    assert ["body", "contacts", 0, "groupsize"] in locs
    # The contract's own columns are taken: a row's case_id (the case's), the summary.
    assert "case_id" in body["contacts"][0] and "summary" in body["case"]
    assert _score(client, keys, body).status_code == 200
    other = copy.deepcopy(body)
    other["contacts"][0]["case_id"] = "C-someone-else"
    locs = [d["loc"] for d in _score(client, keys, other).json()["detail"]]
    assert locs == [["body", "contacts", 0, "case_id"]]


def test_a_category_is_read_as_offices_write_it_and_an_unknown_one_is_said(
    client: TestClient, keys: dict[str, str]
) -> None:
    body = a_listed_case(client, keys)
    code = body["case"]["category"]
    coded = _score(client, keys, body).json()
    assert coded["notes"] == []
    named = copy.deepcopy(body)
    named["case"]["category"] = {"land_requisition": "征地补偿"}.get(code, code)
    assert category_code("征地补偿") == "land_requisition"
    by_name = _score(client, keys, named).json()
    assert by_name["escalation"] == coded["escalation"] and by_name["notes"] == []
    unknown = copy.deepcopy(body)
    unknown["case"]["category"] = "landgrab"
    said = _score(client, keys, unknown).json()["notes"]
    assert len(said) == 1 and "'landgrab'" in said[0] and "read as 'other'" in said[0]


def test_what_the_answer_must_be_read_with_is_in_its_notes(
    client: TestClient, keys: dict[str, str]
) -> None:
    body = a_listed_case(client, keys)
    without = copy.deepcopy(body)
    del without["actions"]
    notes = _score(client, keys, without).json()["notes"]
    assert any(note.startswith("actions not given") for note in notes)
    body["actions"] = []
    assert not any("actions" in note for note in _score(client, keys, body).json()["notes"])
    ended = copy.deepcopy(body)
    moment = ended["contacts"][-1]["occurred_at"]
    ended["actions"] = [{"action_id": "A-end", "occurred_at": moment, "action_type": "terminated"}]
    notes = _score(client, keys, ended).json()["notes"]
    assert any("terminated on" in note and "leaves it out" in note for note in notes)
    quiet = copy.deepcopy(body)
    quiet["as_of"] = "2029-06-01T00:00:00"  # years after the last contact, ahead of now
    notes = _score(client, keys, quiet).json()["notes"]
    assert any(note.startswith("no contact or handling step in the 365 days") for note in notes)
    assert any("is later than now" in note for note in notes)


def test_a_day_alone_as_of_is_the_moment_its_list_stands_at(
    client: TestClient, keys: dict[str, str]
) -> None:
    """ "2025-10-31" was read as its first moment: the case scored a day before the list
    of 2025-10-31, with other reasons and probabilities."""
    body = a_listed_case(client, keys)
    body["as_of"] = DAY.isoformat()
    by_day = _score(client, keys, body).json()
    body["as_of"] = "2025-11-01T00:00:00"
    by_moment = _score(client, keys, body).json()
    assert by_day["as_of"] == by_moment["as_of"] == "2025-11-01T00:00:00+08:00"
    assert by_day["escalation"] == by_moment["escalation"]
    body["as_of"] = "2025-02-30"
    answer = _score(client, keys, body)
    assert answer.status_code == 422 and ["body", "as_of"] in [
        d["loc"] for d in answer.json()["detail"]
    ]


def test_the_documented_example_scores_as_it_stands(
    client: TestClient, keys: dict[str, str]
) -> None:
    """The OpenAPI document carried no example and no word of what a probability, a flag
    or a band means; its example now works as written."""
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    (example,) = schemas["ScoreRequest"]["examples"]
    assert _score(client, keys, example).status_code == 200
    described = schemas["TargetScore"]["properties"]
    assert all(described[name].get("description") for name in ("probability", "flag", "band"))


def test_coded_values_as_offices_write_them_and_an_early_contact_is_said(
    client: TestClient, keys: dict[str, str]
) -> None:
    """来访 or 某某市信访局 for a channel or a level was refused 422 (only codes were taken);
    a contact before the case's registration was scored without a word."""
    body = a_listed_case(client, keys)
    coded = _score(client, keys, body).json()
    named = copy.deepcopy(body)
    words = {"visit": "来访", "letter": "来信", "online": "网上信访", "phone": "电话"}
    levels = {"county": "某某县信访局", "city": "某某市信访局", "province": "浙江省信访局",
              "township": "城关镇信访办", "national": "国家信访局"}  # fmt: skip
    for contact in named["contacts"]:
        contact["channel"] = words[contact["channel"]]
        contact["level"] = levels.get(contact["level"], contact["level"])
    by_name = _score(client, keys, named)
    assert by_name.status_code == 200, by_name.text
    assert by_name.json()["escalation"] == coded["escalation"]
    early = copy.deepcopy(body)
    early["contacts"][0]["occurred_at"] = "2000-01-01T09:00:00"
    notes = _score(client, keys, early).json()["notes"]
    assert any("1 contact(s) before the case's registered_at" in note for note in notes)
