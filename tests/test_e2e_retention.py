"""IV.B's login-retention exception proven by behaviour: QuillPad (fixtures/vendors/quillpad.py,
fixtures/retention.toml). After the reconnect the audit relaunches throwaway profiles without one saved cookie at a
time: ``zq_k`` (an obscure name) keeps the login and is allowed; ``remember_device`` (named like a remember-me
cookie, not needed for the login) is a persistent identifier re-sent on reconnect, an IV.B violation.
"""

import json
import os

import pytest
import sqlite_utils

from conftest import run_cli
from fixtures.server import FixtureInternet

pytestmark = pytest.mark.e2e

USER, PASSWORD = "noor.haddad@students.mps.test", "Qp retain~me*pass!7"
ENV = "TRACKAUDIT_TEST_QUILLPAD_PASSWORD"
RETENTION_TOML = os.path.join(os.path.dirname(__file__), "..", "fixtures", "retention.toml")


@pytest.fixture(scope="module")
def audit(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("quillpad")
    with FixtureInternet({USER: PASSWORD}) as internet:
        browser = (
            f'[browser]\nheadless = true\nhost_resolver_rules = "{internet.host_resolver_rules}"\n'
            f'trusted_spki = ["{internet.spki}"]\n'
        )
        with open(RETENTION_TOML) as toml:
            text = toml.read().replace("[browser]\nheadless = true\n", browser)
        config, db = workdir / "retention.toml", workdir / "retention.db"
        config.write_text(text)
        proc = run_cli(["audit", "--config", str(config), "--db", str(db)], cwd=workdir, env_extra={ENV: PASSWORD})
    return proc, sqlite_utils.Database(db)


def test_the_phases_run_in_order_and_the_main_profile_stays_logged_in(audit):
    proc, db = audit
    assert proc.returncode == 1, proc.stdout + proc.stderr
    phases = [
        (r["phase"], r["outcome"])
        for r in db.query("select phase, outcome from phases where phase != 'control' order by id")
    ]
    assert phases == [
        ("login", "complete"),
        ("crawl", "complete"),
        ("reconnect", "complete"),
        ("retention", "complete"),
        ("logout", "complete"),
        ("respawn", "complete"),
    ]
    # The relaunches loaded nothing into the audit: no request is stamped with the retention phase.
    assert db.execute("select count(*) from requests where phase = 'retention'").fetchone()[0] == 0


def test_elimination_proves_the_obscure_cookie_and_not_the_remember_named_one(audit):
    _, db = audit
    (phase,) = db.query("select * from phases where phase = 'retention'")
    assert phase["result"] == "proven"
    tested = {r["name"]: r for r in db.query("select * from retention_cookies")}
    assert tested["zq_k"]["needed"] == 1
    assert tested["remember_device"]["needed"] == 0
    assert "qp_session" not in tested  # a session cookie does not survive a relaunch
    assert max(r["trial"] for r in tested.values()) <= 8
    assert "needed for the login: zq_k" in phase["message"]


def test_the_remember_named_device_id_is_the_iv_b_violation_and_the_retention_cookie_is_not(audit):
    _, db = audit
    findings = list(db.query("select * from findings where rule_id = 'IV.B-identifier-on-reconnect'"))
    subjects = {f["subject"]: f for f in findings}
    assert "cookie zq_k" not in subjects
    device = subjects["cookie remember_device"]
    assert device["severity"] == "violation"
    assert "without it the student stayed logged in" in device["message"]
    evidence = json.loads(device["evidence"])
    assert evidence["retention"] == "proven by elimination: without it the student stayed logged in"
    assert not [
        f for f in db.query("select * from findings where subject = 'cookie zq_k'") if f["severity"] == "violation"
    ]
