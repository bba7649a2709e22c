"""Sealing a run reads its rows one by one: a run of hundreds of vendors has more request rows than fit in
memory, and the seal hashes every one of them (so does a merge, which copies them). The report reads its pages
without their text, which may be a megabyte a page."""

import tracemalloc

from crawler.config import Vendor
from crawler.policy.pack import load_pack
from crawler.report.model import build_report
from crawler.store.seal import rows_digest
from crawler.store.writer import Store
from recorded import PAGE_URL, VENDOR_URL, page, record_run

ROWS, BODY = 2000, 10_000  # 20 MB of request bodies
PAGES, TEXT = 400, 50_000  # 20 MB of page text


def test_the_rows_digest_holds_one_row_at_a_time(tmp_path):
    store = Store(tmp_path / "audits.db")
    run_id = store.start_run("audit", "trackaudit audit")
    body = "x" * BODY
    with store.db.conn:
        store.db["requests"].insert_all(
            {"run_id": run_id, "vendor_id": "v", "url": f"https://t.example/{i}", "post_data": body}
            for i in range(ROWS)
        )
    tracemalloc.start()
    try:
        digests = rows_digest(store, run_id)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert digests["requests"]["rows"] == ROWS
    assert peak < ROWS * BODY / 10, f"{peak / 1e6:.1f} MB held to hash {ROWS * BODY / 1e6:.0f} MB of rows"


def test_the_report_does_not_read_the_pages_text(tmp_path):
    store = Store(tmp_path / "audits.db")
    store.upsert_vendor(Vendor("classnook", "ClassNook", "active", VENDOR_URL))
    run_id = record_run(store, {"classnook": [page(PAGE_URL, "crawl")]}, "2026-11-01T08:00:00Z")
    text = "y" * TEXT
    with store.db.conn:
        store.db.execute("update pages set visible_text = ? where run_id = ?", [text, run_id])
        store.db["pages"].insert_all(
            {
                "run_id": run_id,
                "vendor_id": "classnook",
                "account": "student",
                "phase": "crawl",
                "url": f"{PAGE_URL}/{i}",
            }
            | {"visible_text": text}
            for i in range(PAGES)
        )
    pack = load_pack(None)
    tracemalloc.start()
    try:
        report = build_report(store, run_id, pack)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sum(len(v.pages) for v in report.vendors) == PAGES + 1
    assert peak < PAGES * TEXT / 2, f"{peak / 1e6:.1f} MB held to report {PAGES + 1} pages"
