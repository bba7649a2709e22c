"""The evidence seal: every row of a run (the vendors row included) and, with --seal-key, an HMAC."""

import json

from click.testing import CliRunner

from crawler.cli import main
from crawler.config import parse_config
from crawler.store import queries
from crawler.store.seal import manifest_path, verify_evidence, write_manifest
from crawler.store.writer import Store


def _sealed_run(tmp_path, key: bytes | None = None, vendor_name: str = "Bright"):
    store = Store(tmp_path / "a.db")
    store.seal_key = key
    config = parse_config(
        {"vendors": [{"id": "bp", "name": vendor_name, "status": "approved", "start_url": "https://bp.test/"}]},
        "t.toml",
    )
    run_id = store.start_run("audit", "x")
    store.upsert_vendor(config.vendors[0])
    sink = store.start_audit(run_id, "bp", "student", "maya")
    sink.finish("complete")
    store.finish_run(run_id, "complete")
    write_manifest(store, run_id)
    return store, run_id, config


def test_an_edit_of_the_vendors_row_is_detected(tmp_path):
    store, run_id, _ = _sealed_run(tmp_path)
    assert verify_evidence(store, run_id) == []
    store.db.execute("update vendors set start_url = 'https://elsewhere.test/' where id = 'bp'")
    store.db.conn.commit()
    assert [p.name for p in verify_evidence(store, run_id)] == ["vendors (bp)"]


def test_a_later_sealed_run_of_the_vendor_explains_its_new_row(tmp_path):
    store, first, config = _sealed_run(tmp_path)
    second = store.start_run("audit", "y")
    store.upsert_vendor(config.vendors[0])  # rewritten (updated_at) by the next audit
    store.start_audit(second, "bp", "student", "maya").finish("complete")
    store.finish_run(second, "complete")
    write_manifest(store, second)
    assert verify_evidence(store, first) == [] and verify_evidence(store, second) == []


def test_with_a_key_the_seal_is_an_hmac_that_a_recomputed_manifest_cannot_match(tmp_path):
    key = b"k" * 32
    store, run_id, _ = _sealed_run(tmp_path, key)
    seal = queries.run(store, run_id)["manifest_sha256"]
    assert seal.startswith("hmac-sha256:")
    assert verify_evidence(store, run_id, key) == []
    assert verify_evidence(store, run_id)[0].problem.startswith("sealed with a key")
    # Someone edits a row and rewrites the manifest to match: without the key the seal no longer fits.
    store.db.execute("update audits set username = 'someone' where run_id = ?", [run_id])
    store.db.conn.commit()
    store.seal_key = None
    path = manifest_path(store, run_id)
    saved = queries.run(store, run_id)["manifest_sha256"]
    write_manifest(store, run_id)
    store.db.execute("update runs set manifest_sha256 = ? where id = ?", [saved, run_id])
    store.db.conn.commit()
    assert json.loads(path.read_text())["rows"]["audits"]["rows"] == 1
    assert [p.what for p in verify_evidence(store, run_id, key)] == ["manifest"]
    assert verify_evidence(store, run_id, b"x" * 32)[0].what == "manifest"


def test_verify_evidence_takes_the_key_file(tmp_path):
    key_file = tmp_path / "seal.key"
    key_file.write_bytes(b"0123456789abcdef0123456789abcdef\n")
    store, run_id, _ = _sealed_run(tmp_path, b"0123456789abcdef0123456789abcdef")
    store.close()
    db = str(tmp_path / "a.db")
    ok = CliRunner().invoke(main, ["verify-evidence", str(run_id), "--db", db, "--seal-key", str(key_file)])
    assert ok.exit_code == 0, ok.output
    assert "evidence intact" in ok.output and "hmac-sha256:" in ok.output
    without = CliRunner().invoke(main, ["verify-evidence", str(run_id), "--db", db])
    assert without.exit_code == 1 and "--seal-key" in without.output
    short = tmp_path / "short.key"
    short.write_text("abc")
    bad = CliRunner().invoke(main, ["verify-evidence", str(run_id), "--db", db, "--seal-key", str(short)])
    assert bad.exit_code == 2 and "shorter than 16 bytes" in bad.output
