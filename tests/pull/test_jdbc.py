"""The JDBC puller of bli.benefit_payments against the real PostgreSQL: the set-up script, the
incremental pull by watermark, the extract as pulled, and refusals."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

import pytest

from kernel import contracts
from kernel.context import Context
from kernel.errors import DeliveryError
from pull import jdbc
from tests import pg as pg_helper
from tests.pg import SETUP, PgSchema

pg = pg_helper.pg

_LOADED = contracts.load(contracts.CONTRACTS_DIR / "bli" / "benefit_payments.yaml")
assert isinstance(_LOADED, contracts.FeedContract)
FEED = _LOADED
TPE = dt.timezone(dt.timedelta(hours=8))
SECRET = "not-the-real-password-7f3a9c"


def _row(pid: int, ts: dt.datetime, amount: int = 18000, remark: str | None = None,
         nid: str = "A123456789") -> tuple[object, ...]:
    return (pid, nid, "OLD_AGE", "11310", amount, "700", "00012345678901", remark, ts)


ROWS = [
    _row(3, dt.datetime(2024, 10, 25, 9, 0, 0, 500, tzinfo=TPE),
         remark="受款人王小明(A123456789)來電0912-345-678，改匯郵局帳號0001234-5678901"),
    _row(1, dt.datetime(2024, 10, 25, 9, 0, 0, 500, tzinfo=TPE)),  # the same instant as 3
    _row(2, dt.datetime(2024, 10, 26, 10, 30, tzinfo=TPE), remark=""),
    (4, "B234567890", "SURVIVOR", "11310", 5000, None, None, None,
     dt.datetime(2024, 10, 27, 1, 2, 3, 456789, tzinfo=dt.UTC)),
]


def _lines(folder: str) -> list[dict[str, object]]:
    text = (Path(folder) / "benefit_payments.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def test_the_setup_script_is_idempotent():
    for _ in range(2):
        done = subprocess.run([str(SETUP)], capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        (line,) = done.stdout.splitlines()
        assert line.startswith("benefits_db: ready: PostgreSQL ")
        assert "database benefits (owner lakehouse), table benefit_payments (" in line
        assert done.stderr == ""


def test_the_first_pull_takes_every_row_as_text_in_watermark_order(pg: PgSchema, spark, root):
    pg.insert(*ROWS)
    ctx = pg.context(spark, root)
    folder = f"{root}/pull1"
    pulled = jdbc.pull(ctx, FEED, folder, None)
    assert pulled.files == ["benefit_payments.jsonl"] and pulled.records == 4
    assert pulled.watermark == "2024-10-27T01:02:03.456789Z"
    assert pulled.source == "jdbc:postgresql://localhost:5432/benefits table benefit_payments"
    lines = _lines(folder)
    assert [r["payment_id"] for r in lines] == ["1", "3", "2", "4"]  # (updated_at, payment_id)
    assert lines[0] == {
        "payment_id": "1", "national_id": "A123456789", "benefit_type": "OLD_AGE",
        "payment_month": "11310", "amount": "18000", "bank_code": "700",
        "account_no": "00012345678901", "remark": None,
        "updated_at": "2024-10-25T01:00:00.000500Z",  # 09:00 in Taipei, as UTC text
    }
    assert lines[1]["remark"] == ROWS[0][7] and lines[2]["remark"] == ""
    assert lines[3]["bank_code"] is None and lines[3]["account_no"] is None
    assert sorted(p.name for p in Path(folder).iterdir()) == ["benefit_payments.jsonl"]


def test_a_pull_takes_exactly_the_rows_changed_since_the_watermark(pg: PgSchema, spark, root):
    pg.insert(*ROWS)
    ctx = pg.context(spark, root)
    first = jdbc.pull(ctx, FEED, f"{root}/a", "2024-10-25T01:00:00.000500Z")
    # >=: the rows of the watermark's instant come again (1 and 3), and everything after it.
    assert [r["payment_id"] for r in _lines(f"{root}/a")] == ["1", "3", "2", "4"]
    assert first.records == 4
    later = jdbc.pull(ctx, FEED, f"{root}/b", "2024-10-25T01:00:00.000501Z")
    assert [r["payment_id"] for r in _lines(f"{root}/b")] == ["2", "4"]
    # A watermark written with an offset is the same instant.
    same = jdbc.pull(ctx, FEED, f"{root}/c", "2024-10-27T09:02:03.456789+08:00")
    assert [r["payment_id"] for r in _lines(f"{root}/c")] == ["4"] and same.records == 1
    pg.execute("UPDATE benefit_payments SET amount = 0, updated_at = %s WHERE payment_id = 1",
               (dt.datetime(2024, 11, 4, 10, 0, tzinfo=TPE),))
    changed = jdbc.pull(ctx, FEED, f"{root}/d", later.watermark)
    assert [(r["payment_id"], r["amount"]) for r in _lines(f"{root}/d")] == [("4", "5000"),
                                                                             ("1", "0")]
    assert changed.watermark == "2024-11-04T02:00:00.000000Z"
    nothing = jdbc.pull(ctx, FEED, f"{root}/e", "2024-12-01T00:00:00.000000Z")
    assert nothing.records == 0 and nothing.watermark == "2024-12-01T00:00:00.000000Z"


def _refusal(ctx: Context, root: str) -> str:
    with pytest.raises(DeliveryError) as err:
        jdbc.pull(ctx, FEED, f"{root}/refused", None)
    return str(err.value)


def test_an_unreachable_database_is_refused_fast_without_the_password(pg: PgSchema, spark, root):
    ctx = pg.context(spark, root, **{jdbc.URL_ENV: "postgresql://localhost:1/benefits",
                                     jdbc.PASSWORD_ENV: SECRET})
    started = dt.datetime.now()
    reason = _refusal(ctx, root)
    assert (dt.datetime.now() - started).total_seconds() < 15
    assert reason == ("database unreachable: no connection to jdbc:postgresql://localhost:1/"
                      "benefits within 10s (SQLSTATE 08001: refused, timed out or not "
                      "accepting connections)")
    assert SECRET not in reason


def test_a_wrong_password_and_a_missing_table_are_refused(pg: PgSchema, spark, root):
    ctx = pg.context(spark, root)
    reason = _refusal(pg.context(spark, root, **{jdbc.PASSWORD_ENV: SECRET}), root)
    assert reason == ("authentication failed at jdbc:postgresql://localhost:5432/benefits for "
                      "the configured user (check the connection's user and password; "
                      "SQLSTATE 28P01)")
    assert SECRET not in reason
    pg.execute("DROP TABLE benefit_payments")
    assert _refusal(ctx, root) == ("table benefit_payments does not exist in "
                                   "jdbc:postgresql://localhost:5432/benefits (SQLSTATE 42P01)")
    pg.execute("CREATE TABLE benefit_payments (LIKE public.benefit_payments)")
    pg.execute("ALTER TABLE benefit_payments DROP COLUMN remark")
    assert _refusal(ctx, root) == ("table benefit_payments has no column remark of the "
                                   "contract (SQLSTATE 42703)")


def test_the_connection_comes_from_the_url_and_never_shows_the_password():
    db = jdbc.target({jdbc.URL_ENV: "jdbc:postgresql://db.bli.example:6543/benefits?sslmode="
                      "require", jdbc.USER_ENV: "puller", jdbc.PASSWORD_ENV: SECRET})
    assert (db.host, db.port, db.database, db.user) == ("db.bli.example", 6543, "benefits",
                                                        "puller")
    assert db.jdbc_url == "jdbc:postgresql://db.bli.example:6543/benefits?sslmode=require"
    assert SECRET not in repr(db) and SECRET not in db.jdbc_url
    inline = jdbc.target({jdbc.URL_ENV: f"postgresql://clerk:{SECRET}@10.0.0.5/benefits"})
    assert (inline.user, inline.password, inline.port) == ("clerk", SECRET, 5432)
    assert inline.where == "jdbc:postgresql://10.0.0.5:5432/benefits"
    defaults = jdbc.target({})
    assert (defaults.where, defaults.user, defaults.password, defaults.timeout) == (
        "jdbc:postgresql://localhost:5432/benefits", "lakehouse", "lakehouse", 10)
    with pytest.raises(DeliveryError, match="is not a postgresql://host:port/database URL"):
        jdbc.target({jdbc.URL_ENV: "mysql://localhost/benefits"})
    assert jdbc.target({jdbc.TIMEOUT_ENV: "3"}).timeout == 3
    with pytest.raises(DeliveryError, match="must be a positive number of seconds"):
        jdbc.target({jdbc.TIMEOUT_ENV: "soon"})


def test_the_query_is_text_only_and_refuses_an_unusable_watermark():
    sql = jdbc.select_sql(FEED, "2024-10-25T09:00:00+08:00")
    assert sql.endswith("""FROM "benefit_payments" WHERE "updated_at" >= """
                        """'2024-10-25T01:00:00.000000Z'::timestamptz """
                        """ORDER BY "updated_at", "payment_id\"""")
    assert '"amount"::text AS "amount"' in sql
    assert """to_char("updated_at" AT TIME ZONE 'UTC', """ in sql
    with pytest.raises(DeliveryError, match="the stored watermark is not an ISO-8601 timestamp"):
        jdbc.select_sql(FEED, "yesterday'; DROP TABLE benefit_payments; --")
