"""Datasette on the demo's database, with the metadata the run wrote beside it: findings link to their vendor and
run by name, the Unix-time tables have ISO 8601 views, and the canned queries lead from a finding to its rows."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.request

import pytest

from test_fixtures_serve import free_ports

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def datasette(demo_run):
    """The README's command: datasette results/demo.db --metadata results/demo.datasette.json (read-only)."""
    port = free_ports(1)[0]
    metadata = demo_run.db_path.with_name("demo.datasette.json")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "datasette",
            "serve",
            "-i",
            str(demo_run.db_path),
            "--metadata",
            str(metadata),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"

    def get(path: str) -> str:
        with urllib.request.urlopen(base + path, timeout=20) as response:
            return response.read().decode()

    deadline = time.monotonic() + 60
    while True:
        try:
            get("/-/versions.json")
            break
        except OSError:
            assert proc.poll() is None, proc.stdout.read()
            assert time.monotonic() < deadline, "Datasette did not start"
            time.sleep(0.3)
    yield get
    proc.terminate()
    proc.wait(timeout=15)


def test_the_findings_page_links_vendors_by_name_and_runs_by_start_and_command(datasette, demo_run):
    page = datasette("/demo/findings")
    started = demo_run.db.execute("select started_at from runs where id = 1").fetchone()[0]
    run_label = f"{started[:16].replace('T', ' ')} UTC: trackaudit demo"
    assert re.search(r'<a href="/demo/vendors/leakyquiz">LeakyQuiz</a>', page)
    assert f'<a href="/demo/runs/1">{run_label}</a>' in page


def test_observation_rows_link_to_their_audit_run_and_vendor(datasette):
    page = datasette("/demo/cookies?_size=5")
    assert re.search(r'<a href="/demo/audits/\d+">run 1: \w+ \(student\)</a>', page)
    assert '<a href="/demo/runs/1">' in page and re.search(r'<a href="/demo/vendors/\w+">', page)


def test_unix_times_have_iso_views(datasette):
    assert "time_utc" in json.loads(datasette("/demo/errors_utc.json"))["columns"]  # the demo has no error row
    for view, column in (
        ("requests_utc", "time_utc"),
        ("pages_utc", "started_utc"),
        ("phases_utc", "started_at_utc"),
        ("cookies_utc", "expires_utc"),
        ("script_cookie_writes_utc", "time_utc"),
    ):
        rows = json.loads(datasette(f"/demo/{view}.json?_shape=array&_size=3&{column}__notblank=1"))
        assert rows, view
        assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", row[column]) for row in rows), rows


def test_pii_flows_name_the_request_and_a_finding_leads_to_its_evidence_rows(datasette):
    flows = json.loads(datasette("/demo/pii_flows.json?_shape=array"))
    to_requests = [flow for flow in flows if flow["source_table"] == "requests"]
    assert to_requests and all(flow["request_id"] == flow["row_id"] for flow in to_requests)
    keys = [(f["finding_id"], f["row_id"], f["field"], f["encoding"], f["location"], f["matched"]) for f in flows]
    assert len(keys) == len(set(keys))  # no two rows alike
    finding_id = to_requests[0]["finding_id"]
    evidence = json.loads(datasette(f"/demo/finding_evidence.json?_shape=array&finding_id={finding_id}"))
    assert {"requests"} <= {row["source_table"] for row in evidence}
    assert all(row["observed"] for row in evidence), evidence
    assert to_requests[0]["request_id"] in {row["row_id"] for row in evidence if row["source_table"] == "requests"}
