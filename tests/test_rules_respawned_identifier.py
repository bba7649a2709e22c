"""IV.B-respawned-identifier: cookies are deleted (other storage kept) and the page reloaded; a cookie that
comes back with its old value was restored from somewhere, and survives the student clearing cookies."""

from recorded import VENDOR_HOST, audit, cookie, judge, only, script_write, storage

RULE = "IV.B-respawned-identifier"
ORIGIN = "https://app.classnook.com"
VID, CONTROL_VID, FRESH_VID = "Xk3pQ9vLm2Rt7WzA1bYc", "Pm4Rt8Yq2Lk6Nb0Vx3Ws", "Nq7Wd1Fh5Jk9Lz3Xc6Vb"


def vid(value, phase):
    return cookie(
        "cn_vid",
        value,
        VENDOR_HOST,
        phase,
        expires_in_days=400,
        set_by_kind="script",
        set_by_url="https://app.classnook.com/static/cn.js",
    )


def kept_in_local_storage(value=VID):
    return [storage("localStorage", ORIGIN, "cn_vid", value, phase) for phase in ("crawl", "reconnect", "respawn")]


def test_cookie_restored_from_local_storage_after_deletion():
    before, returned = vid(VID, "reconnect"), vid(VID, "respawn")
    data = audit(vid(CONTROL_VID, "control"), vid(VID, "crawl"), before, *kept_in_local_storage(), returned)

    finding = only(judge(data, RULE))

    assert (finding.rule_id, finding.clause, finding.severity) == (RULE, "IV.B", "violation")
    assert finding.subject == "cookie cn_vid"
    assert f"came back with its old value {VID!r}" in finding.message
    assert f"restored from localStorage {ORIGIN} key cn_vid" in finding.message
    assert list(finding.evidence.sources) == [f"localStorage {ORIGIN} key cn_vid"]
    assert finding.evidence.value == VID
    assert finding.evidence.rows == {"cookies": [before.row_id, returned.row_id]}


def test_sources_name_the_indexeddb_store_and_the_script_that_rewrote_it():
    before, returned = vid(VID, "reconnect"), vid(VID, "respawn")
    idb = storage("indexedDB", ORIGIN, "vid", VID, "respawn", container="cn_store/ids")
    rewrite = script_write(
        f"cn_vid={VID}; Max-Age=63072000; Path=/", "respawn", script_url="https://app.classnook.com/static/cn.js"
    )
    finding = only(judge(audit(vid(VID, "crawl"), before, idb, returned, rewrite), RULE))
    assert list(finding.evidence.sources) == [
        f"indexedDB {ORIGIN} cn_store/ids key vid",
        "re-set by https://app.classnook.com/static/cn.js",
    ]


def test_a_new_value_after_deletion_is_not_respawning():
    data = audit(vid(VID, "crawl"), vid(VID, "reconnect"), *kept_in_local_storage(), vid(FRESH_VID, "respawn"))
    assert judge(data, RULE) == []


def test_a_cookie_that_does_not_come_back_is_not_respawned():
    # The respawn phase ran and left an empty jar.
    data = audit(vid(VID, "crawl"), vid(VID, "reconnect"), *kept_in_local_storage(), phases=("respawn",))
    assert judge(data, RULE) == []


def test_no_respawn_phase_no_judgement():
    assert judge(audit(vid(VID, "crawl"), vid(VID, "reconnect")), RULE) == []


def test_short_values_prove_nothing():
    before = cookie("cn_lang", "de", VENDOR_HOST, "reconnect", expires_in_days=365)
    after = cookie("cn_lang", "de", VENDOR_HOST, "respawn", expires_in_days=365)
    assert judge(audit(before, after), RULE) == []


def test_a_constant_the_server_sets_again_is_not_a_respawned_identifier():
    route = "web-node-03"  # a load balancer's sticky route, the same in the control profile
    lb = [
        cookie("cn_route", route, VENDOR_HOST, phase, expires_in_days=1)
        for phase in ("control", "crawl", "reconnect", "respawn")
    ]
    assert judge(audit(*lb), RULE) == []
