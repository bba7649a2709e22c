"""The SQLite store: the one place that writes rows (the schema is ``schema.py``, every read ``queries.py``).

Every observation row carries its provenance (run, vendor, account, phase) and passes through the
redactor on the way in, so no password reaches the database whatever a collector captured.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import sqlite_utils
from sqlite_utils.db import Table

from .. import __version__
from ..observations import ErrorObs, PhaseResult
from ..redact import Redactor
from . import queries
from .schema import MIGRATIONS, NotOurDatabase, check_identity, migrate

if TYPE_CHECKING:
    from ..config import Vendor

RUN_STATUSES = ("running", "complete", "incomplete", "failed")
RUN_FOLDER_KINDS = ("evidence", "screenshots")  # a run's folders beside the database, each named run-N


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


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


class Observation(Protocol):
    """What ``AuditSink.add`` stores: a record of ``observations.py``, its table and its flat row."""

    @property
    def table(self) -> str: ...

    def to_row(self) -> dict[str, Any]: ...


def _inserted_pk(table: Table) -> int:
    """The rowid of the row just inserted (every table has an integer ``id``)."""
    assert isinstance(table.last_pk, int)
    return table.last_pk


class Store:
    def __init__(self, path: str | Path, redactor: Redactor | None = None, read_only: bool = False):
        """``read_only``: the file is opened read-only and never changed (a database of an older trackaudit is
        upgraded in a copy in memory); anything but a trackaudit database is refused."""
        self.path = Path(path)
        self.read_only = read_only
        self.seal_key: bytes | None = None  # with a key, a run's seal is an HMAC (see seal.py)
        self.redactor = redactor or Redactor()
        if read_only:
            conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
            version = check_identity(conn, self.path)
            if version < len(MIGRATIONS):
                upgraded = sqlite3.connect(":memory:", check_same_thread=False)
                conn.backup(upgraded)
                conn.close()
                conn = upgraded
                migrate(sqlite_utils.Database(conn))
            self.db = sqlite_utils.Database(conn)
            self.db.execute("PRAGMA query_only = ON")
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(self.path), check_same_thread=False)
        try:
            check_identity(conn, self.path)
        except NotOurDatabase:
            conn.close()
            raise
        if self.path.exists():
            os.chmod(self.path, 0o600)  # it holds the test accounts' session cookies
        self.db = sqlite_utils.Database(conn)
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = NORMAL")
        self.db.execute("PRAGMA busy_timeout = 10000")
        migrate(self.db)

    @property
    def artefacts_dir(self) -> Path:
        """Where screenshots and other files of this database's runs go: beside the database."""
        return self.path.parent

    def run_folder(self, kind: str, run_id: int) -> Path:
        """A run's folder of ``kind`` (``evidence``, ``screenshots``) beside the database."""
        return self.artefacts_dir / kind / f"run-{run_id}"

    def claim_run_id(self) -> int:
        """A number for a new run that no run of this database, nor of another database in the same folder,
        has used: its evidence folder is made now, atomically, so two databases in one folder (the demo's and
        an audit's, by default) never write into each other's evidence. A database's run numbers may then
        skip the ones the other took."""
        used: list[int] = [self.db.execute("select coalesce(max(id), 0) from runs").fetchone()[0]]
        for kind in RUN_FOLDER_KINDS:
            used += [int(p.name[4:]) for p in (self.artefacts_dir / kind).glob("run-*") if p.name[4:].isdigit()]
        run_id = max(used) + 1
        while True:
            try:
                self.run_folder("evidence", run_id).mkdir(parents=True)
                return run_id
            except FileExistsError:  # another database in the folder claimed it a moment ago
                run_id += 1

    def close(self) -> None:
        self.db.close()

    def table(self, name: str) -> Table:
        """A table of the schema (``db[name]`` may also be a view, which has no writes)."""
        return self.db.table(name)

    # runs ------------------------------------------------------------------------------------------
    def start_run(
        self,
        mode: str,
        command: str,
        config_path: str | None = None,
        config_hash: str | None = None,
        policy_name: str | None = None,
        policy_hash: str | None = None,
        lists: Any = None,
    ) -> int:
        self.mark_abandoned_runs()
        row = {
            "id": self.claim_run_id(),
            "mode": mode,
            "command": command,
            "started_at": utc_now(),
            "status": "running",
            "tool_version": __version__,
            "config_path": config_path,
            "config_hash": config_hash,
            "policy_name": policy_name,
            "policy_hash": policy_hash,
            "lists": json.dumps(lists or []),
            "hostname": socket.gethostname(),
            "pid": os.getpid(),
        }
        with self.db.conn:
            return _inserted_pk(self.table("runs").insert(self.redactor.value(row)))

    def finish_run(self, run_id: int, status: str, message: str | None = None, verdict: str | None = None) -> None:
        assert status in RUN_STATUSES
        update = {"status": status, "finished_at": utc_now(), "message": message}
        if verdict is not None:
            update["verdict"] = verdict
        with self.db.conn:
            self.table("runs").update(run_id, self.redactor.value(update))

    def interrupt_run(self, run_id: int, message: str) -> None:
        """A run cut off (Ctrl-C, SIGTERM, a crash): incomplete, and its unfinished audits interrupted."""
        with self.db.conn:
            self.db.execute(
                "update audits set status = 'interrupted', finished_at = ? where run_id = ? and status = 'running'",
                [utc_now(), run_id],
            )
        self.finish_run(run_id, "incomplete", message)

    def mark_abandoned_runs(self) -> None:
        """A run still 'running' whose process is gone was cut off: mark it incomplete."""
        host = socket.gethostname()
        for row in queries.running_runs(self):
            if row["hostname"] == host and not _pid_alive(row["pid"]):
                self.interrupt_run(row["id"], "the process ended before the run finished")

    # vendors, audits, phases -------------------------------------------------------------------------
    def upsert_vendor(self, vendor: Vendor) -> None:
        row = {
            "id": vendor.id,
            "name": vendor.name,
            "status": vendor.status,
            "start_url": vendor.start_url,
            "first_party": json.dumps(list(vendor.first_party)),
            "remember_cookies": json.dumps(list(vendor.remember_cookies)),
            "updated_at": utc_now(),
        }
        with self.db.conn:
            self.table("vendors").upsert(row, pk="id")

    def copy_vendor(self, row: dict[str, Any]) -> None:
        """A vendor row as another database recorded it (merging)."""
        with self.db.conn:
            self.table("vendors").upsert(row, pk="id")

    def start_audit(
        self, run_id: int, vendor_id: str, account: str, username: str | None, pii: dict[str, str] | None = None
    ) -> AuditSink:
        # The account's PII is kept with the audit so findings can be re-judged from the database alone.
        row = {
            "run_id": run_id,
            "vendor_id": vendor_id,
            "account": account,
            "username": username,
            "started_at": utc_now(),
            "status": "running",
            "pages_visited": 0,
            "pii": json.dumps(pii or {}),
        }
        with self.db.conn:
            audit_id = _inserted_pk(self.table("audits").insert(row))
        return AuditSink(self, audit_id, run_id, vendor_id, account)

    def insert(self, table: str, row: dict[str, Any]) -> int:
        with self.db.conn:
            return _inserted_pk(self.table(table).insert(self.redactor.value(row)))

    def mark_audit_incomplete(self, run_id: int, vendor_id: str, account: str, gaps: str) -> None:
        """A gap found after the browsing (the CNAME lookups) makes an audit of the run incomplete."""
        with self.db.conn:
            self.db.execute(
                "update audits set incomplete = ? where run_id = ? and vendor_id = ? and account = ?",
                [self.redactor.text(gaps), run_id, vendor_id, account],
            )

    def update(self, table: str, pk: int, values: dict[str, Any]) -> None:
        with self.db.conn:
            self.table(table).update(pk, self.redactor.value(values))

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
                self.table("findings").insert_all(rows)
        return len(rows)

    def save_verdict(
        self,
        run_id: int,
        vendor_id: str,
        job: str,
        verdict: str,
        reasons: list[str],
        baseline_run_id: int | None = None,
    ) -> None:
        row = {
            "run_id": run_id,
            "vendor_id": vendor_id,
            "job": job,
            "verdict": verdict,
            "reasons": json.dumps(reasons, ensure_ascii=False),
            "baseline_run_id": baseline_run_id,
            "created_at": utc_now(),
        }
        with self.db.conn:
            self.db.execute("delete from verdicts where run_id = ? and vendor_id = ?", [run_id, vendor_id])
            self.table("verdicts").insert(self.redactor.value(row))


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

    def add(self, obs: Observation, phase: str | None = None) -> int:
        row = {
            "audit_id": self.audit_id,
            "run_id": self.run_id,
            "vendor_id": self.vendor_id,
            "account": self.account,
            "phase": phase or self.phase,
            **obs.to_row(),
        }
        self.counts[obs.table] = self.counts.get(obs.table, 0) + 1
        return self.store.insert(obs.table, row)

    def error(self, source: str, message: str, url: str | None = None, phase: str | None = None) -> None:
        self.add(ErrorObs(time=time.time(), source=source, url=url, message=message[:4000]), phase)
        logging.getLogger("trackaudit").info(
            "%s (%s): %s: %s%s",
            self.vendor_id,
            self.account,
            source,
            self.store.redactor.text(message),
            f" at {url}" if url else "",
        )

    def begin_phase(self, phase: str) -> None:
        self.phase = phase
        self._phase_row = self.store.insert(
            "phases",
            {
                "audit_id": self.audit_id,
                "run_id": self.run_id,
                "vendor_id": self.vendor_id,
                "account": self.account,
                "phase": phase,
                "started_at": time.time(),
                "outcome": "running",
            },
        )

    def end_phase(
        self, outcome: str = "complete", message: str | None = None, result: PhaseResult | None = None
    ) -> None:
        if self._phase_row is not None:
            values = {"finished_at": time.time(), "outcome": outcome, "message": message}
            if result:
                values.update(result=result.result, result_url=result.url)
            self.store.update("phases", self._phase_row, values)
            self._phase_row = None

    def finish(self, status: str, **values: Any) -> None:
        self.store.update("audits", self.audit_id, {"status": status, "finished_at": utc_now(), **values})
