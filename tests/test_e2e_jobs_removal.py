"""The post-termination check (verify-removal) through the CLI (moved out of test_e2e_jobs.py so the jobs
run in parallel)."""

import pytest

from fixtures.server import FixtureInternet
from test_e2e_jobs import PASSWORDS, Jobs, latest_findings

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def jobs(tmp_path_factory):
    """Its own fixture web and database: this file runs beside test_e2e_jobs.py on another xdist worker."""
    passwords = {user: password for user, (_, password) in PASSWORDS.items()}
    with FixtureInternet(passwords) as internet:
        yield Jobs(internet, tmp_path_factory.mktemp("jobs"))


def test_verify_removal_passes_for_the_vendor_that_cleaned_up_and_fails_for_the_other(jobs):
    # Both audited in one run, side by side (the baseline verify-removal compares with is per vendor).
    before = jobs.cli("audit", "--vendor", "classnotes", "--vendor", "quizblast", config=jobs.before_termination)
    assert before.returncode == 1, before.stdout + before.stderr
    for vendor in ("classnotes", "quizblast"):  # both tracked while under contract
        _, found = latest_findings(jobs, vendor)
        assert [f for f in found if f["severity"] == "violation"], vendor
    jobs.internet.scenario["classnotes_terminated"] = True
    jobs.internet.scenario["quizblast_terminated"] = True

    cleaned = jobs.cli("verify-removal", "--vendor", "classnotes")
    assert cleaned.returncode == 0, cleaned.stdout + cleaned.stderr
    assert "Verdict for classnotes (post-termination): REMOVAL VERIFIED" in cleaned.stdout
    # ClassNotes' config has a logout_url: its last audit revoked the login the replay puts back, and both the
    # warning and the verdict say that this part could not be seen.
    assert "Warning: classnotes's last audit" in cleaned.stderr and "logged out at its logout_url" in cleaned.stderr
    assert "whether classnotes still recognises the old account could not be seen" in cleaned.stdout

    kept = jobs.cli("verify-removal", "--vendor", "quizblast")
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
