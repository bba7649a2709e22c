"""Coverage of an audit and the verdicts it allows: an audit that could not see what it had to never reassures."""

from crawler.coverage import Coverage, explain, failure_class
from crawler.policy.base import Finding
from crawler.policy.verdict import candidate_verdict, removal_verdict, scheduled_verdict

START, LOGIN = "https://app.vendor.example/", "https://app.vendor.example/signin"


def test_failure_classes_from_chromium_errors_and_statuses():
    assert failure_class("Page.goto: net::ERR_NAME_NOT_RESOLVED at https://x/") == "DNS"
    assert failure_class("Page.goto: net::ERR_CERT_AUTHORITY_INVALID at https://x/") == "TLS"
    assert failure_class("Page.goto: net::ERR_SSL_PROTOCOL_ERROR at https://x/") == "TLS"
    assert failure_class("Page.goto: net::ERR_CONNECTION_REFUSED at https://x/") == "refused"
    assert failure_class("Page.goto: Timeout 5000ms exceeded.") == "timeout"
    assert failure_class("the page did not finish loading in time") == "timeout"
    assert failure_class("Page.goto: net::ERR_CONNECTION_RESET at https://x/") == "connection"
    assert failure_class(None, 404) == "HTTP 404"
    assert failure_class(None, 200) is None and failure_class(None, 302) is None and failure_class(None, None) is None


def test_explanations_name_the_host_and_the_fix():
    assert (
        explain("DNS", START) == "could not resolve app.vendor.example (DNS): check start_url or --host-resolver-rules"
    )
    assert explain("TLS", START, "net::ERR_CERT_AUTHORITY_INVALID").startswith(
        "certificate not trusted for app.vendor.example"
    )
    assert "refused the connection" in explain("refused", START)
    assert explain("HTTP 404", LOGIN) == f"{LOGIN} answered 404: check the address in the config"


def coverage(*visits, login_outcome="success", login_message=None, removal=False, phases=None):
    cov = Coverage(START, LOGIN, removal=removal)
    for phase, outcome in (phases or {"control": "complete", "login": "complete", "crawl": "complete"}).items():
        cov.phase_done(phase, outcome, "boom" if outcome != "complete" else None)
    for phase, url, status, error in visits:
        cov.visited(phase, url, status, error)
    cov.login_outcome, cov.login_message = login_outcome, login_message
    return cov


GOOD = [
    ("control", START, 200, None),
    ("control", LOGIN, 200, None),
    ("crawl", START + "a", 200, None),
    ("crawl", START + "b", 404, None),
]


def test_a_complete_audit_has_no_gap_even_with_one_failed_page():
    cov = coverage(*GOOD)
    assert cov.gaps() == []
    assert cov.counts() == {"HTTP 404": 1, "loaded": 3}
    assert cov.to_json()["counts"]["loaded"] == 3


def test_an_unreachable_start_page_is_a_gap_with_the_fix():
    refused = "Page.goto: net::ERR_CONNECTION_REFUSED at https://app.vendor.example/"
    cov = coverage(
        ("control", START, None, refused),
        ("reconnect", START, None, refused),
        login_outcome="failed",
        login_message="login failed: app.vendor.example refused the connection",
    )
    gaps = cov.gaps()
    assert any(
        g.startswith("the start page could not be loaded: app.vendor.example refused the connection") for g in gaps
    )
    assert "login failed: app.vendor.example refused the connection" in gaps
    assert any(g.startswith("2 of 2 page visits failed (refused 2)") for g in gaps)


def test_a_failed_login_or_a_phase_that_could_not_run_is_a_gap():
    assert coverage(
        *GOOD, login_outcome="failed", login_message="login failed: the page said 'Invalid email or password'"
    ).gaps() == ["login failed: the page said 'Invalid email or password'"]
    assert coverage(*GOOD, phases={"control": "complete", "crawl": "error"}).gaps() == [
        "the crawl phase could not run (error: boom)"
    ]


def test_more_than_half_of_the_visits_failing_is_a_gap_and_half_is_not():
    half = GOOD[:2] + [("crawl", START + "c", 500, None), ("crawl", START + "d", 503, None)]
    assert coverage(*half).gaps() == []
    more = half + [("crawl", START + "e", None, "net::ERR_TIMED_OUT")]
    assert coverage(*more).gaps()[0].startswith("3 of 5 page visits failed (HTTP 500 1, HTTP 503 1, timeout 1)")


def test_after_termination_http_errors_and_a_refused_login_are_evidence_not_gaps():
    cov = coverage(
        ("removal-public", START, 410, None),
        ("removal-login", LOGIN, 404, None),
        ("removal-replay", START + "a", 403, None),
        login_outcome="failed",
        login_message="login failed: the page said 'Invalid email or password'",
        removal=True,
        phases={"removal-login": "complete", "removal-public": "complete"},
    )
    assert cov.gaps() == []


def test_after_termination_an_unreachable_site_or_login_page_is_a_gap():
    dns = "net::ERR_NAME_NOT_RESOLVED"
    cov = coverage(
        ("removal-public", START, 200, None),
        ("removal-login", LOGIN, None, dns),
        ("removal-public", LOGIN, None, dns),
        login_outcome="failed",
        removal=True,
        phases={"removal-login": "complete"},
    )
    assert cov.gaps()[0] == (
        "the login page could not be loaded: could not resolve app.vendor.example (DNS): "
        "check start_url or --host-resolver-rules"
    )
    assert cov.gaps()[1].startswith("2 of 3 page visits failed (DNS 2)")


def finding(severity):
    return Finding(
        rule_id="IV.D-behavioural-tracker",
        clause="IV.D",
        severity=severity,
        subject="host t.example",
        message="m",
        evidence={},
    )


GAP = ["login failed: https://app.vendor.example/signin answered 404"]


def test_an_incomplete_scheduled_audit_is_never_compliant_or_warnings_only():
    assert scheduled_verdict([], [], GAP).verdict == "incomplete"
    assert scheduled_verdict([finding("warning")], [], GAP).verdict == "incomplete"
    verdict = scheduled_verdict([finding("violation")], [], GAP)
    assert verdict.verdict == "violations found — audit incomplete"
    assert verdict.reasons[0] == "audit incomplete: " + GAP[0]
    assert any("IV.D" in r for r in verdict.reasons)  # what was seen is still reported
    assert scheduled_verdict([], [], []).verdict == "compliant"
    assert scheduled_verdict([finding("warning")], [], []).verdict == "warnings only"


def test_an_incomplete_pre_approval_is_never_approve():
    assert candidate_verdict([], [], [], GAP).verdict == "incomplete"
    assert candidate_verdict([finding("violation")], [], [], GAP).verdict == "do not approve — audit incomplete"
    assert candidate_verdict([], [], []).verdict == "approve"


def test_an_incomplete_removal_check_is_never_verified():
    assert removal_verdict([], [], None, GAP).verdict == "incomplete"
    assert removal_verdict([finding("violation")], [], None, GAP).verdict == "removal not verified — audit incomplete"
    assert removal_verdict([], [], None).verdict == "removal verified"


def test_local_urls_are_never_third_party_hosts():
    from crawler.analyze.party import PartyResolver
    from crawler.browse.collectors.network import network_host

    for url in (
        "chrome-extension://abcdefghijklmnop/inject.js",
        "data:text/plain,hi",
        "about:blank",
        "blob:https://tracker.example/5b1c-44",
    ):
        assert network_host(url) == ""
    assert network_host("https://Tracker.Example/x") == "tracker.example"
    assert network_host("wss://tracker.example/socket") == "tracker.example"
    parties = PartyResolver(["https://vendor.test/"], knowledge=None)  # knowledge only names organisations
    assert parties.party("") == "first" and parties.party("tracker.example") == "third"


def test_storage_partition_key_is_the_top_level_site_of_a_third_party_frame():
    from crawler.browse.collectors.storage import partition_key

    assert (
        partition_key("https://widgets.nookads.test/store", "https://www.studynook.test/lessons")
        == "https://studynook.test"
    )
    assert partition_key("https://cdn.studynook.test/x", "https://www.studynook.test/lessons") is None
    assert partition_key("about:blank", "https://www.studynook.test/") is None
    assert partition_key("https://a.test/", None) is None
