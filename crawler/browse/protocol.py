"""The audit protocol for one vendor × account: control, login, crawl, reconnect, logout, respawn.

Each phase stamps what it observes; a phase that fails is recorded and the next one still runs.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import shutil
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

from ..analyze.party import registrable_domain
from .browser import LaunchSettings, launch_profile
from .collectors import CaptureState, default_collectors
from ..store.seal import redact_file, session_paths
from .forms import page_forms
from ..config import Account, Vendor
from .login import LoginResult, perform_login, totp
from .probes import Canaries, probe_page, record_canaries
from ..observations import PageObs
from ..progress import Progress
from ..store.writer import AuditSink

LOGOUT_LINK = re.compile(r"log[-_]?out|sign[-_]?out|log[-_]?off", re.IGNORECASE)
# Where a service collects a student's data first: visited before other links.
ACCOUNT_LINK = re.compile(r"sign[-_]?up|register|join|log[-_]?in|sign[-_]?in|account", re.IGNORECASE)
SKIPPED_EXTENSIONS = (".pdf", ".zip", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".mp4", ".mp3", ".dmg", ".exe")
SETTLE_MS = 2500  # how long a loaded page may keep fetching before we move on


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str
    totp_secret: str | None = None


@dataclass
class _Browser:
    context: object
    page: object
    collectors: list
    har: Path
    trace: Path


class VendorAudit:
    """Runs the protocol for one vendor and one account (or anonymously when there is none)."""

    def __init__(self, playwright, settings: LaunchSettings, vendor: Vendor, account: Account | None,
                 credentials: Credentials | None, sink: AuditSink, artefacts_dir: Path,
                 progress: Progress | None = None):
        self.playwright = playwright
        self.settings = settings
        self.vendor = vendor
        self.account = account
        self.credentials = credentials
        self.sink = sink
        self.state = CaptureState(sink)
        self.screenshots_dir = artefacts_dir / "screenshots" / f"run-{sink.run_id}" / vendor.id / sink.account
        self.artefacts_dir = artefacts_dir
        self.progress = progress or Progress()
        self.progress_key = f"{vendor.id} ({sink.account})"
        self.site_domains = {registrable_domain(urlsplit(vendor.start_url).hostname or "")} | {
            registrable_domain(d) for d in vendor.first_party}
        self.login_result: LoginResult | None = None
        self.pages_visited = 0
        self._screenshot_count = 0
        self._setup_pages: set[int] = set()
        self.canaries = Canaries.new()

    # the protocol -----------------------------------------------------------------------------------
    async def run(self) -> str:
        """Control, login, crawl; then close the browser and reconnect as a student would the next day
        (without logging out: what is re-sent then is what IV.B is about), log out, and respawn."""
        record_canaries(self.sink, self.canaries)
        workdir = Path(tempfile.mkdtemp(prefix="trackaudit-profile-"))
        try:
            await self._phase("control", lambda: self._control(workdir / "control"))
            logged_in = True
            browser = await self._open(workdir / "audited", "audited")
            try:
                if self.vendor.login and self.credentials:
                    await self._phase("login", lambda: self._login(browser))
                    logged_in = self.login_result is not None and self.login_result.outcome == "success"
                if logged_in:
                    await self._phase("crawl", lambda: self._crawl(browser))
                else:
                    self.sink.error("protocol", "login did not succeed: the crawl of logged-in pages was skipped")
            finally:
                await self._close(browser)
            browser = await self._open(workdir / "audited", "reconnect")
            try:
                await self._phase("reconnect", lambda: self._visit_all(browser, self._revisit_urls()))
                if self.vendor.logout_url and self.vendor.login and logged_in:
                    await self._phase("logout", lambda: self._visit_all(browser, [self.vendor.logout_url]))
                await self._phase("respawn", lambda: self._respawn(browser))
            finally:
                await self._close(browser)
        finally:
            # Profiles hold live session state: never leave them behind (what matters is in the database).
            shutil.rmtree(workdir, ignore_errors=True)
        return self.login_result.outcome if self.login_result else "not configured"

    async def _phase(self, name: str, body) -> None:
        """Run one phase; what its body returns (a note) is kept with the phase."""
        self.sink.begin_phase(name)
        self.progress.phase(self.progress_key, name)
        outcome, message = "complete", None
        try:
            message = await body()
        except Exception as exc:
            outcome, message = "error", f"{type(exc).__name__}: {_first_line(exc)}"
            self.sink.error(f"phase.{name}", message)
        self.sink.end_phase(outcome, message)

    async def _control(self, profile_dir: Path) -> None:
        browser = await self._open(profile_dir, "control")
        try:
            urls = [self.vendor.start_url]
            if self.vendor.login:
                urls.append(self.vendor.login.url)
            await self._visit_all(browser, urls, inventory=False)
            await self._inventory(browser)
        finally:
            await self._close(browser)

    async def _login(self, browser: _Browser) -> None:
        login = self.vendor.login
        await self._visit(browser, login.url, depth=0)
        values = {"username": self.credentials.username, "password": self.credentials.password}
        if self.credentials.totp_secret:
            values["totp"] = totp(self.credentials.totp_secret)
        self.login_result = await perform_login(browser.page, login, values, self.settings.page_timeout_s)
        await self._settle(browser.page)
        await self._screenshot_and_record(browser, browser.page.url, depth=0, started=time.time(), status=None)
        if self.login_result.outcome != "success":
            self.sink.error("login", self.login_result.message, url=self.login_result.final_url)
        await self._inventory(browser)

    async def _crawl(self, browser: _Browser) -> None:
        start = [browser.page.url] if self._same_site(browser.page.url) and self.login_result else []
        if not start:
            start = [self.vendor.start_url]
        queue = deque((url, 0) for url in [*start, *self._absolute(self.vendor.pages)])
        seen: set[str] = set()
        while queue and self.pages_visited < self.vendor.max_pages:
            url, depth = queue.popleft()
            url = urldefrag(url).url
            if url in seen or not self._crawlable(url):
                continue
            seen.add(url)
            links = await self._visit(browser, url, depth)
            self.pages_visited += 1
            for link in links:
                if urldefrag(link).url in seen:
                    continue
                if ACCOUNT_LINK.search(urlsplit(link).path):
                    queue.appendleft((link, depth + 1))
                else:
                    queue.append((link, depth + 1))
        await self._inventory(browser)

    async def _respawn(self, browser: _Browser) -> None:
        await browser.context.clear_cookies()
        await self._visit_all(browser, self._revisit_urls())

    # browser handling -------------------------------------------------------------------------------
    async def _open(self, profile_dir: Path, session: str) -> _Browser:
        """Launch a browser session on a profile, recording its HAR and its Playwright trace."""
        har, trace = session_paths(self.sink.store, self.sink.run_id, self.vendor.id, self.sink.account, session)
        context = await launch_profile(self.playwright, self.settings, profile_dir, record_har_path=str(har),
                                       record_har_content="embed")
        try:
            await context.tracing.start(screenshots=True, snapshots=True, sources=False, title=f"{self.vendor.id} {session}")
        except Exception as exc:
            self.sink.error("trace", f"{type(exc).__name__}: {_first_line(exc)}")
        context.set_default_timeout(self.settings.page_timeout_s * 1000)
        collectors = default_collectors(self.state)
        for collector in collectors:
            await collector.run("attach", context)
        browser = _Browser(context, None, collectors, har, trace)
        context.on("page", lambda page: self.state.spawn(self._setup_page(browser, page), "page"))
        browser.page = context.pages[0] if context.pages else await context.new_page()
        await self._setup_page(browser, browser.page)
        return browser

    async def _setup_page(self, browser: _Browser, page) -> None:
        if id(page) in self._setup_pages:
            return
        self._setup_pages.add(id(page))
        page.on("dialog", lambda dialog: self.state.spawn(self._dismiss(dialog, page), "dialog"))
        for collector in browser.collectors:
            await collector.run("on_page", page)

    async def _dismiss(self, dialog, page) -> None:
        self.sink.error("dialog", f"the page opened a {dialog.type} dialog ({dialog.message[:200]!r}); dismissed", url=page.url)
        await dialog.dismiss()

    async def _close(self, browser: _Browser) -> None:
        await self.state.flush()
        try:
            await browser.context.tracing.stop(path=str(browser.trace))
        except Exception as exc:
            self.sink.error("trace", f"{type(exc).__name__}: {_first_line(exc)}")
        try:
            await browser.context.close()  # writes the HAR
        except Exception as exc:
            self.sink.error("browser.close", f"{type(exc).__name__}: {_first_line(exc)}")
        for artefact in (browser.har, browser.trace):
            try:
                redact_file(artefact, self.sink.store.redactor)
            except Exception as exc:  # unreadable: better no artefact than one holding a password
                artefact.unlink(missing_ok=True)
                self.sink.error("evidence", f"{artefact.name} removed, it could not be redacted: {exc}")

    async def _fresh_page(self, browser: _Browser) -> None:
        """After a failed navigation the page may refuse the next one: continue in a new tab."""
        old = browser.page
        browser.page = await browser.context.new_page()
        await self._setup_page(browser, browser.page)
        try:
            await old.close()
        except Exception:
            pass

    # visiting ---------------------------------------------------------------------------------------
    async def _visit_all(self, browser: _Browser, urls, inventory: bool = True) -> None:
        for url in urls:
            await self._visit(browser, url, depth=0)
        if inventory:
            await self._inventory(browser)

    async def _visit(self, browser: _Browser, url: str, depth: int) -> list[str]:
        started = time.time()
        timeout_ms = self.settings.page_timeout_s * 1000
        status, error = None, None
        try:
            response = await asyncio.wait_for(browser.page.goto(url, wait_until="load", timeout=timeout_ms),
                                              self.settings.page_timeout_s + 5)
            status = response.status if response else None
        except Exception as exc:
            error = f"{type(exc).__name__}: {_first_line(exc)}" if str(exc) else "the page did not finish loading in time"
            self.sink.error("visit", error, url=url)
        if error is None:
            await self._settle(browser.page)
            if self.sink.phase == "crawl":
                await probe_page(browser.page, self.sink, self.vendor, self.canaries)
        links = await self._screenshot_and_record(browser, url, depth, started, status, error)
        self.progress.page(self.progress_key, url)
        if error is not None:
            await self._fresh_page(browser)
        else:
            for collector in browser.collectors:
                await collector.run("after_visit", browser.page)
        return links

    async def _settle(self, page) -> None:
        try:
            await page.wait_for_load_state("networkidle", timeout=SETTLE_MS)
        except Exception:
            pass
        try:
            await asyncio.wait_for(page.evaluate("window.scrollTo(0, document.body ? document.body.scrollHeight : 0)"), 5)
            await page.wait_for_timeout(300)
        except Exception:
            pass

    async def _screenshot_and_record(self, browser: _Browser, url: str, depth: int, started: float,
                                     status: int | None, error: str | None = None) -> list[str]:
        page = browser.page
        title, links, shot, digest = None, [], None, None
        forms = ()
        try:
            title = await asyncio.wait_for(page.title(), 5)
            links = await asyncio.wait_for(page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"), 5)
            forms = page_forms(await asyncio.wait_for(page.content(), 5))
        except Exception:
            pass
        try:
            # A page that never finished loading gets a short try: it is often frozen.
            image = await page.screenshot(timeout=10_000 if error is None else 3_000)
            self._screenshot_count += 1
            self.screenshots_dir.mkdir(parents=True, exist_ok=True)
            path = self.screenshots_dir / f"{self._screenshot_count:03d}-{self.sink.phase}.png"
            path.write_bytes(image)
            shot, digest = str(path.relative_to(self.artefacts_dir)), hashlib.sha256(image).hexdigest()
        except Exception as exc:
            self.sink.error("screenshot", f"{type(exc).__name__}: {_first_line(exc)}", url=url)
        self.sink.add(PageObs(url=url, final_url=page.url if error is None else None, status=status, title=title,
                              depth=depth, started=started, finished=time.time(), screenshot=shot,
                              screenshot_sha256=digest, error=error, forms=forms))
        return [link for link in links if isinstance(link, str)]

    async def _inventory(self, browser: _Browser) -> None:
        await self.state.flush()
        for collector in browser.collectors:
            await collector.run("end_phase", browser.context, browser.page)
        await self.state.flush()

    # which URLs -------------------------------------------------------------------------------------
    def _absolute(self, pages) -> list[str]:
        return [urljoin(self.vendor.start_url, page) for page in pages]

    def _revisit_urls(self) -> list[str]:
        """Reconnecting as a student would: the start page, then the first page they work on."""
        urls = [self.vendor.start_url]
        urls += [u for u in self._absolute(self.vendor.pages[:1]) if u not in urls]
        return urls

    def _same_site(self, url: str) -> bool:
        host = urlsplit(url).hostname
        return bool(host) and registrable_domain(host) in self.site_domains

    def _crawlable(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not self._same_site(url):
            return False
        if self.vendor.logout_url and urldefrag(url).url == urldefrag(self.vendor.logout_url).url:
            return False
        return not LOGOUT_LINK.search(parts.path + "?" + parts.query) and not parts.path.lower().endswith(SKIPPED_EXTENSIONS)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:500] if lines else type(exc).__name__
