"""The SQLite store: the one place that defines the schema, its migrations, and how rows are written.

Every observation row carries its provenance (run, vendor, account, phase) and passes through the
redactor on the way in, so no password reaches the database whatever a collector captured.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlite_utils

from .. import __version__
from ..observations import ApiCallObs, CookieObs, ErrorObs, PageObs, RequestObs, ScriptCookieWrite, StorageObs
from ..redact import Redactor

RUN_STATUSES = ("running", "complete", "incomplete", "failed")
PROVENANCE = {"audit_id": int, "run_id": int, "vendor_id": str, "account": str, "phase": str}
# The observation tables the first migration created; later ones are created by their own migration.
FIRST_OBSERVATION_TYPES = (RequestObs, CookieObs, StorageObs, ScriptCookieWrite, PageObs, ErrorObs)
OBSERVATION_TYPES = (*FIRST_OBSERVATION_TYPES, ApiCallObs)
FINDING_COLUMNS = {
    "run_id": int, "vendor_id": str, "account": str, "rule_id": str, "clause": str, "severity": str,
    "subject": str, "message": str, "evidence": str, "created_at": str,
}


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# Columns that later migrations add: the first migration must create the tables as they were then.
ADDED_BY_LATER_MIGRATIONS = {"pages": ("forms",)}


def _columns_of(obs_type) -> dict[str, type]:
    columns: dict[str, type] = {}
    for name, annotation in obs_type.__annotations__.items():
        if name in ("table", "json_fields") or name in ADDED_BY_LATER_MIGRATIONS.get(obs_type.table, ()):
            continue
        text = str(annotation)
        columns[name] = (float if "float" in text else int if ("int" in text or "bool" in text) else str)
    return columns


def _migration_1(db: sqlite_utils.Database) -> None:
    db["runs"].create({
        "id": int, "mode": str, "command": str, "started_at": str, "finished_at": str, "status": str,
        "tool_version": str, "config_path": str, "config_hash": str, "policy_name": str, "policy_hash": str,
        "lists": str, "hostname": str, "pid": int, "verdict": str, "message": str,
    }, pk="id")
    db["vendors"].create({
        "id": str, "name": str, "status": str, "start_url": str, "first_party": str, "remember_cookies": str,
        "updated_at": str,
    }, pk="id")
    db["audits"].create({
        "id": int, "run_id": int, "vendor_id": str, "account": str, "username": str, "started_at": str,
        "finished_at": str, "status": str, "login_outcome": str, "login_message": str, "pages_visited": int,
        "pii": str,
    }, pk="id", foreign_keys=[("run_id", "runs", "id"), ("vendor_id", "vendors", "id")])
    db["phases"].create({
        "id": int, "audit_id": int, "run_id": int, "vendor_id": str, "account": str, "phase": str,
        "started_at": float, "finished_at": float, "outcome": str, "message": str,
    }, pk="id", foreign_keys=[("audit_id", "audits", "id")])
    for obs_type in FIRST_OBSERVATION_TYPES:
        db[obs_type.table].create({"id": int, **PROVENANCE, **_columns_of(obs_type)}, pk="id",
                                  foreign_keys=[("audit_id", "audits", "id")])
        db[obs_type.table].create_index(["run_id", "vendor_id", "phase"])
    db["findings"].create({"id": int, **FINDING_COLUMNS}, pk="id", foreign_keys=[("run_id", "runs", "id")])
    db["findings"].create_index(["run_id", "vendor_id"])


def _migration_2(db: sqlite_utils.Database) -> None:
    """Verdicts of the jobs (pre-approval scan, post-termination check, scheduled audit), one per vendor and run."""
    db["verdicts"].create({
        "id": int, "run_id": int, "vendor_id": str, "job": str, "verdict": str, "reasons": str,
        "baseline_run_id": int, "created_at": str,
    }, pk="id", foreign_keys=[("run_id", "runs", "id")])
    db["verdicts"].create_index(["run_id", "vendor_id"], unique=True)


def _migration_3(db: sqlite_utils.Database) -> None:
    """The SHA-256 of the run's evidence manifest, so an edited manifest is noticed too."""
    db["runs"].add_column("manifest_sha256", str)


def _migration_4(db: sqlite_utils.Database) -> None:
    """The forms of each page (sign-up and login pages: what they ask a student for)."""
    db["pages"].add_column("forms", str)


def _migration_5(db: sqlite_utils.Database) -> None:
    """Calls to fingerprinting-prone JavaScript APIs, by calling script, page, frame and phase."""
    db[ApiCallObs.table].create({"id": int, **PROVENANCE, **_columns_of(ApiCallObs)}, pk="id",
                                foreign_keys=[("audit_id", "audits", "id")])
    db[ApiCallObs.table].create_index(["run_id", "vendor_id", "phase"])


def _migration_6(db: sqlite_utils.Database) -> None:
    """The canary values the behaviour probes typed into fields and planted in pages, per audit."""
    db["audits"].add_column("canaries", str)


MIGRATIONS: tuple[Callable[[sqlite_utils.Database], None], ...] = (_migration_1, _migration_2, _migration_3,
                                                                   _migration_4, _migration_5, _migration_6)


def migrate(db: sqlite_utils.Database) -> None:
    current = db.execute("PRAGMA user_version").fetchone()[0]
    if current > len(MIGRATIONS):
        raise RuntimeError(f"{db.conn} was written by a newer trackaudit (schema {current}); upgrade trackaudit to read it")
    for number, migration in enumerate(MIGRATIONS[current:], start=current + 1):
        with db.conn:
            migration(db)
            db.execute(f"PRAGMA user_version = {number}")


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Store:
    def __init__(self, path: str | Path, redactor: Redactor | None = None):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite_utils.Database(self.path)
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = NORMAL")
        self.db.execute("PRAGMA busy_timeout = 10000")
        self.redactor = redactor or Redactor()
        migrate(self.db)

    @property
    def artefacts_dir(self) -> Path:
        """Where screenshots and other files of this database's runs go: beside the database."""
        return self.path.parent

    def close(self) -> None:
        self.db.close()

    # runs ------------------------------------------------------------------------------------------
    def start_run(self, mode: str, command: str, config_path: str | None = None, config_hash: str | None = None,
                  policy_name: str | None = None, policy_hash: str | None = None, lists: Any = None) -> int:
        self.mark_abandoned_runs()
        row = {
            "mode": mode, "command": command, "started_at": utc_now(), "status": "running",
            "tool_version": __version__, "config_path": config_path, "config_hash": config_hash,
            "policy_name": policy_name, "policy_hash": policy_hash, "lists": json.dumps(lists or []),
            "hostname": socket.gethostname(), "pid": os.getpid(),
        }
        with self.db.conn:
            return self.db["runs"].insert(self.redactor.value(row)).last_pk

    def finish_run(self, run_id: int, status: str, message: str | None = None, verdict: str | None = None) -> None:
        assert status in RUN_STATUSES
        update = {"status": status, "finished_at": utc_now(), "message": message}
        if verdict is not None:
            update["verdict"] = verdict
        with self.db.conn:
            self.db["runs"].update(run_id, self.redactor.value(update))

    def mark_abandoned_runs(self) -> None:
        """A run still 'running' whose process is gone was cut off: mark it incomplete."""
        host = socket.gethostname()
        for row in self.db.query("select id, pid, hostname from runs where status = 'running'"):
            if row["hostname"] == host and not _pid_alive(row["pid"]):
                self.finish_run(row["id"], "incomplete", "the process ended before the run finished")

    def run(self, run_id: int) -> dict | None:
        rows = list(self.db.query("select * from runs where id = ?", [run_id]))
        return rows[0] if rows else None

    def latest_run_id(self, mode: str | None = None) -> int | None:
        sql, params = "select max(id) from runs", []
        if mode:
            sql, params = sql + " where mode = ?", [mode]
        return self.db.execute(sql, params).fetchone()[0]

    # vendors, audits, phases -------------------------------------------------------------------------
    def upsert_vendor(self, vendor) -> None:
        row = {"id": vendor.id, "name": vendor.name, "status": vendor.status, "start_url": vendor.start_url,
               "first_party": json.dumps(list(vendor.first_party)),
               "remember_cookies": json.dumps(list(vendor.remember_cookies)), "updated_at": utc_now()}
        with self.db.conn:
            self.db["vendors"].upsert(row, pk="id")

    def start_audit(self, run_id: int, vendor_id: str, account: str, username: str | None,
                    pii: dict[str, str] | None = None) -> "AuditSink":
        # The account's PII is kept with the audit so findings can be re-judged from the database alone.
        row = {"run_id": run_id, "vendor_id": vendor_id, "account": account, "username": username,
               "started_at": utc_now(), "status": "running", "pages_visited": 0, "pii": json.dumps(pii or {})}
        with self.db.conn:
            audit_id = self.db["audits"].insert(row).last_pk
        return AuditSink(self, audit_id, run_id, vendor_id, account)

    def insert(self, table: str, row: dict[str, Any]) -> int:
        with self.db.conn:
            return self.db[table].insert(self.redactor.value(row)).last_pk

    def update(self, table: str, pk: int, values: dict[str, Any]) -> None:
        with self.db.conn:
            self.db[table].update(pk, self.redactor.value(values))

    # findings ----------------------------------------------------------------------------------------
    def replace_findings(self, run_id: int, vendor_id: str, findings: Iterable[dict[str, Any]]) -> int:
        rows = []
        for finding in findings:
            row = {**finding, "run_id": run_id, "vendor_id": vendor_id, "created_at": utc_now()}
            row["evidence"] = json.dumps(row.get("evidence", {}), ensure_ascii=False, sort_keys=True)
            rows.append(self.redactor.value(row))
        with self.db.conn:
            self.db.execute("delete from findings where run_id = ? and vendor_id = ?", [run_id, vendor_id])
            if rows:
                self.db["findings"].insert_all(rows)
        return len(rows)

    def save_verdict(self, run_id: int, vendor_id: str, job: str, verdict: str, reasons: list[str],
                     baseline_run_id: int | None = None) -> None:
        row = {"run_id": run_id, "vendor_id": vendor_id, "job": job, "verdict": verdict,
               "reasons": json.dumps(reasons, ensure_ascii=False), "baseline_run_id": baseline_run_id,
               "created_at": utc_now()}
        with self.db.conn:
            self.db.execute("delete from verdicts where run_id = ? and vendor_id = ?", [run_id, vendor_id])
            self.db["verdicts"].insert(self.redactor.value(row))

    def last_complete_audit(self, vendor_id: str, before_run: int | None = None) -> dict | None:
        """The latest run, complete, in which this vendor's audit completed (optionally before a run)."""
        sql = ("select r.id as run_id, r.started_at, r.mode from runs r join audits a on a.run_id = r.id "
               "where a.vendor_id = ? and r.status = 'complete' and a.status = 'complete' and r.mode != 'verify-removal'")
        params: list = [vendor_id]
        if before_run is not None:
            sql += " and r.id < ?"
            params.append(before_run)
        rows = list(self.db.query(sql + " order by r.id desc limit 1", params))
        return rows[0] if rows else None

    # reading back ------------------------------------------------------------------------------------
    def observations(self, obs_type, run_id: int, vendor_id: str | None = None, phase: str | None = None):
        """Rows of one observation table as (provenance dict, observation) pairs."""
        where, params = ["run_id = ?"], [run_id]
        if vendor_id:
            where.append("vendor_id = ?")
            params.append(vendor_id)
        if phase:
            where.append("phase = ?")
            params.append(phase)
        sql = f"select * from {obs_type.table} where {' and '.join(where)} order by id"
        for row in self.db.query(sql, params):
            yield {k: row[k] for k in ("id", *PROVENANCE)}, obs_type.from_row(row)


@dataclass
class AuditSink:
    """Where one vendor × account audit streams its observations, stamped with the current phase."""

    store: Store
    audit_id: int
    run_id: int
    vendor_id: str
    account: str
    phase: str = "control"
    counts: dict[str, int] = field(default_factory=dict)
    _phase_row: int | None = None

    def add(self, obs, phase: str | None = None) -> int:
        row = {"audit_id": self.audit_id, "run_id": self.run_id, "vendor_id": self.vendor_id,
               "account": self.account, "phase": phase or self.phase, **obs.to_row()}
        self.counts[obs.table] = self.counts.get(obs.table, 0) + 1
        return self.store.insert(obs.table, row)

    def error(self, source: str, message: str, url: str | None = None, phase: str | None = None) -> None:
        self.add(ErrorObs(time=time.time(), source=source, url=url, message=message[:4000]), phase)
        logging.getLogger("trackaudit").info("%s (%s): %s: %s%s", self.vendor_id, self.account, source,
                                             self.store.redactor.text(message), f" at {url}" if url else "")

    def begin_phase(self, phase: str) -> None:
        self.phase = phase
        self._phase_row = self.store.insert("phases", {
            "audit_id": self.audit_id, "run_id": self.run_id, "vendor_id": self.vendor_id, "account": self.account,
            "phase": phase, "started_at": time.time(), "outcome": "running"})

    def end_phase(self, outcome: str = "complete", message: str | None = None) -> None:
        if self._phase_row is not None:
            self.store.update("phases", self._phase_row, {"finished_at": time.time(), "outcome": outcome, "message": message})
            self._phase_row = None

    def finish(self, status: str, **values: Any) -> None:
        self.store.update("audits", self.audit_id, {"status": status, "finished_at": utc_now(), **values})
