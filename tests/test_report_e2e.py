"""The reports of the real demo run, through the real CLI; the HTML rendered in headless Chromium with every
request outside the file recorded and refused."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import jsonschema
import pytest

from conftest import run_cli
from crawler.policy.pack import load_pack
from crawler.report.json_report import load_schema

pytestmark = pytest.mark.e2e

EMAIL_SHA256 = "3d320cc6215f9d8834195cdc7ff34ae4fbcd086e734583e007eb9ae8d2d04147"  # sha256 of the leaky student's email


def report(demo_run, fmt: str, name: str):
    out = demo_run.db_path.parent / name
    proc = run_cli(
        ["report", "--format", fmt, "--db", str(demo_run.db_path), "--out", str(out)],
        cwd=demo_run.db_path.parent.parent,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert out.exists()
    return out


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_html_report_renders_offline_with_every_finding(demo_run, page):
    out = report(demo_run, "html", "e2e-report.html")
    findings = list(demo_run.db.query("select * from findings where run_id = (select max(id) from runs)"))
    assert findings
    pack = load_pack()
    outside: list[str] = []

    def refuse(route):
        if not route.request.url.startswith(("data:", "file:")):
            outside.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    page.route("**/*", refuse)
    page.on("request", lambda r: None if r.url.startswith(("data:", "file:")) else outside.append(r.url))
    page.goto(out.as_uri())
    page.wait_for_load_state("networkidle")
    text = squash(page.inner_text("body"))
    for finding in findings:
        assert finding["subject"] in text, finding["subject"]
        assert squash(pack.clauses[finding["clause"]]) in text, finding["clause"]
    mark = page.locator("mark", has_text=EMAIL_SHA256).first
    assert mark.is_visible()
    assert mark.inner_text() == EMAIL_SHA256
    images = page.eval_on_selector_all("image", "els => els.map(e => e.getAttribute('href'))")
    assert images and all(i.startswith("data:image/") for i in images)
    assert outside == []


def test_json_report_validates(demo_run):
    document = json.loads(report(demo_run, "json", "e2e-report.json").read_text())
    jsonschema.Draft202012Validator(load_schema()).validate(document)
    assert {v["id"]: v["verdict"]["verdict"] for v in document["vendors"]} == {
        "brightpath": "compliant",
        "leakyquiz": "violations found",
    }


def test_csv_has_a_row_per_finding_and_markdown_each_verdict(demo_run):
    import csv

    rows = list(csv.DictReader(report(demo_run, "csv", "e2e-report.csv").open(encoding="utf-8")))
    count = demo_run.db.execute("select count(*) from findings where run_id = (select max(id) from runs)").fetchone()[0]
    assert len(rows) == count
    text = report(demo_run, "md", "e2e-report.md").read_text(encoding="utf-8")
    assert "**compliant**" in text and "**violations found**" in text


def test_junit_failures_are_the_vendor_clause_pairs_with_violations(demo_run):
    root = ET.parse(report(demo_run, "junit", "e2e-report.xml")).getroot()
    pairs = {
        (r["vendor_id"], r["clause"])
        for r in demo_run.db.query(
            "select distinct vendor_id, clause from findings where severity = 'violation' "
            "and run_id = (select max(id) from runs)"
        )
    }
    failed = {
        (c.get("classname"), c.get("name").split()[0]) for c in root.iter("testcase") if c.find("failure") is not None
    }
    assert failed == pairs
    assert int(root.get("failures")) == len(pairs)
