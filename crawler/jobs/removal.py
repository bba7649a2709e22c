"""Post-termination check of a vendor: is the account gone, are the trackers gone, and does the service still
recognise the browser state its last audit left behind?

Three phases, each in a fresh profile:
  removal-login   the test account tries to log in (it must fail: III.C)
  removal-public  the public pages, logged out (no tracker or identifier may be served: IV.A, second sentence)
  removal-replay  the persistent cookies and localStorage the last audit saw are put back and the pages
                  visited again: the service must neither renew an old identifier nor show the old account
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from ..browse.login import wait_for_success
from ..browse.protocol import VendorAudit
from ..coverage import Coverage
from ..observations import RECOGNISED, CookieObs, PhaseResult, StorageObs
from ..store import queries

if TYPE_CHECKING:  # what BrowserContext.add_cookies takes (playwright.async_api does not re-export it)
    from playwright._impl._api_structures import SetCookieParam

REMOVAL_PHASES = ("removal-login", "removal-public", "removal-replay")
SAME_SITE: dict[str, Literal["Strict", "Lax", "None"]] = {"Strict": "Strict", "Lax": "Lax", "None": "None"}


def saved_state(store, vendor_id: str, account: str) -> tuple[list[CookieObs], list[StorageObs], dict | None]:
    """The persistent cookies and localStorage the vendor's last complete audit left in the browser: the
    state a student's computer would still hold after termination."""
    baseline = queries.last_complete_audit(store, vendor_id)
    if baseline is None:
        return [], [], None
    cookies: list[CookieObs] = []
    storage: list[StorageObs] = []
    run_id = baseline["run_id"]
    for phase in ("crawl", "login", "control"):
        if not cookies:
            cookies.extend(
                obs
                for prov, obs in queries.observations(store, CookieObs, run_id, vendor_id, phase)
                if prov["account"] == account
            )
        if not storage:
            storage.extend(
                obs
                for prov, obs in queries.observations(store, StorageObs, run_id, vendor_id, phase)
                if prov["account"] == account
            )
    return cookies, storage, baseline


def logout_caveat(store, vendor_id: str, baseline_run_id: int | None) -> str | None:
    """What the replay cannot show when the vendor's last audit logged out (its config has a logout_url).

    The audit's logout phase comes after the crawl and the reconnect: the vendor ends the session it had
    opened and usually revokes its "remember me" token too. The cookies the replay puts back were saved before
    that logout, so the vendor refuses them whether or not it kept the account; "the old account is still
    recognised" can then never be seen, and the replay only tests the tracking identifiers."""
    if baseline_run_id is None:
        return None
    if not queries.phase_ran(store, baseline_run_id, vendor_id, "logout"):
        return None
    return (
        f"{vendor_id}'s last audit (run {baseline_run_id}) logged out at its logout_url, which ends the session "
        f"and usually revokes a 'remember me' token: the saved login replayed here may have been cancelled by "
        f"that audit rather than by the vendor, so whether {vendor_id} still recognises the old account could not "
        f"be seen (the tracking identifiers were still checked). Fix: remove logout_url from the config of a "
        f"vendor whose removal you will verify, and audit it once more before its contract ends"
    )


class RemovalCheck(VendorAudit):
    def __init__(
        self,
        *args: Any,
        saved_cookies: Sequence[CookieObs] = (),
        saved_storage: Sequence[StorageObs] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        # After termination a refused login, error pages and redirects to the login are evidence of removal;
        # only a site that cannot be reached (or a login page that never loads) leaves a gap.
        self.coverage = Coverage(
            self.vendor.start_url, self.vendor.login.url if self.vendor.login else None, removal=True
        )
        self.saved_cookies = [c for c in saved_cookies if not c.session]
        self.saved_storage = [s for s in saved_storage if s.kind == "localStorage"]

    async def run(self) -> str:
        workdir = Path(tempfile.mkdtemp(prefix=f"trackaudit-{os.getpid()}-profile-"))
        try:
            if self.vendor.login and self.credentials:
                await self._phase("removal-login", lambda: self._try_login(workdir / "login"))
            await self._phase("removal-public", lambda: self._public(workdir / "public"))
            if self.saved_cookies or self.saved_storage:
                await self._phase("removal-replay", lambda: self._replay(workdir / "replay"))
            else:
                self.sink.error("removal", "no saved browser state from an earlier audit: the replay was skipped")
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        return self.login_result.outcome if self.login_result else "not configured"

    async def _try_login(self, profile_dir: Path) -> None:
        browser = await self._open(profile_dir, "removal-login")
        try:
            await self._login(browser)
        finally:
            await self._close(browser)

    async def _public(self, profile_dir: Path) -> None:
        browser = await self._open(profile_dir, "removal-public")
        try:
            urls = [self.vendor.start_url] + ([self.vendor.login.url] if self.vendor.login else [])
            await self._visit_all(browser, urls)
        finally:
            await self._close(browser)

    async def _replay(self, profile_dir: Path) -> PhaseResult | None:
        browser = await self._open(profile_dir, "removal-replay")
        try:
            cookies = [_playwright_cookie(c) for c in self.saved_cookies]
            if cookies:
                await browser.context.add_cookies(cookies)
            if self.saved_storage:
                await browser.context.add_init_script(_restore_storage_js(self.saved_storage))
            await self._visit_all(browser, self._revisit_urls(), inventory=False)
            recognised = None
            if self.vendor.login and await wait_for_success(browser.page, self.vendor.login, timeout_ms=2000):
                url = browser.page.url
                recognised = PhaseResult(
                    RECOGNISED, url, f"the saved browser state opened the account's pages at {url}"
                )
            await self._inventory(browser)
            return recognised
        finally:
            await self._close(browser)


def _playwright_cookie(cookie: CookieObs) -> SetCookieParam:
    entry: SetCookieParam = {
        "name": cookie.name,
        "value": cookie.value,
        "httpOnly": cookie.http_only,
        "secure": cookie.secure,
    }
    if cookie.host_only:
        entry["url"] = f"https://{cookie.domain.lstrip('.')}{cookie.path}"
    else:
        entry["domain"], entry["path"] = cookie.domain, cookie.path
    if cookie.expires:
        entry["expires"] = cookie.expires
    same_site = SAME_SITE.get(cookie.same_site or "")
    if same_site:
        entry["sameSite"] = same_site
    return entry


def _restore_storage_js(items: list[StorageObs]) -> str:
    """An init script putting each origin's saved localStorage back before the page's own scripts run."""
    by_origin: dict[str, dict[str, str]] = {}
    for item in items:
        if item.value is not None and urlsplit(item.origin).scheme in ("http", "https"):
            by_origin.setdefault(item.origin, {})[item.key] = item.value
    return (
        "(() => { const saved = " + json.dumps(by_origin) + "[location.origin]; if (!saved) return;"
        " for (const [k, v] of Object.entries(saved)) { try { if (localStorage.getItem(k) === null)"
        " localStorage.setItem(k, v); } catch (e) {} } })();"
    )
