"""Sealing a run reads its rows one by one: a run of hundreds of vendors has more request rows than fit in
memory, and the seal hashes every one of them (so does a merge, which copies them)."""

import tracemalloc

from crawler.store.seal import rows_digest
from crawler.store.writer import Store

ROWS, BODY = 2000, 10_000  # 20 MB of request bodies


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
