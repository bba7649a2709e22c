"""IV.A-pii-stored-client-side: the student's PII kept in cookies or browser storage, except a login cookie."""

import json

from recorded import STUDENT, VENDOR_HOST, audit, cookie, judge, only, storage

RULE = "IV.A-pii-stored-client-side"
ORIGIN = "https://app.classnook.com"


def test_name_in_a_local_storage_value():
    profile = storage("localStorage", ORIGIN, "cn_profile", json.dumps({"displayName": STUDENT["name"], "grade": 7}))
    theme = storage("localStorage", ORIGIN, "cn_theme", "dark")
    data = audit(theme, profile)

    finding = only(judge(data, RULE))

    assert (finding.rule_id, finding.clause, finding.severity) == (RULE, "IV.A", "violation")
    assert finding.subject == "localStorage cn_profile"
    assert "name" in finding.message
    assert "browser storage" in finding.message
    assert f"first-party {VENDOR_HOST}" in finding.message
    assert finding.evidence.rows == {"storage_items": [profile.row_id]}
    assert finding.evidence.party == "first"


def test_one_finding_per_item_with_every_phase_it_was_seen_in():
    value = json.dumps({"displayName": STUDENT["name"]})
    crawl = storage("localStorage", ORIGIN, "cn_profile", value, "crawl")
    reconnect = storage("localStorage", ORIGIN, "cn_profile", value, "reconnect")
    control = storage("localStorage", ORIGIN, "cn_profile", "{}", "control")
    finding = only(judge(audit(control, crawl, reconnect), RULE))
    assert finding.evidence.rows == {"storage_items": [crawl.row_id, reconnect.row_id]}


def test_indexeddb_item_names_its_container():
    record = storage("indexedDB", ORIGIN, "me", json.dumps({"email": STUDENT["email"]}), container="cn_db/users")
    finding = only(judge(audit(record), RULE))
    assert finding.subject == "indexedDB cn_db/users me"
    assert "email" in finding.message


def test_email_in_an_unlisted_cookie_is_a_finding():
    stored = cookie("cn_user", STUDENT["email"], VENDOR_HOST, expires_in_days=30)
    finding = only(judge(audit(stored), RULE))
    assert finding.subject == "cookie cn_user"
    assert "a cookie" in finding.message
    assert finding.evidence.rows == {"cookies": [stored.row_id]}


def test_email_in_the_districts_login_retention_cookie_is_allowed():
    remember = cookie("cn_login", STUDENT["email"], VENDOR_HOST, expires_in_days=30, http_only=True)
    assert judge(audit(remember, remember_cookies=("cn_login",)), RULE) == []


def test_pii_seen_only_in_the_logged_out_control_profile_is_not_judged():
    # The control profile never logged in: nothing in it can be the account's data kept by the audit.
    control = storage("localStorage", ORIGIN, "last_user", STUDENT["email"], "control")
    assert judge(audit(control), RULE) == []


def test_third_party_storage_is_reported_with_its_party():
    widget = storage("localStorage", "https://widget.chatnest.io", "visitor", json.dumps({"email": STUDENT["email"]}))
    finding = only(judge(audit(widget), RULE))
    assert "third-party widget.chatnest.io" in finding.message
    assert finding.evidence.party == "third"
