"""Migration 5 (links, labels and ISO-time views for browsing) and the commands that find a results database."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.cli import main
from crawler.jobs.removal import logout_caveat
from crawler.store import queries, schema
from crawler.store.seal import verify_evidence, write_manifest
from crawler.store.writer import Store


def a_run(store: Store, mode: str = "demo") -> int:
    run_id = store.start_run(mode, f"trackaudit {mode}")
    sink = store.start_audit(run_id, "leaky", "student", "liam@x.test")
    sink.begin_phase("crawl")
    sink.end_phase()
    sink.finish("complete")
    store.finish_run(run_id, "complete")
    return run_id


def test_every_run_vendor_and_audit_column_is_a_foreign_key(tmp_path):
    store = Store(tmp_path / "audit.db")
    links = {
        (fk.table, fk.column): fk.other_table
        for table in ("findings", "verdicts", "requests", "phases", "audits")
        for fk in store.db[table].foreign_keys
    }
    assert links[("findings", "vendor_id")] == "vendors" and links[("findings", "run_id")] == "runs"
    assert links[("verdicts", "vendor_id")] == "vendors" and links[("verdicts", "baseline_run_id")] == "runs"
    assert links[("requests", "audit_id")] == "audits" and links[("requests", "run_id")] == "runs"
    assert links[("phases", "vendor_id")] == "vendors" and links[("audits", "vendor_id")] == "vendors"


def test_runs_and_audits_get_labels_as_they_are_written(tmp_path):
    store = Store(tmp_path / "audit.db")
    run_id = a_run(store, "audit")
    run = queries.run(store, run_id)
    assert run["label"] == f"{run['started_at'][:16].replace('T', ' ')} UTC: trackaudit audit"
    assert store.db.execute("select label from audits").fetchone()[0] == f"run {run_id}: leaky (student)"


def test_unix_times_read_as_iso_8601_utc_in_the_views(tmp_path):
    store = Store(tmp_path / "audit.db")
    store.insert("errors", {"run_id": 1, "phase": "crawl", "time": 1796134117.4759915, "source": "x", "message": "m"})
    row = next(store.db.query("select * from errors_utc"))
    assert row["time_utc"] == "2026-12-01T14:08:37.476Z" and row["time"] == 1796134117.4759915
    assert set(store.db.view_names()) == {f"{table}_utc" for table in schema.UNIX_TIME_COLUMNS}


def test_a_run_sealed_before_migration_5_still_verifies_after_it(tmp_path, monkeypatch):
    with monkeypatch.context() as patched:
        patched.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[:4])
        old = Store(tmp_path / "audit.db")
        run_id = a_run(old)
        write_manifest(old, run_id)
        old.close()
    store = Store(tmp_path / "audit.db")
    assert store.db.execute("pragma user_version").fetchone()[0] == len(schema.MIGRATIONS)
    assert queries.run(store, run_id)["label"].endswith("UTC: trackaudit demo")
    assert verify_evidence(store, run_id) == []


def test_the_logout_caveat_only_when_the_last_audit_logged_out(tmp_path):
    store = Store(tmp_path / "audit.db")
    run_id = a_run(store)
    assert logout_caveat(store, "leaky", run_id) is None
    assert logout_caveat(store, "leaky", None) is None
    sink = store.start_audit(run_id, "leaky", "teacher", None)
    sink.begin_phase("logout")
    caveat = logout_caveat(store, "leaky", run_id)
    assert caveat.startswith(f"leaky's last audit (run {run_id}) logged out at its logout_url")
    assert "Fix: remove logout_url" in caveat


@pytest.fixture
def in_folder(tmp_path):
    cwd = os.getcwd()
    os.chdir(tmp_path)
    yield tmp_path
    os.chdir(cwd)


def test_reading_commands_fall_back_to_the_demo_database_and_say_so(in_folder):
    a_run(Store(Path("results") / "demo.db"))
    result = CliRunner().invoke(main, ["verify-evidence", "latest"])
    assert result.exit_code == 1  # no manifest was written: said, not a usage error
    assert "Database: results/demo.db (the demo's; there is no results/audit.db)" in result.stderr
    assert "Run 1: no evidence manifest" in result.stdout
    a_run(Store(Path("results") / "audit.db"), "audit")
    result = CliRunner().invoke(main, ["findings"])
    # Run 2: the demo's run in the same folder has number 1 (tests/test_databases_in_one_folder.py).
    assert result.exit_code == 0 and result.stdout.startswith("Run 2 (audit,"), result.output
    assert "Database:" not in result.stderr


def test_run_references_and_their_errors(in_folder):
    Store(Path("results") / "audit.db")
    result = CliRunner().invoke(main, ["verify-evidence", "latest"])
    assert result.exit_code == 2 and "results/audit.db: no run yet" in result.stderr
    result = CliRunner().invoke(main, ["diff", "one"])
    assert result.exit_code == 2 and "'one' is not a run id" in result.stderr
    run_id = a_run(Store(Path("results") / "audit.db"))
    result = CliRunner().invoke(main, ["report", str(run_id + 1)])
    assert result.exit_code == 2 and f"no run {run_id + 1} (the latest is {run_id})" in result.stderr


def test_report_without_out_goes_beside_the_database_named_after_it(in_folder):
    a_run(Store(Path("elsewhere") / "district.db"))
    result = CliRunner().invoke(main, ["report", "--db", "elsewhere/district.db", "--format", "md"])
    assert result.exit_code == 0, result.output
    assert (in_folder / "elsewhere" / "district-report-run-1.md").is_file()
    assert "Report: elsewhere/district-report-run-1.md" in result.stderr
