"""Metadata that makes a trackaudit database browsable in Datasette: a title, a description of every table and
column, facets on findings, and a few canned queries.

    pip install datasette
    datasette results/demo.db --metadata results/demo.datasette.json

Every run writes the metadata next to its database (``NAME.datasette.json`` for ``NAME.db``).

Datasette is not a dependency of trackaudit; this only writes the JSON it reads.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..store.queries import DATASETTE_QUERIES
from ..store.schema import UNIX_TIME_COLUMNS

PROVENANCE = {
    "id": "Row id; findings' evidence points at these ids",
    "audit_id": "The audit (vendor × account) that saw it: audits.id",
    "run_id": "The run: runs.id",
    "vendor_id": "The vendor: vendors.id",
    "account": "The test account's role (e.g. student)",
    "phase": "Protocol phase: control, login, crawl, reconnect, retention, logout, respawn (audit); removal-login, "
    "removal-public, removal-replay (post-termination check)",
}

TABLES: dict[str, tuple[str, dict[str, str]]] = {
    "runs": (
        "One row per trackaudit run (audit, scan, verify-removal, demo): when, how it ended, and what judged it.",
        {
            "id": "Run id",
            "mode": "audit, scan, verify-removal or demo",
            "command": "The command line that started it",
            "started_at": "Start (UTC, ISO 8601)",
            "finished_at": "End (UTC, ISO 8601)",
            "status": "running, complete, incomplete (cut off) or failed",
            "tool_version": "trackaudit version",
            "config_path": "vendors.toml used",
            "config_hash": "SHA-256 of the vendors.toml",
            "policy_name": "Policy pack id",
            "policy_hash": "SHA-256 of the policy pack file",
            "lists": "JSON: the tracker/cookie lists and pack that judged the run, each with name, version, sha256, source",
            "hostname": "Machine that ran it",
            "pid": "Process id (to tell a crashed run)",
            "verdict": "The run's verdict per vendor, in words",
            "message": "Why the run failed or stopped, if it did",
            "manifest_sha256": "SHA-256 of the run's evidence manifest (evidence/run-N/manifest.json)",
            "label": "Start time and command, to tell runs apart where another table links to one",
        },
    ),
    "vendors": (
        "The edtech vendors from vendors.toml, as last configured.",
        {
            "id": "Vendor id (the config's id)",
            "name": "Vendor's name",
            "status": "candidate, approved or terminated",
            "start_url": "Where the audit starts",
            "first_party": "JSON list of extra domains the vendor owns",
            "remember_cookies": "JSON list of cookie names the district accepts as login retention (IV.B)",
            "updated_at": "When this row was last written",
        },
    ),
    "audits": (
        "One audit per run × vendor × test account: login outcome and pages visited.",
        {
            "id": "Audit id",
            "run_id": "runs.id",
            "vendor_id": "vendors.id",
            "account": "The test account's role",
            "username": "The test account's user name",
            "started_at": "Start (UTC)",
            "finished_at": "End (UTC)",
            "status": "running, complete, incomplete or failed",
            "login_outcome": "success, failed, skipped …",
            "login_message": "What the login check saw",
            "pages_visited": "Pages crawled",
            "pii": "JSON: the test account's personal data the matcher searched for (test data, not a real student's)",
            "label": "Run, vendor and account, to tell audits apart where another table links to one",
            "coverage": "JSON: phases run, page visits loaded and failed by class (DNS, TLS, refused, timeout, HTTP "
            "status), login outcome",
            "incomplete": "Why the audit is incomplete (it then gets no assuring verdict); empty when it saw what it had to",
            "canaries": "JSON: the values the behaviour probes typed into fields (email, name, text) and planted in "
            "pages (dom, dom_input); requests carrying them are key logging or session recording",
        },
    ),
    "phases": (
        "The protocol's phases of each audit, with timings and outcome.",
        {
            "started_at": "Start (Unix time)",
            "finished_at": "End (Unix time); cookie lifetimes count from here",
            "outcome": "complete, failed, skipped …",
            "message": "Why a phase did not complete, or what it found, in words",
            "result": "What the phase found, when it found something: recognised (the removal check's saved browser "
            "state still opened the account)",
            "result_url": "The URL the result concerns",
        },
    ),
    "requests": (
        "Every request the browser made, with its response: who was contacted, what was sent (Cookie "
        "header, URL, body) and how it was encrypted.",
        {
            "time": "When it was sent (Unix time)",
            "method": "HTTP method",
            "url": "Full URL (passwords masked)",
            "host": "Host name",
            "scheme": "https, http, wss, ws, data …",
            "resource_type": "document, script, xhr, fetch, image …",
            "frame_url": "URL of the frame that sent it",
            "page_url": "URL of the top-level page",
            "is_navigation": "1 when it loaded a document",
            "from_service_worker": "1 when a service worker sent it",
            "initiator_type": "parser, script, preflight, other",
            "initiator_url": "The script or document behind it",
            "request_headers": "JSON list of [name, value] as sent, Cookie included",
            "cookie_header": "The Cookie header sent",
            "referer": "The Referer header",
            "post_data": "Request body (passwords masked)",
            "status": "HTTP status",
            "response_headers": "JSON list of [name, value]",
            "set_cookies": "JSON list of raw Set-Cookie values",
            "remote_address": "Server IP:port",
            "tls_protocol": "TLS version negotiated (e.g. TLS 1.3)",
            "tls_cipher": "Cipher negotiated (e.g. AES_256_GCM)",
            "failure": "Network error, if it failed",
        },
    ),
    "cookies": (
        "The browser's cookie jar at the end of each phase (HttpOnly and partitioned included), with who "
        "set each cookie.",
        {
            "name": "Cookie name",
            "value": "Cookie value",
            "domain": "Domain (leading dot: sent to subdomains)",
            "host_only": "1 when only the exact host receives it",
            "path": "Path",
            "expires": "Expiry (Unix time); null for a session cookie",
            "session": "1 for a session cookie",
            "http_only": "1 when scripts cannot read it",
            "secure": "1 when sent over HTTPS only",
            "same_site": "Strict, Lax, None or null",
            "partition_key": "CHIPS partition (top-level site), if partitioned",
            "size": "Name + value length",
            "source_scheme": "Secure or NonSecure origin that set it",
            "set_by_kind": "header (Set-Cookie) or script (document.cookie)",
            "set_by_url": "The response or script that set it",
        },
    ),
    "storage_items": (
        "Client-side storage at the end of each phase: localStorage, sessionStorage, IndexedDB records, "
        "Cache Storage entries, service workers.",
        {
            "kind": "localStorage, sessionStorage, indexedDB, cacheStorage or serviceWorker",
            "origin": "The origin owning it",
            "frame_url": "Frame it was read from",
            "container": "IndexedDB db/store, cache name or service-worker scope",
            "key": "Key (or URL for Cache Storage)",
            "value": "Value (truncated when very large)",
            "size": "Size in characters",
            "partition_key": "Top-level site whose partition holds it (a third-party frame's storage); empty if unpartitioned",
        },
    ),
    "script_cookie_writes": (
        "document.cookie assignments seen by the instrumentation script: which script set which cookie.",
        {
            "time": "When (Unix time)",
            "frame_url": "Frame of the write",
            "script_url": "Script that wrote it",
            "cookie_string": "The string assigned to document.cookie",
        },
    ),
    "api_calls": (
        "Calls to JavaScript APIs that fingerprinting uses (canvas, WebRTC, audio, navigator and screen), "
        "seen by the instrumentation script before any page script: each distinct call once per document.",
        {
            "time": "When (Unix time)",
            "page_url": "The tab's page",
            "frame_url": "Frame of the call",
            "script_url": "Script that called it (from the stack; an inline script shows its page's URL)",
            "api": "The API, e.g. HTMLCanvasElement.toDataURL or navigator.userAgent",
            "target": "The canvas or peer connection called on",
            "detail": "Text drawn, colour, font, read-back size and format",
        },
    ),
    "cname_chains": (
        "DNS CNAME chains of the first-party hosts each audit contacted, looked up after the browsing: "
        "a vendor's name that aliases a tracker's domain is a CNAME-cloaked tracker.",
        {
            "time": "When it was looked up (Unix time)",
            "host": "The first-party host",
            "chain": "JSON: the host, then each CNAME target in order (just the host when it is no alias)",
            "resolver": "The DNS server asked (HOST:PORT), or system",
            "error": "Why the chain could not be looked up (or was not: a reserved .test name without --dns-resolver)",
        },
    ),
    "websocket_frames": (
        "WebSocket frames the pages sent and received (a chat widget streaming what is typed, say), per socket; "
        "sent frames are searched for the account's personal data and the audit's canaries like request bodies.",
        {
            "time": "When the frame passed (Unix time)",
            "socket_url": "The socket's URL (wss://…)",
            "host": "The socket's host",
            "page_url": "The tab's top-level page",
            "frame_url": "The frame that opened the socket, when known",
            "initiator_url": "The script that opened the socket, when known",
            "direction": "sent (by the page) or received",
            "opcode": "text or binary",
            "payload": "The payload (passwords masked), cut at 100,000 characters; a binary frame's bytes in base64",
            "size": "The whole payload's length: characters of text, bytes of binary",
            "truncated": "1 when the payload was cut",
        },
    ),
    "retention_cookies": (
        "The persistent first-party cookies the retention phase tested (IV.B's login-retention "
        "exception, proven by behaviour): relaunched from the cookies saved after the reconnect "
        "without each (or a group), was the student still logged in?",
        {
            "name": "Cookie name",
            "domain": "Cookie domain",
            "path": "Cookie path",
            "needed": "1: without it the student was logged out (the login retention IV.B allows); 0: logged in without "
            "it (or not logged in even with every cookie); empty: needed with its group, not told apart",
            "trial": "The relaunch that decided it (1 is the relaunch with every saved cookie)",
            "left_out": "How many cookies that relaunch left out (0: none, the login was not kept at all)",
        },
    ),
    "pages": (
        "Page visits, with the screenshot taken (a file beside the database).",
        {
            "url": "URL visited",
            "final_url": "URL after redirects",
            "status": "HTTP status of the document",
            "title": "Page title",
            "depth": "Link depth from the configured pages",
            "started": "Start (Unix time)",
            "finished": "End (Unix time)",
            "screenshot": "Screenshot file, relative to the database's folder",
            "screenshot_sha256": "SHA-256 of the screenshot",
            "error": "Why the visit failed, if it did",
            "forms": "JSON: the forms on the page and the personal data each asks for (what a sign-up page collects)",
            "failure_class": "Why the visit failed: DNS, TLS, refused, timeout, connection or HTTP <status>; empty if it loaded",
            "visible_text": "The page's visible text when the DOM canary was planted (crawl phase, first 1 000 000 characters)",
        },
    ),
    "errors": (
        "Failures that did not stop the audit (a collector, a page, a rule).",
        {
            "time": "When (Unix time)",
            "source": "Collector, step or rule that failed",
            "url": "Page involved",
            "message": "The error",
        },
    ),
    "findings": (
        "What the policy rules found: one row per finding, with the clause it breaks and evidence pointing "
        "at observation rows.",
        {
            "id": "Finding id",
            "run_id": "runs.id",
            "vendor_id": "vendors.id",
            "account": "Test account role",
            "rule_id": "Stable rule id (e.g. IV.B-identifier-on-reconnect); baseline.* = change since the previous audit",
            "clause": "Policy clause (e.g. IV.B)",
            "severity": "violation, warning or info",
            "subject": "What it is about, e.g. 'cookie lq_vid' or 'host collect.example.com'",
            "message": "Plain-language explanation",
            "evidence": "JSON: evidence_kind (cookie, storage, pii-flow, "
            "identifier-sharing, tracker, tls, change, login, page), rows ({table: [ids]}) and the kind's detail "
            "(PII flows with encoding chain, cookie attributes, hosts, …)",
            "created_at": "When it was judged (UTC)",
        },
    ),
    **{
        f"{table}_utc": (
            f"The {table} table with its Unix times also in ISO 8601 UTC (the *_utc columns).",
            {f"{column}_utc": f"{column} in ISO 8601 UTC" for column in columns},
        )
        for table, columns in UNIX_TIME_COLUMNS.items()
    },
    "verdicts": (
        "Each job's verdict per vendor and run (scheduled audit, pre-approval, post-termination).",
        {
            "id": "Verdict id",
            "run_id": "runs.id",
            "vendor_id": "vendors.id",
            "job": "scheduled audit, pre-approval or post-termination",
            "verdict": "compliant, violations found, warnings only, approve, do not approve, needs review, removal verified, "
            "removal not verified, incomplete (or a negative verdict + ' — audit incomplete')",
            "reasons": "JSON list of reasons in words",
            "baseline_run_id": "The earlier run it was compared with",
            "created_at": "When (UTC)",
        },
    ),
}

OBSERVATION_TABLES = (
    "phases",
    "requests",
    "cookies",
    "storage_items",
    "script_cookie_writes",
    "api_calls",
    "retention_cookies",
    "websocket_frames",
    "pages",
    "errors",
    "cname_chains",
)


def datasette_metadata(database: str = "audit") -> dict[str, Any]:
    """Datasette metadata (the ``--metadata`` JSON) for a trackaudit database whose file stem is ``database``."""
    tables = {}
    for table, (description, columns) in TABLES.items():
        described = dict(columns)
        if table in OBSERVATION_TABLES:
            described = {**PROVENANCE, **described}
        entry: dict[str, Any] = {"description": description, "columns": described}
        if table == "findings":
            entry.update(facets=["vendor_id", "clause", "severity", "rule_id"], sort_desc="id")
        elif table == "requests":
            entry.update(facets=["vendor_id", "phase", "host"])
        elif table in ("cookies", "storage_items", "pages"):
            entry.update(facets=["vendor_id", "phase"])
        elif table == "runs":
            entry.update(sort_desc="id", label_column="label")
        elif table == "audits":
            entry.update(label_column="label")
        elif table == "vendors":
            entry.update(label_column="name")
        tables[table] = entry
    return {
        "title": "trackaudit: tracking audits of school edtech vendors",
        "description": (
            "What each vendor's service and its third parties stored and sent while a district test "
            "account used it in a real browser, and the findings under the district's policy. Start "
            "with findings (faceted by vendor, clause and severity) or the canned queries."
        ),
        "databases": {
            database: {
                "description": "trackaudit results: runs, observations (requests, cookies, storage, pages) and findings.",
                "tables": tables,
                "queries": DATASETTE_QUERIES,
            }
        },
    }


def write_datasette_metadata(store, path: str | Path | None = None) -> Path:
    """Write the metadata next to the database (``NAME.datasette.json`` for ``NAME.db``) unless ``path`` says
    otherwise."""
    target = Path(path) if path else Path(store.artefacts_dir) / f"{Path(store.path).stem}.datasette.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        json.dumps(datasette_metadata(Path(store.path).stem), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return target
