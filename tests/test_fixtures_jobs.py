"""The fixture vendors of the three jobs (ClassNotes, QuizBlast, FunMathZone) and their scenario switches,
spoken to over loopback HTTPS without a browser. What a browser does with them is in fixtures/README.md."""

from __future__ import annotations

import re
import secrets
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import pytest

from crawler.config import load_config
from fixture_client import FORM, fetch, plain_http, submit_login
from fixtures.server import FixtureInternet

NOAH = "noah.kim@students.mps.test"
EMMA = "emma.garcia@students.mps.test"
CLASSNOTES = "www.classnotes.test"
QUIZBLAST = "play.quizblast.test"
FUNMATHZONE = "www.funmathzone.test"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def passwords() -> dict[str, str]:
    return {NOAH: secrets.token_urlsafe(12), EMMA: secrets.token_urlsafe(12)}


@pytest.fixture(scope="module")
def internet(passwords):
    with FixtureInternet(passwords) as running:
        yield running


@contextmanager
def switched_on(internet: FixtureInternet, name: str):
    assert internet.scenario[name] is False
    internet.scenario[name] = True
    try:
        yield
    finally:
        internet.scenario[name] = False


def test_the_termination_switches_exist_and_are_off(internet):
    for name in ("brightpath_extra_tracker", "classnotes_terminated", "quizblast_terminated"):
        assert internet.scenario[name] is False


def test_jobs_config_validates_with_the_three_new_vendors():
    config = load_config(REPO / "fixtures" / "jobs.toml")
    assert {v.id: v.status for v in config.vendors} == {
        "brightpath": "approved",
        "classnotes": "terminated",
        "quizblast": "terminated",
        "funmathzone": "candidate",
    }
    assert config.browser.host_resolver_rules is None and config.browser.trusted_spki == ()
    quizblast = config.vendor("quizblast")
    assert quizblast.remember_cookies == ("qb_session_persist",)
    assert [(s.action, s.selector) for s in quizblast.login.steps][2] == ("check", "#remember")
    assert [a.password_env for a in config.vendor("classnotes").accounts] == ["TRACKAUDIT_TEST_CLASSNOTES_PASSWORD"]
    assert [a.password_env for a in quizblast.accounts] == ["TRACKAUDIT_TEST_QUIZBLAST_PASSWORD"]
    funmathzone = config.vendor("funmathzone")
    assert (funmathzone.login, funmathzone.accounts, funmathzone.pages) == (None, (), ("/games", "/signup", "/login"))


# ClassNotes -------------------------------------------------------------------------------------------------


def test_classnotes_before_termination_loads_its_id_script_and_analytics(internet):
    landing = fetch(internet, CLASSNOTES, "/")
    assert '<script src="https://www.classnotes.test/static/cn.js"></script>' in landing.text
    assert '<script async src="https://www.google-analytics.com/analytics.js"></script>' in landing.text
    assert landing.set_cookies == {}
    script = fetch(internet, CLASSNOTES, "/static/cn.js")
    assert "cn_vid=${vid}; Max-Age=${FOUR_HUNDRED_DAYS}; Path=/; SameSite=Lax; Secure" in script.text
    assert 'ga("send", "pageview")' in script.text


def test_classnotes_login_works_before_termination_and_fails_after(internet, passwords):
    reply = submit_login(internet, CLASSNOTES, "cn_csrf", NOAH, passwords[NOAH])
    assert (reply.status, reply.headers["Location"]) == (302, "/notes")
    session = {"cn_session": reply.cookie_value("cn_session")}
    notes = fetch(internet, CLASSNOTES, "/notes", cookies=session)
    assert '<h1 id="welcome">Welcome, Noah</h1>' in notes.text
    assert "S30551278" in fetch(internet, CLASSNOTES, "/profile", cookies=session).text

    with switched_on(internet, "classnotes_terminated"):
        form_page = fetch(internet, CLASSNOTES, "/login")
        assert 'id="email"' in form_page.text and 'name="csrf_token"' in form_page.text
        assert form_page.set_cookies == {}  # no CSRF cookie either: nothing is set any more
        token = re.search(r'name="csrf_token" value="([^"]+)"', form_page.text).group(1)
        body = urlencode({"csrf_token": token, "email": NOAH, "password": passwords[NOAH]}).encode()
        refused = fetch(internet, CLASSNOTES, "/login", method="POST", body=body, headers=FORM)
        assert refused.status == 200
        assert '<p class="error">Invalid email or password</p>' in refused.text
        assert refused.set_cookies == {}
        old_session = fetch(internet, CLASSNOTES, "/notes", cookies=session)
        assert (old_session.status, old_session.headers["Location"]) == (302, "/login")


def test_classnotes_after_termination_serves_no_tracker_and_sets_no_cookie(internet):
    with switched_on(internet, "classnotes_terminated"):
        for path in ("/", "/login"):
            page = fetch(internet, CLASSNOTES, path)
            assert page.status == 200
            assert "cn.js" not in page.text and "google-analytics" not in page.text
            assert page.set_cookies == {}
        assert fetch(internet, CLASSNOTES, "/static/cn.js").status == 404


def test_classnotes_expires_an_old_cn_vid_only_after_termination(internet):
    old = {"cn_vid": "Q3xVb8kLmN2pR4sT6uW8yZ", "_ga": "GA1.2.123456789.1700000000"}
    assert fetch(internet, CLASSNOTES, "/", cookies=old).set_cookies == {}  # before: kept, not renewed
    with switched_on(internet, "classnotes_terminated"):
        reply = fetch(internet, CLASSNOTES, "/", cookies=old)
    assert reply.set_cookies == {
        "cn_vid": "cn_vid=; Max-Age=0; Path=/; Secure; SameSite=Lax",
        "_ga": "_ga=; Max-Age=0; Domain=.classnotes.test; Path=/",
    }


# QuizBlast --------------------------------------------------------------------------------------------------


def test_quizblast_login_still_works_after_termination_and_sets_the_persistent_cookie(internet, passwords):
    with switched_on(internet, "quizblast_terminated"):
        reply = submit_login(internet, QUIZBLAST, "qb_csrf", EMMA, passwords[EMMA], remember="1")
        assert (reply.status, reply.headers["Location"]) == (302, "/play")
        persist = reply.cookie_value("qb_session_persist")
        assert reply.set_cookies["qb_session_persist"] == (
            f"qb_session_persist={persist}; Max-Age=2592000; Path=/; Secure; HttpOnly; SameSite=Lax"
        )
        play = fetch(internet, QUIZBLAST, "/play", cookies={"qb_session": reply.cookie_value("qb_session")})
        assert '<h1 id="welcome">Welcome, Emma</h1>' in play.text


def test_quizblast_recognises_an_old_persistent_login_after_termination(internet, passwords):
    reply = submit_login(internet, QUIZBLAST, "qb_csrf", EMMA, passwords[EMMA], remember="1")
    persist = {"qb_session_persist": reply.cookie_value("qb_session_persist")}
    with switched_on(internet, "quizblast_terminated"):
        play = fetch(internet, QUIZBLAST, "/play", cookies=persist)
    assert '<h1 id="welcome">Welcome, Emma</h1>' in play.text
    assert list(play.set_cookies) == ["qb_session"]  # a new session; the persistent cookie itself is not renewed


@pytest.mark.parametrize("terminated", [False, True])
def test_quizblast_renews_an_old_qb_vid_with_the_same_value(internet, terminated):
    internet.scenario["quizblast_terminated"] = terminated
    try:
        reply = fetch(internet, QUIZBLAST, "/", cookies={"qb_vid": "OldVisitor0123456789"})
    finally:
        internet.scenario["quizblast_terminated"] = False
    renewed = "qb_vid=OldVisitor0123456789; Max-Age=34560000; Path=/; Secure; SameSite=Lax"
    assert reply.set_cookies == {"qb_vid": renewed}
    assert fetch(internet, QUIZBLAST, "/").set_cookies == {}  # nothing to renew without the cookie


def test_quizblast_pages_keep_loading_its_trackers_after_termination(internet):
    with switched_on(internet, "quizblast_terminated"):
        for path in ("/", "/login"):
            page = fetch(internet, QUIZBLAST, path)
            assert '<script src="https://play.quizblast.test/static/qb.js"></script>' in page.text
            assert '<script async src="https://px.quizblast-ads.test/qb.js"></script>' in page.text
        assert "qb_vid=${vid}; Max-Age=${FOUR_HUNDRED_DAYS}" in fetch(internet, QUIZBLAST, "/static/qb.js").text
        assert "https://px.quizblast-ads.test/frame" in fetch(internet, "px.quizblast-ads.test", "/qb.js").text
        frame = fetch(internet, "px.quizblast-ads.test", "/frame?ev=pageview")
    uid = frame.cookie_value("qb_uid")
    assert frame.set_cookies["qb_uid"] == f"qb_uid={uid}; Max-Age=34560000; Path=/; Secure; HttpOnly; SameSite=None"
    assert '<img src="https://px.quizblast-ads.test/px.gif"' in frame.text
    again = fetch(internet, "px.quizblast-ads.test", "/frame?ev=pageview", cookies={"qb_uid": uid})
    assert again.cookie_value("qb_uid") == uid


# FunMathZone ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/games", "/games/1", "/signup", "/login"])
def test_funmathzone_pages_load_the_tag_manager_which_loads_ads_and_session_replay(internet, path):
    page = fetch(internet, FUNMATHZONE, path)
    assert page.status == 200
    assert '<script async src="https://www.googletagmanager.com/gtm.js?id=GTM-FAKE"></script>' in page.text
    for link in ('href="/"', 'href="/games"', 'href="/games/1"', 'href="/signup"', 'href="/login"'):
        assert link in page.text
    assert "/insecure" not in page.text
    container = fetch(internet, "www.googletagmanager.com", "/gtm.js?id=GTM-FAKE")
    assert '"https://securepubads.g.doubleclick.net/tag/js/gpt.js"' in container.text
    assert '"https://static.hotjar.com/c/hotjar-123.js"' in container.text
    assert container.set_cookies == {}


def test_funmathzone_third_parties_set_ide_and_take_the_recordings(internet):
    gpt = fetch(internet, "securepubads.g.doubleclick.net", "/tag/js/gpt.js")
    assert "https://ad.doubleclick.net/ddm/activity/src=123;type=funmath;cat=visit;ord=1" in gpt.text
    activity = fetch(internet, "ad.doubleclick.net", "/ddm/activity/src=123;type=funmath;cat=visit;ord=1")
    ide = activity.cookie_value("IDE")
    assert activity.set_cookies["IDE"] == (
        f"IDE={ide}; Max-Age=33696000; Domain=.doubleclick.net; Path=/; Secure; HttpOnly; SameSite=None"
    )
    renewed = fetch(
        internet, "ad.doubleclick.net", "/ddm/activity/src=123;type=funmath;cat=visit;ord=1", cookies={"IDE": ide}
    )
    assert renewed.cookie_value("IDE") == ide
    hotjar = fetch(internet, "static.hotjar.com", "/c/hotjar-123.js")
    assert "_hjSessionUser_${SITE_ID}" in hotjar.text and "Max-Age=${ONE_YEAR}" in hotjar.text
    assert "https://in.hotjar.com/api/v2/client/sites/${SITE_ID}/visit-data" in hotjar.text
    visit = fetch(
        internet,
        "in.hotjar.com",
        "/api/v2/client/sites/123/visit-data",
        method="POST",
        body=b"{}",
        headers={"Origin": f"https://{FUNMATHZONE}"},
    )
    assert (visit.status, visit.headers["Access-Control-Allow-Origin"]) == (204, f"https://{FUNMATHZONE}")
    assert visit.set_cookies == {}


def test_funmathzone_has_no_account_and_sets_only_the_csrf_cookie(internet, passwords):
    assert list(fetch(internet, FUNMATHZONE, "/").set_cookies) == []
    assert list(fetch(internet, FUNMATHZONE, "/login").set_cookies) == ["fmz_csrf"]
    signup = fetch(internet, FUNMATHZONE, "/signup")
    assert '<form id="signup-form" method="post" action="/signup">' in signup.text
    reply = submit_login(internet, FUNMATHZONE, "fmz_csrf", EMMA, passwords[EMMA])
    assert '<p class="error">Invalid email or password</p>' in reply.text
    assert list(reply.set_cookies) == ["fmz_csrf"]


def test_funmathzone_answers_insecure_over_plain_http_without_a_redirect(internet):
    insecure = plain_http(internet, FUNMATHZONE, "/insecure")
    assert insecure.status == 200 and "<h1>Printable worksheets</h1>" in insecure.text
    assert internet.log[-1].scheme == "http"
    other = plain_http(internet, FUNMATHZONE, "/games")
    assert (other.status, other.headers["Location"]) == (301, f"https://{FUNMATHZONE}/games")
