"""Typed finding evidence: each kind serialises to the JSON stored in findings.evidence and reads back; evidence
stored before kinds existed (the free-form dicts each rule used to write) is read as the kind it has."""

from dataclasses import asdict

import pytest

from crawler.policy.evidence import (
    ChangeEvidence,
    CookieDescription,
    CookieEvidence,
    FlowEvidence,
    FlowItem,
    LoginEvidence,
    OtherEvidence,
    PageEvidence,
    Sending,
    SharingEvidence,
    StorageEvidence,
    TlsEvidence,
    TrackerEvidence,
    TrackerHost,
    evidence_from_json,
)

COOKIE = CookieDescription(
    "lq_vid",
    ".leaky.test",
    "/",
    "a8F3kQ9zX2",
    1.9e9,
    400.0,
    False,
    False,
    True,
    "Lax",
    None,
    "first",
    "leaky.test",
    "unknown",
    None,
    None,
    "https://app.leaky.test/lq.js",
    "script",
    "crawl",
)
FLOW = FlowItem(
    "requests",
    7,
    "crawl",
    "collect.t.test",
    "third",
    "t.test",
    "https://collect.t.test/i",
    "email",
    "sha256 of the email",
    ("sha256",),
    "post body > json",
    "ab12",
    '{"uid": "ab12"}',
)

EXAMPLES = [
    CookieEvidence({"cookies": [1]}, COOKIE, identifier_reasons=("random",), maximum_days=396),
    CookieEvidence({"cookies": [1], "requests": [2]}, COOKIE, identifier_reasons=("same",), on_reconnect=True),
    CookieEvidence({"cookies": [1, 2]}, value="a8F3kQ9zX2", sources=("localStorage lq_vid",)),
    CookieEvidence({"cookies": [3]}, in_last_audit=False),
    StorageEvidence({"storage_items": [4], "requests": [5]}, identifier_value="a8F3kQ9zX2"),
    StorageEvidence({"storage_items": [4]}, identifier_reasons=("random",), maximum_days=396),
    FlowEvidence({"requests": [7]}, flows=(FLOW,), recipient="t.test", hosts=("collect.t.test",)),
    FlowEvidence({"storage_items": [4]}, flows=(FLOW,), host="app.leaky.test", party="first"),
    SharingEvidence(
        {"cookies": [1], "requests": [7]},
        "a8F3kQ9zX2",
        "leaky.test",
        ("t.test",),
        (Sending(7, "collect.t.test", "t.test", "URL", "https://collect.t.test/?id=a8F3kQ9zX2"),),
    ),
    TrackerEvidence(
        {"requests": [7]},
        (TrackerHost("collect.t.test", "advertising", "T", "builtin", None, None, None),),
        ("receives lq_vid",),
        ("https://app.leaky.test/home",),
    ),
    TrackerEvidence({"requests": [7]}, in_last_audit=True),
    TlsEvidence({"requests": [7]}, carries=("cookies",)),
    TlsEvidence({"requests": [7]}, protocols=("TLS 1.1",), ciphers=()),
    ChangeEvidence(
        {},
        3,
        "new",
        "cookie",
        "lq_vid",
        ("IV.C-lifetime-over-maximum",),
        (("IV.C-lifetime-over-maximum", "cookie lq_vid"),),
    ),
    ChangeEvidence({}, previous_run_id=3, gone=("host t.test",)),
    LoginEvidence({"pages": [9]}, final_url=None),
    PageEvidence({"pages": [9]}, url="https://app.leaky.test/home"),
]


@pytest.mark.parametrize("evidence", EXAMPLES, ids=lambda e: e.kind)
def test_every_kind_reads_back_what_it_wrote(evidence):
    stored = evidence.to_json()
    assert stored["evidence_kind"] == evidence.kind
    assert evidence_from_json(stored) == evidence


def test_the_change_kind_keeps_kind_for_what_changed():
    stored = EXAMPLES[13].to_json()
    assert (stored["evidence_kind"], stored["kind"], stored["change"]) == ("change", "cookie", "new")


def test_a_cookie_judged_on_reconnect_reports_renewed_even_when_null():
    assert CookieEvidence({}, COOKIE, on_reconnect=True).to_json()["renewed"] is None
    assert "renewed" not in CookieEvidence({}, COOKIE).to_json()


LEGACY = [  # (what a rule stored before evidence had kinds, the kind it is read as)
    ({"rows": {"requests": [7]}, "flows": [], "recipient": "t.test", "hosts": ["collect.t.test"]}, "pii-flow"),
    ({"rows": {"cookies": [1]}, "cookie": asdict(COOKIE), "maximum_days": 396}, "cookie"),
    (
        {"rows": {"cookies": [1], "requests": [2]}, "cookie": asdict(COOKIE), "identifier": ["r"], "renewed": None},
        "cookie",
    ),
    ({"rows": {"cookies": [1, 2]}, "value": "v", "sources": ["localStorage"]}, "cookie"),
    ({"rows": {"cookies": [1, 2]}}, "cookie"),
    ({"rows": {"storage_items": [4], "requests": [5]}, "identifier": "v"}, "storage"),
    ({"rows": {"storage_items": [4]}, "identifier": ["r"], "maximum_days": 396}, "storage"),
    (
        {"rows": {"requests": [7]}, "identifier": "v", "owner": "o", "receivers": ["r"], "sent": []},
        "identifier-sharing",
    ),
    (
        {
            "rows": {"requests": [7]},
            "observed": [],
            "pages": [],
            "hosts": [asdict(TrackerHost("h", None, "O", None, "easyprivacy", "||h^", "https://h/x"))],
        },
        "tracker",
    ),
    ({"rows": {"requests": [7]}, "in_last_audit": True}, "tracker"),
    ({"rows": {"requests": [7]}, "protocols": [], "ciphers": ["AES_128_GCM"]}, "tls"),
    (
        {
            "rows": {},
            "previous_run_id": 3,
            "change": "new",
            "kind": "PII flow",
            "key": "email to T",
            "related_rules": [],
        },
        "change",
    ),
    ({"rows": {"pages": [9]}, "final_url": None}, "login"),
    ({"rows": {"pages": [9]}, "url": "https://x"}, "page"),
]


@pytest.mark.parametrize("stored, kind", LEGACY, ids=[k for _, k in LEGACY])
def test_evidence_stored_before_kinds_is_read_as_its_kind(stored, kind):
    evidence = evidence_from_json(stored)
    assert evidence.kind == kind
    assert {k: v for k, v in evidence.to_json().items() if k != "evidence_kind"} == stored


def test_the_legacy_change_keeps_what_changed():
    evidence = evidence_from_json(LEGACY[11][0])
    assert isinstance(evidence, ChangeEvidence) and evidence.what == "PII flow"


def test_evidence_of_an_unknown_shape_is_kept_as_it_is():
    evidence = evidence_from_json({"rows": {"requests": [1, "x"]}, "mystery": {"deep": [1]}})
    assert evidence == OtherEvidence({"requests": [1]}, {"mystery": {"deep": [1]}})
    assert evidence_from_json("not an object").kind == "other"
