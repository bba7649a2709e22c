"""What an audit must not miss, and must not hide: StudyNook (fixtures/vendors/studynook.py, fixtures/coverage.toml).

A complete audit records sessionStorage and Cache Storage of third-party frames removed at once, the Set-Cookie
of an aborted fetch, a popup's requests, and the tracker two links deep re-sent after the restart. A wrong
password, a login page that answers 404 and an unreachable site end "incomplete", exit 3, with the cause.
"""

import json
import os

import pytest
import sqlite_utils

from conftest import run_cli
from fixtures.server import FixtureInternet

pytestmark = pytest.mark.e2e

USER, PASSWORD = "ava.lee@students.mps.test", "Sn cover~age*pass!1"
ENV = "TRACKAUDIT_TEST_STUDYNOOK_PASSWORD"
COVERAGE_TOML = os.path.join(os.path.dirname(__file__), "..", "fixtures", "coverage.toml")


class Nook:
    def __init__(self, internet, workdir):
        self.internet, self.workdir = internet, workdir
        browser = (
            f'[browser]\nheadless = true\nhost_resolver_rules = "{internet.host_resolver_rules}"\n'
            f'trusted_spki = ["{internet.spki}"]\n'
        )
        with open(COVERAGE_TOML) as toml:
            self.text = toml.read().replace("[browser]\nheadless = true\n", browser)

    def audit(self, name, *extra, password=PASSWORD, text=None):
        config = self.workdir / f"{name}.toml"
        config.write_text(text or self.text)
        db = self.workdir / f"{name}.db"
        proc = run_cli(
            ["audit", "--config", str(config), "--db", str(db), *extra], cwd=self.workdir, env_extra={ENV: password}
        )
        return proc, sqlite_utils.Database(db)


@pytest.fixture(scope="module")
def nook(tmp_path_factory):
    with FixtureInternet({USER: PASSWORD}) as internet:
        yield Nook(internet, tmp_path_factory.mktemp("nook"))


@pytest.fixture(scope="module")
def full_audit(nook):
    return nook.audit("full")


def test_a_complete_audit_is_not_marked_incomplete(full_audit):
    proc, db = full_audit
    assert proc.returncode == 1, proc.stdout + proc.stderr  # violations, and nothing missing
    (audit,) = db.query("select * from audits")
    assert audit["incomplete"] is None and audit["login_outcome"] == "success"
    coverage = json.loads(audit["coverage"])
    assert set(coverage["phases"].values()) == {"complete"}
    assert coverage["counts"].get("loaded", 0) >= 10
    (verdict,) = db.query("select * from verdicts")
    assert verdict["verdict"] == "violations found"
    assert "coverage" in proc.stdout and "AUDIT INCOMPLETE" not in proc.stdout


def test_storage_of_removed_third_party_frames_is_kept_with_its_partition(full_audit):
    _, db = full_audit
    rows = list(
        db.query(
            "select kind, origin, container, key, value, partition_key from storage_items "
            "where phase = 'crawl' and origin in ('https://widgets.nookads.test', 'https://chat.nookhelp.test')"
        )
    )
    for origin, name in (("https://widgets.nookads.test", "nookads"), ("https://chat.nookhelp.test", "nookhelp")):
        mine = [r for r in rows if r["origin"] == origin]
        assert {(r["kind"], r["key"]) for r in mine} >= {
            ("localStorage", f"{name}_local"),
            ("sessionStorage", f"{name}_session"),
            ("cacheStorage", f"{origin}/cached"),
        }, mine
        assert {r["partition_key"] for r in mine} == {"https://studynook.test"}
        cached = next(r for r in mine if r["kind"] == "cacheStorage")
        assert cached["container"] == f"{name}-cache" and cached["value"].startswith("c-")


def test_the_cookie_of_an_aborted_fetch_has_its_setter(full_audit):
    _, db = full_audit
    cookies = list(db.query("select * from cookies where name = 'nk_sync'"))
    assert cookies and {c["set_by_url"] for c in cookies} == {"https://sync.nookads.test/id"}
    assert {c["set_by_kind"] for c in cookies} == {"header"}
    aborted = list(
        db.query("select * from requests where url = 'https://sync.nookads.test/id' and failure is not null")
    )
    assert aborted and all("nk_sync=" in r["set_cookies"] for r in aborted)


def test_the_cookie_of_an_aborted_fetch_in_a_cross_site_frame_has_its_setter(full_audit):
    _, db = full_audit
    for name in ("nookads", "nookhelp"):
        url = f"https://sync.nookads.test/id?from={name}"
        cookies = list(db.query("select * from cookies where name = ?", [f"nk_sync_{name}"]))
        assert cookies and {(c["set_by_url"], c["set_by_kind"]) for c in cookies} == {(url, "header")}, cookies
        aborted = list(db.query("select * from requests where url = ? and failure is not null", [url]))
        assert aborted and all(f"nk_sync_{name}=" in r["set_cookies"] for r in aborted), aborted


def test_a_popup_is_recorded_and_closed_without_error_rows(full_audit):
    _, db = full_audit
    urls = {r["url"] for r in db.query("select url from requests where host = 'popup.nookads.test'")}
    assert {"https://popup.nookads.test/offer", "https://popup.nookads.test/pixel.gif"} <= urls
    errors = [r["message"] for r in db.query("select message from errors")]
    assert not [m for m in errors if "TargetClosedError" in m or "has been closed" in m], errors


def test_the_tracker_on_a_deep_page_is_seen_re_sent_after_the_restart(full_audit):
    _, db = full_audit
    revisited = {r["url"] for r in db.query("select url from pages where phase = 'reconnect'")}
    assert "https://www.studynook.test/lessons/advanced/quiz" in revisited
    found = {(f["rule_id"], f["subject"]) for f in db.query("select * from findings")}
    assert ("IV.B-identifier-on-reconnect", "cookie nk_uid") in found


def test_a_wrong_password_is_an_incomplete_audit_that_makes_the_vendor_due(nook, full_audit):
    # The same database as the complete audit: a recent complete audit does not hide a later incomplete one.
    (nook.workdir / "wrong-password.db").write_bytes((nook.workdir / "full.db").read_bytes())
    proc, db = nook.audit("wrong-password", password="not the password")
    assert proc.returncode == 3, proc.stdout + proc.stderr
    (verdict,) = db.query("select * from verdicts where run_id = (select max(id) from runs)")
    assert verdict["verdict"] == "incomplete"
    reasons = json.loads(verdict["reasons"])
    assert reasons[0].startswith(
        "audit incomplete: login failed: the page said 'Invalid email or password'; screenshot: screenshots/"
    ), reasons
    audit = list(db.query("select * from audits order by id desc limit 1"))[0]
    assert audit["incomplete"].startswith("login failed: the page said 'Invalid email or password'")
    assert "AUDIT INCOMPLETE" in proc.stdout and "Traceback" not in proc.stderr

    runs = db.execute("select count(*) from runs").fetchone()[0]
    due = run_cli(
        [
            "audit",
            "--config",
            str(nook.workdir / "wrong-password.toml"),
            "--db",
            str(nook.workdir / "wrong-password.db"),
            "--due",
            "--quiet",
        ],
        cwd=nook.workdir,
        env_extra={ENV: "not the password"},
    )
    assert "its last audit was incomplete: due" in due.stderr and "not due" not in due.stderr
    assert due.returncode == 3 and "studynook: incomplete" in due.stdout, due.stdout + due.stderr
    assert db.execute("select count(*) from runs").fetchone()[0] == runs + 1


def test_a_login_page_that_answers_404_is_named(nook):
    text = nook.text.replace('url = "https://www.studynook.test/login"', 'url = "https://www.studynook.test/signin"')
    proc, db = nook.audit("login-404", text=text)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    (verdict,) = db.query("select * from verdicts")
    assert verdict["verdict"] == "incomplete"
    assert "audit incomplete: login failed: https://www.studynook.test/signin answered 404" in json.loads(
        verdict["reasons"]
    )
    (page,) = db.query("select * from pages where phase = 'login'")
    assert page["status"] == 404 and page["failure_class"] == "HTTP 404"
