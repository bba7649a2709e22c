"""The schema is built by numbered migrations only; an old database is brought up to date."""

import dataclasses
import sqlite3

from crawler.store.writer import MIGRATIONS, OBSERVATION_TYPES, Store, migrate


def columns(db_path, table):
    with sqlite3.connect(db_path) as conn:
        return {row[1] for row in conn.execute(f"pragma table_info({table})")}


def test_a_new_database_has_every_observation_field_as_a_column(tmp_path):
    store = Store(tmp_path / "a.db")
    assert store.db.execute("pragma user_version").fetchone()[0] == len(MIGRATIONS)
    for obs_type in OBSERVATION_TYPES:
        fields = {f.name for f in dataclasses.fields(obs_type)}
        assert fields <= columns(tmp_path / "a.db", obs_type.table), obs_type.table


def test_a_database_of_the_first_schema_is_migrated(tmp_path):
    import sqlite_utils

    path = tmp_path / "old.db"
    db = sqlite_utils.Database(path)
    MIGRATIONS[0](db)
    db.execute("pragma user_version = 1")
    db.conn.commit()
    assert "forms" not in columns(path, "pages")
    migrate(db)
    assert "forms" in columns(path, "pages") and db["verdicts"].exists()
    assert db.execute("pragma user_version").fetchone()[0] == len(MIGRATIONS)


def test_a_removal_check_recorded_in_words_gets_its_result_as_columns(tmp_path):
    """Before phases had a result, the removal check's replay said it in the message."""
    import sqlite_utils

    path = tmp_path / "old.db"
    db = sqlite_utils.Database(path)
    for migration in MIGRATIONS[:4]:
        migration(db)
    db["phases"].insert_all([
        {"phase": "removal-replay", "outcome": "complete",
         "message": "the saved browser state opened the account's pages at https://app.q.test/home"},
        {"phase": "removal-replay", "outcome": "complete", "message": None},
        {"phase": "crawl", "outcome": "error", "message": "TimeoutError: the saved browser state opened"}])
    db.execute("pragma user_version = 4")
    db.conn.commit()
    migrate(db)
    assert [(r["result"], r["result_url"]) for r in db.query("select result, result_url from phases order by id")] \
        == [("recognised", "https://app.q.test/home"), (None, None), (None, None)]
