import os

import pytest

from conftest import run_async
from crawler.browse import browser


def test_the_sandbox_is_on_whenever_trackaudit_is_not_root(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert browser.sandbox_enabled() is True
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert browser.sandbox_enabled() is False


def test_a_refused_sandbox_is_said_plainly(monkeypatch, tmp_path):
    async def refuse(*args, **kwargs):
        raise RuntimeError("Browser closed. [FATAL:zygote_host_impl_linux.cc] No usable sandbox! ...")

    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setattr(browser, "_launch", refuse)
    with pytest.raises(browser.SandboxRefused, match="kernel refused Chromium's sandbox.*Fix:"):
        run_async(browser.launch_profile(None, browser.LaunchSettings("/usr/bin/chromium"), tmp_path / "p"))
