"""JSON (against its schema), CSV, Markdown, JUnit XML and the Datasette metadata, on a small database."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET

import jsonschema
import pytest

from crawler.report import render_report
from crawler.report.datasette import TABLES, datasette_metadata, write_datasette_metadata
from crawler.report.json_report import load_schema
from crawler.store.queries import OBSERVATION_TYPES
from test_report_model import build_report_db


@pytest.fixture
def built(tmp_path):
    result = build_report_db(tmp_path)
    yield result
    result.store.close()


def violation_pairs(findings) -> set[tuple[str, str]]:
    return {(f.get("vendor_id", "leaky"), f["clause"]) for f in findings if f["severity"] == "violation"}


# JSON --------------------------------------------------------------------------------------------------------
def test_schema_is_valid_draft_2020_12():
    schema = load_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["properties"]["schema"]["const"] == "trackaudit-report/1"


def test_json_validates_against_the_schema(built):
    document = json.loads(render_report(built.store, built.run_id, "json", built.pack))
    validator = jsonschema.Draft202012Validator(load_schema(), format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(document), key=lambda e: e.path)
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
    assert document["schema"] == "trackaudit-report/1"


def test_json_content(built):
    document = json.loads(render_report(built.store, built.run_id, "json", built.pack))
    assert document["summary"]["findings"] == len(built.findings)
    leaky = next(v for v in document["vendors"] if v["id"] == "leaky")
    assert leaky["verdict"]["verdict"] == "violations found"
    assert {f["subject"] for f in leaky["findings"]} == {f["subject"] for f in built.findings}
    leak = next(f for f in leaky["findings"] if f["rule_id"] == "IV.A-pii-to-third-party")
    assert leak["evidence"]["flows"][0]["matched"] in leak["evidence"]["flows"][0]["context"]
    assert leak["why"]
    by_clause = {c["clause"]: c for c in leaky["clauses"]}
    assert set(by_clause) >= set(built.pack.clauses)
    assert by_clause["IV.A"]["passed"] is False and by_clause["I.F"]["passed"] is True
    assert by_clause["III.C"]["judged"] is False  # judged only by a post-termination check
    assert document["policy"]["sha256"] == built.pack.sha256
    assert document["evidence_manifest"]["rows"]["findings"]["rows"] == len(built.findings)


# CSV ---------------------------------------------------------------------------------------------------------
def test_csv_has_one_row_per_finding(built):
    rows = list(csv.DictReader(io.StringIO(render_report(built.store, built.run_id, "csv", built.pack))))
    assert len(rows) == len(built.findings)
    assert set(rows[0]) >= {
        "run_id",
        "vendor_id",
        "account",
        "clause",
        "rule_id",
        "severity",
        "subject",
        "message",
        "evidence_rows",
    }
    by_rule = {r["rule_id"]: r for r in rows}
    assert json.loads(by_rule["IV.B-identifier-on-reconnect"]["evidence_rows"]).keys() == {"cookies", "requests"}
    assert " " not in by_rule["IV.B-identifier-on-reconnect"]["evidence_rows"]  # compact JSON
    assert by_rule["baseline.new-tracker"]["account"] == ""


# Markdown ----------------------------------------------------------------------------------------------------
def test_markdown_names_each_vendor_and_its_verdict(built):
    text = render_report(built.store, built.run_id, "md", built.pack)
    assert "| Bright &lt;Reading&gt; &amp; Co (`bright`) | ✅ **compliant** |" in text  # site/config text escaped
    assert "| LeakyQuiz (`leaky`) | ❌ **violations found** | 4 | 1 | 1 |" in text
    assert "## Violations by clause" in text and "**IV.C**" in text
    assert "`cookie lq_vid`" in text
    assert len(text.splitlines()) < 60  # short enough for an email


def test_markdown_cannot_be_injected_by_site_or_config_values():
    from crawler.report.markdown import _cell, _code

    hostile = "![x](https://evil.test/p.png) [click](https://evil.test) <img src=x onerror=alert(1)> *b* | `t`"
    escaped = _cell(hostile)
    assert "<" not in escaped and "![" not in escaped and "](" not in escaped and "\\|" in escaped
    assert "\\*b\\*" in escaped and "\\`t\\`" in escaped
    code = _code("a `` b")
    assert code.startswith("```") and code.endswith("```") and "a `` b" in code
    assert _code("x|y") == "`x\\|y`" and "\n" not in _cell("two\nlines")


# JUnit -------------------------------------------------------------------------------------------------------
def test_junit_one_case_per_vendor_and_clause_failures_for_violations(built):
    root = ET.fromstring(render_report(built.store, built.run_id, "junit", built.pack).encode())
    suites = root.findall("testsuite")
    assert len(suites) == 2
    cases = root.iter("testcase")
    names = {(c.get("classname"), c.get("name").split()[0]) for c in cases}
    assert names == {(v, clause) for v in ("bright", "leaky") for clause in built.pack.clauses}
    failed = {
        (c.get("classname"), c.get("name").split()[0]) for c in root.iter("testcase") if c.find("failure") is not None
    }
    assert failed == violation_pairs(built.findings)
    assert int(root.get("failures")) == len(failed) == sum(int(s.get("failures")) for s in suites)
    assert all(int(s.get("tests")) == len(built.pack.clauses) for s in suites)
    iv_d = next(c for c in root.iter("testcase") if c.get("classname") == "leaky" and c.get("name").startswith("IV.D"))
    assert iv_d.find("failure") is None and "tracker.test runs analytics" in iv_d.find("system-out").text
    iv_c = next(c for c in root.iter("testcase") if c.get("classname") == "leaky" and c.get("name").startswith("IV.C "))
    assert iv_c.find("failure").get("message").startswith("1 violation")
    assert "cookie lq_vid" in iv_c.find("failure").text


# Datasette ---------------------------------------------------------------------------------------------------
def test_datasette_metadata_describes_every_table_and_column(built):
    metadata = datasette_metadata("audit")
    tables = metadata["databases"]["audit"]["tables"]
    db = built.store.db
    for table in db.table_names():
        assert table in tables, f"table {table} has no Datasette description"
        assert tables[table]["description"]
        missing = set(db[table].columns_dict) - set(tables[table]["columns"])
        assert not missing, f"{table}: columns without a description: {sorted(missing)}"
    assert set(TABLES) >= {t.table for t in OBSERVATION_TYPES}


def test_write_datasette_metadata_next_to_the_database(built):
    path = write_datasette_metadata(built.store)
    assert path == built.store.artefacts_dir / f"{built.db_path.stem}.datasette.json"
    metadata = json.loads(path.read_text())
    assert list(metadata["databases"]) == [built.db_path.stem]
    for name, query in metadata["databases"][built.db_path.stem]["queries"].items():
        parameters = {name: 1 for name in re.findall(r"(?<!:):(\w+)", query["sql"])}
        list(built.store.db.query(query["sql"], parameters))  # every canned query runs on the schema


def test_junit_survives_characters_xml_cannot_carry(built):
    built.store.insert(
        "findings",
        {
            "run_id": built.run_id,
            "vendor_id": "leaky",
            "account": "student",
            "rule_id": "I.F-plain-http",
            "clause": "I.F",
            "severity": "violation",
            "subject": "host a\x00b\x1b.test",
            "message": "bell \x07 here",
            "evidence": "{}",
        },
    )
    root = ET.fromstring(render_report(built.store, built.run_id, "junit", built.pack).encode())
    failed = [c for c in root.iter("testcase") if c.get("classname") == "leaky" and c.get("name").startswith("I.F ")]
    assert "host a\ufffdb\ufffd.test" in failed[0].find("failure").text


def test_reports_without_manifest_or_findings(tmp_path):
    from types import SimpleNamespace

    from crawler.policy.pack import load_pack
    from crawler.store.writer import Store

    store = Store(tmp_path / "empty.db")
    run_id = store.start_run("scan", "trackaudit scan https://x.test/")
    store.upsert_vendor(
        SimpleNamespace(
            id="x", name="X", status="candidate", start_url="https://x.test/", first_party=(), remember_cookies=()
        )
    )
    store.start_audit(run_id, "x", "student", None).finish("failed", login_outcome="failed")
    store.finish_run(run_id, "failed", "Chromium could not start")
    pack = load_pack()
    for fmt in ("html", "json", "csv", "md", "junit"):
        assert render_report(store, run_id, fmt, pack)
    document = json.loads(render_report(store, run_id, "json", pack))
    jsonschema.Draft202012Validator(load_schema()).validate(document)
    assert document["evidence_manifest"] is None and document["vendors"][0]["verdict"]["verdict"] == "not judged"
    store.close()


def test_junit_reports_an_incomplete_audit_as_an_error_never_a_silent_pass(built):
    built.store.save_verdict(
        built.run_id,
        "bright",
        "scheduled audit",
        "incomplete",
        ["audit incomplete: login failed: the page said 'Invalid email or password'"],
    )
    root = ET.fromstring(render_report(built.store, built.run_id, "junit", built.pack).encode())
    (case,) = [c for c in root.iter("testcase") if c.get("name") == "audit coverage"]
    assert case.get("classname") == "bright"
    assert "Invalid email or password" in case.find("error").text
    assert root.get("errors") == "1"
