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
