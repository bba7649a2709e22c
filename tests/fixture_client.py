"""Speaking to the fixture sites over loopback HTTPS without a browser, as the fast fixture tests do."""

from __future__ import annotations

import http.client
import re
import socket
import ssl
from dataclasses import dataclass
from email.message import Message
from urllib.parse import urlencode

from fixtures.server import FixtureInternet

FORM = {"Content-Type": "application/x-www-form-urlencoded"}

UNVERIFIED = ssl.create_default_context()
UNVERIFIED.check_hostname = False
UNVERIFIED.verify_mode = ssl.CERT_NONE


@dataclass
class Reply:
    status: int
    headers: Message
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()

    @property
    def set_cookies(self) -> dict[str, str]:
        """Set-Cookie headers by cookie name."""
        return {header.partition("=")[0]: header for header in self.headers.get_all("Set-Cookie", [])}

    def cookie_value(self, name: str) -> str:
        return self.set_cookies[name].partition("=")[2].partition(";")[0]


class LoopbackHTTPS(http.client.HTTPSConnection):
    """HTTPS to 127.0.0.1 for a host name, which goes into SNI and the Host header, as Chromium sends it."""

    def connect(self) -> None:
        raw = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        self.sock = UNVERIFIED.wrap_socket(raw, server_hostname=self.host)


def fetch(
    internet: FixtureInternet,
    host: str,
    path: str,
    *,
    method: str = "GET",
    body: bytes | None = None,
    cookies: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    connection = LoopbackHTTPS(host, internet.https_port, context=UNVERIFIED)
    sent = dict(headers or {})
    if cookies:
        sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    try:
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        return Reply(response.status, response.msg, response.read())
    finally:
        connection.close()


def plain_http(internet: FixtureInternet, host: str, path: str) -> Reply:
    connection = http.client.HTTPConnection("127.0.0.1", internet.http_port, timeout=5)
    try:
        connection.request("GET", path, headers={"Host": host})
        response = connection.getresponse()
        return Reply(response.status, response.msg, response.read())
    finally:
        connection.close()


def submit_login(internet, host: str, csrf_cookie: str, email: str, password: str, **extra_fields: str) -> Reply:
    form_page = fetch(internet, host, "/login")
    found = re.search(r'name="csrf_token" value="([^"]+)"', form_page.text)
    assert found, f"no CSRF token in the login form of {host}"
    token = found.group(1)
    assert form_page.cookie_value(csrf_cookie) == token
    body = urlencode({"csrf_token": token, "email": email, "password": password, **extra_fields}).encode()
    return fetch(internet, host, "/login", method="POST", body=body, cookies={csrf_cookie: token}, headers=FORM)
