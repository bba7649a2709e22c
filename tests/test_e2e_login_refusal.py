"""A login the page refuses is known as soon as the page says so, not at the end of the timeout; a hidden
template of the message, one shown only for a moment before the login goes through, one shown while the sign-in
form is gone (the page still working on the login), or a banner the page showed before the login's steps ran, is
no refusal."""

import time

import pytest

from conftest import run_async
from crawler.browse.browser import find_chromium
from crawler.browse.login import perform_login
from test_login import LOGIN  # the same sign-in steps: #email, #passwd, button; success: #welcome

pytestmark = pytest.mark.e2e

TIMEOUT_S = 20.0
# The sign-in form; ON_SUBMIT is what the page does when the button is clicked.
FORM = """<form onsubmit="return false">
<p class="error" id="refused" style="display:none">Invalid email or password</p>
<input id="email"><input id="passwd" type="password"><button onclick="ON_SUBMIT">Sign in</button></form>"""
WELCOME = "document.body.insertAdjacentHTML('beforeend', '<h1 id=welcome>Welcome</h1>')"


def attempt(on_submit: str, banner: str = ""):
    async def go():
        from playwright.async_api import async_playwright

        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=find_chromium())
            try:
                page = await browser.new_page()
                await page.set_content(banner + FORM.replace("ON_SUBMIT", on_submit))
                started = time.monotonic()
                result = await perform_login(page, LOGIN, {"username": "u", "password": "p"}, TIMEOUT_S)
                return result, time.monotonic() - started
            finally:
                await browser.close()

    return run_async(go())


def test_a_refusal_the_page_shows_ends_the_login_without_waiting_for_the_timeout():
    result, seconds = attempt("refused.style.display = 'block'")
    assert result.outcome == "failed"
    assert result.message == "login failed: the page said 'Invalid email or password'"
    assert seconds < TIMEOUT_S / 2, seconds


def test_a_hidden_message_or_one_shown_for_a_moment_is_not_a_refusal():
    # The hidden template stays in the page while the login takes 1.5 s to go through.
    result, _ = attempt(f"setTimeout(() => {WELCOME}, 1500)")
    assert result.outcome == "success", result.message
    # Shown for half a second, then the login goes through.
    shown_first, _ = attempt(
        f"refused.style.display = 'block'; setTimeout(() => {{ refused.style.display = 'none'; {WELCOME} }}, 500)"
    )
    assert shown_first.outcome == "success", shown_first.message
    # Shown while the form has made way for the next page, which takes 1.5 s.
    form_gone, _ = attempt(
        f"passwd.style.display = 'none'; refused.style.display = 'block'; setTimeout(() => {WELCOME}, 1500)"
    )
    assert form_gone.outcome == "success", form_gone.message


def test_a_banner_shown_before_the_login_is_not_its_refusal():
    banner = '<p class="alert">Trouble signing in? Try again later or ask your teacher.</p>'
    result, _ = attempt(f"setTimeout(() => {WELCOME}, 1500)", banner)
    assert result.outcome == "success", result.message
    refused, seconds = attempt("refused.style.display = 'block'", banner)
    assert refused.outcome == "failed" and "Invalid email or password" in refused.message
    assert seconds < TIMEOUT_S / 2, seconds
