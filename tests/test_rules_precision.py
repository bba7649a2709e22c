"""What the rules leave alone, so that a district acts on real problems: essential and login cookies,
infrastructure recipients, tab-lived storage."""

import hashlib

from recorded import VENDOR_HOST, audit, cookie, judge, only, request, storage

ID, CONTROL_ID = "Xk3pQ9vLm2Rt7WzA1bYc", "Pm4Rt8Yq2Lk6Nb0Vx3Ws"
EMAIL = "ada.student@students.mps.test"


def sampled(name, domain, days=400, **attributes):
    """A cookie seen in the control profile, the audit and after the restart: an identifier if its name allows."""
    return [
        cookie(name, value, domain, phase, expires_in_days=days, **attributes)
        for phase, value in (("control", CONTROL_ID), ("crawl", ID), ("reconnect", ID))
    ]


def resent(name, domain=VENDOR_HOST):
    return request(f"https://{domain}/", "reconnect", cookie_header=f"{name}={ID}")


def test_a_persistent_csrf_token_sent_again_is_not_an_iv_b_violation():
    assert judge(audit(*sampled("csrftoken", VENDOR_HOST), resent("csrftoken")), "IV.B-identifier-on-reconnect") == []


def test_a_persistent_session_cookie_of_the_vendor_keeps_the_login():
    data = audit(*sampled("PHPSESSID", VENDOR_HOST), resent("PHPSESSID"))
    assert judge(data, "IV.B-identifier-on-reconnect") == []
    assert judge(data, "IV.C-lifetime-over-maximum") == []


def test_an_unknown_identifier_sent_again_is_still_a_violation():
    finding = only(judge(audit(*sampled("cn_vid", VENDOR_HOST), resent("cn_vid")), "IV.B-identifier-on-reconnect"))
    assert finding.severity == "violation"


def test_a_remember_pattern_does_not_excuse_a_third_party():
    data = audit(*sampled("remember_me", "tracker.adnet.example"), resent("remember_me", "tracker.adnet.example"))
    assert only(judge(data, "IV.B-identifier-on-reconnect")).subject == "cookie remember_me"


def test_a_consent_record_is_not_kept_too_long_tracking_data():
    assert judge(audit(*sampled("OptanonConsent", VENDOR_HOST, days=400)), "IV.C-lifetime-over-maximum") == []


def test_captcha_identifier_is_a_warning_not_a_violation():
    finding = only(
        judge(audit(*sampled("_GRECAPTCHA", "www.recaptcha.net", same_site="None")), "IV.A-cross-site-identifier")
    )
    assert finding.severity == "warning"


def test_pii_to_a_sign_in_provider_is_a_warning_naming_the_exception():
    body = f'{{"email": "{EMAIL}"}}'
    data = audit(
        request("https://clever.com/oauth/tokens", "login", method="POST", post_data=body), pii={"email": EMAIL}
    )
    finding = only(judge(data, "IV.A-pii-to-third-party"))
    assert finding.severity == "warning" and "necessary to operate the service" in finding.message


def test_pii_to_an_analytics_service_stays_a_violation():
    digest = hashlib.sha256(EMAIL.encode()).hexdigest()
    data = audit(
        request("https://api.mixpanel.com/track", "crawl", method="POST", post_data=f'{{"uid":"{digest}"}}'),
        pii={"email": EMAIL},
    )
    assert only(judge(data, "IV.A-pii-to-third-party")).severity == "violation"


def test_pii_in_session_storage_is_a_warning():
    data = audit(storage("sessionStorage", f"https://{VENDOR_HOST}", "draft", f"to: {EMAIL}"), pii={"email": EMAIL})
    assert only(judge(data, "IV.A-pii-stored-client-side")).severity == "warning"
