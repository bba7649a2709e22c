"""The jobs through the CLI on the fixture vendors: scheduled audits with baselines, the post-termination check
(the pre-approval scan is in test_e2e_jobs_scan.py), and scale-out in shards.

One audit of four vendors while under contract (``contract_audit``) serves the tests that only need it done: it is
the first scheduled audit of BrightPath, the baseline verify-removal checks against, and the single-machine run the
shards are compared with. BrightPath's next audit, started twice at once (``second_audit``), is both the scheduled
audit that finds the tracker added since and the pair of overlapping runs of which one must not start. Each test
works on a copy of its database."""

import copy
import json
import os
import shutil
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
VENDORS = ("brightpath", "classnotes", "quizblast", "funmathzone")  # three with an account, one candidate


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

    def cli(self, *args, config=None, db=None):
        return run_cli(
            [*args[:1], "--config", str(config or self.config), "--db", str(db or self.db), *args[1:]],
            cwd=self.workdir,
            env_extra=self.env,
        )

    @property
    def database(self):
        return sqlite_utils.Database(self.db)

    def starting_from(self, audited: Path, name: str) -> "Jobs":
        """These jobs on a database of their own that starts as a copy of ``audited``."""
        other = copy.copy(self)
        other.db = self.workdir / f"{name}.db"
        shutil.copy(audited, other.db)
        return other


@pytest.fixture(scope="module")
def jobs(tmp_path_factory):
    passwords = {user: password for user, (_, password) in PASSWORDS.items()}
    with FixtureInternet(passwords) as internet:
        yield Jobs(internet, tmp_path_factory.mktemp("jobs"))


@pytest.fixture(scope="module")
def contract_audit(jobs) -> Path:
    """The four vendors audited in one run while under contract, as one machine does (the default concurrency)."""
    db = jobs.workdir / "under-contract.db"
    vendor_args = [arg for vendor in VENDORS for arg in ("--vendor", vendor)]
    proc = jobs.cli("audit", *vendor_args, "--quiet", config=jobs.before_termination, db=db)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # the fixture vendors track: violations
    return db


def latest_findings(jobs, vendor):
    run_id = jobs.database.execute("select max(run_id) from findings where vendor_id = ?", [vendor]).fetchone()[0]
    return run_id, list(
        jobs.database.query("select * from findings where run_id = ? and vendor_id = ?", [run_id, vendor])
    )


@pytest.fixture(scope="module")
def second_audit(jobs, contract_audit):
    """BrightPath's next scheduled audit, after its site added a tracker, started twice at the same moment on a
    copy of ``contract_audit`` (BrightPath's first audit, compliant): as two overlapping cron runs would."""
    jobs = jobs.starting_from(contract_audit, "scheduled")
    (first,) = jobs.database.query("select * from verdicts where vendor_id = 'brightpath'")
    assert first["verdict"] == "compliant", first
    args = [sys.executable, "-m", "crawler", "audit", "--config", str(jobs.config), "--db", str(jobs.db)]
    env = {**os.environ, **jobs.env}
    jobs.internet.scenario["brightpath_extra_tracker"] = True
    try:
        procs = [
            subprocess.Popen(
                [*args, "--vendor", "brightpath"],
                cwd=jobs.workdir,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        outputs = [proc.communicate(timeout=300) for proc in procs]
    finally:
        jobs.internet.scenario["brightpath_extra_tracker"] = False
    runs = [
        subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
        for proc, (out, err) in zip(procs, outputs, strict=True)
    ]
    return jobs, sorted(runs, key=lambda run: run.returncode)


def test_scheduled_audit_reports_exactly_the_tracker_added_between_audits(second_audit):
    jobs, (second, _) = second_audit
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


def test_due_skips_a_vendor_audited_recently(jobs, contract_audit):
    jobs = jobs.starting_from(contract_audit, "due")
    runs_before = jobs.database.execute("select count(*) from runs").fetchone()[0]
    proc = jobs.cli("audit", "--vendor", "brightpath", "--due")
    assert proc.returncode == 0, proc.stderr
    assert "brightpath: last audited" in proc.stderr and "not due" in proc.stderr
    assert "No vendor is due" in proc.stdout
    assert jobs.database.execute("select count(*) from runs").fetchone()[0] == runs_before


def test_a_second_run_on_a_busy_database_does_not_start(jobs, contract_audit):
    jobs = jobs.starting_from(contract_audit, "busy")
    runs_before = jobs.database.execute("select count(*) from runs").fetchone()[0]
    with RunLock(jobs.db):
        proc = jobs.cli("audit", "--vendor", "brightpath")
    assert proc.returncode == 3
    assert "another trackaudit run is using" in proc.stderr
    assert jobs.database.execute("select count(*) from runs").fetchone()[0] == runs_before


def test_two_overlapping_scheduled_runs_do_not_both_proceed(second_audit):
    jobs, (proceeded, refused) = second_audit
    assert [proceeded.returncode, refused.returncode] == [1, 3]  # one audits (violations: 1), one does not start
    assert "another trackaudit run is using" in refused.stderr
    assert jobs.database.execute("select count(*) from runs").fetchone()[0] == 2  # the first audit and one more


def test_verify_removal_passes_for_the_vendor_that_cleaned_up_and_fails_for_the_other(jobs, contract_audit):
    # Both audited in one run while under contract (the baseline verify-removal compares with is per vendor).
    jobs = jobs.starting_from(contract_audit, "removal")
    for vendor in ("classnotes", "quizblast"):  # both tracked while under contract
        _, found = latest_findings(jobs, vendor)
        assert [f for f in found if f["severity"] == "violation"], vendor
    jobs.internet.scenario["classnotes_terminated"] = True
    jobs.internet.scenario["quizblast_terminated"] = True
    try:
        cleaned = jobs.cli("verify-removal", "--vendor", "classnotes")
        kept = jobs.cli("verify-removal", "--vendor", "quizblast")
    finally:
        jobs.internet.scenario["classnotes_terminated"] = False
        jobs.internet.scenario["quizblast_terminated"] = False
    assert cleaned.returncode == 0, cleaned.stdout + cleaned.stderr
    assert "Verdict for classnotes (post-termination): REMOVAL VERIFIED" in cleaned.stdout
    # ClassNotes' config has a logout_url: its last audit revoked the login the replay puts back, and both the
    # warning and the verdict say that this part could not be seen.
    assert "Warning: classnotes's last audit" in cleaned.stderr and "logged out at its logout_url" in cleaned.stderr
    assert "whether classnotes still recognises the old account could not be seen" in cleaned.stdout

    assert "logout_url" not in kept.stderr + kept.stdout  # no logout_url: the saved login is really tested
    assert kept.returncode == 1, kept.stdout + kept.stderr
    assert "Verdict for quizblast (post-termination): REMOVAL NOT VERIFIED" in kept.stdout
    run_id, found = latest_findings(jobs, "quizblast")
    by_rule = {}
    for f in found:
        by_rule.setdefault(f["rule_id"], set()).add(f["subject"])
    assert by_rule["III.C-account-still-active"] == {"account student login", "account student saved session"}
    assert "cookie qb_vid" in by_rule["IV.A-identifier-recognised-after-termination"]
    assert {"host px.quizblast-ads.test"} <= by_rule["IV.A-tracking-after-termination"]
    (verdict,) = jobs.database.query("select * from verdicts where run_id = ?", [run_id])
    assert verdict["verdict"] == "removal not verified" and verdict["baseline_run_id"]


def test_verify_removal_refuses_a_vendor_still_under_contract(jobs):
    proc = jobs.cli("verify-removal", "--vendor", "brightpath")
    assert proc.returncode == 2
    assert "verify-removal checks terminated vendors" in proc.stderr


def judged(db_path) -> tuple[set, set]:
    db = sqlite_utils.Database(db_path)
    # A finding is its vendor, account, rule, clause, severity and subject. Not its message: which response or
    # script a cookie is said to be renewed by can differ between two audits when both set it in the same moment.
    findings = {
        (f["vendor_id"], f["account"], f["rule_id"], f["clause"], f["severity"], f["subject"])
        for f in db.query("select * from findings")
    }
    verdicts = {
        (v["vendor_id"], v["job"], v["verdict"], tuple(sorted(json.loads(v["reasons"]))))
        for v in db.query("select * from verdicts")
    }
    return findings, verdicts


def test_three_shards_in_parallel_merge_into_what_one_machine_finds(jobs, contract_audit, tmp_path):
    """Three `audit --shard auto` workers run as parallel processes (as the pods of a Kubernetes Indexed Job
    would), `merge` joins their databases, and the result has exactly the findings and verdicts of one machine
    auditing the same vendors with the same config (``contract_audit``); merging the workers again changes
    nothing."""
    vendor_args = [arg for vendor in VENDORS for arg in ("--vendor", vendor)]
    workers = []
    for index in range(3):
        worker_env = {**os.environ, **jobs.env, "JOB_COMPLETION_INDEX": str(index), "TRACKAUDIT_SHARD_COUNT": "3"}
        workers.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "crawler",
                    "audit",
                    "--config",
                    str(jobs.before_termination),
                    *vendor_args,
                    "--shard",
                    "auto",
                    "--concurrency",
                    "1",
                    "--quiet",
                    "--db",
                    str(tmp_path / f"worker-{index}.db"),
                ],
                cwd=tmp_path,
                env=worker_env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    outputs = [worker.communicate(timeout=300)[0] for worker in workers]
    assert [worker.returncode for worker in workers] == [1, 1, 1], outputs
    shares = [
        {
            r["vendor_id"]
            for r in sqlite_utils.Database(tmp_path / f"worker-{i}.db").query("select vendor_id from audits")
        }
        for i in range(3)
    ]
    assert sorted(v for share in shares for v in share) == sorted(VENDORS)  # each vendor on exactly one worker
    assert sorted(len(share) for share in shares) == [1, 1, 2]  # equal costs: balanced, not 4 on one worker

    workers_dbs = [str(tmp_path / f"worker-{i}.db") for i in range(3)]
    merged = run_cli(["merge", str(tmp_path / "all" / "all.db"), *workers_dbs], cwd=tmp_path)
    assert merged.returncode == 0, merged.stdout + merged.stderr
    findings, verdicts = judged(tmp_path / "all" / "all.db")
    assert findings and verdicts
    one_findings, one_verdicts = judged(contract_audit)
    assert findings == one_findings, findings ^ one_findings
    assert verdicts == one_verdicts, verdicts ^ one_verdicts

    again = run_cli(["merge", str(tmp_path / "all" / "all.db"), workers_dbs[0], *workers_dbs], cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.count("already merged") == 4
    db = sqlite_utils.Database(tmp_path / "all" / "all.db")
    assert db["runs"].count == 3 and judged(tmp_path / "all" / "all.db") == (findings, verdicts)
    for run_id in (1, 2, 3):
        check = run_cli(["verify-evidence", str(run_id), "--db", str(tmp_path / "all" / "all.db")], cwd=tmp_path)
        assert check.returncode == 0, check.stdout + check.stderr
