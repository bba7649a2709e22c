"""`trackaudit demo` end to end: the real CLI, Chromium and the fixture vendors; assertions on the SQLite rows."""

import base64
import hashlib
import html
import zipfile
from urllib.parse import quote, quote_plus

import pytest

from conftest import DEMO_PASSWORDS

pytestmark = pytest.mark.e2e

LEAKY_EMAIL = "liam.novak@students.mps.test"


def rows(run, sql, params=()):
    return list(run.db.query(sql, params))


def test_demo_completes_quickly_and_says_where_the_database_is(demo_run):
    assert demo_run.returncode == 0, demo_run.stderr
    assert demo_run.seconds < 120
    assert "Database: results/demo.db" in demo_run.stdout
    assert "LeakyQuiz [leakyquiz]" in demo_run.stdout and "BrightPath Reading [brightpath]" in demo_run.stdout
    assert "third-party hosts" in demo_run.stdout


def test_run_row_has_status_version_and_hashes(demo_run):
    (run,) = rows(demo_run, "select * from runs")
    assert run["status"] == "complete" and run["mode"] == "demo"
    assert run["tool_version"] and len(run["config_hash"]) == 64
    audits = rows(demo_run, "select vendor_id, account, status, login_outcome from audits order by vendor_id")
    assert [(a["vendor_id"], a["status"], a["login_outcome"]) for a in audits] == [
        ("brightpath", "complete", "success"),
        ("leakyquiz", "complete", "success"),
    ]


def test_every_phase_ran_and_stamps_its_observations(demo_run):
    phases = {(r["vendor_id"], r["phase"]): r["outcome"] for r in rows(demo_run, "select * from phases")}
    for vendor in ("brightpath", "leakyquiz"):
        for phase in ("control", "login", "crawl", "logout", "reconnect", "respawn"):
            assert phases[(vendor, phase)] == "complete", (vendor, phase)
    for table in ("requests", "cookies", "storage_items", "pages"):
        assert rows(demo_run, f"select count(*) n from {table} where phase is null or run_id is null")[0]["n"] == 0
        assert rows(demo_run, f"select count(*) n from {table}")[0]["n"] > 0


def test_hashed_email_post_is_stored_with_its_host(demo_run):
    digest = hashlib.sha256(LEAKY_EMAIL.encode()).hexdigest()
    posts = rows(
        demo_run,
        "select * from requests where vendor_id = 'leakyquiz' and method = 'POST' and post_data like ?",
        [f"%{digest}%"],
    )
    assert posts, "the sha256 of the email in a JSON POST was not recorded"
    assert {p["host"] for p in posts} == {"collect.edutrack-analytics.test"}
    assert all(p["initiator_url"] for p in posts)


def test_third_party_cookie_is_recorded_with_its_attributes(demo_run):
    cookies = rows(
        demo_run, "select * from cookies where vendor_id = 'leakyquiz' and phase = 'crawl' and name = 'apx_uid'"
    )
    assert len(cookies) == 1
    cookie = cookies[0]
    assert cookie["domain"] == "sync.adpixel.test"
    assert cookie["same_site"] == "None" and cookie["secure"] == 1 and cookie["http_only"] == 1
    assert cookie["session"] == 0 and cookie["expires"] > 0
    assert cookie["set_by_kind"] == "header" and cookie["set_by_url"].startswith("https://sync.adpixel.test/")


def test_script_set_cookie_names_its_script(demo_run):
    (cookie,) = rows(
        demo_run, "select * from cookies where vendor_id = 'leakyquiz' and phase = 'crawl' and name = 'lq_vid'"
    )
    assert cookie["set_by_kind"] == "script"
    assert cookie["set_by_url"] == "https://app.leakyquiz.test/static/lq.js"
    assert cookie["session"] == 0


def test_indexeddb_record_cache_entry_and_service_worker_are_stored(demo_run):
    items = rows(demo_run, "select * from storage_items where vendor_id = 'leakyquiz' and phase = 'crawl'")
    kinds = {(i["kind"], i["container"], i["key"]) for i in items}
    assert ("indexedDB", "lq_store/ids", "vid") in kinds
    assert ("cacheStorage", "lq-cache-v1", "https://app.leakyquiz.test/api/profile") in kinds
    assert any(i["kind"] == "serviceWorker" and i["key"] == "https://app.leakyquiz.test/sw.js" for i in items)
    (vid,) = [i for i in items if i["kind"] == "localStorage" and i["key"] == "lq_vid"]
    (cookie,) = rows(
        demo_run, "select value from cookies where vendor_id = 'leakyquiz' and phase = 'crawl' and name = 'lq_vid'"
    )
    assert vid["value"] == cookie["value"]


def test_reconnect_resends_the_persistent_id_but_not_the_session_cookie(demo_run):
    (crawl_vid,) = rows(
        demo_run, "select value from cookies where vendor_id = 'leakyquiz' and phase = 'crawl' and name = 'lq_vid'"
    )
    sent = rows(
        demo_run,
        "select cookie_header from requests where vendor_id = 'leakyquiz' and phase = 'reconnect' "
        "and host = 'app.leakyquiz.test' and cookie_header is not null order by id",
    )
    assert sent
    first = sent[0]["cookie_header"]
    assert f"lq_vid={crawl_vid['value']}" in first
    assert all("lq_session=" not in r["cookie_header"] for r in sent)


def test_respawn_brings_the_deleted_id_back_with_its_old_value(demo_run):
    (before,) = rows(
        demo_run, "select value from cookies where vendor_id = 'leakyquiz' and phase = 'reconnect' and name = 'lq_vid'"
    )
    (after,) = rows(
        demo_run, "select value from cookies where vendor_id = 'leakyquiz' and phase = 'respawn' and name = 'lq_vid'"
    )
    assert after["value"] == before["value"]


def test_compliant_vendor_has_no_third_party_cookie(demo_run):
    domains = {
        r["domain"].lstrip(".")
        for r in rows(demo_run, "select distinct domain from cookies where vendor_id = 'brightpath'")
    }
    assert domains == {"www.brightpath.test"}
    names = {
        r["name"]
        for r in rows(demo_run, "select distinct name from cookies where vendor_id = 'brightpath' and phase = 'crawl'")
    }
    assert {"bp_session", "bp_csrf", "bp_remember"} <= names
    cdn = rows(
        demo_run, "select set_cookies from requests where vendor_id = 'brightpath' and host = 'cdn.jsdelivr.net'"
    )
    assert cdn and all(r["set_cookies"] == "[]" for r in cdn)


def test_login_post_never_stores_the_password(demo_run):
    (login,) = rows(
        demo_run,
        "select post_data from requests where vendor_id = 'brightpath' and method = 'POST' and phase = 'login'",
    )
    assert "password=[REDACTED]" in login["post_data"] and "email=maya.okafor%40students.mps.test" in login["post_data"]


def test_screenshots_are_written_with_their_digest(demo_run):
    pages = rows(
        demo_run, "select screenshot, screenshot_sha256 from pages where vendor_id = 'leakyquiz' and phase = 'crawl'"
    )
    assert len(pages) >= 4
    for page in pages:
        data = (demo_run.db_path.parent / page["screenshot"]).read_bytes()
        assert data.startswith(b"\x89PNG") and hashlib.sha256(data).hexdigest() == page["screenshot_sha256"]


def output_blobs(results):
    """Every file under results/, and every member of every zip (traces are zips)."""
    for path in sorted(p for p in results.rglob("*") if p.is_file()):
        try:
            data = path.read_bytes()
        except FileNotFoundError:  # another xdist worker's SQLite -wal/-shm or temporary report, gone already
            continue
        yield str(path), data
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    yield f"{path}!{member}", archive.read(member)


def test_no_password_in_any_output_file(demo_run):
    blobs = list(output_blobs(demo_run.db_path.parent))
    names = [name for name, _ in blobs]
    assert any(n.endswith(".png") for n in names) and any(n.endswith("demo.db") for n in names)
    assert any(n.endswith(".har") for n in names) and any("trace.zip!" in n for n in names)
    for password in DEMO_PASSWORDS.values():
        raw = password.encode()
        forms = {
            raw,
            quote(password).encode(),
            quote_plus(password).encode(),
            quote(password, safe="").encode(),
            base64.b64encode(raw),
            base64.b64encode(raw).rstrip(b"="),
            base64.urlsafe_b64encode(raw),
            html.escape(password).encode(),
        }
        for name, data in blobs:
            for form in forms:
                assert form not in data, f"{form!r} found in {name}"
        assert password not in demo_run.stdout + demo_run.stderr


def test_the_login_is_in_the_trace_with_its_password_masked(demo_run):
    traces = list(demo_run.db_path.parent.glob("evidence/run-1/leakyquiz/student/audited.trace.zip"))
    assert traces
    with zipfile.ZipFile(traces[0]) as archive:
        actions = archive.read("trace.trace").decode()
    assert '"#password"' in actions and "[REDACTED]" in actions
