"""II.A-pii-disclosed: the same evidence as IV.A's leak, judged under II.A (no disclosure to third parties)."""

import hashlib
import json

from recorded import STUDENT, audit, judge, only, request

RULE = "II.A-pii-disclosed"


def test_hashed_email_to_a_third_party_is_disclosed_under_ii_a():
    digest = hashlib.sha256(STUDENT["email"].encode()).hexdigest()
    leak = request("https://collect.edtrack-metrics.com/v1/identify", "login", "POST",
                   post_data=json.dumps({"uid": digest}))
    data = audit(request("https://app.classnook.com/login", "login", is_navigation=True), leak)

    finding = only(judge(data, RULE))

    assert (finding.rule_id, finding.clause, finding.severity) == (RULE, "II.A", "violation")
    assert finding.subject == "host collect.edtrack-metrics.com"
    assert "sha256 of the email" in finding.message
    assert "II.A forbids disclosing" in finding.message
    assert finding.evidence["rows"] == {"requests": [leak.row_id]}


def test_ii_a_and_iv_a_report_the_same_leak():
    leak = request(f"https://www.google-analytics.com/collect?uid={STUDENT['email']}")
    data = audit(leak)
    [disclosed] = judge(data, RULE)
    [collected] = judge(data, "IV.A-pii-to-third-party")
    assert (disclosed.subject, disclosed.evidence) == (collected.subject, collected.evidence)
    assert (disclosed.clause, collected.clause) == ("II.A", "IV.A")


def test_pii_sent_only_to_the_vendor_is_not_disclosed():
    form = request("https://app.classnook.com/api/profile", "crawl", "POST",
                   post_data=f"name={STUDENT['name']}&email={STUDENT['email']}&student_id={STUDENT['student_id']}")
    assert judge(audit(form), RULE) == []


def test_a_session_cookie_sent_to_a_third_party_carries_no_pii():
    beacon = request("https://collect.edtrack-metrics.com/v1/e?page=home",
                     cookie_header="et_uid=q7Lw2ZrT9bXe4NcA8vKm3P")
    assert judge(audit(beacon), RULE) == []
