import pytest

from crawler.knowledge.filterlists import FilterListEngine, FilterMatch, adblock_request_type

PRIVACY = """[Adblock Plus 2.0]
! Version: 1
||tracker.example^$third-party
@@||tracker.example/consent.js^
/beacon?$xmlhttprequest
"""
ADS = """[Adblock Plus 2.0]
||ads.example^
||tracker.example/ad/
"""
PAGE = "https://www.school.test/lessons"


@pytest.fixture(scope="module")
def engine():
    return FilterListEngine({"privacy": PRIVACY, "ads": ADS})


def test_a_match_names_its_list_and_filter(engine):
    match = engine.check("https://tracker.example/t.js", PAGE, "script")
    assert match == FilterMatch("privacy", "||tracker.example^$third-party")
    assert engine.check("https://ads.example/banner.png", PAGE, "image") == FilterMatch("ads", "||ads.example^")


def test_no_match(engine):
    assert engine.check("https://cdn.school.test/app.js", PAGE, "script") is None
    assert engine.check(PAGE, PAGE, "document") is None


def test_an_exception_cancels_the_match_of_its_list(engine):
    assert engine.check("https://tracker.example/consent.js", PAGE, "script") is None


def test_first_party_options_apply(engine):
    assert engine.check("https://tracker.example/t.js", "https://tracker.example/", "script") is None


def test_check_all_reports_every_list(engine):
    url = "https://tracker.example/ad/pixel.gif"
    assert engine.check_all(url, PAGE, "image") == (
        FilterMatch("privacy", "||tracker.example^$third-party"),
        FilterMatch("ads", "||tracker.example/ad/"),
    )
    assert engine.check(url, PAGE, "image").list_name == "privacy"


@pytest.mark.parametrize("resource_type", ["xhr", "fetch", "eventsource"])
def test_playwright_request_types_map_to_xmlhttprequest(engine, resource_type):
    assert engine.check("https://www.school.test/api/beacon?x=1", PAGE, resource_type).list_name == "privacy"


def test_type_specific_filters_skip_other_types(engine):
    assert engine.check("https://www.school.test/api/beacon?x=1", PAGE, "image") is None


@pytest.mark.parametrize(
    ("playwright_type", "adblock_type"),
    [
        ("document", "document"),
        ("iframe", "sub_frame"),
        ("subdocument", "sub_frame"),
        ("script", "script"),
        ("stylesheet", "stylesheet"),
        ("image", "image"),
        ("font", "font"),
        ("media", "media"),
        ("ping", "ping"),
        ("websocket", "websocket"),
        ("manifest", "other"),
        ("other", "other"),
        (None, "other"),
    ],
)
def test_adblock_request_type(playwright_type, adblock_type):
    assert adblock_request_type(playwright_type) == adblock_type


def test_unparseable_or_sourceless_requests(engine):
    assert engine.check("not a url", PAGE, "script") is None
    assert engine.check("https://ads.example/x.js", None, "script") == FilterMatch("ads", "||ads.example^")


def test_an_engine_without_lists_matches_nothing():
    engine = FilterListEngine({})
    assert engine.list_names == ()
    assert engine.check("https://ads.example/", PAGE, "script") is None
