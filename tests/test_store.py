"""The schema is built by numbered, frozen migrations only; a database of an earlier version is brought up to date
and read back. ``data/demo-schema4.db`` is a demo database written by the release whose schema was version 4."""

import dataclasses
import json
import os
import shutil
import sqlite3
from pathlib import Path

import sqlite_utils
from click.testing import CliRunner

from crawler.cli import main
from crawler.observations import CookieObs, RequestObs
from crawler.store import queries
from crawler.store.queries import OBSERVATION_TYPES
from crawler.store.schema import MIGRATIONS, migrate, schema_version
from crawler.store.writer import Store
from report_normalise import normalise

SCHEMA_4_DB = Path(__file__).with_name("data") / "demo-schema4.db"
# Its JSON report as that release wrote it (normalised as in test_e2e_demo_report_unchanged).
SCHEMA_4_REPORT = Path(__file__).with_name("data") / "demo-schema4.report.normalised.json"


def columns(db_path, table):
    with sqlite3.connect(db_path) as conn:
        return [(row[1], row[2]) for row in conn.execute(f"pragma table_info({table})")]


def schema(db_path) -> dict[str, list]:
    """Every table's and index's columns, in order, with their declared types."""
    with sqlite3.connect(db_path) as conn:
        objects = conn.execute(
            "select type, name, tbl_name from sqlite_master where name not like 'sqlite_%'"
        ).fetchall()
        described = {}
        for kind, name, table in objects:
            if kind == "table":
                described[name] = [tuple(row[1:]) for row in conn.execute(f"pragma table_info([{name}])")]
                described[f"{name} foreign keys"] = sorted(
                    tuple(row[2:5]) for row in conn.execute(f"pragma foreign_key_list([{name}])")
                )
            else:
                described[f"{kind} {name} on {table}"] = [
                    row[2] for row in conn.execute(f"pragma index_info([{name}])")
                ]
        return described


def old_database(tmp_path) -> Path:
    path = tmp_path / "results" / "demo.db"
    path.parent.mkdir()
    shutil.copy(SCHEMA_4_DB, path)
    return path


def test_a_new_database_has_every_observation_field_as_a_column(tmp_path):
    store = Store(tmp_path / "a.db")
    assert schema_version(store.db) == len(MIGRATIONS)
    for obs_type in OBSERVATION_TYPES:
        fields = {f.name for f in dataclasses.fields(obs_type)}
        assert fields <= {name for name, _ in columns(tmp_path / "a.db", obs_type.table)}, obs_type.table


def test_the_migrations_build_exactly_the_tables_a_database_of_schema_4_has(tmp_path):
    path = tmp_path / "fresh.db"
    db = sqlite_utils.Database(path)
    for number, migration in enumerate(MIGRATIONS[:4], start=1):
        migration(db)
        db.execute(f"pragma user_version = {number}")
    db.conn.commit()
    assert schema(path) == schema(SCHEMA_4_DB)


def test_a_database_of_the_first_schema_is_migrated(tmp_path):
    path = tmp_path / "old.db"
    db = sqlite_utils.Database(path)
    MIGRATIONS[0](db)
    db.execute("pragma user_version = 1")
    db.conn.commit()
    assert "forms" not in dict(columns(path, "pages")) and "manifest_sha256" not in dict(columns(path, "runs"))
    migrate(db)
    assert "forms" in dict(columns(path, "pages")) and db["verdicts"].exists()
    assert schema_version(db) == len(MIGRATIONS)
    Store(tmp_path / "new.db").close()
    assert schema(path) == schema(tmp_path / "new.db")


def test_a_database_of_schema_4_opens_migrates_and_is_read_back(tmp_path):
    path = old_database(tmp_path)
    store = Store(path)
    assert schema_version(store.db) == len(MIGRATIONS)
    Store(tmp_path / "new.db").close()
    assert schema(path) == schema(tmp_path / "new.db")
    run = queries.run(store, 1)
    assert (run["mode"], run["status"]) == ("demo", "complete")
    requests = list(queries.observations(store, RequestObs, 1, "brightpath"))
    assert requests and all(isinstance(obs.is_navigation, bool) for _, obs in requests)
    cookies = [obs for _, obs in queries.observations(store, CookieObs, 1)]
    assert any(cookie.session for cookie in cookies) and all(isinstance(c.secure, bool) for c in cookies)
    findings = queries.findings(store, 1)
    assert len(findings) == 26 and {row["vendor_id"] for row in findings} == {"leakyquiz"}  # BrightPath is clean


def test_findings_and_the_json_report_of_a_schema_4_database(tmp_path):
    path = old_database(tmp_path)
    before = path.read_bytes()
    runner = CliRunner()
    findings = runner.invoke(main, ["findings", "--db", str(path)])
    assert findings.exit_code == 0, findings.output
    assert findings.output.startswith("Run 1 (demo, ")
    assert "LeakyQuiz [leakyquiz]" in findings.output and "VIOLATION" in findings.output
    out = tmp_path / "report.json"
    report = runner.invoke(main, ["report", "--db", str(path), "--format", "json", "--out", str(out)])
    assert report.exit_code == 0, report.output
    document = json.loads(out.read_text(encoding="utf-8"))
    assert len(document["vendors"]) == 2
    # that demo ran without a filter list: the report says trackers were known by the built-in knowledge only
    assert "built-in knowledge base only" in document["run"]["knowledge_warning"]
    actual = normalise(document)
    if os.environ.get("TRACKAUDIT_REGENERATE_GOLDEN"):  # a deliberate change of the report, reviewed like code
        SCHEMA_4_REPORT.write_text(
            json.dumps(actual, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8"
        )
    assert actual == json.loads(SCHEMA_4_REPORT.read_text(encoding="utf-8"))
    # read-only commands upgrade an older database in a copy in memory: the file itself is left as it was
    assert path.read_bytes() == before
    with sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True) as conn:  # the WAL included
        assert conn.execute("pragma user_version").fetchone()[0] == 4


def test_the_datasette_queries_run_on_a_schema_4_database(tmp_path):
    store = Store(old_database(tmp_path))
    lifetimes = {}
    for name, query in queries.DATASETTE_QUERIES.items():
        params = {"finding_id": 1} if ":finding_id" in query["sql"] else {}
        rows = list(store.db.query(query["sql"], params))
        assert rows, name
        if name == "cookie_lifetimes":
            lifetimes = {(r["vendor_id"], r["name"], r["domain"], r["phase"]): r["lifetime_days"] for r in rows}
    # the SQL counts a lifetime as CookieObs.lifetime_days does
    phase_end = {
        (p["audit_id"], p["phase"]): p["finished_at"] or p["started_at"] for p in queries.run_rows(store, "phases", 1)
    }
    cookies = list(queries.persistent_cookies(store, 1))
    assert len(cookies) == len(lifetimes) > 0
    for prov, cookie in cookies:
        days = cookie.lifetime_days(phase_end[(prov["audit_id"], prov["phase"])])
        assert lifetimes[(prov["vendor_id"], cookie.name, cookie.domain, prov["phase"])] == round(days, 1)


def test_a_removal_check_recorded_in_words_gets_its_result_as_columns(tmp_path):
    """Before phases had a result, the removal check's replay said it in the message."""
    import sqlite_utils

    path = tmp_path / "old.db"
    db = sqlite_utils.Database(path)
    for migration in MIGRATIONS[:4]:
        migration(db)
    db["phases"].insert_all(
        [
            {
                "phase": "removal-replay",
                "outcome": "complete",
                "message": "the saved browser state opened the account's pages at https://app.q.test/home",
            },
            {"phase": "removal-replay", "outcome": "complete", "message": None},
            {"phase": "crawl", "outcome": "error", "message": "TimeoutError: the saved browser state opened"},
        ]
    )
    db.execute("pragma user_version = 4")
    db.conn.commit()
    migrate(db)
    assert [(r["result"], r["result_url"]) for r in db.query("select result, result_url from phases order by id")] == [
        ("recognised", "https://app.q.test/home"),
        (None, None),
        (None, None),
    ]
