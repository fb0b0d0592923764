"""A store that cannot be opened or answers no more: one line from every command, the
probes say so (``/ready`` 503, ``/metrics`` still answers with ``earlywarn_store_up``
0), and a user refused by the store is a 503, not our own bug."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import sessionmaker
from typer.testing import CliRunner

from earlywarn.cli import app, main
from earlywarn.ingest.sources import shown_source
from earlywarn.serving.app import create_app
from earlywarn.serving.scorer import Scorer
from earlywarn.serving.store_open import connect_arguments, is_store_fault
from earlywarn.settings import Settings

NOTHING_LISTENS = "postgresql+psycopg://office:secret@127.0.0.1:9/cases"


@pytest.mark.parametrize(
    ("url", "hint"),
    [
        (NOTHING_LISTENS, "无法连接数据库服务器"),
        # A password given as a parameter is hidden as well as one before the host.
        ("postgresql+psycopg://office@127.0.0.1:9/cases?password=secret", "无法连接"),
        ("postgres://office@127.0.0.1:9/cases", "postgresql+psycopg://"),
    ],
)
def test_a_store_that_cannot_be_opened_is_said_in_one_line(
    url: str,
    hint: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("EARLYWARN_WORK_DIR", str(tmp_path))
    monkeypatch.setenv("EARLYWARN_DATABASE_URL", url)
    monkeypatch.setattr("sys.argv", ["earlywarn", "keys", "list"])
    with pytest.raises(SystemExit) as stopped:
        main()
    said = capsys.readouterr().err
    assert stopped.value.code == 1
    assert said.startswith("error 错误: the store ") and hint in said, said
    assert "secret" not in said and "Traceback" not in said
    assert len(said.strip().splitlines()) == 1
    # The nightly job says it its own way, and records nothing it cannot.
    nightly = CliRunner().invoke(app, ["daily", "--date", "2025-01-01", "--source", str(tmp_path)])
    assert nightly.exit_code == 1 and "could not be opened" in nightly.output
    assert "secret" not in nightly.output


def test_the_probes_say_when_the_store_is_gone(settings: Settings) -> None:
    gone = sessionmaker(create_engine("sqlite:////nonexistent-folder/earlywarn.db"))
    scorer = Scorer(settings, None)
    scorer.ready = True  # the models are not what this test is about
    client = TestClient(create_app(scorer, gone), raise_server_exceptions=False)
    ready = client.get("/ready")
    assert ready.status_code == 503 and "store is unavailable" in ready.json()["detail"]
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert "earlywarn_store_up 0.0" in metrics.text
    assert "earlywarn_requests_total" in metrics.text  # the process's own series answer


def _database_error(kind: type, sqlstate: str | None) -> Exception:
    orig = SimpleNamespace(sqlstate=sqlstate)
    return kind("INSERT INTO audit_log ...", {}, orig)  # type: ignore[no-any-return]


def test_a_user_refused_by_the_store_is_a_store_fault_not_our_bug() -> None:
    assert is_store_fault(_database_error(ProgrammingError, "42501"))  # no right to insert
    assert is_store_fault(_database_error(OperationalError, None))
    assert not is_store_fault(_database_error(ProgrammingError, "42601"))  # our bad SQL
    assert not is_store_fault(ValueError("ours"))


def test_postgresql_waits_for_a_lock_as_long_as_sqlite_and_keeps_the_urls_options() -> None:
    assert connect_arguments("sqlite:///x.db", 10) == {}
    assert connect_arguments(NOTHING_LISTENS, 2.5) == {"options": "-c lock_timeout=2500"}
    given = NOTHING_LISTENS + "?options=-csearch_path%3Dearlywarn"
    assert connect_arguments(given, 1) == {
        "options": "-csearch_path=earlywarn -c lock_timeout=1000"
    }
    assert shown_source(NOTHING_LISTENS) == "postgresql+psycopg://office:***@127.0.0.1:9/cases"
