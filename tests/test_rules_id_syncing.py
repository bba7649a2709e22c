"""IV.A-id-syncing: an identifier passed, in a URL or body, to an organisation other than the one owning it."""

import json

from recorded import VENDOR_HOST, analyse, audit, cookie, judge, only, request, storage

RULE = "IV.A-id-syncing"
VID, CONTROL_VID = "Xk3pQ9vLm2Rt7WzA1bYc", "Pm4Rt8Yq2Lk6Nb0Vx3Ws"


def vendor_vid(value, phase):
    return cookie(
        "cn_vid",
        value,
        VENDOR_HOST,
        phase,
        expires_in_days=400,
        set_by_kind="script",
        set_by_url="https://app.classnook.com/static/cn.js",
    )


def test_first_party_id_in_a_url_to_a_third_party():
    sync = request(f"https://px.adsync-partner.com/sync?partner=cn&puid={VID}", resource_type="image")
    audited = vendor_vid(VID, "crawl")
    data = audit(
        vendor_vid(CONTROL_VID, "control"),
        audited,
        vendor_vid(VID, "reconnect"),
        request("https://app.classnook.com/home", cookie_header=f"cn_vid={VID}"),
        sync,
    )

    finding = only(judge(data, RULE))

    assert (finding.rule_id, finding.clause, finding.severity) == (RULE, "IV.A", "violation")
    assert finding.subject == "cookie cn_vid"
    assert "owned by classnook.com" in finding.message
    assert "adsync-partner.com" in finding.message
    assert "in the URL of https://px.adsync-partner.com/sync" in finding.message
    assert finding.evidence.rows == {"cookies": [audited.row_id], "requests": [sync.row_id]}
    assert finding.evidence.identifier == VID
    assert list(finding.evidence.receivers) == ["adsync-partner.com"]


def test_id_in_a_post_body_counts_each_receiving_organisation_once():
    beacon = request(
        "https://collect.edtrack-metrics.com/v1/beacon",
        "crawl",
        "POST",
        post_data=json.dumps({"vid": VID, "page": "/home"}),
    )
    again = request(
        "https://collect.edtrack-metrics.com/v1/beacon",
        "reconnect",
        "POST",
        post_data=json.dumps({"vid": VID, "page": "/"}),
    )
    ga = request(f"https://www.google-analytics.com/collect?v=1&uid={VID}")
    data = audit(
        vendor_vid(CONTROL_VID, "control"), vendor_vid(VID, "crawl"), vendor_vid(VID, "reconnect"), beacon, again, ga
    )

    finding = only(judge(data, RULE))

    assert list(finding.evidence.receivers) == ["Google", "edtrack-metrics.com"]
    assert finding.evidence.rows["requests"] == [beacon.row_id, again.row_id, ga.row_id]
    assert {s.where for s in finding.evidence.sent} == {"body", "URL"}
    assert "in 3 request(s)" in finding.message


def test_googles_own_id_sent_to_google_is_not_syncing():
    # _ga lives on the vendor's domain but is written by Google's script: Google owns it.
    def ga(value, phase):
        return cookie(
            "_ga",
            value,
            ".classnook.com",
            phase,
            expires_in_days=400,
            same_site=None,
            set_by_kind="script",
            set_by_url="https://www.google-analytics.com/analytics.js",
        )

    collect = request("https://www.google-analytics.com/g/collect?v=2&cid=1232202874.1795964421&en=page_view")
    data = audit(
        ga("GA1.2.1645435710.1795964418", "control"),
        ga("GA1.2.1232202874.1795964421", "crawl"),
        ga("GA1.2.1232202874.1795964421", "reconnect"),
        collect,
    )

    assert judge(data, RULE) == []
    # Not because it went unnoticed: _ga holds an identifier, and Google owns it.
    [ga_fact] = analyse(data).cookies
    assert (ga_fact.identifier.part, ga_fact.owner) == ("1232202874", "Google")
    # Sent on to another organisation, it is syncing.
    data = audit(
        ga("GA1.2.1645435710.1795964418", "control"),
        ga("GA1.2.1232202874.1795964421", "crawl"),
        ga("GA1.2.1232202874.1795964421", "reconnect"),
        request("https://px.adsync-partner.com/sync?gacid=1232202874"),
    )
    assert only(judge(data, RULE)).evidence.owner == "Google"


def test_the_same_id_sent_only_to_the_vendor_is_not_syncing():
    api = request(f"https://app.classnook.com/api/track?vid={VID}")
    data = audit(vendor_vid(CONTROL_VID, "control"), vendor_vid(VID, "crawl"), vendor_vid(VID, "reconnect"), api)
    assert judge(data, RULE) == []


def test_a_value_that_is_no_identifier_is_not_synced():
    # The same value in the control profile: a constant (e.g. a build id), not the student's identifier.
    constant = "build-2026-11-a7f3c9"
    data = audit(
        vendor_vid(constant, "control"),
        vendor_vid(constant, "crawl"),
        vendor_vid(constant, "reconnect"),
        request(f"https://px.adsync-partner.com/sync?b={constant}"),
    )
    assert judge(data, RULE) == []


def test_a_third_partys_cookie_header_to_its_own_domain_is_not_syncing():
    def apx(value, phase):
        return cookie("apx_uid", value, "px.adsync-partner.com", phase, expires_in_days=400, same_site="None")

    pixel = request("https://px.adsync-partner.com/pixel.gif", cookie_header=f"apx_uid={VID}")
    assert judge(audit(apx(CONTROL_VID, "control"), apx(VID, "crawl"), apx(VID, "reconnect"), pixel), RULE) == []


def test_local_storage_identifier_in_a_url_to_a_third_party():
    origin = "https://app.classnook.com"
    items = [
        storage("localStorage", origin, "cn_vid", value, phase)
        for value, phase in ((CONTROL_VID, "control"), (VID, "crawl"), (VID, "reconnect"))
    ]
    sync = request(f"https://px.adsync-partner.com/sync?puid={VID}")
    finding = only(judge(audit(*items, sync), RULE))
    assert finding.subject == "localStorage cn_vid"
    assert finding.evidence.rows == {"storage_items": [items[1].row_id], "requests": [sync.row_id]}


def test_third_party_id_passed_to_the_vendor():
    def apx(value, phase):
        return cookie("apx_uid", value, "px.adsync-partner.com", phase, expires_in_days=400, same_site="None")

    match = request(f"https://app.classnook.com/match?partner=apx&apx_uid={VID}", resource_type="image")
    finding = only(judge(audit(apx(CONTROL_VID, "control"), apx(VID, "crawl"), apx(VID, "reconnect"), match), RULE))
    assert finding.evidence.owner == "adsync-partner.com"
    assert list(finding.evidence.receivers) == ["classnook.com"]
