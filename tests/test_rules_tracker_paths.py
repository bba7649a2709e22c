"""Classification by URL, not only host: the knowledge base's path entries (facebook.com/tr advertising,
google.com/recaptcha infrastructure, www.google.com/pagead advertising) outrank the host's category, and the
most severe category among a host's requests is the host's, naming the request."""

from crawler.knowledge.trackers import load_builtin
from recorded import audit, judge, only, request

RULE = "IV.D-behavioural-tracker"


def home():
    return request("https://app.classnook.com/home", is_navigation=True)


def test_path_entries_match_the_path_and_below_on_the_domain_and_its_subdomains():
    known = load_builtin()
    assert known.lookup_url("www.facebook.com", "/tr").category == "advertising"
    assert known.lookup_url("www.facebook.com", "/tr/").path == "/tr"
    assert known.lookup_url("www.facebook.com", "/tracking") is None
    assert known.lookup_url("www.google.com", "/recaptcha/api.js").category == "essential"
    assert known.lookup_url("www.google.com", "/pagead/1p-conversion/123/").category == "advertising"
    assert known.lookup_url("google.com", "/pagead/x") is None  # the entry is www.google.com only


def test_a_bare_meta_pixel_is_advertising_naming_the_request():
    pixel = request("https://www.facebook.com/tr?id=999&ev=PageView&noscript=1", resource_type="image")
    finding = only(judge(audit(home(), pixel), RULE))
    assert (finding.subject, finding.severity) == ("host www.facebook.com", "violation")
    assert "www.facebook.com: advertising (builtin path /tr) for https://www.facebook.com/tr?id=999" in finding.message
    (host,) = finding.evidence.to_json()["hosts"]
    assert host["category"] == "advertising" and host["category_request"] == pixel.obs.url
    assert host["category_source"] == "builtin path /tr"


def test_the_most_severe_category_among_a_hosts_requests_wins():
    like = request("https://www.facebook.com/plugins/like.php?href=x", resource_type="document")
    pixel = request("https://www.facebook.com/tr?id=999&ev=PageView", resource_type="image")
    finding = only(judge(audit(home(), like, pixel), RULE))
    assert (
        finding.severity == "violation" and finding.evidence.to_json()["hosts"][0]["category_request"] == pixel.obs.url
    )
    social_only = only(
        judge(
            audit(home(), request("https://www.facebook.com/plugins/like.php?href=y", resource_type="document")), RULE
        )
    )
    assert social_only.severity == "warning"


def test_recaptcha_on_google_com_is_infrastructure_not_a_tracker():
    captcha = request("https://www.google.com/recaptcha/api.js", resource_type="script")
    assert judge(audit(home(), captcha), RULE) == []
    ads = request("https://www.google.com/pagead/1p-conversion/123/?label=x", resource_type="image")
    assert only(judge(audit(home(), ads), RULE)).severity == "violation"
