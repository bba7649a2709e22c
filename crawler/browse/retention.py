"""Which persistent first-party cookies keep the student logged in, proven by behaviour (IV.B).

From the cookies saved after the reconnect, relaunch without one cookie (or a group, when there are more cookies
than relaunches) and check the login's success condition: a cookie whose removal logs the student out is the
login retention IV.B allows, whatever its name; one the login does without is not, whatever its name says.
Greedy elimination: a cookie found unneeded stays out of the later relaunches; a value the site replaced during a
logged-in relaunch (a remember-me token used once) is the one the next relaunch sends.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass

from ..analyze.party import registrable_domain
from ..observations import RETENTION_NOT_KEPT, RETENTION_PROVEN, PhaseResult, RetentionCookieObs

MAX_RELAUNCHES = 8  # per audit, the first with every saved cookie
SUCCESS_TIMEOUT_S = 3.0  # how long a relaunch waits for the sign of being logged in

Cookie = dict  # a cookie as Playwright's storage_state gives it
# Relaunch with these cookies: the jar afterwards when the student was logged in, None when not.
LoggedIn = Callable[[list[Cookie]], Awaitable[list[Cookie] | None]]


@dataclass(frozen=True)
class Elimination:
    result: PhaseResult
    tested: tuple[RetentionCookieObs, ...]
    relaunches: int


def candidates(cookies: Sequence[Cookie], site_domains: Collection[str]) -> list[Cookie]:
    """The persistent cookies of the vendor's own sites: the only ones that can keep its login."""
    return [
        c
        for c in cookies
        if c.get("expires", -1) not in (-1, None) and registrable_domain(c["domain"].lstrip(".")) in site_domains
    ]


def persistent(cookies: Sequence[Cookie]) -> list[Cookie]:
    """What a relaunched browser still has: the session cookies are gone."""
    return [c for c in cookies if c.get("expires", -1) not in (-1, None)]


async def eliminate(
    saved: Sequence[Cookie], site_domains: Collection[str], logged_in: LoggedIn, max_relaunches: int = MAX_RELAUNCHES
) -> Elimination:
    kept = persistent(saved)
    tested_cookies = sorted(candidates(kept, site_domains), key=lambda c: (c["name"], c["domain"], c["path"]))
    jar = await logged_in(kept)
    if jar is None:
        note = (
            f"relaunched with the {len(kept)} persistent cookies saved after the reconnect, the student was not "
            f"logged in: no cookie keeps the login, so IV.B's login-retention exception covers none"
        )
        none_needed = tuple(
            RetentionCookieObs(name=c["name"], domain=c["domain"], path=c["path"], needed=False, trial=1, left_out=0)
            for c in tested_cookies
        )
        return Elimination(PhaseResult(RETENTION_NOT_KEPT, note=note), none_needed, 1)
    kept = _refreshed(kept, jar)
    relaunches = 1
    budget = max_relaunches - 1
    size = max(1, math.ceil(len(tested_cookies) / budget)) if budget > 0 else len(tested_cookies) or 1
    groups = [tested_cookies[i : i + size] for i in range(0, len(tested_cookies), size)][:budget]
    tested: list[RetentionCookieObs] = []
    for group in groups:
        relaunches += 1
        without = [c for c in kept if not any(_same(c, g) for g in group)]
        jar = await logged_in(without)
        still_in = jar is not None
        if jar is not None:
            kept = _refreshed(without, jar)
        needed = False if still_in else (True if len(group) == 1 else None)
        tested += [
            RetentionCookieObs(
                name=c["name"], domain=c["domain"], path=c["path"], needed=needed, trial=relaunches, left_out=len(group)
            )
            for c in group
        ]
    proven = [t.name for t in tested if t.needed]
    not_needed = [t.name for t in tested if t.needed is False]
    together = [t.name for t in tested if t.needed is None]
    parts = [f"{relaunches} relaunches from the cookies saved after the reconnect"]
    parts.append(
        f"needed for the login: {', '.join(proven)}" if proven else "no single cookie was needed for the login"
    )
    if not_needed:
        parts.append(f"logged in without: {', '.join(not_needed)}")
    if together:
        parts.append(f"needed as a group, not told apart: {', '.join(together)}")
    return Elimination(PhaseResult(RETENTION_PROVEN, note="; ".join(parts)), tuple(tested), relaunches)


def _refreshed(kept: list[Cookie], jar: list[Cookie]) -> list[Cookie]:
    """The kept cookies with the values the site set for them during the relaunch; nothing added."""
    latest = {_key(c): c for c in persistent(jar)}
    return [latest.get(_key(c), c) for c in kept]


def _key(cookie: Cookie) -> tuple[str, str, str]:
    return cookie["name"], cookie["domain"], cookie["path"]


def _same(a: Cookie, b: Cookie) -> bool:
    return (a["name"], a["domain"], a["path"]) == (b["name"], b["domain"], b["path"])
