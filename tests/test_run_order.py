"""A run starts the audits with the most pages first (a long audit started last would run alone at the end),
and gives their results back in the config's order. No browser: the audit itself is replaced."""

import asyncio

from conftest import run_async
from crawler.config import Vendor
from crawler.jobs import runner


class NoPlaywright:
    async def __aenter__(self):
        return None

    async def __aexit__(self, *exc_info):
        return False


def test_the_audits_with_the_most_pages_start_first_and_results_keep_the_config_order(monkeypatch):
    started = []

    async def audit(playwright, store, settings, target, run_id, mode, progress):
        started.append(target.vendor.id)
        await asyncio.sleep(0.01)
        return target.vendor.id

    monkeypatch.setattr(runner, "_audit_one", audit)
    monkeypatch.setattr(runner, "async_playwright", NoPlaywright)
    pages = {"alpha": 5, "bravo": 50, "charlie": 5, "delta": 20}
    targets = [
        runner.Target(Vendor(v, v, "active", f"https://{v}.example/", max_pages=p), None, None)
        for v, p in pages.items()
    ]
    results = run_async(runner._audit_all(None, None, targets, 1, "audit", 2, None))
    assert started == ["bravo", "delta", "alpha", "charlie"]
    assert results == ["alpha", "bravo", "charlie", "delta"]
