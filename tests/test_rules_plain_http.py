"""I.F-plain-http: cookies, the student's PII or the service's pages sent without encryption."""

from recorded import STUDENT, audit, judge, only, request, websocket_frame

RULE = "I.F-plain-http"


def test_plain_http_request_carrying_a_cookie():
    plain = request(
        "http://static.classnook.com/img/logo.png", resource_type="image", cookie_header="cn_vid=Xk3pQ9vLm2"
    )
    data = audit(request("https://app.classnook.com/home", is_navigation=True), plain)

    finding = only(judge(data, RULE))

    assert (finding.rule_id, finding.clause, finding.severity) == (RULE, "I.F", "violation")
    assert finding.subject == "host static.classnook.com"
    assert "1 unencrypted (plain HTTP) request(s) to static.classnook.com carried cookies" in finding.message
    assert "http://static.classnook.com/img/logo.png" in finding.message
    assert "256-bit" in finding.message
    assert finding.evidence.rows == {"requests": [plain.row_id]}
    assert list(finding.evidence.carries) == ["cookies"]
    assert plain.obs.tls_protocol is None  # plain HTTP has no TLS details


def test_the_same_request_over_https_is_fine():
    secure = request(
        "https://static.classnook.com/img/logo.png", resource_type="image", cookie_header="cn_vid=Xk3pQ9vLm2"
    )
    assert judge(audit(secure), RULE) == []


def test_plain_http_without_cookies_or_pii_to_a_third_party_is_not_judged():
    assert judge(audit(request("http://cdn.example-assets.net/font.woff2", resource_type="font")), RULE) == []


def test_plain_http_page_of_the_service():
    page = request("http://app.classnook.com/", "control", is_navigation=True, status=301)
    finding = only(judge(audit(page), RULE))
    assert list(finding.evidence.carries) == ["a page of the service"]
    assert "carried a page of the service" in finding.message


def test_pii_over_plain_http_to_a_third_party_groups_requests_per_host():
    first = request(f"http://track.edtrack-metrics.com/e?email={STUDENT['email']}", resource_type="image")
    second = request("http://track.edtrack-metrics.com/e?page=home", cookie_header="et=1")
    other = request("http://px.adsync-partner.com/p?x=1", cookie_header="apx=1")
    findings = judge(audit(first, second, other), RULE)
    assert [f.subject for f in findings] == ["host px.adsync-partner.com", "host track.edtrack-metrics.com"]
    tracked = only(findings, "host track.edtrack-metrics.com")
    assert list(tracked.evidence.carries) == ["cookies", "the student's personal data"]
    assert tracked.evidence.rows == {"requests": [first.row_id, second.row_id]}
    assert "2 unencrypted (plain HTTP) request(s)" in tracked.message


def test_pii_in_frames_of_a_plain_websocket_is_sent_without_encryption():
    socket = request("ws://live.tutorchat-cloud.com/socket", resource_type="websocket")
    frame = websocket_frame("ws://live.tutorchat-cloud.com/socket", f'{{"from": "{STUDENT["email"]}"}}')
    finding = only(judge(audit(socket, frame), RULE))
    assert finding.subject == "host live.tutorchat-cloud.com"
    assert list(finding.evidence.carries) == ["the student's personal data"]
    assert finding.evidence.rows == {"requests": [socket.row_id], "websocket_frames": [frame.row_id]}
    secure = request("wss://live.tutorchat-cloud.com/socket", resource_type="websocket")
    sealed = websocket_frame("wss://live.tutorchat-cloud.com/socket", f'{{"from": "{STUDENT["email"]}"}}')
    assert judge(audit(secure, sealed), RULE) == []
