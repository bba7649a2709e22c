"""IV.A-pii-to-third-party: the test student's PII, in any encoding, reaching another organisation."""

import base64
import hashlib
import json

from recorded import STUDENT, audit, judge, only, request, websocket_frame

RULE = "IV.A-pii-to-third-party"
MIXED_CASE_EMAIL = "Liam.Novak@Students.MPS.test"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def identify(url: str, uid: str, phase: str = "crawl"):
    """A tracker's identify call: JSON POST with the hashed user id, as analytics SDKs send it."""
    return request(url, phase, "POST", post_data=json.dumps({"event": "identify", "uid": uid, "plan": "school"}))


def test_sha256_of_the_lower_cased_email_in_json_to_a_third_party():
    leak = identify("https://collect.edtrack-metrics.com/v1/identify", sha256(MIXED_CASE_EMAIL.lower()))
    data = audit(request("https://app.classnook.com/api/me"), leak, pii={**STUDENT, "email": MIXED_CASE_EMAIL})

    finding = only(judge(data, RULE))

    assert (finding.rule_id, finding.clause, finding.severity) == (RULE, "IV.A", "violation")
    assert finding.subject == "host collect.edtrack-metrics.com"
    assert "sha256 of the lower-cased email" in finding.message
    assert "edtrack-metrics.com (collect.edtrack-metrics.com)" in finding.message
    assert "post body" in finding.message
    assert finding.account == "student"
    assert finding.evidence.rows == {"requests": [leak.row_id]}
    assert finding.evidence.recipient == "edtrack-metrics.com"
    [flow] = finding.evidence.flows
    assert (flow.field, flow.chain, flow.party) == ("email", ("lower", "sha256"), "third")
    assert flow.matched == sha256(MIXED_CASE_EMAIL.lower())


def test_the_same_hash_sent_to_the_vendor_itself_is_not_a_finding():
    own = identify("https://app.classnook.com/api/identify", sha256(STUDENT["email"]))
    assert judge(audit(own), RULE) == []


def test_a_declared_first_party_domain_is_not_a_third_party():
    api = identify("https://api.classnook-cdn.net/v1/identify", sha256(STUDENT["email"]))
    assert judge(audit(api, first_party=("classnook-cdn.net",)), RULE) == []
    assert (
        only(
            judge(audit(identify("https://api.classnook-cdn.net/v1/identify", sha256(STUDENT["email"]))), RULE)
        ).subject
        == "host api.classnook-cdn.net"
    )


def test_base64_email_in_a_url_parameter_to_a_third_party():
    token = base64.b64encode(STUDENT["email"].encode()).decode()
    pixel = request(f"https://px.adsync-partner.com/p.gif?e={token}&t=pageview", resource_type="image")
    data = audit(request("https://app.classnook.com/home", is_navigation=True), pixel)

    finding = only(judge(data, RULE))

    assert finding.subject == "host px.adsync-partner.com"
    assert "base64 of the email" in finding.message
    assert "request url" in finding.message
    assert finding.evidence.rows == {"requests": [pixel.row_id]}


def test_student_id_inside_an_unrelated_number_is_not_a_leak():
    # 4417209 appears inside the timestamp and inside a longer order number, never as its own token.
    beacon = request("https://collect.edtrack-metrics.com/v1/e?ts=1234417209876&order=994417209001&page=home")
    assert judge(audit(beacon), RULE) == []


def test_student_id_as_its_own_keyed_token_is_a_leak():
    beacon = request("https://collect.edtrack-metrics.com/v1/e?student_id=4417209&page=home")
    finding = only(judge(audit(beacon), RULE))
    assert "student_id" in finding.message
    assert finding.evidence.rows == {"requests": [beacon.row_id]}


def test_two_hosts_of_one_organisation_make_one_finding():
    analytics = request(f"https://www.google-analytics.com/g/collect?uid={sha256(STUDENT['email'])}&en=page_view")
    ads = request(f"https://stats.g.doubleclick.net/g/collect?em={sha256(STUDENT['email'])}")
    other = identify("https://collect.edtrack-metrics.com/v1/identify", sha256(STUDENT["email"]))
    data = audit(analytics, ads, other)

    findings = judge(data, RULE)

    assert sorted(f.subject for f in findings) == [
        "entity Google (stats.g.doubleclick.net, www.google-analytics.com)",
        "host collect.edtrack-metrics.com",
    ]
    google = only(findings, "entity Google (stats.g.doubleclick.net, www.google-analytics.com)")
    assert google.evidence.recipient == "Google"
    assert list(google.evidence.hosts) == ["stats.g.doubleclick.net", "www.google-analytics.com"]
    assert google.evidence.rows == {"requests": [analytics.row_id, ads.row_id]}
    assert "in 2 request(s)" in google.message


def test_name_in_the_referer_of_a_third_party_request():
    script = request(
        "https://cdn.edtrack-metrics.com/sdk.js",
        resource_type="script",
        referer="https://app.classnook.com/profile?student=Liam%20Novak",
    )
    finding = only(judge(audit(script), RULE))
    assert "name" in finding.message
    assert finding.evidence.flows[0].location.startswith("header referer")


def test_no_pii_configured_means_no_finding():
    leak = identify("https://collect.edtrack-metrics.com/v1/identify", sha256(STUDENT["email"]))
    assert judge(audit(leak, pii={}), RULE) == []


def test_the_email_sent_in_a_websocket_frame_to_a_third_party():
    socket = "wss://live.chatwidget-cloud.com/socket"
    sent = websocket_frame(socket, json.dumps({"visitor": {"email": STUDENT["email"]}}))
    echoed = websocket_frame(socket, json.dumps({"hello": STUDENT["email"]}), direction="received")
    data = audit(request("https://app.classnook.com/home"), sent, echoed)

    finding = only(judge(data, RULE))

    assert (finding.subject, finding.clause) == ("host live.chatwidget-cloud.com", "IV.A")
    assert "in 1 WebSocket frame(s), e.g. in the websocket frame" in finding.message and socket in finding.message
    assert finding.evidence.rows == {"websocket_frames": [sent.row_id]}
    [flow] = [f for f in finding.evidence.flows if f.field == "email"]
    assert (flow.table, flow.row_id, flow.url, flow.party) == ("websocket_frames", sent.row_id, socket, "third")
