"""`trackaudit audit` with a config file, command-line browser overrides and blocked third-party cookies."""

import json
import textwrap

import pytest

from conftest import run_cli
from fixtures.server import FixtureInternet

pytestmark = pytest.mark.e2e

PASSWORD = "Audit+cli pass/1"
CONFIG = """
[browser]
block_third_party_cookies = true
page_timeout_s = 15

[[vendors]]
id = "leakyquiz"
name = "LeakyQuiz"
status = "approved"
start_url = "https://app.leakyquiz.test/"
pages = ["/home", "/quiz/1"]
max_pages = 2
logout_url = "https://app.leakyquiz.test/logout"

[vendors.login]
url = "https://app.leakyquiz.test/login"
steps = [
  {fill = "#email", value = "{username}"},
  {fill = "#password", value = "{password}"},
  {click = "button[type=submit]"},
]
success = {selector = "#welcome"}

[[vendors.accounts]]
role = "student"
username = "liam.novak@students.mps.test"
password_env = "LEAKYQUIZ_TEST_PASSWORD"
pii = {name = "Liam Novak", email = "liam.novak@students.mps.test"}
"""


def test_audit_with_third_party_cookies_blocked(tmp_path):
    config = tmp_path / "vendors.toml"
    config.write_text(textwrap.dedent(CONFIG))
    db_path = tmp_path / "audit.db"
    with FixtureInternet({"liam.novak@students.mps.test": PASSWORD}) as internet:
        proc = run_cli(
            [
                "audit",
                "--config",
                str(config),
                "--db",
                str(db_path),
                "--host-resolver-rules",
                internet.host_resolver_rules,
                "--ignore-https-errors",
            ],
            cwd=tmp_path,
            env_extra={"LEAKYQUIZ_TEST_PASSWORD": PASSWORD},
        )
    assert proc.returncode == 1, proc.stdout + proc.stderr  # violations found
    from sqlite_utils import Database

    db = Database(db_path)
    (run,) = db.query("select * from runs")
    assert run["mode"] == "audit" and run["status"] == "complete" and len(run["config_hash"]) == 64
    cookie_names = {r["name"] for r in db.query("select distinct name from cookies")}
    assert "lq_vid" in cookie_names
    assert not cookie_names & {"apx_uid", "et_uid"}, "third-party cookies were stored although blocked"
    offered = db.execute(
        "select count(*) from requests where host = 'sync.adpixel.test' and set_cookies like '%apx_uid%'"
    ).fetchone()[0]
    assert offered > 0
    # --ignore-https-errors reaches the service worker too (Playwright's own option alone does not).
    assert db.execute("select count(*) from storage_items where kind = 'serviceWorker'").fetchone()[0] > 0
    assert PASSWORD not in db_path.read_bytes().decode("utf-8", "replace")
    assert "VIOLATION" in proc.stdout


def test_audit_of_an_unreachable_vendor_is_incomplete_with_the_cause_and_exit_3(tmp_path):
    config = tmp_path / "vendors.toml"
    config.write_text(
        textwrap.dedent(CONFIG).replace("block_third_party_cookies = true\npage_timeout_s = 15", "page_timeout_s = 5")
    )
    db_path = tmp_path / "audit.db"
    # Every host maps to a closed port: nothing answers.
    with FixtureInternet({}) as internet:
        rules = f"MAP * 127.0.0.1:{internet.closed_port}, EXCLUDE localhost"
        proc = run_cli(
            ["audit", "--config", str(config), "--db", str(db_path), "--host-resolver-rules", rules],
            cwd=tmp_path,
            env_extra={"LEAKYQUIZ_TEST_PASSWORD": PASSWORD},
        )
    assert proc.returncode == 3, proc.stdout + proc.stderr  # nothing seen: incomplete, never "warnings only"
    assert "Traceback" not in proc.stderr
    from sqlite_utils import Database

    db = Database(db_path)
    (audit,) = db.query("select * from audits")
    assert audit["login_outcome"] in ("error", "failed")
    errors = [r["message"] for r in db.query("select message from errors")]
    assert any("ERR_CONNECTION_REFUSED" in m for m in errors)
    (verdict,) = db.query("select * from verdicts")
    assert verdict["verdict"] == "incomplete"
    reasons = json.loads(verdict["reasons"])
    assert (
        "audit incomplete: the start page could not be loaded: app.leakyquiz.test refused the connection: check "
        "start_url and that the service is up (or --host-resolver-rules)"
    ) in reasons
    assert (
        "audit incomplete: login failed: app.leakyquiz.test refused the connection: check start_url and that the "
        "service is up (or --host-resolver-rules)" in reasons
    )
    assert "Verdict for leakyquiz (scheduled audit): INCOMPLETE" in proc.stdout
    assert audit["incomplete"] and json.loads(audit["coverage"])["counts"] == {"refused": 7}
    assert {r["failure_class"] for r in db.query("select failure_class from pages")} == {"refused"}


def test_audit_of_a_vendor_with_an_untrusted_certificate_is_incomplete_with_the_cause_and_exit_3(tmp_path):
    config = tmp_path / "vendors.toml"
    config.write_text(
        textwrap.dedent(CONFIG).replace("block_third_party_cookies = true\npage_timeout_s = 15", "page_timeout_s = 5")
    )
    db_path = tmp_path / "audit.db"
    # The fixture web answers, with a certificate the browser is not told to trust.
    with FixtureInternet({"liam.novak@students.mps.test": PASSWORD}) as internet:
        proc = run_cli(
            ["audit", "--config", str(config), "--db", str(db_path)]
            + ["--host-resolver-rules", internet.host_resolver_rules],
            cwd=tmp_path,
            env_extra={"LEAKYQUIZ_TEST_PASSWORD": PASSWORD},
        )
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    from sqlite_utils import Database

    db = Database(db_path)
    (verdict,) = db.query("select * from verdicts")
    assert verdict["verdict"] == "incomplete"
    reasons = json.loads(verdict["reasons"])
    assert any(
        r.startswith(
            "audit incomplete: the start page could not be loaded: certificate not trusted for "
            "app.leakyquiz.test (TLS, ERR_CERT_"
        )
        and "[browser].trusted_spki" in r
        for r in reasons
    ), reasons
    assert {r["failure_class"] for r in db.query("select failure_class from pages")} == {"TLS"}
