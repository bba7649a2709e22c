"""The pre-approval scan of the candidate vendor through the CLI (moved out of test_e2e_jobs.py so the jobs
run in parallel)."""

import json

import pytest

from conftest import run_cli
from fixtures.server import FixtureInternet
from test_e2e_jobs import PASSWORDS, Jobs, latest_findings
from test_e2e_same_findings import SCAN_FINDINGS, finding_set

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def jobs(tmp_path_factory):
    """Its own fixture web and database: this file runs beside test_e2e_jobs.py on another xdist worker."""
    passwords = {user: password for user, (_, password) in PASSWORDS.items()}
    with FixtureInternet(passwords) as internet:
        yield Jobs(internet, tmp_path_factory.mktemp("jobs"))


def test_scan_of_the_candidate_says_do_not_approve_with_ads_and_session_replay(jobs):
    proc = run_cli(
        [
            "scan",
            "https://www.funmathzone.test/",
            "--db",
            str(jobs.db),
            "--host-resolver-rules",
            jobs.internet.host_resolver_rules,
            "--ignore-https-errors",
        ],
        cwd=jobs.workdir,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Verdict for www-funmathzone-test (pre-approval): DO NOT APPROVE" in proc.stdout
    run_id, found = latest_findings(jobs, "www-funmathzone-test")
    (verdict,) = jobs.database.query("select * from verdicts where run_id = ?", [run_id])
    assert verdict["verdict"] == "do not approve"
    reasons = " ".join(json.loads(verdict["reasons"]))
    trackers = [f for f in found if f["rule_id"] == "IV.D-behavioural-tracker" and f["severity"] == "violation"]
    text = " ".join(f["subject"] + " " + f["message"] for f in trackers)
    assert "advertising" in text and "doubleclick.net" in text
    assert "session recording" in text and "hotjar.com" in text
    assert "IV.D" in reasons and "TLS on www.funmathzone.test: TLS 1.3" in reasons
    identifiers = {f["subject"] for f in found if f["rule_id"] == "IV.B-identifier-on-reconnect"}
    assert identifiers == {"cookie IDE", "cookie _hjSessionUser_123"}
    assert "a form on https://www.funmathzone.test/signup asks for:" in reasons
    pages = [
        r["url"] for r in jobs.database.query("select url from pages where run_id = ? and phase = 'crawl'", [run_id])
    ]
    assert "https://www.funmathzone.test/signup" in pages and "https://www.funmathzone.test/login" in pages
    # The quicker protocol finds exactly what the fixed-sleep protocol found (test_e2e_same_findings.py).
    assert {f for f in finding_set(jobs.database) if f[0] == "www-funmathzone-test"} == SCAN_FINDINGS
