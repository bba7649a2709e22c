"""What a cookie is for, judged from its name.

Precedence: the district's ``remember_cookies`` (exact names it accepts as login retention) beat
everything; then the Open Cookie Database's exact names, then its longest wildcard prefix; then
trackaudit's built-in patterns. The database's broad categories are narrowed by a built-in pattern
that names a finer purpose within them (its "Functional" ``PHPSESSID`` is a ``login_session``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from crawler.knowledge.open_cookie_database import OcdCookie

COOKIE_PURPOSES: Mapping[str, str] = {
    "login_session": "keeps a signed-in session",
    "csrf": "protects forms against cross-site request forgery",
    "login_retention": "keeps the user signed in across browser restarts (remember me)",
    "analytics": "measures use of the site; usually an identifier",
    "advertising": "advertising or marketing identifier",
    "session_replay": "identifier of a session-recording service",
    "preference": "remembers a setting such as language or theme",
    "consent": "records the user's cookie-consent choice",
    "security": "bot, fraud or abuse defence",
    "functional": "needed for the service to work otherwise (load balancing, widgets)",
    "unknown": "nothing known about this name",
}

DISTRICT_SOURCE = "district"
OCD_SOURCE = "open-cookie-database"
BUILTIN_SOURCE = "builtin"

# Finer purposes a built-in pattern may substitute for a database purpose.
_NARROWER_PURPOSES: Mapping[str, frozenset[str]] = {
    "functional": frozenset({"login_session", "csrf", "login_retention", "preference", "consent", "security"}),
    "security": frozenset({"csrf"}),
    "analytics": frozenset({"session_replay"}),
}


@dataclass(frozen=True)
class CookiePurpose:
    """The purpose of a cookie name and the evidence for it.

    ``pattern`` is the name or pattern that matched in ``source``; ``list_category`` is the Open Cookie
    Database's own category; ``refined_by`` is the built-in pattern that narrowed that category.
    """

    purpose: str
    source: str | None
    pattern: str | None
    platform: str | None
    list_category: str | None = None
    refined_by: str | None = None


UNKNOWN = CookiePurpose("unknown", None, None, None)


@dataclass(frozen=True)
class BuiltinCookiePattern:
    pattern: str
    purpose: str
    platform: str | None

    @property
    def specificity(self) -> tuple[bool, bool, int]:
        """Exact names first, then patterns anchored at the start, then by length of literal text."""
        return ("*" not in self.pattern, not self.pattern.startswith("*"), len(self.pattern.replace("*", "")))


class CookieClassifier:
    def __init__(
        self,
        builtin: bool = True,
        ocd_rows: Iterable[OcdCookie] | None = None,
        remember_cookies: Iterable[str] = (),
    ):
        self.remember_cookies = frozenset(remember_cookies)
        self._ocd_exact: dict[str, OcdCookie] = {}
        ocd_prefixes: dict[str, OcdCookie] = {}
        for row in ocd_rows or ():
            # The first row wins when the database lists a name twice.
            (ocd_prefixes if row.wildcard else self._ocd_exact).setdefault(row.name, row)
        self._ocd_prefixes = sorted(ocd_prefixes.values(), key=lambda row: len(row.name), reverse=True)
        self._builtin = _BuiltinPatterns(load_builtin_patterns()) if builtin else None
        self._cache: dict[str, CookiePurpose] = {}

    def classify(self, name: str) -> CookiePurpose:
        if name not in self._cache:
            self._cache[name] = self._classify(name)
        return self._cache[name]

    def _classify(self, name: str) -> CookiePurpose:
        if name in self.remember_cookies:
            return CookiePurpose("login_retention", DISTRICT_SOURCE, name, None)
        builtin = self._builtin.match(name) if self._builtin else None
        ocd_row = self._ocd_exact.get(name) or next(
            (row for row in self._ocd_prefixes if name.startswith(row.name)), None
        )
        if ocd_row is not None:
            narrower = builtin if builtin and builtin.purpose in _NARROWER_PURPOSES.get(ocd_row.purpose, ()) else None
            return CookiePurpose(
                purpose=narrower.purpose if narrower else ocd_row.purpose,
                source=OCD_SOURCE,
                pattern=ocd_row.name + ("*" if ocd_row.wildcard else ""),
                platform=ocd_row.platform or None,
                list_category=ocd_row.category,
                refined_by=narrower.pattern if narrower else None,
            )
        if builtin is not None:
            return CookiePurpose(builtin.purpose, BUILTIN_SOURCE, builtin.pattern, builtin.platform)
        return UNKNOWN


class _BuiltinPatterns:
    def __init__(self, patterns: Iterable[BuiltinCookiePattern]):
        self._exact: dict[str, BuiltinCookiePattern] = {}
        wildcards = []
        for pattern in patterns:
            if "*" in pattern.pattern:
                wildcards.append(pattern)
            else:
                self._exact[pattern.pattern.casefold()] = pattern
        wildcards.sort(key=lambda pattern: pattern.specificity, reverse=True)
        self._wildcards = [(_compile(pattern.pattern), pattern) for pattern in wildcards]

    def match(self, name: str) -> BuiltinCookiePattern | None:
        exact = self._exact.get(name.casefold())
        if exact is not None:
            return exact
        return next((pattern for regex, pattern in self._wildcards if regex.fullmatch(name)), None)


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.IGNORECASE | re.DOTALL)


def builtin_patterns_text() -> str:
    return resources.files("crawler.knowledge").joinpath("cookie_patterns.json").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _builtin_document() -> dict:
    return json.loads(builtin_patterns_text())


def builtin_patterns_version() -> str:
    return _builtin_document()["version"]


@lru_cache(maxsize=1)
def load_builtin_patterns() -> tuple[BuiltinCookiePattern, ...]:
    patterns = tuple(BuiltinCookiePattern(**row) for row in _builtin_document()["patterns"])
    for pattern in patterns:
        if pattern.purpose not in COOKIE_PURPOSES:
            raise ValueError(f"cookie pattern {pattern.pattern!r}: unknown purpose {pattern.purpose!r}")
    return patterns
