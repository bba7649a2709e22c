"""IV.D-behavioural-tracker: known trackers by category (advertising, session replay, fingerprinting are
violations; analytics, social, tag managers warnings), and unknown third parties seen behaving as trackers."""

from recorded import PAGE_URL, VENDOR_HOST, audit, cookie, judge, only, request

RULE = "IV.D-behavioural-tracker"
UID, CONTROL_UID = "q7Lw2ZrT9bXe4NcA8vKm3P", "Hc5nVb1xZa8sDf3gJk6lQw"


def home():
    return request("https://app.classnook.com/home", is_navigation=True)


def test_facebook_pixel_is_advertising():
    pixel = request("https://connect.facebook.net/en_US/fbevents.js", resource_type="script")
    data = audit(home(), pixel)

    finding = only(judge(data, RULE))

    assert (finding.rule_id, finding.clause, finding.severity) == (RULE, "IV.D", "violation")
    assert finding.subject == "host connect.facebook.net"
    assert "runs advertising" in finding.message
    assert "connect.facebook.net: advertising (builtin)" in finding.message
    assert "FERPA and COPPA" in finding.message
    assert finding.evidence.rows == {"requests": [pixel.row_id]}
    assert list(finding.evidence.pages) == [PAGE_URL]
    assert finding.evidence.hosts[0].organisation == "Meta"


def test_google_analytics_alone_is_a_warning():
    collect = request("https://www.google-analytics.com/g/collect?v=2&en=page_view", resource_type="ping")
    finding = only(judge(audit(home(), collect), RULE))
    assert finding.severity == "warning"
    assert finding.subject == "host www.google-analytics.com"
    assert "runs analytics" in finding.message
    assert finding.evidence.rows == {"requests": [collect.row_id]}


def test_google_tag_manager_alone_is_a_warning():
    gtm = request("https://www.googletagmanager.com/gtm.js?id=GTM-ABC123", resource_type="script")
    finding = only(judge(audit(home(), gtm), RULE))
    assert finding.severity == "warning"
    assert "runs tag manager" in finding.message


def test_one_organisation_with_an_advertising_host_is_one_violation():
    gtm = request("https://www.googletagmanager.com/gtm.js?id=GTM-ABC123", resource_type="script")
    ads = request("https://googleads.g.doubleclick.net/pagead/viewthroughconversion/123/", resource_type="image")
    ga = request("https://www.google-analytics.com/g/collect?v=2", resource_type="ping")
    data = audit(home(), gtm, ads, ga)

    finding = only(judge(data, RULE))

    assert finding.severity == "violation"
    assert finding.subject == "hosts googleads.g.doubleclick.net, www.google-analytics.com, www.googletagmanager.com"
    assert "runs advertising, analytics, tag manager" in finding.message
    assert finding.evidence.rows == {"requests": [gtm.row_id, ads.row_id, ga.row_id]}


def test_a_cdn_is_not_a_tracker():
    css = request("https://cdn.jsdelivr.net/npm/bootstrap@5.3.0/dist/css/bootstrap.min.css", resource_type="stylesheet")
    assert judge(audit(home(), css), RULE) == []


def test_the_vendors_own_hosts_are_not_judged():
    assert judge(audit(home(), request("https://app.classnook.com/api/analytics?ev=page")), RULE) == []


def test_unknown_third_party_setting_a_cross_site_identifier_is_observed_tracking():
    sync = "https://px.adsync-partner.com/sync?partner=cn"

    def uid(value, phase):
        return cookie(
            "apx_uid", value, "px.adsync-partner.com", phase, expires_in_days=400, same_site="None", set_by_url=sync
        )

    crawl_sync = request(sync, resource_type="image")
    data = audit(
        request(sync, "control"),
        uid(CONTROL_UID, "control"),
        home(),
        crawl_sync,
        uid(UID, "crawl"),
        uid(UID, "reconnect"),
    )

    finding = only(judge(data, RULE))

    assert finding.severity == "violation"
    assert finding.subject == "host px.adsync-partner.com"
    assert "runs tracking" in finding.message
    assert "observed: sets cross-site identifier cookie apx_uid" in finding.message
    assert list(finding.evidence.observed) == ["sets cross-site identifier cookie apx_uid"]
    assert set(finding.evidence.rows["requests"]) >= {crawl_sync.row_id}


def test_unknown_third_party_receiving_the_vendors_identifier_is_observed_tracking():
    vid, control_vid = "Xk3pQ9vLm2Rt7WzA1bYc", "Pm4Rt8Yq2Lk6Nb0Vx3Ws"
    vids = [
        cookie("cn_vid", value, VENDOR_HOST, phase, expires_in_days=400)
        for value, phase in ((control_vid, "control"), (vid, "crawl"), (vid, "reconnect"))
    ]
    beacon = request(f"https://collect.edtrack-metrics.com/v1/e?vid={vid}")
    finding = only(judge(audit(*vids, home(), beacon), RULE))
    assert finding.severity == "violation"
    assert "receives the identifier in cookie cn_vid of classnook.com" in finding.message


def test_unknown_third_party_with_a_partitioned_or_constant_cookie_is_not_a_tracker():
    def chat(value, phase, **kw):
        return cookie("cn_chat", value, "widget.chatnest.io", phase, expires_in_days=400, same_site="None", **kw)

    partitioned = [
        chat(v, p, partition_key="https://classnook.com")
        for v, p in ((CONTROL_UID, "control"), (UID, "crawl"), (UID, "reconnect"))
    ]
    constant = [
        cookie("lang", "en-US", "widget.chatnest.io", p, expires_in_days=400) for p in ("control", "crawl", "reconnect")
    ]
    assert judge(audit(*partitioned, *constant, home(), request("https://widget.chatnest.io/embed.js")), RULE) == []


def test_a_pack_may_count_analytics_as_a_violation():
    pixel = request("https://connect.facebook.net/en_US/fbevents.js", resource_type="script")
    ga = request("https://www.google-analytics.com/g/collect?v=2", resource_type="ping")
    data = audit(home(), pixel, ga)
    findings = judge(data, RULE, violation_categories=["advertising", "analytics"], warning_categories=[])
    assert {f.subject: f.severity for f in findings} == {
        "host connect.facebook.net": "violation",
        "host www.google-analytics.com": "violation",
    }
