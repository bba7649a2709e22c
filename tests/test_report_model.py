"""The report model, read from a small database built by hand; ``build_report_db`` is shared by the other
``test_report_*`` files (the demo is too slow for unit tests)."""

from __future__ import annotations

import hashlib
import struct
import time
import zlib
from dataclasses import FrozenInstanceError, dataclass
from pathlib import Path
from typing import Any

import pytest

from crawler.config import Vendor
from crawler.observations import CookieObs, PageObs, RequestObs
from crawler.policy.pack import PolicyPack, load_pack
from crawler.report import EXTENSIONS, render_report, write_report
from crawler.report.model import build_report
from crawler.store.seal import write_manifest
from crawler.store.writer import Store

EMAIL = "liam.novak@students.mps.test"
EMAIL_SHA256 = hashlib.sha256(EMAIL.encode()).hexdigest()
DAY = 86400.0


def tiny_png(width: int = 8, height: int = 6) -> bytes:
    """A valid RGB PNG of one colour, made without an imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\x20\x40\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def request(
    url: str,
    host: str,
    *,
    method: str = "GET",
    page_url: str | None = None,
    cookie_header: str | None = None,
    post_data: str | None = None,
) -> RequestObs:
    return RequestObs(
        time=time.time(),
        method=method,
        url=url,
        host=host,
        scheme="https",
        resource_type="fetch",
        frame_url=page_url,
        page_url=page_url,
        is_navigation=False,
        from_service_worker=False,
        initiator_type="script",
        initiator_url="https://cdn.tracker.test/t.js",
        request_headers=(("Accept", "*/*"),),
        cookie_header=cookie_header,
        referer=page_url,
        post_data=post_data,
        status=204,
        response_headers=(),
        set_cookies=(),
        remote_address="127.0.0.1:443",
        tls_protocol="TLS 1.3",
        tls_cipher="AES_256_GCM",
        failure=None,
    )


def page(url: str, title: str, screenshot: str | None = None, sha: str | None = None) -> PageObs:
    now = time.time()
    return PageObs(
        url=url,
        final_url=url,
        status=200,
        title=title,
        depth=0,
        started=now,
        finished=now,
        screenshot=screenshot,
        screenshot_sha256=sha,
        error=None,
    )


@dataclass
class Built:
    store: Store
    run_id: int
    pack: PolicyPack
    findings: list[dict[str, Any]]
    db_path: Path


def build_report_db(folder: Path) -> Built:
    """Two vendors: ``bright`` (compliant, no finding) and ``leaky`` (violations under IV.A, II.A, IV.B, IV.C, a
    warning under IV.D, and a change since a previous audit)."""
    pack = load_pack()
    store = Store(folder / "results" / "audit.db")
    lists = [
        {"name": "easyprivacy", "version": "202401010000", "sha256": "ab" * 32, "source": "/lists/easyprivacy.txt"}
    ]
    run_id = store.start_run(
        "audit",
        "trackaudit audit --config vendors.toml",
        config_hash="cd" * 32,
        policy_name=pack.id,
        policy_hash=pack.sha256,
        lists=lists,
    )
    for vid, name, url in (
        ("bright", "Bright <Reading> & Co", "https://www.bright.test/"),
        ("leaky", "LeakyQuiz", "https://app.leaky.test/"),
    ):
        store.upsert_vendor(Vendor(id=vid, name=name, status="approved", start_url=url))

    # bright: one audit, one page with a screenshot, no finding
    bright = store.start_audit(run_id, "bright", "student", "maya@students.mps.test", pii={"email": "maya@x.test"})
    bright.begin_phase("crawl")
    shot = f"screenshots/run-{run_id}/bright/student/001-crawl.png"
    png = tiny_png()
    (store.artefacts_dir / shot).parent.mkdir(parents=True, exist_ok=True)
    (store.artefacts_dir / shot).write_bytes(png)
    bright.add(page("https://www.bright.test/dashboard", "Dashboard", shot, hashlib.sha256(png).hexdigest()))
    bright.add(request("https://www.bright.test/api", "www.bright.test"))
    bright.end_phase()
    bright.finish("complete", login_outcome="success", pages_visited=1)

    # leaky: PII to a third party, a long-lived identifier cookie sent again after the restart
    leaky = store.start_audit(run_id, "leaky", "student", EMAIL, pii={"email": EMAIL})
    leaky.begin_phase("crawl")
    home = "https://app.leaky.test/home"
    leak_shot = f"screenshots/run-{run_id}/leaky/student/001-crawl.png"
    leak_png = tiny_png(10, 4)
    (store.artefacts_dir / leak_shot).parent.mkdir(parents=True, exist_ok=True)
    (store.artefacts_dir / leak_shot).write_bytes(leak_png)
    page_id = leaky.add(page(home, "Home <LeakyQuiz>", leak_shot, hashlib.sha256(leak_png).hexdigest()))
    context = '{"uid":"' + EMAIL_SHA256 + '","tag":"<b>&co"}'
    leak_id = leaky.add(
        request(
            "https://collect.tracker.test/v1/identify",
            "collect.tracker.test",
            method="POST",
            page_url=home,
            post_data=context,
        )
    )
    beacon_id = leaky.add(
        request("https://collect.tracker.test/v1/beacon?vid=VID12345678", "collect.tracker.test", page_url=home)
    )
    expires = time.time() + 400 * DAY
    cookie_id = leaky.add(
        CookieObs(
            name="lq_vid",
            value="VID12345678",
            domain="app.leaky.test",
            host_only=True,
            path="/",
            expires=expires,
            session=False,
            http_only=False,
            secure=True,
            same_site="Lax",
            partition_key=None,
            size=17,
            source_scheme="Secure",
            set_by_kind="script",
            set_by_url="https://app.leaky.test/static/lq.js",
        )
    )
    leaky.end_phase()
    leaky.begin_phase("reconnect")
    again_id = leaky.add(
        request(
            "https://app.leaky.test/",
            "app.leaky.test",
            page_url="https://app.leaky.test/",
            cookie_header="lq_vid=VID12345678; other=1",
        )
    )
    leaky.end_phase()
    leaky.finish("complete", login_outcome="success", pages_visited=1)

    flow = {
        "table": "requests",
        "row_id": leak_id,
        "phase": "crawl",
        "host": "collect.tracker.test",
        "party": "third",
        "entity": "tracker.test",
        "url": "https://collect.tracker.test/v1/identify",
        "field": "email",
        "encoding": "sha256 of the email",
        "chain": ["sha256"],
        "location": "post body > json",
        "matched": EMAIL_SHA256,
        "context": context,
    }
    cookie = {
        "name": "lq_vid",
        "domain": "app.leaky.test",
        "path": "/",
        "value": "VID12345678",
        "expires": expires,
        "lifetime_days": 400.0,
        "session": False,
        "http_only": False,
        "secure": True,
        "same_site": "Lax",
        "partition_key": None,
        "party": "first",
        "entity": "leaky.test",
        "purpose": "unknown",
        "purpose_source": None,
        "purpose_pattern": None,
        "set_by": "https://app.leaky.test/static/lq.js",
        "set_by_kind": "script",
        "phase": "crawl",
    }
    findings: list[dict[str, Any]] = [
        {
            "rule_id": "IV.A-pii-to-third-party",
            "clause": "IV.A",
            "severity": "violation",
            "subject": "host collect.tracker.test",
            "account": "student",
            "message": "The test student's email (sha256 of the email) reached the third party tracker.test.",
            "evidence": {
                "rows": {"requests": [leak_id]},
                "flows": [flow],
                "hosts": ["collect.tracker.test"],
                "recipient": "tracker.test",
            },
        },
        {
            "rule_id": "II.A-pii-disclosed",
            "clause": "II.A",
            "severity": "violation",
            "subject": "host collect.tracker.test",
            "account": "student",
            "message": "The test student's email reached tracker.test; II.A forbids disclosing it.",
            "evidence": {"rows": {"requests": [leak_id]}, "flows": [flow], "recipient": "tracker.test"},
        },
        {
            "rule_id": "IV.C-lifetime-over-maximum",
            "clause": "IV.C",
            "severity": "violation",
            "subject": "cookie lq_vid",
            "account": "student",
            "message": "Cookie lq_vid is set to last 400 days.",
            "evidence": {"rows": {"cookies": [cookie_id]}, "cookie": cookie, "maximum_days": 396},
        },
        {
            "rule_id": "IV.B-identifier-on-reconnect",
            "clause": "IV.B",
            "severity": "violation",
            "subject": "cookie lq_vid",
            "account": "student",
            "message": "After the restart lq_vid was sent again.",
            "evidence": {
                "rows": {"cookies": [cookie_id], "requests": [again_id, beacon_id]},
                "cookie": cookie,
                "identifier": ["it is the same after the browser restart"],
                "renewed": None,
            },
        },
        {
            "rule_id": "IV.D-behavioural-tracker",
            "clause": "IV.D",
            "severity": "warning",
            "subject": "host collect.tracker.test",
            "account": "student",
            "message": "tracker.test runs analytics.",
            "evidence": {
                "rows": {"requests": [leak_id, beacon_id]},
                "pages": [home],
                "observed": ["receives lq_vid"],
                "hosts": [
                    {
                        "host": "collect.tracker.test",
                        "category": "analytics",
                        "organisation": None,
                        "source": "builtin",
                        "filter_list": None,
                        "filter": None,
                        "matched_url": None,
                    }
                ],
            },
        },
        {
            "rule_id": "baseline.new-tracker",
            "clause": "IV.D",
            "severity": "info",
            "subject": "host collect.tracker.test",
            "account": None,
            "message": "New since the previous audit (run 0): tracker collect.tracker.test.",
            "evidence": {
                "rows": {},
                "previous_run_id": 0,
                "change": "new",
                "kind": "tracker",
                "key": "collect.tracker.test",
                "related_rules": ["IV.D-behavioural-tracker"],
            },
        },
    ]
    store.replace_findings(run_id, "leaky", findings)
    store.replace_findings(run_id, "bright", [])
    store.save_verdict(run_id, "bright", "scheduled audit", "compliant", [])
    store.save_verdict(run_id, "leaky", "scheduled audit", "violations found", ["violation under IV.A: …"])
    store.finish_run(run_id, "complete", verdict="bright: compliant; leaky: violations found")
    write_manifest(store, run_id)
    assert page_id
    return Built(store, run_id, pack, findings, store.path)


@pytest.fixture
def built(tmp_path):
    result = build_report_db(tmp_path)
    yield result
    result.store.close()


def test_model_reads_run_vendors_findings_and_manifest(built):
    report = build_report(built.store, built.run_id, built.pack)
    assert report.run.id == built.run_id and report.run.status == "complete"
    assert [v.id for v in report.vendors] == ["bright", "leaky"]
    bright, leaky = report.vendors
    assert bright.verdict.verdict == "compliant" and bright.findings == ()
    assert leaky.verdict.verdict == "violations found"
    assert leaky.counts == {"violation": 4, "warning": 1, "info": 1}
    assert [item.name for item in report.run.lists] == ["easyprivacy"]
    assert report.manifest is not None and any(a.kind == "screenshot" for a in report.manifest.artefacts)
    assert {d.table for d in report.manifest.rows} >= {"findings", "requests"}


def test_model_pages_involved_follow_the_requests_a_finding_names(built):
    report = build_report(built.store, built.run_id, built.pack)
    leaky = report.vendors[1]
    leak = next(f for f in leaky.findings if f.rule_id == "IV.A-pii-to-third-party")
    assert [leaky.page(p).url for p in leak.page_ids] == ["https://app.leaky.test/home"]


def test_model_cookie_lifetimes_and_third_party_hosts(built):
    leaky = build_report(built.store, built.run_id, built.pack).vendors[1]
    (cookie,) = leaky.cookies
    assert cookie.name == "lq_vid" and 399 < cookie.lifetime_days < 401 and cookie.flagged
    assert [(h.host, h.requests, h.flagged) for h in leaky.third_party_hosts] == [("collect.tracker.test", 2, True)]


def test_model_groups_findings_by_clause_in_pack_order(built):
    report = build_report(built.store, built.run_id, built.pack)
    groups = report.clause_groups(report.vendors[1])
    order = list(built.pack.clauses)
    assert [g.clause.id for g in groups] == sorted({f["clause"] for f in built.findings}, key=order.index)
    assert all(g.clause.text == built.pack.clauses[g.clause.id] for g in groups)
    iv_d = next(g for g in groups if g.clause.id == "IV.D")
    assert [f.severity for f in iv_d.findings] == ["warning", "info"]


def test_model_is_frozen(built):
    report = build_report(built.store, built.run_id, built.pack)
    with pytest.raises(FrozenInstanceError):
        report.vendors[0].name = "x"  # type: ignore[misc]


def test_write_report_writes_each_format_and_returns_the_path(built, tmp_path):
    for fmt, ext in EXTENSIONS.items():
        out = tmp_path / "out" / f"report.{ext}"
        assert write_report(built.store, built.run_id, fmt, out, built.pack) == out
        assert out.stat().st_size > 0
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]  # no temporary file left


def test_write_report_dash_writes_standard_output(built, capsys):
    assert write_report(built.store, built.run_id, "md", "-", built.pack) is None
    assert "LeakyQuiz" in capsys.readouterr().out


def test_unknown_format_or_run_is_an_error(built):
    with pytest.raises(ValueError, match="unknown report format"):
        render_report(built.store, built.run_id, "pdf", built.pack)
    with pytest.raises(ValueError, match="no run 999"):
        render_report(built.store, 999, "json", built.pack)
