"""Checks against real copies of the public lists, kept beside the repo (never committed into it)."""

from pathlib import Path

import pytest

from crawler.knowledge.cookies import CookieClassifier
from crawler.knowledge.disconnect import load_disconnect
from crawler.knowledge.filterlists import FilterListEngine
from crawler.knowledge.lists import load_lists
from crawler.knowledge.open_cookie_database import load_open_cookie_database
from crawler.knowledge.trackers import load_builtin


def shared_lists_dir() -> Path:
    return Path(__file__).resolve().parents[1] / ".." / "shared" / "lists"


pytestmark = pytest.mark.skipif(not shared_lists_dir().is_dir(), reason="no ../shared/lists beside the repo")

PAGE = "https://www.brightpath.test/lessons"


@pytest.fixture(scope="module")
def easyprivacy():
    return FilterListEngine({"easyprivacy": (shared_lists_dir() / "easyprivacy.txt").read_text(encoding="utf-8")})


@pytest.mark.parametrize("resource_type", ["script", "image"])
def test_easyprivacy_flags_google_analytics_with_the_filter(easyprivacy, resource_type):
    match = easyprivacy.check("https://www.google-analytics.com/collect?v=1&tid=UA-1", PAGE, resource_type)
    assert match is not None
    assert match.list_name == "easyprivacy"
    assert "google-analytics.com" in match.filter


@pytest.mark.parametrize(
    ("url", "resource_type"),
    [
        ("https://cdn.jsdelivr.net/npm/bp-ui@1.0.0/ui.min.js", "script"),
        ("https://www.brightpath.test/lessons", "document"),
    ],
)
def test_easyprivacy_leaves_ordinary_requests_alone(easyprivacy, url, resource_type):
    assert easyprivacy.check(url, PAGE, resource_type) is None


def test_open_cookie_database_parses():
    rows = load_open_cookie_database(shared_lists_dir() / "open-cookie-database.csv")
    assert len(rows) > 2000
    assert any(row.wildcard for row in rows)
    assert {row.purpose for row in rows} >= {"analytics", "advertising", "functional", "security"}
    classifier = CookieClassifier(ocd_rows=rows)
    assert classifier.classify("_ga").purpose == "analytics"
    assert classifier.classify("_ga").source == "open-cookie-database"
    assert classifier.classify("_fbp").purpose == "advertising"
    assert classifier.classify("PHPSESSID").purpose == "login_session"


def test_disconnect_imports():
    knowledge = load_disconnect(shared_lists_dir() / "services.json")
    assert len(knowledge) > 4000
    assert {info.source for info in knowledge} == {"disconnect"}
    assert knowledge.lookup("stats.g.doubleclick.net").category == "advertising"
    assert knowledge.lookup("edge.fullstory.com").category == "session_replay"
    merged = load_builtin().merge(knowledge)
    assert merged.lookup("fonts.googleapis.com").source == "builtin"


def test_load_lists_from_the_shared_copies():
    bundle, infos = load_lists(None, extra_dirs=[shared_lists_dir()])
    versions = {info.name: info.version for info in infos}
    assert versions["easyprivacy"] == "202202071240"
    assert set(versions) == {
        "builtin-trackers",
        "builtin-cookies",
        "easyprivacy",
        "easylist",
        "open-cookie-database",
        "disconnect",
    }
    assert bundle.filters.check("https://www.google-analytics.com/collect?v=1&tid=UA-1", PAGE, "image")
