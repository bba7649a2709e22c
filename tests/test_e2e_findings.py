"""The demo's findings against the ground truth of fixtures/README.md, through the real CLI."""

import json

import pytest

from conftest import run_cli

pytestmark = pytest.mark.e2e


def findings(run, vendor):
    return list(run.db.query("select * from findings where vendor_id = ? order by id", [vendor]))


def subjects(found, rule_id, severity="violation"):
    return {f["subject"] for f in found if f["rule_id"] == rule_id and f["severity"] == severity}


def test_compliant_vendor_has_no_violation(demo_run):
    assert [f for f in findings(demo_run, "brightpath") if f["severity"] == "violation"] == []


def test_leaky_vendor_pii_to_third_party_under_iv_a_and_ii_a(demo_run):
    found = findings(demo_run, "leakyquiz")
    for clause in ("IV.A", "II.A"):
        (leak,) = [f for f in found if f["rule_id"] == "IV.A-pii-to-third-party" and f["clause"] == clause]
        assert leak["subject"] == "host collect.edutrack-analytics.test"
        assert "sha256" in leak["message"] and "email" in leak["message"]
        assert f"{clause} " in leak["message"]
        evidence = json.loads(leak["evidence"])
        assert evidence["evidence_kind"] == "pii-flow"
        assert evidence["recipient"] == "edutrack-analytics.test"
        flow = evidence["flows"][0]
        assert flow["field"] == "email" and "sha256" in flow["encoding"] and flow["location"].startswith("post body")
        request_ids = evidence["rows"]["requests"]
        posted = [
            r
            for r in demo_run.db.query(
                f"select host, post_data from requests where id in ({','.join('?' * len(request_ids))})", request_ids
            )
        ]
        assert posted and all(r["host"] == "collect.edutrack-analytics.test" for r in posted)
        assert all(flow["matched"] in r["post_data"] for r in posted)
    cited = [f for f in found if f["rule_id"] == "IV.A-pii-to-third-party"]
    assert len({f["evidence"] for f in cited}) == 1  # one evidence, cited under both clauses


def test_leaky_vendor_client_side_pii_cross_site_ids_and_syncing(demo_run):
    found = findings(demo_run, "leakyquiz")
    assert subjects(found, "IV.A-pii-stored-client-side") == {
        "cacheStorage lq-cache-v1 https://app.leakyquiz.test/api/profile"
    }
    assert subjects(found, "IV.A-cross-site-identifier") == {"cookie apx_uid", "cookie et_uid"}
    (sync,) = [f for f in found if f["rule_id"] == "IV.A-id-syncing"]
    assert sync["subject"] == "cookie lq_vid"
    assert set(json.loads(sync["evidence"])["receivers"]) == {"Google", "adpixel.test", "edutrack-analytics.test"}


def test_leaky_vendor_persistence_under_iv_b(demo_run):
    found = findings(demo_run, "leakyquiz")
    assert subjects(found, "IV.B-identifier-on-reconnect") == {
        "cookie lq_vid",
        "cookie _ga",
        "cookie apx_uid",
        "cookie et_uid",
        "localStorage lq_vid",
        "indexedDB lq_store/ids vid",
    }
    (respawn,) = [f for f in found if f["rule_id"] == "IV.B-respawned-identifier"]
    assert respawn["subject"] == "cookie lq_vid" and respawn["clause"] == "IV.B"
    sources = json.loads(respawn["evidence"])["sources"]
    assert any(s.startswith("localStorage https://app.leakyquiz.test") for s in sources)
    assert any(s.startswith("indexedDB https://app.leakyquiz.test lq_store/ids") for s in sources)


def test_leaky_vendor_lifetimes_and_trackers(demo_run):
    found = findings(demo_run, "leakyquiz")
    assert subjects(found, "IV.C-lifetime-over-maximum") == {
        "cookie lq_vid",
        "cookie _ga",
        "cookie apx_uid",
        "cookie et_uid",
        "localStorage lq_vid",
        "indexedDB lq_store/ids vid",
    }
    trackers = " ".join(subjects(found, "IV.D-behavioural-tracker"))
    for host in (
        "www.google-analytics.com",
        "sync.adpixel.test",
        "collect.edutrack-analytics.test",
        "cdn.edutrack-analytics.test",
    ):
        assert host in trackers
    assert not [f for f in found if f["clause"] == "I.F"]
    assert not [f for f in found if f["subject"] in ("cookie lq_session", "cookie lq_csrf")]


def test_every_finding_points_at_existing_rows(demo_run):
    for finding in demo_run.db.query("select * from findings"):
        evidence = json.loads(finding["evidence"])
        assert evidence["rows"] or evidence.get("previous_run_id"), finding["rule_id"]
        for table, ids in evidence["rows"].items():
            count = demo_run.db.execute(
                f"select count(*) from {table} where run_id = ? and id in ({','.join('?' * len(ids))})",
                [finding["run_id"], *ids],
            ).fetchone()[0]
            assert count == len(ids), (finding["rule_id"], table)


def test_run_records_the_policy_and_lists_that_judged_it(demo_run):
    (run,) = demo_run.db.query("select * from runs")
    assert run["policy_name"] == "mps-7400.1" and len(run["policy_hash"]) == 64
    names = {entry["name"] for entry in json.loads(run["lists"])}
    assert {"policy:mps-7400.1", "builtin-trackers", "builtin-cookies"} <= names
    assert run["verdict"] == "brightpath: compliant; leakyquiz: violations found"


def test_findings_command_prints_by_vendor_and_clause(demo_run):
    proc = run_cli(["findings", "--db", str(demo_run.db_path)], cwd=demo_run.db_path.parent)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "BrightPath Reading [brightpath]: 0 violation(s)" in out
    assert "LeakyQuiz [leakyquiz]:" in out
    assert out.index("  IV.A") < out.index("  IV.B") < out.index("  IV.C") < out.index("  IV.D")
    assert "VIOLATION  cookie lq_vid:" in out


def test_findings_command_on_a_missing_database_exits_2(tmp_path):
    proc = run_cli(["findings", "--db", str(tmp_path / "none.db")], cwd=tmp_path)
    assert proc.returncode == 2 and "no such database" in proc.stderr
