import json
import re

import pytest

from crawler.knowledge.disconnect import parse_disconnect
from crawler.knowledge.trackers import (
    TRACKER_CATEGORIES,
    TrackerInfo,
    TrackerKnowledge,
    builtin_text,
    load_builtin,
    parse_builtin,
)

DOMAIN = re.compile(r"^(?!-)[a-z0-9-]+(\.[a-z0-9-]+)+$")


def _reject_duplicate_keys(pairs):
    keys = [key for key, _ in pairs]
    duplicates = {key for key in keys if keys.count(key) > 1}
    assert not duplicates, f"duplicate keys in trackers.json: {duplicates}"
    return dict(pairs)


def test_builtin_file_is_well_formed():
    document = json.loads(builtin_text(), object_pairs_hook=_reject_duplicate_keys)
    assert document["version"]
    for organisation_id, organisation in document["organisations"].items():
        assert organisation["name"].strip(), organisation_id
        assert organisation["domains"], organisation_id
        for domain, category in organisation["domains"].items():
            assert DOMAIN.match(domain), domain
            assert category in TRACKER_CATEGORIES, (domain, category)


def test_builtin_covers_at_least_150_domains_in_every_category():
    knowledge = load_builtin()
    assert len(knowledge) >= 150
    assert knowledge.version
    assert {info.category for info in knowledge} == set(TRACKER_CATEGORIES)
    assert {info.source for info in knowledge} == {"builtin"}


@pytest.mark.parametrize(
    ("host", "organisation", "category"),
    [
        ("www.google-analytics.com", "Google", "analytics"),
        ("www.googletagmanager.com", "Google", "tag_manager"),
        ("securepubads.g.doubleclick.net", "Google", "advertising"),
        ("pagead2.googlesyndication.com", "Google", "advertising"),
        ("www.googleadservices.com", "Google", "advertising"),
        ("fonts.googleapis.com", "Google", "essential"),
        ("fonts.gstatic.com", "Google", "essential"),
        ("ajax.googleapis.com", "Google", "essential"),
        ("www.youtube.com", "Google", "content"),
        ("connect.facebook.net", "Meta", "advertising"),
        ("www.facebook.com", "Meta", "social"),
        ("www.clarity.ms", "Microsoft", "session_replay"),
        ("bat.bing.com", "Microsoft", "advertising"),
        ("ib.adnxs.com", "Microsoft", "advertising"),
        ("snap.licdn.com", "Microsoft", "advertising"),
        ("static.hotjar.com", "Hotjar", "session_replay"),
        ("edge.fullstory.com", "FullStory", "session_replay"),
        ("cdn.mouseflow.com", "Mouseflow", "session_replay"),
        ("web-sdk.smartlook.com", "Smartlook", "session_replay"),
        ("cdn.logrocket.io", "LogRocket", "session_replay"),
        ("cdn.inspectlet.com", "Inspectlet", "session_replay"),
        ("tools.luckyorange.com", "Lucky Orange", "session_replay"),
        ("api-js.mixpanel.com", "Mixpanel", "analytics"),
        ("api2.amplitude.com", "Amplitude", "analytics"),
        ("cdn.segment.com", "Twilio Segment", "analytics"),
        ("cdn.heapanalytics.com", "Heap", "analytics"),
        ("cdn.pendo.io", "Pendo", "analytics"),
        ("widget.intercom.io", "Intercom", "analytics"),
        ("js.hs-scripts.com", "HubSpot", "advertising"),
        ("js.driftt.com", "Drift (Salesloft)", "advertising"),
        ("static.zdassets.com", "Zendesk", "content"),
        ("js-agent.newrelic.com", "New Relic", "analytics"),
        ("bam.nr-data.net", "New Relic", "analytics"),
        ("o12345.ingest.sentry.io", "Sentry", "analytics"),
        ("browser-intake-datadoghq.com", "Datadog", "analytics"),
        ("cdn.optimizely.com", "Optimizely", "analytics"),
        ("dev.visualwebsiteoptimizer.com", "VWO (Wingify)", "analytics"),
        ("script.crazyegg.com", "Crazy Egg", "session_replay"),
        ("pixel.quantserve.com", "Quantcast", "advertising"),
        ("sb.scorecardresearch.com", "comScore", "analytics"),
        ("adobe.sc.omtrdc.net", "Adobe", "analytics"),
        ("dpm.demdex.net", "Adobe", "advertising"),
        ("112.2o7.net", "Adobe", "analytics"),
        ("static.criteo.net", "Criteo", "advertising"),
        ("cdn.taboola.com", "Taboola", "advertising"),
        ("widgets.outbrain.com", "Outbrain", "advertising"),
        ("match.adsrvr.org", "The Trade Desk", "advertising"),
        ("fastlane.rubiconproject.com", "Magnite", "advertising"),
        ("ads.pubmatic.com", "PubMatic", "advertising"),
        ("u.openx.net", "OpenX", "advertising"),
        ("dsum-sec.casalemedia.com", "Index Exchange", "advertising"),
        ("aax.amazon-adsystem.com", "Amazon", "advertising"),
        ("static.ads-twitter.com", "X (Twitter)", "advertising"),
        ("analytics.tiktok.com", "ByteDance", "advertising"),
        ("ct.pinterest.com", "Pinterest", "advertising"),
        ("sc-static.net", "Snap", "advertising"),
        ("alb.reddit.com", "Reddit", "advertising"),
        ("mc.yandex.ru", "Yandex", "analytics"),
        ("hm.baidu.com", "Baidu", "analytics"),
        ("fpnpmcdn.net", "Fingerprint (FingerprintJS)", "fingerprinting"),
        ("h.online-metrix.net", "LexisNexis Risk Solutions (ThreatMetrix)", "fingerprinting"),
        ("cdn.jsdelivr.net", "jsDelivr", "essential"),
        ("cdnjs.cloudflare.com", "Cloudflare", "essential"),
        ("unpkg.com", "UNPKG", "essential"),
        ("code.jquery.com", "OpenJS Foundation (jQuery)", "essential"),
        ("use.typekit.net", "Adobe", "essential"),
        ("cdn.tiny.cloud", "Tiny Technologies (TinyMCE)", "essential"),
        ("www.recaptcha.net", "Google", "essential"),
        ("js.hcaptcha.com", "Intuition Machines (hCaptcha)", "essential"),
        ("js.stripe.com", "Stripe", "essential"),
        ("clever.com", "Clever", "essential"),
        ("launchpad.classlink.com", "ClassLink", "essential"),
        ("player.vimeo.com", "Vimeo", "content"),
    ],
)
def test_lookup_of_well_known_hosts(host, organisation, category):
    info = load_builtin().lookup(host)
    assert info is not None, host
    assert (info.organisation, info.category) == (organisation, category)


def test_longest_listed_suffix_wins():
    knowledge = load_builtin()
    assert knowledge.lookup("snap.licdn.com").category == "advertising"
    assert knowledge.lookup("static.licdn.com").category == "social"
    assert knowledge.lookup("bat.bing.com").domain == "bat.bing.com"
    assert knowledge.lookup("www.bing.com").domain == "bing.com"


def test_lookup_normalises_and_misses():
    knowledge = load_builtin()
    assert knowledge.lookup("WWW.Google-Analytics.com.:443").domain == "google-analytics.com"
    assert knowledge.lookup("app.brightpath.test") is None
    assert knowledge.lookup("notgoogle-analytics.com") is None


def _knowledge(source, **domains):
    return TrackerKnowledge({d: TrackerInfo(d, org, category, source) for d, (org, category) in domains.items()})


def test_merge_keeps_this_knowledge_on_conflict():
    builtin = _knowledge("builtin", **{"a.example": ("A", "analytics")})
    other = _knowledge("disconnect", **{"a.example": ("Other", "advertising"), "b.example": ("B", "social")})
    merged = builtin.merge(other)
    assert merged.lookup("a.example") == TrackerInfo("a.example", "A", "analytics", "builtin")
    assert merged.lookup("x.b.example") == TrackerInfo("b.example", "B", "social", "disconnect")
    assert len(builtin) == 1


def test_unknown_category_is_refused():
    with pytest.raises(ValueError, match="unknown category 'tracking'"):
        _knowledge("builtin", **{"a.example": ("A", "tracking")})


def test_a_domain_under_two_organisations_is_refused():
    document = {
        "version": "1",
        "organisations": {
            "a": {"name": "A", "domains": {"x.example": "analytics"}},
            "b": {"name": "B", "domains": {"x.example": "advertising"}},
        },
    }
    with pytest.raises(ValueError, match="'x.example' listed for both 'A' and 'B'"):
        parse_builtin(document)


DISCONNECT_SAMPLE = {
    "license": "sample",
    "categories": {
        "Content": [{"Vidco": {"https://vidco.example/": ["vidco.example", "Ads.Vidco.example"]}}],
        "Advertising": [{"AdCo": {"https://adco.example/": ["adco.example", "ads.vidco.example"]}}],
        "FingerprintingGeneral": [{"AdCo": {"https://adco.example/": ["adco.example"]}}],
        "Analytics": [
            {"Recorder": {"https://recorder.example/": ["recorder.example"], "session-replay": "true"}},
            {"Counter": {"https://counter.example/": ["counter.example"]}},
        ],
        "Anti-fraud": [{"Captchaco": {"https://captcha.example/": ["captcha.example"]}}],
        "Cryptomining": [{"Miner": {"https://miner.example/": ["miner.example"], "performance": "true"}}],
        "SomethingNew": [{"New": {"https://new.example/": ["new.example"]}}],
    },
}


def test_disconnect_import_maps_categories():
    knowledge = parse_disconnect(DISCONNECT_SAMPLE)
    assert knowledge.lookup("vidco.example") == TrackerInfo("vidco.example", "Vidco", "content", "disconnect")
    # Advertising outranks Content, and the general fingerprinting tag, for a domain listed under both.
    assert knowledge.lookup("ads.vidco.example").category == "advertising"
    assert knowledge.lookup("adco.example").category == "advertising"
    assert knowledge.lookup("recorder.example").category == "session_replay"
    assert knowledge.lookup("counter.example").category == "analytics"
    assert knowledge.lookup("captcha.example").category == "essential"
    assert knowledge.lookup("miner.example") is None
    assert knowledge.lookup("new.example") is None


def test_builtin_wins_over_disconnect():
    disconnect = parse_disconnect(
        {"categories": {"Advertising": [{"Google": {"https://google.com/": ["fonts.googleapis.com"]}}]}}
    )
    info = load_builtin().merge(disconnect).lookup("fonts.googleapis.com")
    assert (info.category, info.source) == ("essential", "builtin")
