"""IV.A-cross-site-identifier: a third party's persistent identifier, readable wherever it is embedded.

An identifier differs from the control profile's value and survives the browser restart (design.md)."""

from recorded import analyse, audit, cookie, judge, only, request, storage

RULE = "IV.A-cross-site-identifier"
PIXEL = "https://px.adsync-partner.com/sync?partner=cn"
AUDITED_ID = "q7Lw2ZrT9bXe4NcA8vKm3P"  # 22 random characters
CONTROL_ID = "Hc5nVb1xZa8sDf3gJk6lQw"


def third_party_cookie(value, phase, days=400, **kw):
    kw.setdefault("same_site", "None")
    return cookie("apx_uid", value, "px.adsync-partner.com", phase, expires_in_days=days, set_by_url=PIXEL, **kw)


def sightings(control_value=CONTROL_ID, audited=AUDITED_ID, restart=AUDITED_ID, days=400, **kw):
    """The cookie as the control profile, the logged-in crawl and the reconnect (after restart) saw it."""
    control = third_party_cookie(control_value, "control", days, **kw)
    crawl = third_party_cookie(audited, "crawl", days, **kw)
    reconnect = third_party_cookie(restart, "reconnect", days, **kw)
    return control, crawl, reconnect


def test_random_third_party_id_that_survives_the_restart():
    control, crawl, reconnect = sightings()
    data = audit(request(PIXEL, "control"), control, request(PIXEL), crawl, request(PIXEL, "reconnect"), reconnect)

    finding = only(judge(data, RULE))

    assert (finding.rule_id, finding.clause, finding.severity) == (RULE, "IV.A", "violation")
    assert finding.subject == "cookie apx_uid"
    assert "adsync-partner.com" in finding.message
    assert "400 days (1.1 years)" in finding.message
    assert "SameSite=None" in finding.message
    assert "across sites" in finding.message
    assert finding.evidence.rows == {"cookies": [crawl.row_id]}  # the pre-restart sighting, not control
    assert finding.evidence.cookie.value == AUDITED_ID
    assert finding.evidence.cookie.party == "third"
    assert any("same after the browser restart" in reason for reason in finding.evidence.identifier_reasons)


def test_partitioned_cookie_cannot_follow_the_student():
    chips = {"partition_key": "https://classnook.com"}
    data = audit(*sightings(**chips))
    assert judge(data, RULE) == []
    assert analyse(data).cookies[0].identifier.is_identifier  # an identifier, but kept to this site


def test_session_third_party_cookie_is_not_persistent():
    control = cookie("apx_sid", CONTROL_ID, "px.adsync-partner.com", "control", same_site="None")
    crawl = cookie("apx_sid", AUDITED_ID, "px.adsync-partner.com", "crawl", same_site="None")
    reconnect = cookie("apx_sid", AUDITED_ID, "px.adsync-partner.com", "reconnect", same_site="None")
    assert judge(audit(control, crawl, reconnect), RULE) == []


def test_constant_equal_to_the_control_value_is_not_an_identifier():
    constant = "consent-v2-all-granted"
    assert judge(audit(*sightings(control_value=constant, audited=constant, restart=constant)), RULE) == []


def test_value_that_changes_after_the_restart_is_not_an_identifier():
    assert judge(audit(*sightings(restart="Zz9yXx8wWv7uUt6sSr5qQp")), RULE) == []


def test_short_lived_cookie_is_not_an_identifier():
    assert judge(audit(*sightings(days=1)), RULE) == []


def test_first_party_identifier_is_not_cross_site():
    first = [
        cookie("cn_vid", value, "app.classnook.com", phase, expires_in_days=400)
        for value, phase in ((CONTROL_ID, "control"), (AUDITED_ID, "crawl"), (AUDITED_ID, "reconnect"))
    ]
    assert judge(audit(*first), RULE) == []


def test_third_party_local_storage_identifier_is_not_cross_site():
    # Chrome partitions third-party storage by top-level site: it cannot follow the student elsewhere.
    origin = "https://widget.chatnest.io"
    items = [
        storage("localStorage", origin, "cn_visitor", value, phase)
        for value, phase in ((CONTROL_ID, "control"), (AUDITED_ID, "crawl"), (AUDITED_ID, "reconnect"))
    ]
    assert judge(audit(*items), RULE) == []
