"""Log in with the declared steps; a login that fails is an outcome to record, not a crash."""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass

import pyotp
from playwright.async_api import Page

from ..config import LoginConfig, LoginStep

ERROR_TEXT_SELECTORS = ".error, .alert, [role=alert], .flash, .invalid-feedback"
ERROR_WORDS = re.compile(
    r"invalid|incorrect|wrong|not recogni[sz]ed|does not match|try again|locked|disabled", re.IGNORECASE
)
REFUSAL_SHOWN_S = 1.0  # a refusal shown unchanged this long, with no sign of success, is the page's answer
# The text of the error elements a person sees (a hidden template of the message does not count).
SHOWN_ERROR_JS = """(selectors) => [...document.querySelectorAll(selectors)]
  .filter((e) => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden")
  .map((e) => e.innerText.trim()).filter(Boolean).join(" ")"""


@dataclass(frozen=True)
class LoginResult:
    outcome: str  # "success" | "failed" | "error"
    message: str
    final_url: str | None


def totp(secret_base32: str, at: float | None = None, digits: int = 6, step: int = 30) -> str:
    """RFC 6238 time-based one-time password (what authenticator apps show); spaces and lower case accepted."""
    cleaned = secret_base32.replace(" ", "").upper()
    return pyotp.TOTP(cleaned, digits=digits, interval=step).at(int(time.time() if at is None else at))


async def perform_login(
    page: Page, login: LoginConfig, values: dict[str, str], timeout_s: float, page_status: int | None = None
) -> LoginResult:
    """Run the steps on a page already at ``login.url`` (answered ``page_status``); ``values`` fills {username},
    {password}, {totp}. A failure says which step, why, and what the page showed."""
    timeout_ms = timeout_s * 1000
    shown_before = await _shown_error_text(page)  # a banner the page always shows is not the answer to this login
    for number, step in enumerate(login.steps, 1):
        try:
            if step.action == "fill":
                await page.fill(step.selector, _value(step, values), timeout=timeout_ms)
            elif step.action == "click":
                await page.click(step.selector, timeout=timeout_ms)
            elif step.action == "press":
                await page.press(step.selector, _value(step, values), timeout=timeout_ms)
            elif step.action == "select":
                await page.select_option(step.selector, _value(step, values), timeout=timeout_ms)
            elif step.action == "check":
                await page.check(step.selector, timeout=timeout_ms)
            elif step.action == "goto":
                await page.goto(step.selector, timeout=timeout_ms)
            elif step.action == "wait":
                if _is_number(step.selector):
                    await asyncio.sleep(float(step.selector))
                else:
                    await page.wait_for_selector(step.selector, timeout=timeout_ms)
        except Exception as exc:
            return LoginResult("error", await _step_failure(page, number, step, exc, page_status), page.url)
    return await _check_success(page, login, timeout_ms, shown_before)


async def _step_failure(page: Page, number: int, step: LoginStep, exc: Exception, page_status: int | None) -> str:
    where = "the login page" + (f" (HTTP {page_status})" if page_status else "")
    if step.action not in ("goto", "wait") or (step.action == "wait" and not _is_number(step.selector)):
        try:
            matches = await page.locator(step.selector).count()
        except Exception:
            matches = None
        if matches == 0:
            return f"login failed at step {number}: no element matches `{step.selector}` on {where}"
    return f"login failed at step {number} ({step.action} `{step.selector}`) on {where}: {_first_line(exc)}"


async def wait_for_success(page: Page, login: LoginConfig, timeout_ms: float) -> bool:
    """Whether the page shows the declared sign of being logged in within the timeout."""
    try:
        url_part = login.success_url_contains
        if url_part:
            await page.wait_for_url(lambda url: url_part in url, timeout=timeout_ms)
        if login.success_selector:
            await page.wait_for_selector(login.success_selector, timeout=timeout_ms)
        return True
    except Exception:
        return False


async def _check_success(page: Page, login: LoginConfig, timeout_ms: float, shown_before: str) -> LoginResult:
    if await _succeeds_unless_refused(page, login, timeout_ms, shown_before):
        return LoginResult("success", "logged in", page.url)
    shown = await _visible_error_text(page)
    if shown:
        return LoginResult("failed", f"login failed: the page said {shown!r}", page.url)
    expected = (
        login.success_url_contains
        and f"URL containing {login.success_url_contains!r}"
        or f"selector {login.success_selector!r}"
    )
    return LoginResult(
        "failed",
        f"login failed: the success check ({expected}) did not pass at {page.url}; "
        "check the account's credentials and [vendors.login].success",
        page.url,
    )


async def _succeeds_unless_refused(page: Page, login: LoginConfig, timeout_ms: float, shown_before: str) -> bool:
    """Whether the page shows the sign of being logged in within the timeout; False as soon as it has shown a
    refusal instead (other than what it showed before the login's steps), so a rejected login (a wrong password,
    an account a terminated vendor deleted) is known in a second or two rather than at the end of the timeout."""
    success = asyncio.ensure_future(wait_for_success(page, login, timeout_ms))
    password_field = next((step.selector for step in login.steps if "{password}" in (step.value or "")), None)
    if password_field is None:  # no sign-in form to come back to: only the success check can tell
        return await success
    refusal = asyncio.ensure_future(_shown_refusal(page, shown_before, password_field))
    try:
        await asyncio.wait({success, refusal}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (success, refusal):
            if not task.done():
                task.cancel()
        await asyncio.gather(success, refusal, return_exceptions=True)
    return success.done() and not success.cancelled() and success.result()


async def _shown_refusal(page: Page, shown_before: str, password_field: str) -> str:
    """Returns once the sign-in form is back (its password field visible) under error elements that read like a
    refused login, both unchanged for REFUSAL_SHOWN_S: a page still working on the login shows no form to retry."""
    shown, since = "", time.monotonic()
    while True:
        await asyncio.sleep(0.25)
        text = await _shown_error_text(page)
        if text == shown_before or not ERROR_WORDS.search(text) or not await _visible(page, password_field):
            text = ""
        now = time.monotonic()
        if text != shown:
            shown, since = text, now
        elif shown and now - since >= REFUSAL_SHOWN_S:
            return shown


async def _visible(page: Page, selector: str) -> bool:
    try:
        return await page.locator(selector).first.is_visible()
    except Exception:  # between documents
        return False


async def _shown_error_text(page: Page) -> str:
    """The text of the error elements a person sees now; nothing while the page is between documents."""
    try:
        text = await page.evaluate(SHOWN_ERROR_JS, ERROR_TEXT_SELECTORS)
    except Exception:
        return ""
    return text if isinstance(text, str) else ""


async def _visible_error_text(page: Page) -> str:
    """What the page shows as the reason: an error element, else a short visible line that reads like one."""
    try:
        texts = await page.locator(ERROR_TEXT_SELECTORS).all_inner_texts()
        shown = " ".join(t.strip() for t in texts if t.strip())
        if not shown:
            body = await page.locator("body").inner_text(timeout=2000)
            shown = next(
                (line.strip() for line in body.splitlines() if len(line.strip()) < 200 and ERROR_WORDS.search(line)), ""
            )
    except Exception:
        return ""
    return shown[:300]


def _value(step: LoginStep, values: dict[str, str]) -> str:
    """The step's value with its templates filled (the config check gives fill, press and select one)."""
    if step.value is None:
        raise ValueError(f"{step.action} has no value")
    return _fill_template(step.value, values)


def _fill_template(value: str, values: dict[str, str]) -> str:
    for name, replacement in values.items():
        value = value.replace("{" + name + "}", replacement)
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
