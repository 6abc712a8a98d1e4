"""A small real lakehouse for the console's tests, and Airflow's own API server app around it.

The lakehouse (module scope, on the session's Spark): the household registry delivered over
two runs (the first lands two daily files with some records quarantined and is published as
``gold.person_coverage`` from the registry alone; the second delivers a file whose batch fails
its quarantine-share gate, next to a file with no name pattern, refused), run ids as Airflow
names them. The app is Airflow's (``airflow.api_fastapi.app.create_app``) with the console
mounted by the plugin manager from the package's entry point, exactly as the API server mounts
it, on the test process's own migrated SQLite database; tokens are issued by Airflow's auth
manager for users of each Airflow role.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jobs import residents_coverage
from kernel import contracts
from kernel.config import Settings
from kernel.context import Context
from kernel.records import Records
from kernel.storage import Storage
from sandbox.generate import generate
from sandbox.generate.household import IssueRates, decode_cp950
from stages.feed import run_feed
from stages.publish import publish

FEED = contracts.feed("moi.household_registry")
RUN_1 = "scheduled__2024-11-02T00:00:00+00:00"
RUN_2 = "manual__2024-12-01T08:00:00+00:00"
PUBLISH_RUN = "manual__2024-11-02T09:00:00+00:00"
PUBLISH_DAG = "publish.person_coverage"
FAILING_FILE = "MOI_HHR_20241201.csv"
KEY = "console-test-pseudonym-key-0123456789abcdef"
PERSONAL_COLUMNS = ("身分證統一編號", "姓名", "戶籍地址")  # national id, name, address (wire)


@dataclasses.dataclass(frozen=True)
class Lakehouse:
    """A storage root after two runs and a publish; the personal values it was delivered."""

    root: str
    personal: tuple[str, ...]


def _ctx(spark: Any, root: str, run_id: str, now: dt.datetime) -> Context:
    storage = Storage(spark, root)
    return Context(settings=Settings.from_env({"LAKEHOUSE_ROOT": root}), storage=storage,
                   records=Records(storage), run_id=run_id, now=now, actor="steward:test")


def _personal(root: str) -> list[str]:
    """The national ids, names and addresses of the CSV files waiting in the inbox."""
    values: list[str] = []
    for path in sorted((Path(root) / "inbox" / FEED.delivery.inbox).glob("*.csv")):
        text = decode_cp950(path.read_bytes())
        for record in csv.DictReader(io.StringIO(text, newline="")):
            values += [record[c].strip() for c in PERSONAL_COLUMNS if record.get(c)]
    return values


@pytest.fixture(scope="module")
def lakehouse(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lakehouse]:
    """The lakehouse of the module docstring; ``LAKEHOUSE_ROOT`` points at it meanwhile."""
    root = str(tmp_path_factory.mktemp("console") / "lakehouse")
    Path(root).mkdir()
    generate(Path(root), feeds=[FEED.name], persons=60, seed=21, days=2)
    personal = _personal(root)
    run_feed(_ctx(spark, root, RUN_1, dt.datetime(2024, 11, 2, 8, 0)), FEED)
    saved = {k: os.environ.get(k) for k in ("LAKEHOUSE_PSEUDONYM_KEY", "LAKEHOUSE_ROOT")}
    os.environ["LAKEHOUSE_PSEUDONYM_KEY"] = KEY
    result = publish(_ctx(spark, root, PUBLISH_RUN, dt.datetime(2024, 11, 2, 9, 0)),
                     residents_coverage.contract(), dt.date(2024, 11, 2))
    assert (result.status, result.version) == ("published", 0)
    generate(Path(root), feeds=[FEED.name], persons=60, seed=4, days=1,
             start=dt.date(2024, 12, 1), rates=IssueRates.parse(["invalid_check_digit=0.6"]))
    personal += _personal(root)
    (Path(root) / "inbox" / FEED.delivery.inbox / "notes.txt").write_text("hello")
    stages = run_feed(_ctx(spark, root, RUN_2, dt.datetime(2024, 12, 1, 8, 0)), FEED)
    assert [p.file for p in stages[2].problems] == [FAILING_FILE]
    os.environ["LAKEHOUSE_ROOT"] = root
    yield Lakehouse(root=root, personal=tuple(personal))
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    shutil.rmtree(Path(root) / "inbox", ignore_errors=True)


@dataclasses.dataclass
class Airflow:
    """Airflow's API server app in a test client, and tokens of its auth manager."""

    client: Any

    def token(self, role: str, name: str | None = None) -> str:
        """A JWT Airflow's auth manager issues to a user of Airflow role ``role``."""
        from airflow.api_fastapi.app import get_auth_manager
        from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

        user = SimpleAuthManagerUser(username=name or f"{role}-user", role=role)
        return str(get_auth_manager().generate_jwt(user))

    def get(self, path: str, role: str | None = None, **kwargs: Any) -> Any:
        """``GET path`` as a user of Airflow role ``role`` (bearer token); anonymous without."""
        headers = {"Authorization": f"Bearer {self.token(role)}"} if role else {}
        return self.client.get(path, headers=headers, follow_redirects=False, **kwargs)


@pytest.fixture(scope="module")
def airflow() -> Iterator[Airflow]:
    """Airflow's API server app (core API and UI), its database migrated, in a test client."""
    from airflow.api_fastapi.app import create_app
    from airflow.utils.db import initdb
    from fastapi.testclient import TestClient

    initdb()
    with TestClient(create_app("core")) as client:
        yield Airflow(client)
