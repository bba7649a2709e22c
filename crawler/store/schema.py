"""The database schema: numbered migrations, frozen once released.

Migration 1 spells out the tables as the first release created them; every later change is a new function
appended to ``MIGRATIONS`` (never an edit of an existing one), so a database of any earlier version is brought
up to date in order. ``PRAGMA user_version`` records how many have run.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import sqlite_utils

PROVENANCE = {"audit_id": int, "run_id": int, "vendor_id": str, "account": str, "phase": str}


def _observation_table(db: sqlite_utils.Database, table: str, columns: dict[str, type], linked: bool = False) -> None:
    """An observation table with its provenance columns; ``linked`` (tables added after migration 5, which
    linked the first ones): run, vendor and audit are foreign keys."""
    links = [("audit_id", "audits", "id")]
    if linked:
        links += [("run_id", "runs", "id"), ("vendor_id", "vendors", "id")]
    db.table(table).create({"id": int, **PROVENANCE, **columns}, pk="id", foreign_keys=links)
    db.table(table).create_index(["run_id", "vendor_id", "phase"])


def _migration_1(db: sqlite_utils.Database) -> None:
    """Runs, vendors, audits, phases, the observation tables and findings."""
    db.table("runs").create(
        {
            "id": int,
            "mode": str,
            "command": str,
            "started_at": str,
            "finished_at": str,
            "status": str,
            "tool_version": str,
            "config_path": str,
            "config_hash": str,
            "policy_name": str,
            "policy_hash": str,
            "lists": str,
            "hostname": str,
            "pid": int,
            "verdict": str,
            "message": str,
        },
        pk="id",
    )
    db.table("vendors").create(
        {
            "id": str,
            "name": str,
            "status": str,
            "start_url": str,
            "first_party": str,
            "remember_cookies": str,
            "updated_at": str,
        },
        pk="id",
    )
    db.table("audits").create(
        {
            "id": int,
            "run_id": int,
            "vendor_id": str,
            "account": str,
            "username": str,
            "started_at": str,
            "finished_at": str,
            "status": str,
            "login_outcome": str,
            "login_message": str,
            "pages_visited": int,
            "pii": str,
        },
        pk="id",
        foreign_keys=[("run_id", "runs", "id"), ("vendor_id", "vendors", "id")],
    )
    db.table("phases").create(
        {
            "id": int,
            "audit_id": int,
            "run_id": int,
            "vendor_id": str,
            "account": str,
            "phase": str,
            "started_at": float,
            "finished_at": float,
            "outcome": str,
            "message": str,
        },
        pk="id",
        foreign_keys=[("audit_id", "audits", "id")],
    )
    _observation_table(
        db,
        "requests",
        {
            "time": float,
            "method": str,
            "url": str,
            "host": str,
            "scheme": str,
            "resource_type": str,
            "frame_url": str,
            "page_url": str,
            "is_navigation": int,
            "from_service_worker": int,
            "initiator_type": str,
            "initiator_url": str,
            "request_headers": str,
            "cookie_header": str,
            "referer": str,
            "post_data": str,
            "status": int,
            "response_headers": str,
            "set_cookies": str,
            "remote_address": str,
            "tls_protocol": str,
            "tls_cipher": str,
            "failure": str,
        },
    )
    _observation_table(
        db,
        "cookies",
        {
            "name": str,
            "value": str,
            "domain": str,
            "host_only": int,
            "path": str,
            "expires": float,
            "session": int,
            "http_only": int,
            "secure": int,
            "same_site": str,
            "partition_key": str,
            "size": int,
            "source_scheme": str,
            "set_by_kind": str,
            "set_by_url": str,
        },
    )
    _observation_table(
        db,
        "storage_items",
        {
            "kind": str,
            "origin": str,
            "frame_url": str,
            "container": str,
            "key": str,
            "value": str,
            "size": int,
        },
    )
    _observation_table(
        db,
        "script_cookie_writes",
        {
            "time": float,
            "frame_url": str,
            "script_url": str,
            "cookie_string": str,
        },
    )
    _observation_table(
        db,
        "pages",
        {
            "url": str,
            "final_url": str,
            "status": int,
            "title": str,
            "depth": int,
            "started": float,
            "finished": float,
            "screenshot": str,
            "screenshot_sha256": str,
            "error": str,
        },
    )
    _observation_table(db, "errors", {"time": float, "source": str, "url": str, "message": str})
    db.table("findings").create(
        {
            "id": int,
            "run_id": int,
            "vendor_id": str,
            "account": str,
            "rule_id": str,
            "clause": str,
            "severity": str,
            "subject": str,
            "message": str,
            "evidence": str,
            "created_at": str,
        },
        pk="id",
        foreign_keys=[("run_id", "runs", "id")],
    )
    db.table("findings").create_index(["run_id", "vendor_id"])


def _migration_2(db: sqlite_utils.Database) -> None:
    """Verdicts of the jobs (pre-approval scan, post-termination check, scheduled audit), one per vendor and run."""
    db.table("verdicts").create(
        {
            "id": int,
            "run_id": int,
            "vendor_id": str,
            "job": str,
            "verdict": str,
            "reasons": str,
            "baseline_run_id": int,
            "created_at": str,
        },
        pk="id",
        foreign_keys=[("run_id", "runs", "id")],
    )
    db.table("verdicts").create_index(["run_id", "vendor_id"], unique=True)


def _migration_3(db: sqlite_utils.Database) -> None:
    """The SHA-256 of the run's evidence manifest, so an edited manifest is noticed too."""
    db.table("runs").add_column("manifest_sha256", str)


def _migration_4(db: sqlite_utils.Database) -> None:
    """The forms of each page (sign-up and login pages: what they ask a student for)."""
    db.table("pages").add_column("forms", str)


# Columns holding Unix times, per table, as migration 5 found them: its *_utc views show each in ISO 8601 UTC too.
_UNIX_TIME_COLUMNS_5 = {
    "phases": ("started_at", "finished_at"),
    "requests": ("time",),
    "cookies": ("expires",),
    "script_cookie_writes": ("time",),
    "pages": ("started", "finished"),
    "errors": ("time",),
}
# Every table's Unix-time columns (each has a NAME_utc view beside it).
UNIX_TIME_COLUMNS = {
    **_UNIX_TIME_COLUMNS_5,
    "api_calls": ("time",),
    "cname_chains": ("time",),
    "websocket_frames": ("time",),
}
# Columns derived from others of the same row (labels for browsing); the evidence digests leave them out.
DERIVED_COLUMNS = {"runs": ("label",), "audits": ("label",)}
# Columns a migration added to a table that runs were already sealed with: the evidence digests leave them out
# while they are empty, so a run sealed before the migration still verifies after it. Each migration that adds
# a column to a sealed table names it here.
LATE_COLUMNS = {
    "phases": ("result", "result_url"),
    "audits": ("coverage", "incomplete", "canaries"),
    "pages": ("failure_class", "visible_text"),
    "storage_items": ("partition_key",),
}


def _migration_5(db: sqlite_utils.Database) -> None:
    """Links and labels for browsing (Datasette): every run_id, vendor_id and audit_id is a foreign key; runs and
    audits get a label column that triggers keep filled (runs by start time and command, audits by run, vendor
    and account); a view NAME_utc beside each table with Unix times shows them in ISO 8601 UTC."""
    for table in (
        "audits",
        "phases",
        "requests",
        "cookies",
        "storage_items",
        "script_cookie_writes",
        "pages",
        "errors",
        "findings",
        "verdicts",
    ):
        existing = {fk.column for fk in db.table(table).foreign_keys}
        wanted = [
            (column, other, "id")
            for column, other in (
                ("run_id", "runs"),
                ("vendor_id", "vendors"),
                ("audit_id", "audits"),
                ("baseline_run_id", "runs"),
            )
            if column in db.table(table).columns_dict and column not in existing
        ]
        if wanted:
            db.table(table).transform(add_foreign_keys=wanted)
    labels = {
        "runs": "replace(substr(new.started_at, 1, 16), 'T', ' ') || ' UTC: ' || coalesce(new.command, new.mode)",
        "audits": "'run ' || new.run_id || ': ' || new.vendor_id || ' (' || new.account || ')'",
    }
    for table, expression in labels.items():
        db.table(table).add_column("label", str)
        db.execute(f"update {table} set label = {expression.replace('new.', '')}")
        db.execute(
            f"create trigger {table}_label after insert on {table} begin "
            f"update {table} set label = {expression} where id = new.id; end"
        )
    for table, columns in _UNIX_TIME_COLUMNS_5.items():
        _utc_view(db, table, columns)


def _utc_view(db: sqlite_utils.Database, table: str, columns: tuple[str, ...]) -> None:
    iso = ", ".join(f"strftime('%Y-%m-%dT%H:%M:%fZ', {column}, 'unixepoch') as {column}_utc" for column in columns)
    db.execute(f"create view {table}_utc as select {iso}, * from {table}")


def _migration_6(db: sqlite_utils.Database) -> None:
    """A phase's result kept structurally (``recognised`` and the URL, for the removal check's replay), not
    only in words; earlier removal checks said it in the message, which is read into the new columns."""
    db.table("phases").add_column("result", str)
    db.table("phases").add_column("result_url", str)
    said = "the saved browser state opened the account's pages at "
    db.execute(
        "update phases set result = 'recognised', result_url = substr(message, ?) "
        "where phase = 'removal-replay' and substr(message, 1, ?) = ?",
        [len(said) + 1, len(said), said],
    )


def _migration_7(db: sqlite_utils.Database) -> None:
    """Coverage: what each audit could see (phases, page visits by failure class, login) and, when it is
    incomplete, why; the failure class of each page visit; the partition (top-level site) of storage items."""
    db.table("audits").add_column("coverage", str)
    db.table("audits").add_column("incomplete", str)
    db.table("pages").add_column("failure_class", str)
    db.table("storage_items").add_column("partition_key", str)


def _migration_8(db: sqlite_utils.Database) -> None:
    """Calls to fingerprinting-prone JavaScript APIs, by calling script, page, frame and phase."""
    _observation_table(
        db,
        "api_calls",
        {
            "time": float,
            "page_url": str,
            "frame_url": str,
            "script_url": str,
            "api": str,
            "target": str,
            "detail": str,
        },
        linked=True,
    )
    _utc_view(db, "api_calls", ("time",))


def _migration_9(db: sqlite_utils.Database) -> None:
    """The canary values the behaviour probes typed into fields and planted in pages, per audit."""
    db.table("audits").add_column("canaries", str)


def _migration_10(db: sqlite_utils.Database) -> None:
    """The CNAME chains of the first-party hosts each audit contacted (CNAME-cloaked trackers)."""
    _observation_table(
        db,
        "cname_chains",
        {
            "time": float,
            "host": str,
            "chain": str,
            "resolver": str,
            "error": str,
        },
        linked=True,
    )
    _utc_view(db, "cname_chains", ("time",))


def _migration_11(db: sqlite_utils.Database) -> None:
    """The persistent first-party cookies the retention phase tested by relaunching without them: whether the
    login needed each (IV.B's login-retention exception, proven by behaviour)."""
    _observation_table(
        db,
        "retention_cookies",
        {
            "name": str,
            "domain": str,
            "path": str,
            "needed": int,
            "trial": int,
            "left_out": int,
        },
        linked=True,
    )


def _migration_12(db: sqlite_utils.Database) -> None:
    """The WebSocket frames each page sent and received, with the socket, page, frame and opening script."""
    _observation_table(
        db,
        "websocket_frames",
        {
            "time": float,
            "socket_url": str,
            "host": str,
            "page_url": str,
            "frame_url": str,
            "initiator_url": str,
            "direction": str,
            "opcode": str,
            "payload": str,
            "size": int,
            "truncated": int,
        },
        linked=True,
    )
    _utc_view(db, "websocket_frames", ("time",))


def _migration_13(db: sqlite_utils.Database) -> None:
    """The visible text of each crawled page when the DOM canary was planted (does a recorded page show PII)."""
    db.table("pages").add_column("visible_text", str)


# In order; append new migrations at the end, one per line.
MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _migration_1,
    _migration_2,
    _migration_3,
    _migration_4,
    _migration_5,
    _migration_6,
    _migration_7,
    _migration_8,
    _migration_9,
    _migration_10,
    _migration_11,
    _migration_12,
    _migration_13,
]


class NotOurDatabase(Exception):
    """The file is not a trackaudit database (another application's, or not SQLite), or a newer trackaudit's."""


def check_identity(conn: sqlite3.Connection, path: Path) -> int:
    """The schema version of a trackaudit database (0 for an empty file); refuses anything else untouched."""
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        tables = {row[0] for row in conn.execute("select name from sqlite_master where type = 'table'")}
    except sqlite3.DatabaseError as exc:
        raise NotOurDatabase(f"{path}: not a trackaudit database (not SQLite: {exc})") from None
    if version > len(MIGRATIONS):
        raise NotOurDatabase(
            f"{path}: made by a newer trackaudit (schema {version} > {len(MIGRATIONS)}); upgrade trackaudit to read it"
        )
    if (version == 0 and tables) or (version > 0 and "runs" not in tables):
        raise NotOurDatabase(
            f"{path}: not a trackaudit database (it holds other tables: "
            f"{', '.join(sorted(tables)[:5])}); it was left unchanged"
        )
    return version


def schema_version(db: sqlite_utils.Database) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite_utils.Database) -> None:
    """Bring a database to the current schema, one migration (and one transaction) at a time."""
    current = schema_version(db)
    if current > len(MIGRATIONS):
        raise NotOurDatabase(
            f"made by a newer trackaudit (schema {current} > {len(MIGRATIONS)}); upgrade trackaudit to read it"
        )
    for number, migration in enumerate(MIGRATIONS[current:], start=current + 1):
        with db.conn:
            migration(db)
            db.execute(f"PRAGMA user_version = {number}")
