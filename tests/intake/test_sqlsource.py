"""The external-database door against real second databases: an SQLite file and a PostgreSQL database."""

import os
import sqlite3

import psycopg
import pytest
from django.urls import reverse

from kiln.intake import errors, secrets, sqlsource, tasks
from kiln.intake.models import ActivityRecord, ImportBatch, SqlSource
from tests.intake.conftest import membership_of

PG_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def make_source(url, **fields) -> SqlSource:
    defaults = {"name": "中间库", "table": "carbon_monthly", "watermark_column": "id"}
    defaults.update(fields)
    return SqlSource.objects.create(
        url_encrypted=secrets.encrypt(url), url_display=secrets.masked(url), **defaults
    )


# --- SQLite -------------------------------------------------------------------------------------------


@pytest.fixture
def sqlite_file(tmp_path, world):
    path = tmp_path / "middle.db"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE carbon_monthly (id INTEGER PRIMARY KEY, xydm TEXT, yf TEXT, xm TEXT, sl REAL, dw TEXT)"
        )
        db.executemany(
            "INSERT INTO carbon_monthly (xydm, yf, xm, sl, dw) VALUES (?, ?, ?, ?, ?)",
            [
                (world.e1.credit_code, "2024-01", "raw_coal", 1200.0, "t"),
                (world.e1.credit_code, "2024-01", "diesel", 3.5, "t"),
                (world.e2.credit_code, "2024-01", "raw_coal", 800.0, "吨"),
            ],
        )
    return path


MAPPING = {"credit_code": "xydm", "period": "yf", "item": "xm", "quantity": "sl", "unit": "dw"}


def test_sqlite_sync_imports_new_rows_only(world, sqlite_file):
    source = make_source(f"sqlite:///{sqlite_file}", column_map=MAPPING)
    result = sqlsource.sync(source)
    assert result.ok and result.imported == 3
    source.refresh_from_db()
    assert source.last_watermark == "3" and source.last_status.startswith("imported 3 rows")
    batch = ImportBatch.objects.get(pk=result.batch_id)
    assert (batch.door, batch.sql_source, batch.submitted_by) == ("sql", source, None)
    assert sqlsource.sync(source) is None  # nothing new
    source.refresh_from_db()
    assert source.last_status == "no new rows"
    with sqlite3.connect(sqlite_file) as db:
        db.execute(
            "INSERT INTO carbon_monthly (xydm, yf, xm, sl, dw) VALUES (?, '2024-02', 'raw_coal', 5, 't')",
            [world.e1.credit_code],
        )
    assert sqlsource.sync(source).imported == 1
    assert ActivityRecord.objects.count() == 4


def test_sqlite_rejected_pull_does_not_advance_the_watermark(world, sqlite_file):
    with sqlite3.connect(sqlite_file) as db:
        db.execute(
            "INSERT INTO carbon_monthly (xydm, yf, xm, sl, dw) VALUES ('bad', '2024-02', 'raw_coal', 5, 't')"
        )
    source = make_source(f"sqlite:///{sqlite_file}", column_map=MAPPING)
    result = sqlsource.sync(source)
    assert not result.ok and [e["code"] for e in result.report["errors"]] == [errors.CREDIT_LENGTH]
    source.refresh_from_db()
    assert source.last_watermark == "" and source.last_status.startswith("rejected")
    assert ActivityRecord.objects.count() == 0


def test_sqlite_query_with_chinese_column_names_and_scope(world, sqlite_file):
    query = "SELECT id, xydm AS 统一社会信用代码, yf AS 月份, xm AS 项目代码, sl AS 数量, dw AS 单位 FROM carbon_monthly"
    source = make_source(
        f"sqlite:///{sqlite_file}", table="", query=query, acting_as=membership_of(world.e1_staff)
    )
    result = sqlsource.sync(source)
    assert result.report["counts"] == {errors.ENTERPRISE_OUT_OF_SCOPE: 1}  # E2's row is not E1's to send


def test_sqlite_batches_are_capped_without_splitting_a_watermark(world, sqlite_file):
    source = make_source(f"sqlite:///{sqlite_file}", column_map=MAPPING, watermark_column="yf", max_rows=2)
    frame, mark = sqlsource.pull(source)
    assert frame.height == 2 and mark == "2024-01"  # all three share 2024-01: the cap keeps them together


def test_corrections_from_the_source(world, sqlite_file):
    source = make_source(f"sqlite:///{sqlite_file}", column_map=MAPPING, corrections=True)
    sqlsource.sync(source)
    with sqlite3.connect(sqlite_file) as db:
        db.execute(
            "INSERT INTO carbon_monthly (xydm, yf, xm, sl, dw) VALUES (?, '2024-01', 'raw_coal', 1250, 't')",
            [world.e1.credit_code],
        )
    result = sqlsource.sync(source)
    assert result.ok and result.corrected == 1
    current = ActivityRecord.objects.get(enterprise=world.e1, item="raw_coal", current=True)
    assert (current.version, current.quantity) == (2, 1250)
    assert "中间库" in current.reason


def test_unreachable_source_is_recorded_not_raised(world, tmp_path):
    source = make_source(f"sqlite:///{tmp_path / 'missing.db'}")
    assert sqlsource.sync(source) is None
    source.refresh_from_db()
    assert source.last_status.startswith("error: OperationalError")


def test_only_select_queries(world, sqlite_file):
    source = make_source(f"sqlite:///{sqlite_file}", table="", query="DELETE FROM carbon_monthly")
    sqlsource.sync(source)
    source.refresh_from_db()
    assert "single SELECT" in source.last_status
    with pytest.raises(sqlsource.SourceError):
        sqlsource.check_identifier("t; DROP TABLE x")
    with sqlite3.connect(sqlite_file) as db:
        assert db.execute("SELECT count(*) FROM carbon_monthly").fetchone() == (3,)


def test_periodic_task_syncs_enabled_sources(world, sqlite_file):
    make_source(f"sqlite:///{sqlite_file}", column_map=MAPPING)
    make_source(f"sqlite:///{sqlite_file}", name="off", column_map=MAPPING, enabled=False)
    assert tasks.sync_sql_sources.call_local() == 1
    assert ImportBatch.objects.count() == 1


# --- secrets and the admin page ------------------------------------------------------------------------


def test_url_is_stored_encrypted_and_shown_masked():
    url = "postgres://carbon:s3cret-pa55@db.example.cn:5432/middle?sslmode=require"
    token = secrets.encrypt(url)
    assert "s3cret" not in token and secrets.decrypt(token) == url
    assert secrets.masked(url) == "postgres://carbon:***@db.example.cn:5432/middle"


def test_admin_page_never_shows_the_password(world, client_for, sqlite_file):
    client = client_for(world.admin)
    response = client.post(
        reverse("admin:intake_sqlsource_add"),
        {
            "name": "erp",
            "connection_url": "postgres://u:topsecret@127.0.0.1:5432/erp",
            "table": "monthly",
            "watermark_column": "id",
            "max_rows": 1000,
            "column_map": "{}",
            "enabled": "on",
            "last_watermark": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    source = SqlSource.objects.get(name="erp")
    assert source.url_display == "postgres://u:***@127.0.0.1:5432/erp"
    change = client.get(reverse("admin:intake_sqlsource_change", args=[source.pk])).content.decode()
    assert "topsecret" not in change and "***" in change
    assert "topsecret" not in client.get(reverse("admin:intake_sqlsource_changelist")).content.decode()
    # Saving without a new URL keeps the stored one.
    client.post(
        reverse("admin:intake_sqlsource_change", args=[source.pk]),
        {
            "name": "erp",
            "connection_url": "",
            "table": "monthly",
            "watermark_column": "id",
            "max_rows": 1000,
            "column_map": "{}",
            "enabled": "on",
            "last_watermark": "",
        },
    )
    source.refresh_from_db()
    assert secrets.decrypt(source.url_encrypted) == "postgres://u:topsecret@127.0.0.1:5432/erp"


def test_admin_page_is_for_staff_only(world, client_for):
    response = client_for(world.e1_staff).get(reverse("admin:intake_sqlsource_changelist"))
    assert response.status_code == 302 and "login" in response["Location"]


# --- PostgreSQL ---------------------------------------------------------------------------------------


@pytest.fixture
def pg_database(world):
    try:
        admin = psycopg.connect(PG_SERVER, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        pytest.skip("no PostgreSQL server on 127.0.0.1:5432")
    name = f"kiln_sqlsource_test_{os.getpid()}"
    admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    try:
        with psycopg.connect(url, autocommit=True) as db:
            db.execute("CREATE SCHEMA middle")
            db.execute("""CREATE TABLE middle."月度数据" (
                "统一社会信用代码" text, "月份" text, "项目代码" text, "数量" numeric, "单位" text,
                "备注" text, updated_at timestamptz NOT NULL)""")
            db.execute("CREATE SEQUENCE middle.counter")
            rows = [
                (world.e1.credit_code, "2024-01", "raw_coal", "1200.50", "t", "一月", "2024-02-03 10:00+08"),
                (world.e1.credit_code, "2024-02", "raw_coal", "1100", "t", "二月", "2024-03-03 10:00+08"),
            ]
            with db.cursor() as cursor:
                cursor.executemany('INSERT INTO middle."月度数据" VALUES (%s, %s, %s, %s, %s, %s, %s)', rows)
        yield url
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.mark.pg
def test_postgres_sync_with_timestamp_watermark(world, pg_database):
    source = make_source(pg_database, table="middle.月度数据", watermark_column="updated_at")
    # Non-ASCII identifiers are not "plain": a query maps them instead.
    assert sqlsource.sync(source) is None
    source.refresh_from_db()
    assert "plain column or table name" in source.last_status
    source.table = ""
    source.query = 'SELECT * FROM middle."月度数据"'
    source.save()
    result = sqlsource.sync(source)
    assert result.ok, result.report
    assert result.imported == 2
    source.refresh_from_db()
    assert source.last_watermark.startswith("2024-03-03T")
    assert ActivityRecord.objects.get(period="2024-01").quantity == 1200.5
    assert ActivityRecord.objects.get(period="2024-01").note == "一月"
    with psycopg.connect(pg_database, autocommit=True) as db:
        db.execute(
            """INSERT INTO middle."月度数据" VALUES (%s, '2024-03', 'raw_coal', 900, 't', '', '2024-04-02 09:00+08')""",
            [world.e1.credit_code],
        )
    assert sqlsource.sync(source).imported == 1
    assert sqlsource.sync(source) is None


@pytest.mark.pg
def test_postgres_connection_is_read_only(world, pg_database):
    source = make_source(
        pg_database, table="", watermark_column="n", query="SELECT nextval('middle.counter') AS n"
    )
    assert sqlsource.sync(source) is None
    source.refresh_from_db()
    assert "read-only transaction" in source.last_status
    with psycopg.connect(pg_database) as db:
        assert db.execute("SELECT last_value, is_called FROM middle.counter").fetchone() == (1, False)


@pytest.mark.pg
def test_postgres_wrong_password_does_not_leak(world, pg_database):
    source = make_source(
        pg_database.replace("postgres@", "nobody:hunter2@"), table="t", watermark_column="id"
    )
    sqlsource.sync(source)
    source.refresh_from_db()
    assert source.last_status.startswith("error:") and "hunter2" not in source.last_status
