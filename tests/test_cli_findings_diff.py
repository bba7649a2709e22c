"""`trackaudit findings` and `trackaudit diff`, exact output on a small database written with the store's API
from recorded observations (no browser): two audits of one vendor a month apart, the second with a new tracker."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.cli import main
from crawler.config import Vendor
from crawler.policy.judge import Judge
from crawler.policy.verdict import scheduled_verdict
from crawler.store.writer import Store
from recorded import PAGE_URL, STUDENT, VENDOR_URL, cookie, page, record_run, request

GA = "https://www.google-analytics.com/g/collect?v=2&cid=555.777&dl=https%3A%2F%2Fapp.classnook.com%2Fhome"
HOTJAR = "https://script.hotjar.com/modules.js"


def classnook_audit(*extra):
    return [
        page(PAGE_URL, "control"),
        page(PAGE_URL, "crawl"),
        cookie("cn_vid", "Qw8eRt6yUi4oPa2sDf0g", "app.classnook.com", "control", expires_in_days=400),
        cookie("cn_vid", "Xk3pQ9vLm2Rt7WzA1bYc", "app.classnook.com", "crawl", expires_in_days=400),
        cookie("cn_session", "s1", "app.classnook.com", "crawl"),
        *extra,
    ]


def first_audit():
    return classnook_audit(request(GA, "crawl"))


def second_audit():
    """Google Analytics gone, Hotjar arrived and was sent the student's email."""
    return classnook_audit(
        request(HOTJAR, "crawl", resource_type="script"),
        request(f"https://in.hotjar.com/api/v2/client/sites/1/visit-data?email={STUDENT['email']}", "crawl"),
    )


QUIET_URL = "https://quietpad.example/"
NO_LISTS = Path(__file__).parent / "no-such-lists-folder"  # built-in knowledge only, whatever the user's cache


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("findings-diff")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TRACKAUDIT_LISTS_DIR", str(NO_LISTS))
        return _write_database(tmp_path / "audits.db")


def _write_database(path):
    store = Store(path)
    store.upsert_vendor(Vendor("classnook", "ClassNook", "active", VENDOR_URL))
    store.upsert_vendor(Vendor("quietpad", "QuietPad", "active", QUIET_URL))
    judge = Judge.load()
    for audits, started_at in (
        ({"classnook": first_audit(), "quietpad": [page(QUIET_URL)]}, "2026-10-01T08:00:00Z"),
        ({"classnook": second_audit(), "quietpad": [page(QUIET_URL)]}, "2026-11-01T08:00:00Z"),
    ):
        run_id = record_run(store, audits, started_at)
        for judgement in judge.judge(store, run_id):
            verdict = scheduled_verdict(judgement.findings, [])
            store.save_verdict(run_id, judgement.vendor_id, verdict.job, verdict.verdict, list(verdict.reasons))
    store.close()
    return path


def run(*args):
    result = CliRunner(env={"TRACKAUDIT_LISTS_DIR": str(NO_LISTS)}).invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_findings_of_the_latest_run_by_vendor_and_clause(database):
    assert (
        run("findings", "--db", str(database))
        == """\
Run 2 (audit, 2026-11-01T08:00:00Z, complete, policy MPS 7400.1)

ClassNook [classnook]: 4 violation(s), 0 warning(s), 0 info — scheduled audit: VIOLATIONS FOUND
  II.A
    VIOLATION  host in.hotjar.com: The test student's name (the lower-cased name as First.Last) and email \
(the email) reached the third party Hotjar (in.hotjar.com) in 1 request(s), e.g. in the request url of \
https://in.hotjar.com/api/v2/client/sites/1/visit-data?email=liam.novak@students.mps.test. II.A forbids disclosing \
a student's personal data to third parties beyond what operating the service needs.
  IV.A
    VIOLATION  host in.hotjar.com: The test student's name (the lower-cased name as First.Last) and email \
(the email) reached the third party Hotjar (in.hotjar.com) in 1 request(s), e.g. in the request url of \
https://in.hotjar.com/api/v2/client/sites/1/visit-data?email=liam.novak@students.mps.test. IV.A allows tracking \
mechanisms to collect personal data only to track activity within the vendor's own site.
  IV.C
    VIOLATION  cookie cn_vid: Cookie cn_vid (app.classnook.com, first party, unknown) is set to last 400 days \
(1.1 years), longer than the 396 days the district accepts. IV.C allows tracking data to be kept only as long as \
reasonably necessary.
  IV.D
    VIOLATION  hosts in.hotjar.com, script.hotjar.com: Hotjar (in.hotjar.com, script.hotjar.com) runs \
session recording on the vendor's pages, known as script.hotjar.com: session recording (builtin); in.hotjar.com: \
session recording (builtin). IV.D requires handling student data in compliance with FERPA and COPPA, which rule out \
advertising and behavioural profiling of students.
QuietPad [quietpad]: 0 violation(s), 0 warning(s), 0 info — scheduled audit: COMPLIANT
  no findings
"""
    )


def test_findings_of_one_vendor_in_an_earlier_run(database):
    assert (
        run("findings", "--run", "1", "--vendor", "classnook", "--db", str(database))
        == """\
Run 1 (audit, 2026-10-01T08:00:00Z, complete, policy MPS 7400.1)

ClassNook [classnook]: 1 violation(s), 1 warning(s), 0 info — scheduled audit: VIOLATIONS FOUND
  IV.C
    VIOLATION  cookie cn_vid: Cookie cn_vid (app.classnook.com, first party, unknown) is set to last 400 days \
(1.1 years), longer than the 396 days the district accepts. IV.C allows tracking data to be kept only as long as \
reasonably necessary.
  IV.D
    warning    host www.google-analytics.com: Google (www.google-analytics.com) runs analytics on the vendor's \
pages, known as www.google-analytics.com: analytics (builtin). IV.D requires handling student data in compliance \
with FERPA and COPPA, which rule out advertising and behavioural profiling of students.
"""
    )


def test_diff_between_the_two_runs(database):
    assert (
        run("diff", "1", "2", "--db", str(database))
        == """\
classnook: run 1 → run 2: 8 change(s)
  + third-party host in.hotjar.com  (Hotjar)
  + third-party host script.hotjar.com  (Hotjar)
  - third-party host www.google-analytics.com  (Google)
  + tracker          in.hotjar.com  (session_replay, Hotjar)
  + tracker          script.hotjar.com  (session_replay, Hotjar)
  - tracker          www.google-analytics.com  (analytics, Google)
  + PII flow         email to Hotjar  (the email)
  + PII flow         name to Hotjar  (the lower-cased name as First.Last)
quietpad: run 1 → run 2: 0 change(s)
"""
    )


def test_diff_of_one_vendor(database):
    assert run("diff", "1", "2", "--vendor", "quietpad", "--db", str(database)) == (
        "quietpad: run 1 → run 2: 0 change(s)\n"
    )
