"""Sharding vendors across workers and merging their databases."""

import json

import pytest

from crawler.jobs.merge import merge_databases, resolve_shard, shard_of, vendor_cost
from crawler.observations import CookieObs
from crawler.store.seal import verify_evidence, write_manifest
from crawler.store.writer import Store


def test_shards_cover_every_vendor_once():
    vendors = [f"v{i}" for i in range(11)]
    shares = [shard_of(vendors, f"{i}/4") for i in range(1, 5)]
    assert sorted(v for share in shares for v in share) == sorted(vendors)
    with pytest.raises(ValueError, match="i must be between 1 and n"):
        shard_of(vendors, "5/4")
    with pytest.raises(ValueError, match="write it as i/n"):
        shard_of(vendors, "two")


def worker_db(path, vendor_id, cookie_value):
    store = Store(path)

    class Vendor:
        id, name, status, start_url, first_party, remember_cookies = (
            vendor_id,
            vendor_id,
            "approved",
            "https://a.test/",
            (),
            (),
        )

    store.upsert_vendor(Vendor)
    run_id = store.start_run("audit", "worker")
    sink = store.start_audit(run_id, vendor_id, "student", "u")
    sink.begin_phase("crawl")
    cookie_id = sink.add(
        CookieObs(
            name="vid",
            value=cookie_value,
            domain="a.test",
            host_only=True,
            path="/",
            expires=2e9,
            session=False,
            http_only=False,
            secure=True,
            same_site="Lax",
            partition_key=None,
            size=10,
            source_scheme="Secure",
            set_by_kind="header",
            set_by_url="https://a.test/",
        )
    )
    store.replace_findings(
        run_id,
        vendor_id,
        [
            {
                "rule_id": "IV.C-lifetime-over-maximum",
                "clause": "IV.C",
                "severity": "violation",
                "subject": "cookie vid",
                "message": "m",
                "account": "student",
                "evidence": {"rows": {"cookies": [cookie_id]}},
            }
        ],
    )
    store.finish_run(run_id, "complete")
    shot = store.artefacts_dir / "screenshots" / f"run-{run_id}" / "001.png"
    shot.parent.mkdir(parents=True)
    shot.write_bytes(b"\x89PNG" + vendor_id.encode())
    write_manifest(store, run_id)
    return store


def test_merged_findings_point_at_their_rows_and_the_runs_verify(tmp_path):
    first = worker_db(tmp_path / "w1" / "a.db", "alpha", "AAAA1111BBBB")
    second = worker_db(tmp_path / "w2" / "b.db", "beta", "CCCC2222DDDD")
    target = Store(tmp_path / "all" / "all.db")
    merged = merge_databases(target, [first, second])
    assert [(m.source_run, m.target_run, m.evidence_problems) for m in merged] == [(1, 1, 0), (1, 2, 0)]
    for run_id, value in ((1, "AAAA1111BBBB"), (2, "CCCC2222DDDD")):
        (finding,) = target.db.query("select * from findings where run_id = ?", [run_id])
        (cookie_id,) = json.loads(finding["evidence"])["rows"]["cookies"]
        assert target.db["cookies"].get(cookie_id)["value"] == value
        assert verify_evidence(target, run_id) == []
        manifest = json.loads((tmp_path / "all" / "evidence" / f"run-{run_id}" / "manifest.json").read_text())
        assert manifest["merged_from"]["run_id"] == 1
    assert (tmp_path / "all" / "screenshots" / "run-2" / "001.png").read_bytes() == b"\x89PNGbeta"


def test_shards_are_balanced_by_cost_longest_first():
    costs = {"a": 1, "b": 1, "c": 1, "d": 1, "big": 4, "mid": 2}
    shares = [shard_of(list(costs), f"{i}/2", cost=costs.get) for i in (1, 2)]
    assert shares == [["c", "big"], ["a", "b", "d", "mid"]]  # each share keeps the given order
    assert [sum(costs[v] for v in share) for share in shares] == [5, 5]
    # Id order alone would have put big and mid together on worker 1 (round robin: a, c, big against b, d, mid).
    three = [shard_of(list(costs), f"{i}/3", cost=costs.get) for i in (1, 2, 3)]
    assert [sum(costs[v] for v in share) for share in three] == [4, 3, 3]


def test_vendor_cost_is_pages_times_accounts():
    class Vendor:
        max_pages, accounts = 8, ("student", "teacher")

    class Anonymous:
        max_pages, accounts = 10, ()

    assert vendor_cost(Vendor) == 16 and vendor_cost(Anonymous) == 10


def test_shard_auto_reads_the_indexed_job_environment():
    assert resolve_shard("auto", {"JOB_COMPLETION_INDEX": "0", "TRACKAUDIT_SHARD_COUNT": "3"}) == "1/3"
    assert resolve_shard("auto", {"JOB_COMPLETION_INDEX": "2", "TRACKAUDIT_SHARD_COUNT": "3"}) == "3/3"
    assert resolve_shard("2/5", {}) == "2/5"
    with pytest.raises(ValueError, match="TRACKAUDIT_SHARD_COUNT"):
        resolve_shard("auto", {"JOB_COMPLETION_INDEX": "0"})
    with pytest.raises(ValueError, match="whole numbers"):
        resolve_shard("auto", {"JOB_COMPLETION_INDEX": "x", "TRACKAUDIT_SHARD_COUNT": "3"})


def test_merging_the_same_worker_twice_changes_nothing(tmp_path):
    first = worker_db(tmp_path / "w1" / "a.db", "alpha", "AAAA1111BBBB")
    second = worker_db(tmp_path / "w2" / "b.db", "beta", "CCCC2222DDDD")
    target = Store(tmp_path / "all" / "all.db")
    merge_databases(target, [first, second])
    counts = {table: target.db[table].count for table in ("runs", "audits", "cookies", "findings", "phases")}
    again = merge_databases(target, [second, first, first])
    assert [(m.target_run, m.already_merged) for m in again] == [(2, True), (1, True), (1, True)]
    assert {table: target.db[table].count for table in counts} == counts
    assert verify_evidence(target, 1) == [] and verify_evidence(target, 2) == []
