"""Shared test helpers: small datasets written as files, the way offices export them."""

from __future__ import annotations

import csv
import os
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, text

from earlywarn.contract.spec import ACTIONS, CASES, CONTACTS

CASE_HEADER = list(CASES.column_names)
CONTACT_HEADER = list(CONTACTS.column_names)
ACTION_HEADER = list(ACTIONS.column_names)


# No timing assertions in tests: Hypothesis's 200 ms per example is one, and it fails
# when the two workers share the machine's cores with a training.
hypothesis_settings.register_profile("earlywarn", deadline=None)
hypothesis_settings.load_profile("earlywarn")

# `make test` runs the suite on two workers (pytest-xdist, `--dist loadfile`). A test file
# is one unit of work, so that its module fixtures are built once; files that share a
# costly session fixture form one unit (the Spark session; the sample's full training).
# Units start heaviest first, so that the two workers finish at about the same time.
# (xdist's own `xdist_group` mark does not reach the scheduler under pytest 9.2, which
# no longer reads the node id the mark rewrites: hence a scheduler of our own.)
SHARED_UNITS = {
    "tests/serving/spark/": "spark",
    "tests/training/test_training.py": "full-training",
    "tests/training/test_evaluation.py": "full-training",
}
HEAVIEST_FIRST = (
    "tests/serving/test_nightly_loop.py",
    "spark",
    "full-training",
    "tests/serving/test_model_faults.py",
    "tests/unit/test_cli.py",
    "tests/serving/test_daily.py",
    "tests/serving/test_workers.py",
)


def unit_of_work(node_id: str) -> str:
    path = node_id.split("::", 1)[0]
    return next((unit for prefix, unit in SHARED_UNITS.items() if path.startswith(prefix)), path)


def heaviness_rank(item: pytest.Item) -> int:
    unit = unit_of_work(item.nodeid)
    return HEAVIEST_FIRST.index(unit) if unit in HEAVIEST_FIRST else len(HEAVIEST_FIRST)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=heaviness_rank)  # stable: the collection's order within a rank


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class UnitScheduling(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return unit_of_work(nodeid)

    config.option.loadscopereorder = False  # keep the heaviest-first order
    return UnitScheduling(config, log)


def case_row(i: int, **changes: str) -> dict[str, str]:
    row = {
        "case_id": f"C{i:04d}",
        "petitioner_id": f"P{i:04d}",
        "registered_at": "2025-03-04T09:30:00",
        "county_code": "CTY01",
        "township_code": "TWN01",
        "category": "wage_arrears",
        "nature": "appeal",
        "responsible_unit": "U01",
        "summary": "反映拖欠工资问题",
    }
    return row | changes


def contact_row(i: int, case: int = 0, **changes: str) -> dict[str, str]:
    row = {
        "contact_id": f"K{i:04d}",
        "case_id": f"C{case:04d}",
        "occurred_at": "2025-03-05T10:00:00",
        "channel": "visit",
        "level": "county",
        "group_size": "1",
    }
    return row | changes


def action_row(i: int, case: int = 0, **changes: str) -> dict[str, str]:
    row = {
        "action_id": f"A{i:04d}",
        "case_id": f"C{case:04d}",
        "occurred_at": "2025-03-06T10:00:00",
        "action_type": "accepted",
        "unit": "U01",
        "outcome": "",
    }
    return row | changes


def write_rows(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


DatasetWriter = Callable[..., Path]


@pytest.fixture
def write_dataset(tmp_path: Path) -> DatasetWriter:
    """Write a CSV dataset; tables default to three valid cases with one contact each."""

    def write(
        cases: list[dict[str, str]] | None = None,
        contacts: list[dict[str, str]] | None = None,
        actions: list[dict[str, str]] | None = None,
        name: str = "dataset",
    ) -> Path:
        directory = tmp_path / name
        directory.mkdir(exist_ok=True)
        write_rows(
            directory / "cases.csv",
            CASE_HEADER,
            cases if cases is not None else [case_row(i) for i in range(3)],
        )
        write_rows(
            directory / "contacts.csv",
            CONTACT_HEADER,
            contacts if contacts is not None else [contact_row(i, i) for i in range(3)],
        )
        if actions is not None:
            write_rows(directory / "actions.csv", ACTION_HEADER, actions)
        return directory

    return write


def valid_id_number(first17: str = "11010519491231002") -> str:
    """A resident ID number with a correct check character (a made-up person)."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(digit) * weight for digit, weight in zip(first17, weights, strict=True))
    return first17 + "10X98765432"[total % 11]


URL_VARIABLE = "EARLYWARN_TEST_POSTGRES_URL"


@pytest.fixture()
def pg_url() -> Iterator[str]:
    """A fresh database on the test server, dropped afterwards."""
    server = os.environ.get(URL_VARIABLE)
    if not server:
        if os.environ.get("CI"):
            pytest.fail(f"{URL_VARIABLE} is not set: run the suite with `make test`")
        pytest.skip(f"{URL_VARIABLE} not set (make test starts PostgreSQL and sets it)")
    name = f"earlywarn_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


FRESH_STORE = "fresh_store"
_store_lock = threading.Lock()
_empty_stores: list[Path] = []
_make_fresh_stores: list[bool] = []  # not empty while a test marked fresh_store runs


def _empty_tracking_store(factory: pytest.TempPathFactory) -> Path:
    """An MLflow SQLite store with its tables made and nothing in it, built once a session.

    MLflow makes a new store's tables by running every one of its schema migrations:
    about 2.4 s, paid by each of the many tests that train in a work directory of their
    own. They start from a copy of this one instead, made by the same MLflow; tests
    marked ``fresh_store`` (and every subprocess) still make theirs from nothing."""
    if not _empty_stores:
        import mlflow

        path = factory.mktemp("empty-store") / "mlflow.db"
        previous = mlflow.get_tracking_uri()
        mlflow.set_tracking_uri(f"sqlite:///{path}")
        mlflow.get_experiment_by_name("no such experiment")  # makes the tables
        mlflow.set_tracking_uri(previous)
        _empty_stores.append(path)
    return _empty_stores[0]


@pytest.fixture(scope="session", autouse=True)
def _tracking_stores_from_a_copy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Session-wide, so that module- and session-scoped trainings copy too."""
    from earlywarn.models import registry

    connect = registry.connect

    def connect_from_a_copy(settings: Any) -> Any:
        uri = settings.tracking_uri
        if uri.startswith("sqlite:///") and not _make_fresh_stores:
            store = Path(uri.removeprefix("sqlite:///"))
            with _store_lock:
                if not store.exists():
                    store.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(_empty_tracking_store(tmp_path_factory), store)
        return connect(settings)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(registry, "connect", connect_from_a_copy)
        yield


@pytest.fixture(autouse=True)
def _fresh_store_when_marked(request: pytest.FixtureRequest) -> Iterator[None]:
    marked = request.node.get_closest_marker(FRESH_STORE) is not None
    if marked:
        _make_fresh_stores.append(True)
    yield
    if marked:
        _make_fresh_stores.pop()
