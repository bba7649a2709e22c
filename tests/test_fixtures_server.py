"""The fixture internet without a browser: routing, TLS, logins, cookies, the request log."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import re
import secrets
import socket
from urllib.parse import urlencode

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from fixture_client import FORM, UNVERIFIED, fetch, submit_login
from fixtures.server import FixtureInternet

MAYA = "maya.okafor@students.mps.test"
LIAM = "liam.novak@students.mps.test"
BRIGHTPATH = "www.brightpath.test"
LEAKYQUIZ = "app.leakyquiz.test"


@pytest.fixture(scope="module")
def passwords() -> dict[str, str]:
    return {MAYA: secrets.token_urlsafe(12), LIAM: secrets.token_urlsafe(12)}


@pytest.fixture(scope="module")
def internet(passwords):
    with FixtureInternet(passwords) as running:
        yield running


def test_host_resolver_rules_send_443_and_80_to_the_servers_and_the_rest_to_the_closed_port(internet):
    assert internet.host_resolver_rules == (
        f"MAP *:443 127.0.0.1:{internet.https_port}, MAP *:80 127.0.0.1:{internet.http_port}, "
        f"MAP * 127.0.0.1:{internet.closed_port}, EXCLUDE localhost, EXCLUDE 127.0.0.1"
    )
    assert len({internet.https_port, internet.http_port, internet.closed_port}) == 3
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", internet.closed_port), timeout=5)


def test_properties_need_a_running_server():
    with pytest.raises(RuntimeError, match="not running"):
        _ = FixtureInternet({}).host_resolver_rules


def test_certificate_names_every_host_and_matches_the_spki_hash(internet):
    with (
        socket.create_connection(("127.0.0.1", internet.https_port), timeout=5) as raw,
        UNVERIFIED.wrap_socket(raw, server_hostname=BRIGHTPATH) as tls,
    ):
        certificate = x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(internet.hosts) <= set(names.get_values_for_type(x509.DNSName))
    assert {"*.leakyquiz.test", "*.brightpath.test", "*.edutrack-analytics.test"} <= set(
        names.get_values_for_type(x509.DNSName)
    )
    public_key = certificate.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    assert internet.spki == base64.b64encode(hashlib.sha256(public_key).digest()).decode()


def test_unknown_hosts_and_paths_get_a_small_404(internet):
    stray = fetch(internet, "update.googleapis.com", "/service/update2/json", method="POST", body=b"{}")
    assert (stray.status, stray.body) == (404, b"not found\n")
    assert fetch(internet, BRIGHTPATH, "/no-such-page").status == 404
    assert fetch(internet, BRIGHTPATH, "/dashboard", method="POST", body=b"").status == 404


def test_plain_http_redirects_to_https(internet):
    connection = http.client.HTTPConnection("127.0.0.1", internet.http_port, timeout=5)
    connection.request("GET", "/lessons?page=2", headers={"Host": BRIGHTPATH})
    response = connection.getresponse()
    assert (response.status, response.getheader("Location")) == (301, f"https://{BRIGHTPATH}/lessons?page=2")
    connection.close()


def test_brightpath_login_with_the_right_password_starts_a_session(internet, passwords):
    reply = submit_login(internet, BRIGHTPATH, "bp_csrf", MAYA, passwords[MAYA])
    assert (reply.status, reply.headers["Location"]) == (302, "/dashboard")
    session = reply.cookie_value("bp_session")
    assert re.fullmatch(r"[0-9a-f]{32}", session)
    assert reply.set_cookies["bp_session"] == f"bp_session={session}; Path=/; Secure; HttpOnly; SameSite=Lax"
    assert "bp_remember" not in reply.set_cookies
    dashboard = fetch(internet, BRIGHTPATH, "/dashboard", cookies={"bp_session": session})
    assert '<h1 id="welcome">Welcome, Maya</h1>' in dashboard.text


def test_login_form_has_the_fields_the_demo_config_fills(internet):
    page = fetch(internet, BRIGHTPATH, "/login")
    for fragment in (
        '<form id="login-form"',
        'id="email" name="email"',
        'id="password" name="password" type="password"',
        'id="remember" name="remember" type="checkbox"',
        'type="hidden" name="csrf_token"',
        '<button type="submit"',
    ):
        assert fragment in page.text
    assert page.set_cookies["bp_csrf"].endswith("; Path=/; Secure; HttpOnly; SameSite=Strict")
    assert 'id="remember"' not in fetch(internet, LEAKYQUIZ, "/login").text


@pytest.mark.parametrize("host, csrf_cookie, email", [(BRIGHTPATH, "bp_csrf", MAYA), (LEAKYQUIZ, "lq_csrf", LIAM)])
def test_wrong_password_shows_the_form_again_with_an_error(internet, host, csrf_cookie, email):
    reply = submit_login(internet, host, csrf_cookie, email, "not-the-password")
    assert reply.status == 200
    assert '<p class="error">Invalid email or password</p>' in reply.text
    assert '<form id="login-form"' in reply.text
    assert not {"bp_session", "lq_session"} & set(reply.set_cookies)


def test_accounts_of_one_vendor_cannot_log_in_to_the_other(internet, passwords):
    reply = submit_login(internet, BRIGHTPATH, "bp_csrf", LIAM, passwords[LIAM])
    assert '<p class="error">Invalid email or password</p>' in reply.text


def test_login_is_refused_when_the_csrf_cookie_does_not_match_the_form(internet, passwords):
    body = urlencode({"csrf_token": "forged", "email": MAYA, "password": passwords[MAYA]}).encode()
    reply = fetch(internet, BRIGHTPATH, "/login", method="POST", body=body, cookies={"bp_csrf": "other"}, headers=FORM)
    assert reply.status == 200
    assert '<p class="error">' in reply.text
    assert "bp_session" not in reply.set_cookies


@pytest.mark.parametrize(
    "host, path",
    [
        (BRIGHTPATH, "/dashboard"),
        (BRIGHTPATH, "/lessons/2"),
        (BRIGHTPATH, "/profile"),
        (LEAKYQUIZ, "/home"),
        (LEAKYQUIZ, "/quiz/1"),
        (LEAKYQUIZ, "/api/profile"),
    ],
)
def test_signed_in_pages_redirect_to_login_without_a_session(internet, host, path):
    reply = fetch(internet, host, path, cookies={"bp_session": "stale", "lq_session": "stale"})
    assert (reply.status, reply.headers["Location"]) == (302, "/login")


def test_remember_me_cookie_lasts_30_days_and_restores_the_session(internet, passwords):
    reply = submit_login(internet, BRIGHTPATH, "bp_csrf", MAYA, passwords[MAYA], remember="1")
    remember = reply.cookie_value("bp_remember")
    assert reply.set_cookies["bp_remember"] == (
        f"bp_remember={remember}; Max-Age=2592000; Path=/; Secure; HttpOnly; SameSite=Lax"
    )
    landing = fetch(internet, BRIGHTPATH, "/", cookies={"bp_remember": remember})
    assert list(landing.set_cookies) == ["bp_session"]  # a new session; the remember-me cookie is not renewed
    restored = landing.cookie_value("bp_session")
    assert "Welcome, Maya" in fetch(internet, BRIGHTPATH, "/dashboard", cookies={"bp_session": restored}).text


def test_brightpath_logout_expires_session_and_remember_me(internet, passwords):
    reply = submit_login(internet, BRIGHTPATH, "bp_csrf", MAYA, passwords[MAYA], remember="1")
    cookies = {name: reply.cookie_value(name) for name in ("bp_session", "bp_remember")}
    logout = fetch(internet, BRIGHTPATH, "/logout", cookies=cookies)
    assert (logout.status, logout.headers["Location"]) == (302, "/")
    assert logout.set_cookies == {
        "bp_session": "bp_session=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=Lax",
        "bp_remember": "bp_remember=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=Lax",
    }
    assert fetch(internet, BRIGHTPATH, "/dashboard", cookies=cookies).status == 302


def test_leakyquiz_profile_api_returns_the_students_pii_and_logout_ends_only_the_session(internet, passwords):
    reply = submit_login(internet, LEAKYQUIZ, "lq_csrf", LIAM, passwords[LIAM])
    assert (reply.status, reply.headers["Location"]) == (302, "/home")
    session = {"lq_session": reply.cookie_value("lq_session")}
    home = fetch(internet, LEAKYQUIZ, "/home", cookies=session)
    assert '<h1 id="welcome">Welcome, Liam</h1>' in home.text
    assert f'<meta name="user-email" content="{LIAM}">' in home.text
    profile = fetch(internet, LEAKYQUIZ, "/api/profile", cookies=session)
    assert json.loads(profile.body) == {"name": "Liam Novak", "email": LIAM, "student_id": "4417209"}
    assert "402-555-0147" in fetch(internet, LEAKYQUIZ, "/profile", cookies=session).text
    logout = fetch(internet, LEAKYQUIZ, "/logout", cookies=session)
    assert list(logout.set_cookies) == ["lq_session"]


def test_leakyquiz_serves_its_visitor_script_and_service_worker(internet):
    script = fetch(internet, LEAKYQUIZ, "/static/lq.js")
    assert script.headers["Content-Type"].startswith("text/javascript")
    assert "lq_vid" in script.text and "lq_store" in script.text
    assert '"lq-cache-v1"' in fetch(internet, LEAKYQUIZ, "/sw.js").text
    assert '<script src="https://app.leakyquiz.test/static/lq.js"></script>' in fetch(internet, LEAKYQUIZ, "/").text


def test_identify_collector_allows_the_calling_origin_and_sets_a_400_day_cookie(internet):
    origin = {"Origin": f"https://{LEAKYQUIZ}"}
    preflight = fetch(internet, "collect.edutrack-analytics.test", "/v1/identify", method="OPTIONS", headers=origin)
    assert preflight.headers["Access-Control-Allow-Origin"] == origin["Origin"]
    assert preflight.headers["Access-Control-Allow-Headers"] == "Content-Type"
    identify = fetch(
        internet,
        "collect.edutrack-analytics.test",
        "/v1/identify",
        method="POST",
        body=b"{}",
        headers={**origin, "Content-Type": "application/json"},
    )
    assert identify.headers["Access-Control-Allow-Credentials"] == "true"
    tracker_id = identify.cookie_value("et_uid")
    assert identify.set_cookies["et_uid"] == f"et_uid={tracker_id}; Max-Age=34560000; Path=/; Secure; SameSite=None"
    again = fetch(
        internet,
        "collect.edutrack-analytics.test",
        "/v1/identify",
        method="POST",
        body=b"{}",
        cookies={"et_uid": tracker_id},
        headers=origin,
    )
    assert again.cookie_value("et_uid") == tracker_id


def test_adpixel_sync_sets_its_cookie_and_embeds_the_pixel(internet):
    sync = fetch(internet, "sync.adpixel.test", "/sync?partner=lq&puid=abc")
    assert re.fullmatch(
        r"apx_uid=[\w-]+; Max-Age=34560000; Path=/; Secure; HttpOnly; SameSite=None", sync.set_cookies["apx_uid"]
    )
    assert '<img src="https://sync.adpixel.test/pixel.gif"' in sync.text
    pixel = fetch(internet, "sync.adpixel.test", "/pixel.gif")
    assert (pixel.headers["Content-Type"], pixel.body[:6]) == ("image/gif", b"GIF89a")


def test_brightpath_extra_tracker_scenario_adds_the_facebook_pixel(internet):
    pixel_tag = '<script src="https://connect.facebook.net/en_US/fbevents.js"></script>'
    assert pixel_tag not in fetch(internet, BRIGHTPATH, "/").text
    internet.scenario["brightpath_extra_tracker"] = True
    try:
        assert pixel_tag in fetch(internet, BRIGHTPATH, "/").text
    finally:
        internet.scenario["brightpath_extra_tracker"] = False
    assert "_fbp" in fetch(internet, "connect.facebook.net", "/en_US/fbevents.js").text


def test_log_keeps_host_method_path_headers_and_body(internet):
    internet.log.clear()
    fetch(
        internet,
        "collect.edutrack-analytics.test",
        "/v1/beacon?x=1",
        method="POST",
        body=b'{"vid":"v"}',
        cookies={"et_uid": "abc"},
    )
    [request] = internet.log.matching("collect.edutrack-analytics.test", "/v1/beacon")
    assert (request.scheme, request.method, request.query, request.body) == ("https", "POST", "x=1", b'{"vid":"v"}')
    assert request.headers["cookie"] == "et_uid=abc"
    assert request.cookies == {"et_uid": "abc"}
    assert request.url == "https://collect.edutrack-analytics.test/v1/beacon?x=1"
