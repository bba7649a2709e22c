"""IV.B-identifier-on-reconnect: after the browser is closed and reopened (no new login), a persisted
identifier is sent again or renewed. Allowed only for the cookie the district accepts as login retention."""

from crawler.analyze.audit_data import Rec
from crawler.observations import RetentionCookieObs
from recorded import VENDOR_HOST, analyse, audit, cookie, end_of, judge, only, request, script_write, storage

RULE = "IV.B-identifier-on-reconnect"
VID, CONTROL_VID = "Xk3pQ9vLm2Rt7WzA1bYc", "Pm4Rt8Yq2Lk6Nb0Vx3Ws"
HOME = "https://app.classnook.com/"


def lifecycle(name, audited, control, days=400, restart=None, restart_days=None, **kw):
    """The cookie in the control profile, at the end of the crawl and after the restart."""
    restart_days = days if restart_days is None else restart_days
    return (
        cookie(name, control, VENDOR_HOST, "control", expires_in_days=days, **kw),
        cookie(name, audited, VENDOR_HOST, "crawl", expires_in_days=days, **kw),
        # The same expiry as before the restart unless renewed: the jar keeps it.
        cookie(
            name,
            audited if restart is None else restart,
            VENDOR_HOST,
            "reconnect",
            expires_in_days=restart_days - (end_of("reconnect") - end_of("crawl")) / 86400,
            **kw,
        ),
    )


def test_persistent_identifier_sent_again_in_the_cookie_header():
    control, crawl, reconnect = lifecycle("cn_vid", VID, CONTROL_VID)
    resent = request(HOME, "reconnect", is_navigation=True, cookie_header=f"cn_theme=dark; cn_vid={VID}")
    data = audit(control, crawl, request(HOME, cookie_header=f"cn_vid={VID}"), reconnect, resent)

    finding = only(judge(data, RULE))

    assert (finding.rule_id, finding.clause, finding.severity) == (RULE, "IV.B", "violation")
    assert finding.subject == "cookie cn_vid"
    assert f"sent again to {VENDOR_HOST} (Cookie header)" in finding.message
    assert "renewed" not in finding.message
    assert "without logging in" in finding.message
    assert finding.evidence.rows == {"cookies": [crawl.row_id], "requests": [resent.row_id]}
    assert finding.evidence.renewed is None


def test_the_districts_login_retention_cookie_is_allowed():
    token = "9f2c4e7a1b3d5f6e8a0c2e4f6a8b0d1c"
    control, crawl, reconnect = lifecycle("cn_keep", token, "0a1b2c3d4e5f60718293a4b5c6d7e8f9", days=30)
    resent = request(HOME, "reconnect", is_navigation=True, cookie_header=f"cn_keep={token}")
    data = audit(control, crawl, reconnect, resent, remember_cookies=("cn_keep",))
    assert judge(data, RULE) == []
    [resent_cookie] = analyse(data).persistence.resent_cookies  # it was re-sent: allowed, not overlooked
    assert resent_cookie.cookie.row_id == crawl.row_id
    # The same cookie, not accepted by the district, is a finding.
    unlisted = audit(
        *lifecycle("cn_keep", token, "0a1b2c3d4e5f60718293a4b5c6d7e8f9", days=30),
        request(HOME, "reconnect", cookie_header=f"cn_keep={token}"),
    )
    assert only(judge(unlisted, RULE)).subject == "cookie cn_keep"


def test_a_constant_preference_sent_again_is_not_an_identifier():
    control, crawl, reconnect = lifecycle("cn_theme", "dark", "dark", days=365)
    resent = request(HOME, "reconnect", cookie_header="cn_theme=dark")
    assert judge(audit(control, crawl, reconnect, resent), RULE) == []
    # A longer constant, the same for every browser, is no identifier either.
    layout = "grid-compact-v2"
    control, crawl, reconnect = lifecycle("cn_layout", layout, layout, days=365)
    assert (
        judge(audit(control, crawl, reconnect, request(HOME, "reconnect", cookie_header=f"cn_layout={layout}")), RULE)
        == []
    )


def test_identifier_renewed_by_a_set_cookie_on_reconnect():
    renewal = request(
        "https://app.classnook.com/api/visit",
        "reconnect",
        "POST",
        post_data="{}",
        set_cookies=(f"cn_vid={VID}; Max-Age=34560000; Path=/; Secure; SameSite=Lax",),
    )
    # The reconnect jar holds a later expiry than the jar at the browser's close.
    control, crawl, reconnect = lifecycle("cn_vid", VID, CONTROL_VID, restart_days=400 + 400)
    data = audit(control, crawl, reconnect, renewal)

    finding = only(judge(data, RULE))

    assert finding.subject == "cookie cn_vid"
    assert "renewed with a later expiry by https://app.classnook.com/api/visit" in finding.message
    assert "sent again" not in finding.message
    assert finding.evidence.renewed == "later expiry"
    assert finding.evidence.rows == {"cookies": [crawl.row_id, reconnect.row_id]}


def test_identifier_renewed_by_a_script_and_sent_again():
    control, crawl, reconnect = lifecycle("cn_vid", VID, CONTROL_VID, restart_days=800)
    rewrite = script_write(
        f"cn_vid={VID}; Max-Age=34560000; Path=/", "reconnect", script_url="https://app.classnook.com/static/cn.js"
    )
    beacon = request(f"https://app.classnook.com/api/t?vid={VID}", "reconnect")
    finding = only(judge(audit(control, crawl, reconnect, rewrite, beacon), RULE))
    assert "sent again to app.classnook.com (URL)" in finding.message
    assert "renewed with a later expiry by https://app.classnook.com/static/cn.js" in finding.message
    assert finding.evidence.rows == {"cookies": [crawl.row_id, reconnect.row_id], "requests": [beacon.row_id]}


def test_same_expiry_after_the_restart_is_not_a_renewal_and_unsent_is_not_resent():
    control, crawl, reconnect = lifecycle("cn_vid", VID, CONTROL_VID)
    # Sent during the logged-in crawl only: nothing happened on reconnect.
    assert judge(audit(control, crawl, reconnect, request(HOME, "crawl", cookie_header=f"cn_vid={VID}")), RULE) == []


def test_session_cookie_does_not_survive_the_restart():
    session = cookie("cn_session", "b7e1c9a2f4d6e8a0c1e3a5b7d9f1a3c5", VENDOR_HOST, "crawl", http_only=True)
    after = request(HOME, "reconnect", cookie_header="cn_other=1")
    assert judge(audit(session, after), RULE) == []


def test_local_storage_identifier_sent_again_after_the_restart():
    origin = "https://app.classnook.com"
    items = [
        storage("localStorage", origin, "cn_vid", value, phase)
        for value, phase in ((CONTROL_VID, "control"), (VID, "crawl"), (VID, "reconnect"))
    ]
    beacon = request(
        "https://collect.edtrack-metrics.com/v1/beacon", "reconnect", "POST", post_data=f'{{"vid":"{VID}","page":"/"}}'
    )
    finding = only(judge(audit(*items, beacon), RULE))
    assert finding.subject == "localStorage cn_vid"
    assert "sent again to collect.edtrack-metrics.com" in finding.message
    assert finding.evidence.rows == {"storage_items": [items[1].row_id], "requests": [beacon.row_id]}


def test_a_login_timestamp_sent_again_is_not_an_identifier():
    logged_in_at = str(int(end_of("login")))  # set at login (none in the control profile), a Unix time
    crawl = cookie("cn_last_login", logged_in_at, VENDOR_HOST, "crawl", expires_in_days=180)
    reconnect = cookie("cn_last_login", logged_in_at, VENDOR_HOST, "reconnect", expires_in_days=180)
    resent = request(HOME, "reconnect", cookie_header=f"cn_last_login={logged_in_at}")
    assert judge(audit(crawl, reconnect, resent), RULE) == []


def test_identifier_replaced_during_the_crawl_and_sent_again():
    temporary = "Tm0pOr4rYi6dVa8lUe2zQx"  # before the partner sync completed
    at_login = cookie("cn_vid", temporary, VENDOR_HOST, "login", expires_in_days=400)
    control, crawl, reconnect = lifecycle("cn_vid", VID, CONTROL_VID)
    resent = request(HOME, "reconnect", cookie_header=f"cn_vid={VID}")
    finding = only(judge(audit(control, at_login, crawl, reconnect, resent), RULE))
    assert finding.evidence.cookie.value == VID


def test_identifier_inside_a_json_storage_value_sent_again():
    origin = "https://app.classnook.com"
    items = [
        storage("localStorage", origin, "cn_state", f'{{"vid":"{value}","theme":"dark"}}', phase)
        for value, phase in ((CONTROL_VID, "control"), (VID, "crawl"), (VID, "reconnect"))
    ]
    beacon = request(f"https://app.classnook.com/api/t?vid={VID}", "reconnect")
    finding = only(judge(audit(*items, beacon), RULE))
    assert finding.subject == "localStorage cn_state"
    assert finding.evidence.rows == {"storage_items": [items[1].row_id], "requests": [beacon.row_id]}


def _tested(data, name, needed, left_out=1):
    """The retention phase's result for a cookie: relaunched without it, the student was logged out (needed)."""
    data.retention.append(
        Rec(
            900 + len(data.retention),
            "retention",
            RetentionCookieObs(name, VENDOR_HOST, "/", needed, trial=2, left_out=left_out),
        )
    )
    return data


def test_a_cookie_proven_to_keep_the_login_is_allowed_whatever_its_name():
    token = "9f2c4e7a1b3d5f6e8a0c2e4f6a8b0d1c"
    control, crawl, reconnect = lifecycle("zq_k", token, "0a1b2c3d4e5f60718293a4b5c6d7e8f9", days=30)
    data = audit(control, crawl, reconnect, request(HOME, "reconnect", cookie_header=f"zq_k={token}"))
    assert only(judge(data, RULE)).subject == "cookie zq_k"  # untested, an obscure name is judged as an identifier
    data = audit(
        *lifecycle("zq_k", token, "0a1b2c3d4e5f60718293a4b5c6d7e8f9", days=30),
        request(HOME, "reconnect", cookie_header=f"zq_k={token}"),
    )
    assert judge(_tested(data, "zq_k", True), RULE) == []


def test_a_remember_named_identifier_the_login_does_without_is_judged_like_any_identifier():
    def device_audit():
        return audit(
            *lifecycle("remember_device", VID, CONTROL_VID),
            request(HOME, "reconnect", cookie_header=f"remember_device={VID}"),
        )

    assert judge(device_audit(), RULE) == []  # untested, the name pattern stands for login retention
    finding = only(judge(_tested(device_audit(), "remember_device", False), RULE))
    assert finding.subject == "cookie remember_device" and finding.severity == "violation"
    assert "proven by elimination: without it the student stayed logged in" in finding.message
    assert finding.evidence.retention == "proven by elimination: without it the student stayed logged in"
    # Needed only together with others, not told apart: the name still decides.
    assert judge(_tested(device_audit(), "remember_device", None, left_out=3), RULE) == []


def test_the_districts_remember_cookies_outrank_the_elimination():
    data = audit(
        *lifecycle("remember_device", VID, CONTROL_VID),
        request(HOME, "reconnect", cookie_header=f"remember_device={VID}"),
        remember_cookies=("remember_device",),
    )
    assert judge(_tested(data, "remember_device", False), RULE) == []
    [fact] = [f for f in analyse(data).cookies if f.rec.obs.name == "remember_device"]
    assert fact.retention_basis == "configured in remember_cookies"
