"""The evidence manifest: `verify-evidence` passes on an untouched run and names what was changed."""

import shutil

import pytest
import sqlite_utils

from conftest import run_cli

pytestmark = pytest.mark.e2e


@pytest.fixture
def results_copy(demo_run, tmp_path):
    copy = tmp_path / "results"
    # Other xdist workers read the same demo folder meanwhile: their SQLite -wal/-shm files and half-written
    # reports come and go (the demo's own writes were checkpointed into demo.db when it closed).
    shutil.copytree(
        demo_run.db_path.parent, copy, ignore=shutil.ignore_patterns("*.lock", "*-wal", "*-shm", ".e2e-report*")
    )
    return copy


def verify(results, run_id="1"):
    return run_cli(["verify-evidence", run_id, "--db", str(results / "demo.db")], cwd=results.parent)


def test_untouched_run_verifies(results_copy):
    proc = verify(results_copy)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Run 1: evidence intact" in proc.stdout


def test_one_changed_byte_of_an_artefact_is_named(results_copy):
    har = next(results_copy.glob("evidence/run-1/leakyquiz/student/audited.har"))
    data = bytearray(har.read_bytes())
    data[len(data) // 2] ^= 0x01
    har.write_bytes(bytes(data))
    proc = verify(results_copy)
    assert proc.returncode == 1
    assert "file evidence/run-1/leakyquiz/student/audited.har: SHA-256 differs" in proc.stdout


def test_an_edited_database_row_is_named(results_copy):
    db = sqlite_utils.Database(results_copy / "demo.db")
    db.execute("update cookies set value = 'tampered' where id = (select min(id) from cookies)")
    db.conn.commit()
    proc = verify(results_copy)
    assert proc.returncode == 1
    assert "rows cookies: a row's content changed" in proc.stdout


def test_screenshots_are_in_the_manifest(results_copy):
    import json

    manifest = json.loads((results_copy / "evidence/run-1/manifest.json").read_text())
    kinds = {a["kind"] for a in manifest["artefacts"]}
    assert {"har", "trace", "screenshot"} <= kinds
    assert manifest["rows"]["findings"]["rows"] > 0
