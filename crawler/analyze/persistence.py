"""What persists across the browser restart: re-sent, renewed, respawned, and what survived logout.

Works on the phases of one audit: the jar at the end of the logged-in phases (login, crawl), the reconnect
phase (same profile, relaunched, not logged in again), the logout, and the respawn phase (cookies deleted,
storage kept).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from .. import setcookie
from ..observations import CookieObs, RequestObs
from .audit_data import BEFORE_RESTART, AuditData, Rec

MIN_VALUE_LENGTH = 8  # a shorter value found in a request proves nothing about where it came from
CookieJar = dict[tuple[str, str, str], Rec[CookieObs]]  # (name, domain, path) -> the cookie


@dataclass(frozen=True)
class Sending:
    """One request that carried a persisted value."""

    request_id: int
    host: str
    url: str
    where: str  # "Cookie header" | "URL" | "body"


@dataclass(frozen=True)
class ResentCookie:
    cookie: Rec[CookieObs]  # as it was before the restart
    sent: tuple[Sending, ...]


@dataclass(frozen=True)
class RenewedCookie:
    before: Rec[CookieObs]
    after: Rec[CookieObs]
    how: str  # "later expiry" | "new value"
    renewed_by: tuple[str, ...]  # Set-Cookie response URLs or script URLs seen re-setting it


@dataclass(frozen=True)
class RespawnedCookie:
    deleted: Rec[CookieObs]  # the cookie as it was before the deletion
    returned: Rec[CookieObs]
    sources: tuple[str, ...]  # "localStorage https://app.example key vid", "script https://…/lq.js", …


@dataclass(frozen=True)
class PersistenceFacts:
    resent_cookies: tuple[ResentCookie, ...]
    renewed_cookies: tuple[RenewedCookie, ...]
    respawned_cookies: tuple[RespawnedCookie, ...]
    survived_logout: tuple[Rec[CookieObs], ...]


def analyse_persistence(data: AuditData) -> PersistenceFacts:
    before = _jar_before_restart(data)
    reconnect_requests = data.requests_in("reconnect")
    reconnect_jar = data.cookie_jar("reconnect")
    return PersistenceFacts(
        resent_cookies=tuple(_resent_cookies(before, reconnect_requests)),
        renewed_cookies=tuple(_renewed(data, before, reconnect_jar)),
        respawned_cookies=tuple(_respawned(data, reconnect_jar)),
        survived_logout=tuple(_survived_logout(data)),
    )


def _jar_before_restart(data: AuditData) -> CookieJar:
    """The persistent cookies left in the profile when the browser closed."""
    for phase in reversed(BEFORE_RESTART):
        jar = data.cookie_jar(phase)
        if jar:
            return {k: r for k, r in jar.items() if not r.obs.session}
    return {k: r for k, r in data.cookie_jar("control").items() if not r.obs.session}


def carried_by(value: str, name: str | None, request: RequestObs) -> list[str]:
    """Where in a request a value travels: as the named cookie in the Cookie header, in the URL, in the body."""
    places = []
    if name is not None and request.cookie_header and (name, value) in setcookie.request_cookies(request.cookie_header):
        places.append("Cookie header")
    if len(value) >= MIN_VALUE_LENGTH:
        if value in request.url or value in unquote(request.url):
            places.append("URL")
        if request.post_data and (value in request.post_data or value in unquote(request.post_data)):
            places.append("body")
        if name is None and request.cookie_header and value in request.cookie_header:
            places.append("Cookie header")
    return places


def sendings(value: str, name: str | None, requests: list[Rec[RequestObs]]) -> tuple[Sending, ...]:
    return tuple(
        Sending(r.row_id, r.obs.host, r.obs.url, where) for r in requests for where in carried_by(value, name, r.obs)
    )


def _resent_cookies(before: CookieJar, requests: list[Rec[RequestObs]]) -> list[ResentCookie]:
    resent = []
    for rec in before.values():
        sent = sendings(rec.obs.value, rec.obs.name, requests)
        if sent:
            resent.append(ResentCookie(rec, sent))
    return resent


def _setters(data: AuditData, phase: str, name: str) -> tuple[str, ...]:
    """Who (re)set a cookie of this name during a phase: response URLs and script URLs."""
    found = []
    for rec in data.requests_in(phase):
        if any(cookie.name == name for cookie in setcookie.parse_all(rec.obs.set_cookies)):
            found.append(rec.obs.url)
    for write in data.script_writes:
        if write.phase == phase and setcookie.cookie_name(write.obs.cookie_string) == name:
            found.append(write.obs.script_url or write.obs.frame_url)
    return tuple(dict.fromkeys(found))


def _renewed(data: AuditData, before: CookieJar, reconnect_jar: CookieJar) -> list[RenewedCookie]:
    renewed = []
    for key, old in before.items():
        new = reconnect_jar.get(key)
        if new is None or new.obs.session:
            continue
        setters = _setters(data, "reconnect", old.obs.name)
        if not setters:
            continue
        if new.obs.value != old.obs.value:
            how = "new value"
        elif (new.obs.expires or 0) > (old.obs.expires or 0) + 1:
            how = "later expiry"
        else:
            continue
        renewed.append(RenewedCookie(old, new, how, setters))
    return renewed


def _respawned(data: AuditData, reconnect_jar: CookieJar) -> list[RespawnedCookie]:
    if "respawn" not in data.phases():
        return []
    returned = data.cookie_jar("respawn")
    kept_storage = data.storage_in("reconnect", "respawn")
    respawned = []
    for key, deleted in reconnect_jar.items():
        back = returned.get(key)
        value = deleted.obs.value
        if back is None or back.obs.value != value or len(value) < MIN_VALUE_LENGTH:
            continue
        sources = [
            f"{s.obs.kind} {s.obs.origin} {s.obs.container + ' ' if s.obs.container else ''}key {s.obs.key}"
            for s in kept_storage
            if s.obs.value and value in s.obs.value
        ]
        sources += [f"re-set by {who}" for who in _setters(data, "respawn", deleted.obs.name)]
        respawned.append(RespawnedCookie(deleted, back, tuple(dict.fromkeys(sources))))
    return respawned


def _survived_logout(data: AuditData) -> list[Rec[CookieObs]]:
    """Persistent cookies that kept their value through the logout."""
    if "logout" not in data.phases():
        return []
    before = data.cookie_jar("reconnect") or data.cookie_jar("crawl")
    return [
        rec
        for key, rec in data.cookie_jar("logout").items()
        if key in before and before[key].obs.value == rec.obs.value and not rec.obs.session
    ]
