"""A leak of PII to a third party is one finding of IV.A-pii-to-third-party, which the district's pack cites
under IV.A and II.A (no disclosure to third parties): stored once per clause, with one evidence."""

import hashlib
import json

from recorded import STUDENT, audit, judge_cited, request

RULE = "IV.A-pii-to-third-party"


def test_hashed_email_to_a_third_party_is_disclosed_under_ii_a():
    digest = hashlib.sha256(STUDENT["email"].encode()).hexdigest()
    leak = request(
        "https://collect.edtrack-metrics.com/v1/identify", "login", "POST", post_data=json.dumps({"uid": digest})
    )
    data = audit(request("https://app.classnook.com/login", "login", is_navigation=True), leak)

    [disclosed] = [f for f in judge_cited(data, RULE) if f.clause == "II.A"]

    assert (disclosed.rule_id, disclosed.severity) == (RULE, "violation")
    assert disclosed.subject == "host collect.edtrack-metrics.com"
    assert "sha256 of the email" in disclosed.message
    assert "II.A forbids disclosing" in disclosed.message
    assert "IV.A allows" not in disclosed.message
    assert disclosed.evidence.rows == {"requests": [leak.row_id]}


def test_ii_a_and_iv_a_cite_the_same_leak_with_their_own_words():
    leak = request(f"https://www.google-analytics.com/collect?uid={STUDENT['email']}")
    collected, disclosed = judge_cited(audit(leak), RULE)
    assert (collected.clause, disclosed.clause) == ("IV.A", "II.A")
    assert (disclosed.subject, disclosed.evidence, disclosed.severity) == (
        collected.subject,
        collected.evidence,
        collected.severity,
    )
    assert "IV.A allows tracking mechanisms" in collected.message
    assert "II.A forbids disclosing" in disclosed.message


def test_pii_sent_only_to_the_vendor_is_not_disclosed():
    form = request(
        "https://app.classnook.com/api/profile",
        "crawl",
        "POST",
        post_data=f"name={STUDENT['name']}&email={STUDENT['email']}&student_id={STUDENT['student_id']}",
    )
    assert judge_cited(audit(form), RULE) == []


def test_a_session_cookie_sent_to_a_third_party_carries_no_pii():
    beacon = request(
        "https://collect.edtrack-metrics.com/v1/e?page=home", cookie_header="et_uid=q7Lw2ZrT9bXe4NcA8vKm3P"
    )
    assert judge_cited(audit(beacon), RULE) == []
