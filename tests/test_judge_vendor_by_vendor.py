"""A run is judged, and two runs are compared (`trackaudit diff`), one vendor at a time: a run of hundreds of
vendors must not hold every vendor's evidence in memory at once (a fixture vendor's analysis holds about
15 MB). Recorded observations, no browser."""

import gc
import weakref

import pytest
from click.testing import CliRunner

from crawler.cli import main
from crawler.config import Vendor
from crawler.jobs import runner
from crawler.policy import engine
from crawler.policy.judge import Judge
from crawler.store.writer import Store
from recorded import PAGE_URL, VENDOR_URL, cookie, page, record_run, request

VENDORS = ("alpha", "bravo", "charlie", "delta")


def tracked_audit():
    return [
        page(PAGE_URL, "control"),
        page(PAGE_URL, "crawl"),
        cookie("cn_vid", "Xk3pQ9vLm2Rt7WzA1bYc", "app.classnook.com", "crawl", expires_in_days=400),
        request("https://www.google-analytics.com/g/collect?v=2&cid=555.777", "crawl"),
    ]


@pytest.fixture
def run_of_four_vendors(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKAUDIT_LISTS_DIR", str(tmp_path / "no-lists"))
    store = Store(tmp_path / "audits.db")
    for vendor_id in VENDORS:
        store.upsert_vendor(Vendor(vendor_id, vendor_id.title(), "active", VENDOR_URL))
    run_id = record_run(store, {v: tracked_audit() for v in VENDORS}, "2026-11-01T08:00:00Z")
    yield store, run_id
    store.close()


@pytest.fixture
def vendors_held(monkeypatch):
    """For each analysis made, in order: its vendor, and the vendors whose analyses were still alive then."""
    alive: weakref.WeakSet = weakref.WeakSet()
    held: list[tuple[str, set[str]]] = []

    class Tracked(engine.AuditAnalysis):
        def __init__(self, data, *args, **kwargs):
            super().__init__(data, *args, **kwargs)
            gc.collect()
            held.append((data.vendor_id, {a.data.vendor_id for a in alive}))
            alive.add(self)

    monkeypatch.setattr(engine, "AuditAnalysis", Tracked)
    return held


def test_the_judge_holds_one_vendors_analyses_while_it_analyses_the_next(run_of_four_vendors, vendors_held):
    store, run_id = run_of_four_vendors
    judgements = Judge.load().judge(store, run_id)
    assert [j.vendor_id for j in judgements] == list(VENDORS)
    assert all(j.findings and not j.analyses for j in judgements)
    assert [vendor for vendor, _ in vendors_held] == list(VENDORS)
    # At most the vendor judged just before, still in the hands of whoever took its judgement.
    assert all(len(others - {vendor}) <= 1 for vendor, others in vendors_held), vendors_held


def test_the_run_records_each_verdict_and_lets_the_analyses_go(run_of_four_vendors, vendors_held):
    store, run_id = run_of_four_vendors
    targets = [runner.Target(Vendor(v, v.title(), "active", VENDOR_URL), None, None) for v in VENDORS]
    result = runner.RunResult(run_id, "running")
    runner._judge_and_record_verdicts(store, Judge.load(), "audit", targets, result)
    assert sorted(result.verdicts) == list(VENDORS)
    assert {v["vendor_id"] for v in store.db.query("select vendor_id from verdicts")} == set(VENDORS)
    assert all(not j.analyses for j in result.judgements)
    assert all(len(others - {vendor}) <= 1 for vendor, others in vendors_held), vendors_held


def test_diff_compares_two_runs_holding_one_vendors_analyses_at_a_time(run_of_four_vendors, vendors_held):
    store, _ = run_of_four_vendors
    record_run(store, {v: tracked_audit() for v in VENDORS}, "2026-12-01T08:00:00Z")
    result = CliRunner().invoke(main, ["diff", "--db", str(store.path)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [f"{v}: run 1 → run 2: 0 change(s)" for v in VENDORS]
    assert [vendor for vendor, _ in vendors_held] == [v for v in VENDORS for _ in (1, 2)]
    assert all(others <= {vendor} for vendor, others in vendors_held), vendors_held
