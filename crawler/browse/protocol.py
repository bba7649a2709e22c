"""The audit protocol for one vendor × account: control, login, crawl, reconnect, retention, logout, respawn.

Each phase stamps what it observes; a phase that fails is recorded and the next one still runs.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import os
import re
import shutil
import tempfile
import time
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

from playwright.async_api import BrowserContext, Dialog, Page, Playwright, Request

from ..analyze.party import registrable_domain, vendor_domains
from ..config import Account, Vendor
from ..coverage import TIMEOUT, Coverage, Visit, explain
from ..observations import PageObs, PhaseResult
from ..progress import Progress
from ..store.seal import inside_results, redact_file, session_paths
from ..store.writer import AuditSink
from .browser import LaunchSettings, launch_profile
from .collectors import CaptureState, Collector, default_collectors
from .forms import page_forms
from .login import LoginResult, perform_login, totp, wait_for_success
from .probes import Canaries, probe_page, record_canaries
from .reader import PageReader
from .retention import SUCCESS_TIMEOUT_S, eliminate

LOGOUT_LINK = re.compile(r"log[-_]?out|sign[-_]?out|log[-_]?off", re.IGNORECASE)
# Where a service collects a student's data first: visited before other links.
ACCOUNT_LINK = re.compile(r"sign[-_]?up|register|join|log[-_]?in|sign[-_]?in|account", re.IGNORECASE)
SKIPPED_EXTENSIONS = (".pdf", ".zip", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".mp4", ".mp3", ".dmg", ".exe")
SETTLE_CAP_S = 2.5  # how long a loaded page may keep fetching before we move on
SCROLL_CAP_S = 1.0  # how long what a scroll to the bottom starts may take
QUIET_S = 0.5  # no request started or ended for this long, none in flight: the page has settled (as networkidle)


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str
    totp_secret: str | None = None


@dataclass(frozen=True)
class _Visited:
    visit: Visit
    final_url: str | None  # where the tab ended up; None when the visit failed
    links: list[str]


@dataclass
class _Browser:
    context: BrowserContext
    collectors: list[Collector]
    session: str
    part: int = 0  # the part of the session's visits its HAR and trace are now recording
    part_visits: int = 0
    har: Path = field(init=False)  # the part's HAR and trace: set when the part starts
    trace: Path = field(init=False)
    activity: NetworkActivity = field(default_factory=lambda: NetworkActivity())
    # The tabs visits are made in: the first is the one the login and the crawl use; revisits use several.
    tabs: list[Page] = field(default_factory=list)

    @property
    def page(self) -> Page:
        return self.tabs[0]


class VendorAudit:
    """Runs the protocol for one vendor and one account (or anonymously when there is none)."""

    def __init__(
        self,
        playwright: Playwright,
        settings: LaunchSettings,
        vendor: Vendor,
        account: Account | None,
        credentials: Credentials | None,
        sink: AuditSink,
        artefacts_dir: Path,
        progress: Progress | None = None,
    ):
        self.playwright = playwright
        self.settings = settings
        self.vendor = vendor
        self.account = account
        self.credentials = credentials
        self.sink = sink
        self.state = CaptureState(sink)
        self.screenshots_dir = inside_results(
            sink.store, sink.store.run_folder("screenshots", sink.run_id) / vendor.id / sink.account
        )
        self.artefacts_dir = artefacts_dir
        self.progress = progress or Progress()
        self.progress_key = f"{vendor.id} ({sink.account})"
        self.site_domains = vendor_domains([vendor.start_url, *vendor.first_party])
        self.login_result: LoginResult | None = None
        self.coverage = Coverage(vendor.start_url, vendor.login.url if vendor.login and credentials else None)
        self._last_screenshot: str | None = None
        self.pages_visited = 0
        self._screenshot_count = 0
        self._setup_pages: set[int] = set()
        self._readers: weakref.WeakKeyDictionary[Page, PageReader] = weakref.WeakKeyDictionary()
        self._crawled: list[tuple[str, str | None]] = []  # (URL, final URL) of each crawled page
        self.canaries = Canaries.new()

    # the protocol -----------------------------------------------------------------------------------
    async def run(self) -> str:
        """Control, login, crawl; then close the browser and reconnect as a student would the next day
        (without logging out: what is re-sent then is what IV.B is about), log out, and respawn."""
        record_canaries(self.sink, self.canaries)
        workdir = Path(tempfile.mkdtemp(prefix=f"trackaudit-{os.getpid()}-profile-"))
        # The control profile is a separate browser: its visits run while the audited profile logs in and crawls.
        control = self._twin_for_control()
        control_done = asyncio.ensure_future(control._phase("control", lambda: control._control(workdir / "control")))
        try:
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
            await control_done
            browser = await self._open(workdir / "audited", "reconnect")
            # The throwaway profile for the retention relaunches starts while the reconnect runs.
            trial_profile = None
            if self.vendor.login and logged_in and self.login_result:
                trial_profile = asyncio.ensure_future(
                    launch_profile(self.playwright, self.settings, workdir / "retention")
                )
            try:
                await self._phase("reconnect", lambda: self._visit_all(browser, self._revisit_urls()))
                if trial_profile:
                    saved = await browser.context.cookies()
                    await self._phase("retention", lambda: self._prove_retention(saved, trial_profile))
                logout_url = self.vendor.logout_url
                if logout_url and self.vendor.login and logged_in:
                    await self._phase("logout", lambda: self._visit_all(browser, [logout_url]))
                await self._phase("respawn", lambda: self._respawn(browser))
            finally:
                await self._close(browser)
                if trial_profile:
                    await _close_launched(trial_profile)
        finally:
            if not control_done.done():
                control_done.cancel()
                await asyncio.gather(control_done, return_exceptions=True)
            # Profiles hold live session state: never leave them behind (what matters is in the database).
            shutil.rmtree(workdir, ignore_errors=True)
        return self.login_result.outcome if self.login_result else "not configured"

    def _twin_for_control(self) -> VendorAudit:
        """This audit with a sink and capture state of its own, so what the control browser records is stamped
        control while this audit's phases go on at the same time."""
        twin = copy.copy(self)
        twin.sink = replace(self.sink, phase="control", _phase_row=None)
        twin.state = CaptureState(twin.sink, unkept=self.state.unkept)
        twin._setup_pages = set()
        return twin

    async def _phase(self, name: str, body: Callable[[], Awaitable[PhaseResult | str | None]]) -> None:
        """Run one phase; what its body returns (a note, or a PhaseResult) is kept with the phase."""
        self.sink.begin_phase(name)
        self.progress.phase(self.progress_key, name)
        outcome, message, result = "complete", None, None
        try:
            returned = await body()
            if isinstance(returned, PhaseResult):
                result, message = returned, returned.note
            else:
                message = returned
        except Exception as exc:
            outcome, message = "error", f"{type(exc).__name__}: {_first_line(exc)}"
            self.sink.error(f"phase.{name}", message)
        self.sink.end_phase(outcome, message, result)
        self.coverage.phase_done(name, outcome, message)

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
        login, credentials = self.vendor.login, self.credentials
        assert login is not None and credentials is not None  # only a vendor with a login and an account logs in
        visit = (await self._visit(browser, login.url, depth=0)).visit
        if visit.failure:
            # No form to fill: say why, rather than time out on every step.
            cause = (
                f"{login.url} answered {visit.status}"
                if visit.failure.startswith("HTTP")
                else explain(visit.failure, login.url, visit.error)
            )
            self.login_result = LoginResult("failed", f"login failed: {cause}", login.url)
        else:
            values = {"username": credentials.username, "password": credentials.password}
            if credentials.totp_secret:
                values["totp"] = totp(credentials.totp_secret)
            self.login_result = await perform_login(
                browser.page, login, values, self.settings.page_timeout_s, page_status=visit.status
            )
            await self._settle(browser)
            self._last_screenshot = None
            await self._screenshot_and_record(browser, browser.page.url, depth=0, started=time.time(), status=None)
            if self.login_result.outcome != "success" and self._last_screenshot:
                self.login_result = LoginResult(
                    self.login_result.outcome,
                    f"{self.login_result.message}; screenshot: {self._last_screenshot}",
                    self.login_result.final_url,
                )
        if self.login_result.outcome != "success":
            self.sink.error("login", self.login_result.message, url=self.login_result.final_url)
        self.coverage.login_outcome, self.coverage.login_message = self.login_result.outcome, self.login_result.message
        await self._inventory(browser)

    async def _crawl(self, browser: _Browser) -> None:
        start = [browser.page.url] if self._same_site(browser.page.url) and self.login_result else []
        if not start:
            start = [self.vendor.start_url]
        queue = deque((url, 0) for url in [*start, *self._absolute(self.vendor.pages)])
        seen: set[str] = set()
        try:
            # Breadth-first in waves: the next few pages of the queue at once, each in a tab; what they link to
            # is queued in the order of the queue, as one page at a time would.
            while queue and self.pages_visited < self.vendor.max_pages:
                room = await self._next_part_if_due(browser)
                width = min(room, self.settings.tabs, self.vendor.max_pages - self.pages_visited)
                wave: list[tuple[str, int]] = []
                while queue and len(wave) < width:
                    url, depth = queue.popleft()
                    url = urldefrag(url).url
                    if url not in seen and self._crawlable(url):
                        seen.add(url)
                        wave.append((url, depth))
                for (url, depth), visited in zip(wave, await self._visit_wave(browser, wave), strict=True):
                    self._crawled.append((url, visited.final_url))
                    self.pages_visited += 1
                    for link in visited.links:
                        if urldefrag(link).url in seen:
                            continue
                        if ACCOUNT_LINK.search(urlsplit(link).path):
                            queue.appendleft((link, depth + 1))
                        else:
                            queue.append((link, depth + 1))
        finally:
            await self._close_extra_tabs(browser)
        await self._inventory(browser)

    async def _prove_retention(self, saved: Sequence[Any], trial_profile: asyncio.Future) -> PhaseResult:
        """Which saved cookies keep the login: relaunches in a throwaway profile (the audited one is untouched),
        each from the cookies saved after the reconnect minus those left out, checked on the page the login led
        to. Nothing these relaunches load is recorded as the audit's traffic."""
        login = self.vendor.login
        assert login is not None and self.login_result is not None  # the phase runs after a successful login
        check_url = self.login_result.final_url or self.vendor.start_url
        context = await trial_profile

        async def logged_in(cookies: list[dict]) -> list[dict] | None:
            await context.clear_cookies()
            if cookies:
                await context.add_cookies(cookies)
            page = await context.new_page()
            try:
                await page.goto(check_url, wait_until="load", timeout=self.settings.page_timeout_s * 1000)
                if _same_page(page.url, login.url) and not _same_page(check_url, login.url):
                    return None  # sent to the login page: no need to wait for the sign of being logged in
                if not await wait_for_success(page, login, SUCCESS_TIMEOUT_S * 1000):
                    return None
                return await context.cookies()
            finally:
                await page.close()

        elimination = await eliminate(saved, self.site_domains, logged_in)
        for tested in elimination.tested:
            self.sink.add(tested)
        return elimination.result

    async def _respawn(self, browser: _Browser) -> None:
        await browser.context.clear_cookies()
        await self._visit_all(browser, self._revisit_urls())

    # browser handling -------------------------------------------------------------------------------
    async def _open(self, profile_dir: Path, session: str) -> _Browser:
        """Launch a browser session on a profile, recording its HAR and its Playwright trace."""
        context = await launch_profile(self.playwright, self.settings, profile_dir)
        browser = _Browser(context, [], session)
        await self._start_evidence(browser)
        context.set_default_timeout(self.settings.page_timeout_s * 1000)
        browser.collectors = default_collectors(self.state)
        for collector in browser.collectors:
            await collector.run("attach", context)
        browser.activity.attach(context)
        context.on("page", lambda page: self.state.spawn(self._new_page(browser, page), "page"))
        browser.tabs = [context.pages[0] if context.pages else await context.new_page()]
        await self._setup_page(browser, browser.page)
        return browser

    async def _setup_page(self, browser: _Browser, page: Page) -> None:
        if id(page) in self._setup_pages:
            return
        self._setup_pages.add(id(page))
        page.on("dialog", lambda dialog: self.state.spawn(self._dismiss(dialog, page), "dialog"))
        for collector in browser.collectors:
            if page.is_closed():
                return
            await collector.run("on_page", page)

    async def _new_page(self, browser: _Browser, page: Page) -> None:
        """Every page of the context is instrumented; a popup the site opened is watched until it has loaded
        and its requests are recorded, then closed (a student would close it too)."""
        await self._setup_page(browser, page)
        try:
            opener = await page.opener()
        except Exception:
            opener = None
        if opener is None or page.is_closed():
            return
        try:
            await page.wait_for_load_state("load", timeout=self.settings.page_timeout_s * 1000)
        except Exception:
            pass
        if not page.is_closed():
            await self._settle(browser, page)
            for collector in browser.collectors:
                await collector.run("after_visit", page)
        await self.state.flush()
        if not page.is_closed():
            try:
                await page.close()
            except Exception:
                pass

    async def _dismiss(self, dialog: Dialog, page: Page) -> None:
        """Dismiss a dialog, but leave a page that asks whether to (beforeunload): staying would abort the tab's
        next visit."""
        leave = dialog.type == "beforeunload"
        self.sink.error(
            "dialog",
            f"the page opened a {dialog.type} dialog ({dialog.message[:200]!r}); "
            + ("left the page" if leave else "dismissed"),
            url=page.url,
        )
        await (dialog.accept() if leave else dialog.dismiss())

    async def _close(self, browser: _Browser) -> None:
        await self.state.flush()
        await self._end_evidence(browser)
        try:
            await browser.context.close()
        except Exception as exc:
            self.sink.error("browser.close", f"{type(exc).__name__}: {_first_line(exc)}")

    async def _start_evidence(self, browser: _Browser) -> None:
        """Start the HAR (bodies embedded) and the trace (DOM snapshots) of the session's next part. The trace has
        no screencast: its frames were 99 % of a trace's bytes (170 KB a visit on StoryShelf), and each visit's
        screenshot is kept and sealed beside it."""
        browser.part += 1
        browser.part_visits = 0
        browser.har, browser.trace = session_paths(
            self.sink.store, self.sink.run_id, self.vendor.id, self.sink.account, browser.session, browser.part
        )
        tracing = browser.context.tracing
        try:
            await tracing.start_har(browser.har, content="embed")
        except Exception as exc:
            self.sink.error("har", f"{type(exc).__name__}: {_first_line(exc)}")
        title = f"{self.vendor.id} {browser.session}" + (f" part {browser.part}" if browser.part > 1 else "")
        try:
            await tracing.start(screenshots=False, snapshots=True, sources=False, title=title)
        except Exception as exc:
            self.sink.error("trace", f"{type(exc).__name__}: {_first_line(exc)}")

    async def _end_evidence(self, browser: _Browser) -> None:
        """Write the part's trace and HAR (Playwright then lets go of what it held for them) and redact both."""
        tracing = browser.context.tracing
        try:
            await tracing.stop(path=str(browser.trace))
        except Exception as exc:
            self.sink.error("trace", f"{type(exc).__name__}: {_first_line(exc)}")
        try:
            await tracing.stop_har()
        except Exception as exc:
            self.sink.error("har", f"{type(exc).__name__}: {_first_line(exc)}")
        for artefact in (browser.har, browser.trace):
            try:
                redact_file(artefact, self.sink.store.redactor)
            except Exception as exc:  # unreadable: better no artefact than one holding a password
                artefact.unlink(missing_ok=True)
                self.sink.error("evidence", f"{artefact.name} removed, it could not be redacted: {exc}")

    async def _collect_garbage(self, browser: _Browser) -> None:
        """A full garbage collection in the tab's renderer: what its pages left behind is freed now rather than
        when the heap reaches its limit. Nothing a page can observe changes (no cache or storage is touched)."""
        try:
            cdp = await browser.context.new_cdp_session(browser.page)
            try:
                await cdp.send("HeapProfiler.collectGarbage")
            finally:
                await cdp.detach()
        except Exception as exc:
            self.sink.error("browser.gc", f"{type(exc).__name__}: {_first_line(exc)}")

    async def _fresh_page(self, browser: _Browser, tab: int = 0) -> None:
        """After a failed navigation the page may refuse the next one: continue in a new tab."""
        old = browser.tabs[tab]
        browser.tabs[tab] = await browser.context.new_page()
        await self._setup_page(browser, browser.tabs[tab])
        try:
            await old.close()
        except Exception:
            pass

    async def _next_part_if_due(self, browser: _Browser) -> int:
        """Write the session's HAR and trace and start the next part when this one has its visits: what
        Playwright's driver holds until a HAR or a trace is written, and each file, stay bounded however long
        the crawl. Returns how many visits the part still takes."""
        if browser.part_visits >= self.settings.evidence_part_visits:
            await self.state.flush()
            await self._end_evidence(browser)
            await self._collect_garbage(browser)
            await self._start_evidence(browser)
        return self.settings.evidence_part_visits - browser.part_visits

    async def _close_extra_tabs(self, browser: _Browser) -> None:
        if len(browser.tabs) == 1:
            return
        await self.state.flush()
        extra, browser.tabs = browser.tabs[1:], browser.tabs[:1]
        for page in extra:
            try:
                await page.close()
            except Exception:
                pass

    # visiting ---------------------------------------------------------------------------------------
    async def _visit_all(self, browser: _Browser, urls: Iterable[str], inventory: bool = True) -> None:
        """Visit pages already known, a few at a time (``tabs``). The last of them is visited in the session's own
        tab, which stays open: it shows the last page, as one tab visiting them in turn would."""
        pending = list(urls)
        try:
            while pending:
                width = min(await self._next_part_if_due(browser), self.settings.tabs, len(pending))
                wave, pending = pending[:width], pending[width:]
                await self._visit_wave(browser, [(url, 0) for url in reversed(wave)])
        finally:
            await self._close_extra_tabs(browser)
        if inventory:
            await self._inventory(browser)

    async def _visit_wave(self, browser: _Browser, wave: list[tuple[str, int]]) -> list[_Visited]:
        """Visit pages (URL, depth) at the same time, each in a tab of its own, as a student with a few tabs
        open would: each request is stamped with the page of the tab that made it. Called between parts of the
        evidence, so that no part ends while a visit is under way."""
        while len(browser.tabs) < len(wave):
            browser.tabs.append(await browser.context.new_page())
            await self._setup_page(browser, browser.tabs[-1])
        outcomes = await asyncio.gather(
            *(self._visit(browser, url, depth, tab) for tab, (url, depth) in enumerate(wave)), return_exceptions=True
        )
        visited: list[_Visited] = []
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
            visited.append(outcome)
        if len(wave) > 1:
            # With several tabs loading at once a page now and then never finishes loading, for a cause not
            # found (README, "Why tabs = 1 is the default"): such a page is visited again with no other tab loading.
            for tab, ((url, depth), done) in enumerate(zip(wave, visited, strict=True)):
                if done.visit.failure == TIMEOUT:
                    visited[tab] = await self._visit(browser, url, depth, tab)
                    self.sink.error(
                        "visit.retry",
                        f"the page did not finish loading while {len(wave) - 1} other tab(s) loaded; visited again "
                        f"alone: {'it loaded' if not visited[tab].visit.failure else visited[tab].visit.failure}",
                        url=url,
                    )
        return visited

    async def _visit(self, browser: _Browser, url: str, depth: int, tab: int = 0) -> _Visited:
        page = browser.tabs[tab]
        started = time.time()
        timeout_ms = self.settings.page_timeout_s * 1000
        status, error = None, None
        try:
            response = await asyncio.wait_for(
                page.goto(url, wait_until="load", timeout=timeout_ms), self.settings.page_timeout_s + 5
            )
            status = response.status if response else None
        except Exception as exc:
            error = (
                f"{type(exc).__name__}: {_first_line(exc)}" if str(exc) else "the page did not finish loading in time"
            )
            self.sink.error("visit", error, url=url)
        visible_text = None
        if error is None:
            await self._settle(browser, page)
            if self.sink.phase == "crawl":
                visible_text = await probe_page(page, self.state, self.vendor, self.canaries)
        visit = self.coverage.visited(self.sink.phase, url, status, error)
        links = await self._screenshot_and_record(
            browser, url, depth, started, status, error, visit.failure, visible_text, page
        )
        final_url = page.url if not visit.failure else None
        self.progress.page(self.progress_key, url)
        if error is not None:
            await self._fresh_page(browser, tab)
        else:
            for collector in browser.collectors:
                await collector.run("after_visit", page)
        browser.part_visits += 1
        return _Visited(visit, final_url, links)

    async def _settle(self, browser: _Browser, page: Page | None = None) -> None:
        """Wait for the page's requests to end (events, capped), scroll to the bottom, and wait for what that
        started: no fixed sleep, so a quiet page costs one or two short quiet windows. ``page``: a popup, else
        the current tab."""
        await browser.activity.quiet(QUIET_S, SETTLE_CAP_S)
        try:
            scrolled = await asyncio.wait_for(self._reader(page or browser.page).scroll_to_bottom(), 5)
        except Exception:
            return
        if scrolled:  # a page that fits the window gets no scroll event: nothing more to wait for
            await browser.activity.quiet(QUIET_S, SCROLL_CAP_S)

    def _reader(self, page: Page) -> PageReader:
        """The page's reader: what a visit reads of a page is read without a call on the page (reader.py)."""
        if page not in self._readers:
            self._readers[page] = PageReader(page)
        return self._readers[page]

    async def _screenshot_and_record(
        self,
        browser: _Browser,
        url: str,
        depth: int,
        started: float,
        status: int | None,
        error: str | None = None,
        failure_class: str | None = None,
        visible_text: str | None = None,
        page: Page | None = None,
    ) -> list[str]:
        page = page or browser.page
        title, shot, digest = None, None, None
        links: list[object] = []  # what the page's read returned: strings are kept
        forms: tuple[dict[str, Any], ...] = ()
        try:
            title, links, html = await asyncio.wait_for(self._reader(page).read_page(), 5)
            forms = page_forms(html or "")
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
            self._last_screenshot = shot
        except Exception as exc:
            self.sink.error("screenshot", f"{type(exc).__name__}: {_first_line(exc)}", url=url)
        self.sink.add(
            PageObs(
                url=url,
                final_url=page.url if error is None else None,
                status=status,
                title=title,
                depth=depth,
                started=started,
                finished=time.time(),
                screenshot=shot,
                screenshot_sha256=digest,
                error=error,
                forms=forms,
                failure_class=failure_class,
                visible_text=visible_text,
            )
        )
        return [link for link in links if isinstance(link, str)]

    async def _inventory(self, browser: _Browser) -> None:
        await self.state.flush()
        for collector in browser.collectors:
            await collector.run("end_phase", browser.context, browser.page)
        await self.state.flush()

    # which URLs -------------------------------------------------------------------------------------
    def _absolute(self, pages: Iterable[str]) -> list[str]:
        return [urljoin(self.vendor.start_url, page) for page in pages]

    def _revisit_urls(self) -> list[str]:
        """Reconnecting as a student would: the start page, the first page they work on, then every crawled
        page on which a third party was contacted or a script wrote a cookie (what may be re-sent), up to
        max_pages."""
        urls = [self.vendor.start_url]
        urls += [u for u in self._absolute(self.vendor.pages[:1]) if u not in urls]
        for url, final_url in self._crawled:
            if len(urls) >= max(2, self.vendor.max_pages):
                break
            if url not in urls and self._tracked_on(final_url or url):
                urls.append(url)
        return urls

    def _tracked_on(self, page_url: str) -> bool:
        hosts = self.state.hosts_by_page.get(page_url, ())
        return page_url in self.state.cookie_writing_pages or any(
            host and registrable_domain(host) not in self.site_domains for host in hosts
        )

    def _same_site(self, url: str) -> bool:
        host = urlsplit(url).hostname
        return bool(host) and registrable_domain(host) in self.site_domains

    def _crawlable(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not self._same_site(url):
            return False
        if self.vendor.logout_url and urldefrag(url).url == urldefrag(self.vendor.logout_url).url:
            return False
        return not LOGOUT_LINK.search(parts.path + "?" + parts.query) and not parts.path.lower().endswith(
            SKIPPED_EXTENSIONS
        )


class NetworkActivity:
    """Requests in flight in a browser context, from its events: what settling waits on instead of a sleep."""

    STALE_S = SETTLE_CAP_S  # a request with no end event after this long (a long poll) no longer holds a page

    def __init__(self) -> None:
        self.in_flight: dict[Request, float] = {}
        self.last_event = time.monotonic()

    def attach(self, context: BrowserContext) -> None:
        context.on("request", self._started)
        context.on("requestfinished", self._ended)
        context.on("requestfailed", self._ended)

    def _started(self, request: Request) -> None:
        self.last_event = self.in_flight[request] = time.monotonic()

    def _ended(self, request: Request) -> None:
        self.in_flight.pop(request, None)
        self.last_event = time.monotonic()

    async def quiet(self, quiet_s: float, cap_s: float) -> bool:
        """Until no request is in flight and none started or ended for ``quiet_s`` (at most ``cap_s``)."""
        began = time.monotonic()
        while True:
            now = time.monotonic()
            for request in [r for r, started in self.in_flight.items() if started <= now - self.STALE_S]:
                del self.in_flight[request]
            if not self.in_flight and now - max(began, self.last_event) >= quiet_s:
                return True
            if now - began >= cap_s:
                return False
            await asyncio.sleep(0.05)


async def _close_launched(launch: asyncio.Future) -> None:
    """Close a browser whose launch may have failed or still be under way."""
    try:
        context = await launch
    except Exception:
        return
    try:
        await context.close()
    except Exception:
        pass


def _same_page(url: str, other: str) -> bool:
    a, b = urlsplit(url), urlsplit(other)
    return (a.hostname, a.path.rstrip("/")) == (b.hostname, b.path.rstrip("/"))


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:500] if lines else type(exc).__name__
