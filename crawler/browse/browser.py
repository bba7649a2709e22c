"""Find Chromium and launch it: persistent profiles, host rules, certificate trust, third-party cookies."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.async_api import BrowserContext, Playwright

from ..config import BrowserConfig
from .partitioning import partitioning_launch_options

CHROMIUM_ENV = "TRACKAUDIT_CHROMIUM"
SYSTEM_CHROMIUMS = (
    "/usr/bin/chromium",
    "/usr/lib/chromium/chromium",
    "/usr/bin/chromium-browser",
    "/snap/bin/chromium",
    "/usr/bin/google-chrome",
    "/usr/bin/google-chrome-stable",
)
# Chromium's cookie_controls_mode preference: 0 allows third-party cookies (a student's ordinary browser), 1 blocks.
ALLOW_THIRD_PARTY_COOKIES, BLOCK_THIRD_PARTY_COOKIES = 0, 1


class BrowserNotFound(Exception):
    pass


class SandboxRefused(Exception):
    """Chromium's sandbox could not start: the audit does not browse untrusted sites without it."""


def sandbox_enabled() -> bool:
    """Chromium's sandbox whenever trackaudit is not root (Playwright turns it off by default; as root
    Chromium refuses to start with it, so a dedicated non-root user is the safe way to run audits)."""
    return os.geteuid() != 0


def find_chromium(override: str | None = None) -> str:
    """The browser to drive: --chromium / [browser].executable_path, then $TRACKAUDIT_CHROMIUM,
    then a system Chromium (Debian's /usr/bin/chromium), then a Chromium installed by Playwright."""
    for candidate, origin in (
        (override, "the configured executable_path"),
        (os.environ.get(CHROMIUM_ENV), f"${CHROMIUM_ENV}"),
    ):
        if candidate:
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
            raise BrowserNotFound(f"{origin} {candidate!r} is not an executable file")
    for candidate in SYSTEM_CHROMIUMS:
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    playwright_own = _playwright_chromium()
    if playwright_own:
        return playwright_own
    raise BrowserNotFound(
        "no Chromium found: install Debian's (apt-get install -y chromium), "
        f"set {CHROMIUM_ENV}=/path/to/chromium, or run 'playwright install chromium'"
    )


def _playwright_chromium() -> str | None:
    base = Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or Path.home() / ".cache" / "ms-playwright")
    patterns = (
        "chromium-*/chrome-linux*/chrome",
        "chromium_headless_shell-*/chrome-*/chrome-headless-shell",
        "chromium-*/chrome-mac*/Chromium.app/Contents/MacOS/Chromium",
        "chromium-*/chrome-win*/chrome.exe",
    )
    for pattern in patterns:
        found = sorted(base.glob(pattern), reverse=True)
        if found:
            return str(found[0])
    return None


@dataclass(frozen=True)
class LaunchSettings:
    """Everything a launch needs, resolved from the config and the command line."""

    executable_path: str
    host_resolver_rules: str | None = None
    ignore_https_errors: bool = False
    dns_resolver: str | None = None  # HOST:PORT that CNAME chains are asked (crawler.jobs.cname); None: the system's
    trusted_spki: tuple[str, ...] = ()
    headless: bool = True
    block_third_party_cookies: bool = False
    page_timeout_s: float = 20.0
    vendor_timeout_s: float = 600.0
    evidence_part_visits: int = 50  # a session's HAR and trace are written and restarted every this many visits
    tabs: int = 1  # pages visited at a time: the crawl's waves and the revisits

    @classmethod
    def from_config(
        cls,
        browser: BrowserConfig,
        executable_override: str | None = None,
        host_resolver_rules: str | None = None,
        ignore_https_errors: bool | None = None,
        dns_resolver: str | None = None,
    ) -> LaunchSettings:
        return cls(
            executable_path=find_chromium(executable_override or browser.executable_path),
            host_resolver_rules=host_resolver_rules or browser.host_resolver_rules,
            dns_resolver=dns_resolver or browser.dns_resolver,
            ignore_https_errors=browser.ignore_https_errors if ignore_https_errors is None else ignore_https_errors,
            trusted_spki=browser.trusted_spki,
            headless=browser.headless,
            block_third_party_cookies=browser.block_third_party_cookies,
            page_timeout_s=browser.page_timeout_s,
            vendor_timeout_s=browser.vendor_timeout_s,
            evidence_part_visits=browser.evidence_part_visits,
            tabs=browser.tabs,
        )

    def chromium_args(self) -> list[str]:
        # --disable-features only through partitioning_launch_options: a second one replaces Playwright's list.
        args = [
            "--disable-gpu",
            "--disable-quic",
            "--no-default-browser-check",
            "--password-store=basic",
            "--deny-permission-prompts",
        ]
        if self.host_resolver_rules:
            args.append(f"--host-resolver-rules={self.host_resolver_rules}")
        if self.trusted_spki:
            args.append(f"--ignore-certificate-errors-spki-list={','.join(self.trusted_spki)}")
        if self.ignore_https_errors:
            # Playwright's ignore_https_errors does not reach service workers; this flag does.
            args.append("--ignore-certificate-errors")
        return args


def seed_profile(profile_dir: Path, block_third_party_cookies: bool) -> None:
    """Write the preferences Chromium reads at a persistent launch (only into a new profile)."""
    prefs_path = profile_dir / "Default" / "Preferences"
    if prefs_path.exists():
        return
    prefs_path.parent.mkdir(parents=True, exist_ok=True)
    mode = BLOCK_THIRD_PARTY_COOKIES if block_third_party_cookies else ALLOW_THIRD_PARTY_COOKIES
    prefs = {
        # No password saving and no leak check: Chromium would otherwise send a hash of the test
        # account's credentials to Google's leak-check service after the login form is submitted.
        "profile": {
            "cookie_controls_mode": mode,
            "password_manager_enabled": False,
            "password_manager_leak_detection": False,
        },
        "credentials_enable_service": False,
        "safebrowsing": {"enabled": False},
        "autofill": {"profile_enabled": False, "credit_card_enabled": False},
        "translate": {"enabled": False},
    }
    prefs_path.write_text(json.dumps(prefs))


async def launch_profile(
    playwright: Playwright, settings: LaunchSettings, profile_dir: Path, **context_options: Any
) -> BrowserContext:
    """A persistent context on an on-disk profile: needed so the reconnect phase can relaunch it."""
    seed_profile(profile_dir, settings.block_third_party_cookies)
    sandbox = sandbox_enabled()
    try:
        return await _launch(playwright, settings, profile_dir, sandbox, **context_options)
    except Exception as exc:
        if sandbox and "sandbox" in str(exc).lower():
            raise SandboxRefused(
                "the kernel refused Chromium's sandbox, so no untrusted site was visited. Fix: allow unprivileged "
                "user namespaces (sysctl kernel.unprivileged_userns_clone=1, or on Ubuntu "
                "kernel.apparmor_restrict_unprivileged_userns=0), or install Chromium's setuid chrome-sandbox"
            ) from None
        raise


async def _launch(
    playwright: Playwright, settings: LaunchSettings, profile_dir: Path, sandbox: bool, **context_options: Any
) -> BrowserContext:
    ignored, partitioned = partitioning_launch_options()
    return await playwright.chromium.launch_persistent_context(
        str(profile_dir),
        executable_path=settings.executable_path,
        chromium_sandbox=sandbox,
        headless=settings.headless,
        args=settings.chromium_args() + partitioned,
        ignore_default_args=ignored,
        ignore_https_errors=settings.ignore_https_errors,
        viewport={"width": 1280, "height": 900},
        locale="en-US",
        timezone_id="America/Chicago",
        service_workers="allow",
        **context_options,
    )
