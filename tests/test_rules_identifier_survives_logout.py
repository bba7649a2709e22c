from recorded import audit, cookie, judge

RULE = "IV.B-identifier-survives-logout"
ID, CONTROL_ID = "Zq8vK2mLp4Xw9Rt7Yb3N", "Hd6sJ1qWe5Tr8Uy2Io4P"


def jar(name, value_by_phase, **attributes):
    return [
        cookie(name, value, "app.vendor.test", phase, expires_in_days=400, **attributes)
        for phase, value in value_by_phase.items()
    ]


def test_identifier_kept_through_logout_is_a_warning():
    cookies = jar("vid", {"control": CONTROL_ID, "crawl": ID, "reconnect": ID, "logout": ID})
    (finding,) = judge(audit(*cookies), RULE)
    assert (finding.clause, finding.severity, finding.subject) == ("IV.B", "warning", "cookie vid")
    assert "next student" in finding.message
    assert finding.evidence.rows == {"cookies": sorted({cookies[3].row_id, cookies[1].row_id})}


def test_cookie_the_logout_replaced_or_removed_is_not_reported():
    replaced = jar("vid", {"control": CONTROL_ID, "crawl": ID, "reconnect": ID, "logout": "Nn1Mm2Bb3Vv4Cc5Xx6Zz"})
    removed = jar("sid", {"control": CONTROL_ID, "crawl": ID, "reconnect": ID})
    assert judge(audit(*replaced, *removed), RULE) == []


def test_constant_kept_through_logout_is_not_an_identifier():
    assert (
        judge(
            audit(
                *jar(
                    "theme",
                    {"control": "dark-mode", "crawl": "dark-mode", "reconnect": "dark-mode", "logout": "dark-mode"},
                )
            ),
            RULE,
        )
        == []
    )
