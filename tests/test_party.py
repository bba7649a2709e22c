import pytest
from hypothesis import given
from hypothesis import strategies as st

from crawler.analyze.party import PartyResolver, registrable_domain
from crawler.knowledge.trackers import load_builtin


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("www.google-analytics.com", "google-analytics.com"),
        ("www.bbc.co.uk", "bbc.co.uk"),
        ("bbc.co.uk", "bbc.co.uk"),
        ("co.uk", "co.uk"),
        ("app.leakyquiz.test", "leakyquiz.test"),
        ("a.b.www.brightpath.test", "brightpath.test"),
        ("localhost", "localhost"),
        ("WWW.Example.COM:8443", "example.com"),
        ("example.com.", "example.com"),
        (".example.com", "example.com"),
        ("127.0.0.1", "127.0.0.1"),
        ("127.0.0.1:8443", "127.0.0.1"),
        ("[::1]:443", "::1"),
        ("::1", "::1"),
        ("brightpath.github.io", "brightpath.github.io"),
        ("d111111abcdef8.cloudfront.net", "d111111abcdef8.cloudfront.net"),
    ],
)
def test_registrable_domain(host, expected):
    assert registrable_domain(host) == expected


labels = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)


@given(subdomains=st.lists(labels, max_size=3), site=st.sampled_from(["brightpath.test", "bbc.co.uk", "example.com"]))
def test_subdomains_share_the_registrable_domain(subdomains, site):
    host = ".".join([*subdomains, site])
    assert registrable_domain(host) == site
    assert registrable_domain(registrable_domain(host)) == site


@pytest.fixture
def resolver():
    return PartyResolver(["https://www.brightpath.test/lessons", "brightpath-cdn.test"], load_builtin())


def test_first_party_is_the_start_url_site_and_the_declared_domains(resolver):
    assert resolver.is_first_party("app.brightpath.test")
    assert resolver.is_first_party("static.brightpath-cdn.test")
    assert resolver.party("brightpath.test:443") == "first"
    assert not resolver.is_first_party("app.leakyquiz.test")
    assert resolver.party("www.google-analytics.com") == "third"


@pytest.mark.parametrize(
    "host",
    [
        "www.google-analytics.com",
        "www.googletagmanager.com",
        "doubleclick.net",
        "fonts.googleapis.com",
        "stats.g.doubleclick.net",
        "www.youtube.com",
    ],
)
def test_google_hosts_belong_to_google(resolver, host):
    assert resolver.entity(host) == "Google"


def test_entity_of_other_organisations(resolver):
    assert resolver.entity("connect.facebook.net") == "Meta"
    assert resolver.entity("www.clarity.ms") == "Microsoft"


def test_entity_falls_back_to_the_registrable_domain(resolver):
    assert resolver.entity("app.leakyquiz.test") == "leakyquiz.test"
    assert resolver.entity("cdn.unknown-vendor.co.uk") == "unknown-vendor.co.uk"
