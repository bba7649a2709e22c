"""A run cut off half-way is left marked incomplete; earlier runs stay intact."""

import os
import signal
import subprocess
import sys
import time

import pytest
import sqlite_utils

from conftest import DEMO_PASSWORDS
from crawler.store import queries
from crawler.store.writer import Store

pytestmark = pytest.mark.e2e


def test_sigterm_mid_audit_leaves_the_run_incomplete_and_earlier_runs_intact(tmp_path):
    db_path = tmp_path / "results" / "demo.db"
    store = Store(db_path)
    earlier = store.start_run("audit", "an earlier run")
    store.finish_run(earlier, "complete")
    store.close()

    proc = subprocess.Popen(
        [sys.executable, "-m", "crawler", "demo", "--db", str(db_path)],
        cwd=tmp_path,
        env={**os.environ, **DEMO_PASSWORDS},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    db = sqlite_utils.Database(db_path)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if db.execute("select count(*) from phases where phase = 'crawl'").fetchone()[0]:
            break
        time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("the demo never reached the crawl phase")
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    assert proc.returncode != 0
    runs = {r["id"]: r for r in db.query("select * from runs")}
    assert runs[earlier]["status"] == "complete"
    (latest,) = [r for r in runs.values() if r["id"] != earlier]
    assert latest["status"] == "incomplete" and latest["finished_at"]
    assert db.execute("select count(*) from requests where run_id = ?", [latest["id"]]).fetchone()[0] > 0


def test_a_run_whose_process_died_is_marked_incomplete_by_the_next(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    store = Store(tmp_path / "a.db")
    run_id = store.start_run("audit", "killed")
    store.db["runs"].update(run_id, {"pid": dead.pid})
    store.start_run("audit", "next")
    assert queries.run(store, run_id)["status"] == "incomplete"


def test_ctrl_c_marks_the_run_and_its_audits_interrupted_prints_one_line_and_exits_130(tmp_path):
    import tempfile
    from pathlib import Path

    db_path = tmp_path / "results" / "demo.db"
    scratch_base = Path(tempfile.mkdtemp(prefix="ta-"))  # short: Chromium's socket path is at most 107 bytes
    proc = subprocess.Popen(
        [sys.executable, "-m", "crawler", "demo", "--db", str(db_path), "--quiet"],
        cwd=tmp_path,
        env={**os.environ, **DEMO_PASSWORDS, "TMPDIR": str(scratch_base)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and proc.poll() is None:
        if db_path.exists():
            db = sqlite_utils.Database(db_path)
            if db["phases"].exists() and db.execute("select count(*) from phases where phase = 'crawl'").fetchone()[0]:
                break
        time.sleep(0.2)
    else:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"the demo never reached the crawl phase (exit {proc.returncode}): {out[-1000:]} {err[-2000:]}")
    assert proc.poll() is None, proc.communicate()
    assert [p.name for p in scratch_base.iterdir() if p.name.startswith(f"trackaudit-{proc.pid}-")]
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stdout + stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines[-1].startswith("Interrupted (SIGINT): run ") and "Traceback" not in stderr
    assert sum("Interrupted" in line for line in lines) == 1
    db = sqlite_utils.Database(db_path)
    (run,) = db.query("select * from runs")
    assert run["status"] == "incomplete" and run["finished_at"]
    assert run["message"].startswith("the run was interrupted")
    statuses = {r["status"] for r in db.query("select status from audits")}
    assert "interrupted" in statuses and "running" not in statuses
    # The profiles (live sessions) and Playwright's temporary files went with the run.
    assert not [p for p in scratch_base.iterdir() if p.name.startswith("trackaudit-")]
    scratch_base.rmdir()
