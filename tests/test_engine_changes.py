"""Changes since the previous audit are linked to this run's findings by what they are about (subject, or the
host, cookie or organisation their evidence names), never by a substring of a message."""

from crawler.analyze.inventory import Change
from crawler.policy.base import Finding
from crawler.policy.engine import change_finding
from crawler.policy.evidence import CookieEvidence, FlowEvidence, TrackerEvidence, TrackerHost

LIFETIME = Finding(
    "IV.C-lifetime-over-maximum",
    "IV.C",
    "violation",
    "cookie lq_vid",
    "Cookie lq_vid (app.t.test) is set to last 400 days; vid is long",
    CookieEvidence({"cookies": [1]}),
)
LEAK = Finding(
    "IV.A-pii-to-third-party",
    "IV.A",
    "violation",
    "host collect.t.test",
    "The test student's email reached the third party T Corp (collect.t.test)",
    FlowEvidence({"requests": [2]}, recipient="T Corp", hosts=("collect.t.test",)),
)
TRACKERS = Finding(
    "IV.D-behavioural-tracker",
    "IV.D",
    "warning",
    "hosts a.t.test, b.t.test",
    "T Corp runs analytics",
    TrackerEvidence({"requests": [3]}, hosts=(TrackerHost("b.t.test", "analytics", None, None, None, None, None),)),
)
FINDINGS = [LIFETIME, LEAK, LEAK.cited_under("II.A"), TRACKERS]


def linked(change: Change):
    finding = change_finding(change, FINDINGS, 3, "2026-11-01")
    return finding, finding.evidence.to_json()


def test_a_new_cookie_takes_the_severity_of_the_finding_with_its_subject():
    finding, stored = linked(Change("cookie", "lq_vid", "new", "app.t.test, first party"))
    assert finding.severity == "violation" and stored["related_rules"] == ["IV.C-lifetime-over-maximum"]
    assert stored["related"] == [{"rule_id": "IV.C-lifetime-over-maximum", "subject": "cookie lq_vid"}]


def test_a_cookie_whose_name_is_only_part_of_another_is_not_linked():
    finding, stored = linked(Change("cookie", "vid", "new", "app.t.test, first party"))
    assert finding.severity == "warning" and stored["related_rules"] == []


def test_a_new_pii_flow_is_linked_to_the_leak_under_each_clause_it_is_cited():
    finding, stored = linked(Change("PII flow", "email to T Corp", "new", "as written"))
    assert finding.severity == "violation" and stored["related_rules"] == ["IV.A-pii-to-third-party"]
    assert "also judged under II.A, IV.A" in finding.message


def test_a_new_host_is_linked_through_the_hosts_the_evidence_names():
    finding, stored = linked(Change("tracker", "b.t.test", "new", "analytics, T Corp"))
    assert stored["related_rules"] == ["IV.D-behavioural-tracker"] and finding.severity == "warning"
    _, leak = linked(Change("third-party host", "collect.t.test", "new", "T Corp"))
    assert leak["related_rules"] == ["IV.A-pii-to-third-party"]


def test_something_vanished_is_info():
    finding, stored = linked(Change("cookie", "lq_vid", "vanished", "app.t.test"))
    assert finding.severity == "info" and stored["evidence_kind"] == "change" and stored["change"] == "vanished"
