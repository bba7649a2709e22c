"""Set-Cookie headers and document.cookie strings, parsed the way a browser does (RFC 6265bis section 5.6).

The one place that reads cookie syntax: the browser stage notes who set a cookie, the analyzers and rules ask
whether a header set or removed one. ``http.cookies`` is not used: it drops a whole header on one attribute it
does not know (Partitioned, Priority) and rejects names browsers accept; ``http.cookiejar.http2time`` rejects
asctime dates and years before 1970, which servers use to delete cookies. Values are kept as the browser keeps
them: surrounding double quotes are part of the value.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

SAME_SITE_VALUES = {"strict": "Strict", "lax": "Lax", "none": "None"}
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
# RFC 6265 section 5.1.1: the characters between the tokens of a cookie date.
_DATE_DELIMITERS = re.compile(r"[\x09\x20-\x2f\x3b-\x40\x5b-\x60\x7b-\x7e]+")
_TIME = re.compile(r"(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\D.*)?$", re.DOTALL)
_DAY = re.compile(r"(\d{1,2})(?:\D.*)?$", re.DOTALL)
_YEAR = re.compile(r"(\d{2,4})(?:\D.*)?$", re.DOTALL)
# A browser stops reading a cookie line at the first NUL, CR or LF.
_LINE_END = re.compile(r"[\x00\r\n]")


@dataclass(frozen=True)
class SetCookie:
    """One cookie as a Set-Cookie line (or a document.cookie write) sets it."""

    name: str
    value: str
    expires: float | None = None  # Unix time of a valid Expires attribute
    max_age: int | None = None  # seconds of a valid Max-Age attribute; wins over Expires
    domain: str | None = None  # lower case, without the leading dot
    path: str | None = None
    secure: bool = False
    http_only: bool = False
    same_site: str | None = None  # "Strict", "Lax" or "None"; None when absent or not one of those
    partitioned: bool = False

    @property
    def session(self) -> bool:
        """Whether the cookie lives only until the browser closes (no valid Max-Age or Expires)."""
        return self.max_age is None and self.expires is None

    def expiry(self, received_at: float) -> float | None:
        """When the cookie expires, for a header received at ``received_at``; None for a session cookie."""
        if self.max_age is not None:
            return received_at + max(self.max_age, 0)
        return self.expires

    def deletes(self, received_at: float) -> bool:
        """Whether the header removes the cookie: Max-Age ≤ 0, or else an Expires not after it was received."""
        if self.max_age is not None:
            return self.max_age <= 0
        return self.expires is not None and self.expires <= received_at


def parse(header: str) -> SetCookie | None:
    """One Set-Cookie header value or document.cookie string; None when it sets nothing (empty name and value)."""
    line = _LINE_END.split(header, maxsplit=1)[0]
    pair, _, attributes = line.partition(";")
    if "=" in pair:
        name, _, value = pair.partition("=")
    else:  # a browser stores "token" as a cookie with an empty name
        name, value = "", pair
    name, value = name.strip(" \t"), value.strip(" \t")
    if not name and not value:
        return None
    cookie = SetCookie(name, value)
    for attribute in attributes.split(";"):
        key, _, raw = attribute.partition("=")
        cookie = _with_attribute(cookie, key.strip(" \t").lower(), raw.strip(" \t"))
    return cookie


def _with_attribute(cookie: SetCookie, key: str, value: str) -> SetCookie:
    """The cookie with one attribute applied; an attribute that is unknown or invalid is ignored, the last wins."""
    if key == "expires":
        expires = cookie_date(value)
        return cookie if expires is None else replace(cookie, expires=expires)
    if key == "max-age":
        return replace(cookie, max_age=int(value)) if re.fullmatch(r"-?\d+", value) else cookie
    if key == "domain":
        return replace(cookie, domain=value.removeprefix(".").lower()) if value else cookie
    if key == "path":
        return replace(cookie, path=value if value.startswith("/") else None)
    if key == "samesite":
        return replace(cookie, same_site=SAME_SITE_VALUES.get(value.lower()))
    if key == "secure":
        return replace(cookie, secure=True)
    if key == "httponly":
        return replace(cookie, http_only=True)
    if key == "partitioned":
        return replace(cookie, partitioned=True)
    return cookie


def lines(values: Iterable[str]) -> tuple[str, ...]:
    """Set-Cookie header values one line each: Chromium and Playwright join several with newlines."""
    return tuple(line for value in values for line in value.split("\n") if line.strip())


def parse_all(values: Iterable[str]) -> list[SetCookie]:
    """Every cookie set by a response's Set-Cookie header values (newline-joined ones included)."""
    return [cookie for line in lines(values) if (cookie := parse(line)) is not None]


def cookie_name(header: str) -> str:
    """The name of the cookie a Set-Cookie line or document.cookie string sets ("" when it sets none)."""
    cookie = parse(header)
    return cookie.name if cookie else ""


def request_cookies(cookie_header: str) -> list[tuple[str, str]]:
    """The (name, value) pairs of a request's Cookie header, in order; a pair without "=" has an empty name."""
    pairs = []
    for pair in cookie_header.split(";"):
        name, sep, value = pair.partition("=")
        if not sep:
            name, value = "", name
        if name.strip() or value.strip():
            pairs.append((name.strip(), value.strip()))
    return pairs


def cookie_date(text: str) -> float | None:
    """The Unix time of a cookie date (RFC 6265 section 5.1.1, what browsers accept); None when it is not one."""
    time = day = month = year = None
    for token in _DATE_DELIMITERS.split(text):
        if not token:
            continue
        if time is None and (match := _TIME.match(token)):
            time = tuple(int(part) for part in match.groups())
        elif day is None and (match := _DAY.match(token)):
            day = int(match.group(1))
        elif month is None and token[:3].lower() in MONTHS:
            month = MONTHS.index(token[:3].lower()) + 1
        elif year is None and (match := _YEAR.match(token)):
            year = int(match.group(1))
    if time is None or day is None or month is None or year is None:
        return None
    if 70 <= year <= 99:
        year += 1900
    elif 0 <= year <= 69:
        year += 2000
    hour, minute, second = time
    if not 1 <= day <= 31 or year < 1601 or hour > 23 or minute > 59 or second > 59:
        return None
    if day > calendar.monthrange(year, month)[1]:
        return None
    return float(calendar.timegm((year, month, day, hour, minute, second)))
