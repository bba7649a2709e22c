"""The three jobs through the CLI on the fixture vendors: scheduled audits with baselines, the pre-approval
scan, the post-termination check."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlite_utils

from conftest import run_cli
from crawler.jobs.lock import RunLock
from fixtures.server import FixtureInternet

pytestmark = pytest.mark.e2e

PASSWORDS = {
    "maya.okafor@students.mps.test": ("TRACKAUDIT_TEST_BRIGHTPATH_PASSWORD", "Bp jobs/pass+1"),
    "noah.kim@students.mps.test": ("TRACKAUDIT_TEST_CLASSNOTES_PASSWORD", "Cn jobs/pass+2"),
    "emma.garcia@students.mps.test": ("TRACKAUDIT_TEST_QUIZBLAST_PASSWORD", "Qb jobs/pass+3"),
}
JOBS_TOML = os.path.join(os.path.dirname(__file__), "..", "fixtures", "jobs.toml")


class Jobs:
    def __init__(self, internet, workdir):
        self.internet = internet
        self.workdir = workdir
        self.db = workdir / "audit.db"
        self.env = {env: password for env, password in PASSWORDS.values()}
        browser = (
            f'[browser]\nheadless = true\nhost_resolver_rules = "{internet.host_resolver_rules}"\n'
            f'trusted_spki = ["{internet.spki}"]\n'
        )
        # One page each: every page of these vendors loads their trackers and sets their identifiers
        # (fixtures/README.md), which is all the jobs compare; more pages would cost time and find the same.
        text = (
            Path(JOBS_TOML)
            .read_text()
            .replace("[browser]\nheadless = true\n", browser)
            .replace("max_pages = 8", "max_pages = 1")
        )
        self.config = workdir / "vendors.toml"
        self.config.write_text(text)
        # The same vendors as they were while under contract, for the audits before termination.
        self.before_termination = workdir / "vendors-2025.toml"
        self.before_termination.write_text(text.replace('status = "terminated"', 'status = "approved"'))

    def cli(self, *args, config=None):
        return run_cli(
            [*args[:1], "--config", str(config or self.config), "--db", str(self.db), *args[1:]],
            cwd=self.workdir,
            env_extra=self.env,
        )

    @property
    def database(self):
        return sqlite_utils.Database(self.db)


@pytest.fixture(scope="module")
def jobs(tmp_path_factory):
    passwords = {user: password for user, (_, password) in PASSWORDS.items()}
    with FixtureInternet(passwords) as internet:
        yield Jobs(internet, tmp_path_factory.mktemp("jobs"))


def latest_findings(jobs, vendor):
    run_id = jobs.database.execute("select max(run_id) from findings where vendor_id = ?", [vendor]).fetchone()[0]
    return run_id, list(
        jobs.database.query("select * from findings where run_id = ? and vendor_id = ?", [run_id, vendor])
    )


def test_scheduled_audit_reports_exactly_the_tracker_added_between_audits(jobs):
    first = jobs.cli("audit", "--vendor", "brightpath")
    assert first.returncode == 0, first.stdout + first.stderr
    jobs.internet.scenario["brightpath_extra_tracker"] = True
    try:
        second = jobs.cli("audit", "--vendor", "brightpath")
    finally:
        jobs.internet.scenario["brightpath_extra_tracker"] = False
    assert second.returncode == 1, second.stdout + second.stderr  # the pixel's identifier breaks IV.B
    run_id, found = latest_findings(jobs, "brightpath")
    changes = {(f["rule_id"], f["subject"]) for f in found if f["rule_id"].startswith("baseline.")}
    assert changes == {
        ("baseline.new-third-party-host", "host connect.facebook.net"),
        ("baseline.new-third-party-host", "host www.facebook.com"),
        ("baseline.new-tracker", "host connect.facebook.net"),
        ("baseline.new-tracker", "host www.facebook.com"),
        ("baseline.new-cookie", "cookie _fbp"),
        ("baseline.new-identifier", "cookie _fbp"),
    }
    severities = {f["subject"]: f["severity"] for f in found if f["rule_id"] == "baseline.new-tracker"}
    assert set(severities.values()) == {"violation"}  # IV.D judges the Facebook pixel a violation itself
    (verdict,) = jobs.database.query("select * from verdicts where run_id = ?", [run_id])
    assert verdict["job"] == "scheduled audit" and verdict["verdict"] == "violations found"
    assert verdict["baseline_run_id"] == run_id - 1

    diff = run_cli(["diff", str(run_id - 1), str(run_id), "--db", str(jobs.db)], cwd=jobs.workdir)
    assert diff.returncode == 0, diff.stderr
    assert "brightpath: run" in diff.stdout and "6 change(s)" in diff.stdout
    assert "+ tracker          connect.facebook.net" in diff.stdout


def test_due_skips_a_vendor_audited_recently(jobs):
    runs_before = jobs.database.execute("select count(*) from runs").fetchone()[0]
    proc = jobs.cli("audit", "--vendor", "brightpath", "--due")
    assert proc.returncode == 0, proc.stderr
    assert "brightpath: last audited" in proc.stderr and "not due" in proc.stderr
    assert "No vendor is due" in proc.stdout
    assert jobs.database.execute("select count(*) from runs").fetchone()[0] == runs_before


def test_a_second_run_on_a_busy_database_does_not_start(jobs):
    runs_before = jobs.database.execute("select count(*) from runs").fetchone()[0]
    with RunLock(jobs.db):
        proc = jobs.cli("audit", "--vendor", "brightpath")
    assert proc.returncode == 3
    assert "another trackaudit run is using" in proc.stderr
    assert jobs.database.execute("select count(*) from runs").fetchone()[0] == runs_before


def test_two_overlapping_scheduled_runs_do_not_both_proceed(jobs):
    args = [
        sys.executable,
        "-m",
        "crawler",
        "audit",
        "--config",
        str(jobs.config),
        "--db",
        str(jobs.db),
        "--vendor",
        "brightpath",
    ]
    env = {**os.environ, **jobs.env}
    procs = [
        subprocess.Popen(args, cwd=jobs.workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outcomes = sorted(p.wait(timeout=300) for p in procs)
    assert outcomes == [0, 3]
