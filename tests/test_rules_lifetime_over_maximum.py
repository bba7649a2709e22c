"""IV.C-lifetime-over-maximum: cookies set to outlive the pack's maximum (396 days in MPS 7400.1), and
identifiers kept in storage that never expires."""

from recorded import VENDOR_HOST, audit, cookie, district_pack, judge, only, storage

RULE = "IV.C-lifetime-over-maximum"
VID, CONTROL_VID = "Xk3pQ9vLm2Rt7WzA1bYc", "Pm4Rt8Yq2Lk6Nb0Vx3Ws"

PACK_WITH_500_DAYS = """
[pack]
id = "longer"
name = "A district that accepts 500 days"
version = "1"

[clauses]
"IV.C" = "Tracking data may be retained only as long as reasonably necessary."

[parameters]
max_lifetime_days = 500

[rules."IV.C-lifetime-over-maximum"]
severity = "warning"
"""


def test_400_day_cookie_is_over_the_districts_400_day_maximum_wording():
    long = cookie("cn_vid", VID, VENDOR_HOST, "crawl", expires_in_days=400)
    data = audit(cookie("cn_csrf", "a1b2c3d4e5f6a7b8", VENDOR_HOST, "crawl"), long)

    finding = only(judge(data, RULE))

    assert (finding.rule_id, finding.clause, finding.severity) == (RULE, "IV.C", "violation")
    assert finding.subject == "cookie cn_vid"
    assert "400 days (1.1 years)" in finding.message
    assert "longer than the 396 days" in finding.message
    assert f"({VENDOR_HOST}, first party, unknown)" in finding.message
    assert finding.evidence.rows == {"cookies": [long.row_id]}
    assert finding.evidence.maximum_days == 396
    assert finding.evidence.cookie.lifetime_days == 400.0


def test_lifetime_counts_from_when_the_cookie_was_seen():
    # Seen at the end of the login phase: the same expiry date read from a later phase would be shorter.
    seen_at_login = cookie("cn_vid", VID, VENDOR_HOST, "login", expires_in_days=397)
    assert only(judge(audit(seen_at_login), RULE)).evidence.cookie.lifetime_days == 397.0
    assert judge(audit(cookie("cn_vid", VID, VENDOR_HOST, "login", expires_in_days=395)), RULE) == []


def test_30_day_and_session_cookies_are_within_the_maximum():
    data = audit(
        cookie("cn_keep", "9f2c4e7a1b3d5f6e8a0c2e4f6a8b0d1c", VENDOR_HOST, expires_in_days=30),
        cookie("cn_session", "b7e1c9a2f4d6e8a0c1e3a5b7d9f1a3c5", VENDOR_HOST),
    )
    assert judge(data, RULE) == []


def test_a_control_profile_cookie_is_not_the_audited_profiles():
    assert (
        judge(
            audit(
                cookie("cn_vid", CONTROL_VID, VENDOR_HOST, "control", expires_in_days=400),
                cookie("cn_vid", VID, VENDOR_HOST, "crawl", expires_in_days=30),
            ),
            RULE,
        )
        == []
    )


def test_a_pack_that_accepts_500_days(tmp_path):
    path = tmp_path / "longer.toml"
    path.write_text(PACK_WITH_500_DAYS)
    data = audit(cookie("cn_vid", VID, VENDOR_HOST, expires_in_days=400))
    assert judge(data, RULE, pack=path) == []
    finding = only(judge(audit(cookie("cn_vid", VID, VENDOR_HOST, expires_in_days=730)), RULE, pack=path))
    assert finding.severity == "warning"
    assert "longer than the 500 days" in finding.message


def test_rule_parameter_overrides_the_maximum():
    data = audit(cookie("cn_vid", VID, VENDOR_HOST, expires_in_days=400))
    assert judge(data, RULE, max_lifetime_days=500) == []
    assert district_pack().parameters["max_lifetime_days"] == 396


def test_identifier_in_local_storage_never_expires():
    origin = "https://app.classnook.com"
    items = [
        storage("localStorage", origin, "cn_vid", value, phase)
        for value, phase in ((CONTROL_VID, "control"), (VID, "crawl"), (VID, "reconnect"))
    ]
    theme = [storage("localStorage", origin, "cn_theme", "dark", phase) for phase in ("control", "crawl", "reconnect")]

    finding = only(judge(audit(*items, *theme), RULE))

    assert finding.subject == "localStorage cn_vid"
    assert f"The identifier {VID!r}" in finding.message
    assert "no expiry" in finding.message
    assert finding.evidence.rows == {"storage_items": [items[1].row_id]}


def test_session_storage_ends_with_the_tab():
    origin = "https://app.classnook.com"
    items = [
        storage("sessionStorage", origin, "cn_tab", value, phase)
        for value, phase in ((CONTROL_VID, "control"), (VID, "crawl"), (VID, "reconnect"))
    ]
    assert judge(audit(*items), RULE) == []
