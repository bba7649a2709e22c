"""A vendor site that loops, hangs, pops dialogs, serves garbage and freezes: every page is a recorded
outcome, the audit completes, and the verdict asks for a review instead of approving blind."""

import textwrap

import pytest
import sqlite_utils

from conftest import run_cli
from fixtures.server import FixtureInternet

pytestmark = pytest.mark.e2e

CONFIG = """
[browser]
page_timeout_s = 4
vendor_timeout_s = 150

[[vendors]]
id = "hostile"
name = "Hostile vendor"
status = "candidate"
start_url = "https://www.hostile.test/"
pages = ["/loop", "/hang", "/dialogs", "/garbage", "/busy", "/ok"]
max_pages = 8
"""


def test_a_hostile_site_is_audited_to_the_end(tmp_path):
    config = tmp_path / "vendors.toml"
    config.write_text(textwrap.dedent(CONFIG))
    db_path = tmp_path / "audit.db"
    with FixtureInternet({}) as internet:
        proc = run_cli(
            [
                "audit",
                "--config",
                str(config),
                "--vendor",
                "hostile",
                "--db",
                str(db_path),
                "--host-resolver-rules",
                internet.host_resolver_rules,
                "--ignore-https-errors",
            ],
            cwd=tmp_path,
            timeout=240,
        )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    db = sqlite_utils.Database(db_path)
    (run,) = db.query("select * from runs")
    assert run["status"] == "complete"
    pages = {r["url"].rsplit("/", 1)[-1]: r for r in db.query("select * from pages where phase = 'crawl'")}
    assert pages["ok"]["status"] == 200 and pages["dialogs"]["status"] == 200
    assert "ERR_TOO_MANY_REDIRECTS" in pages["loop"]["error"]
    assert pages["hang"]["error"] and pages["busy"]["error"]
    # Garbage served as HTML is still a page: recorded as it came, not an error.
    assert pages["garbage"]["status"] == 200 and pages["garbage"]["screenshot"]
    # Leaving the page that asked to stay: no visit after it in its tab is aborted.
    assert not [p for p in db.query("select url from pages where error like '%ERR_ABORTED%'")]
    dialogs = [r["message"] for r in db.query("select message from errors where source = 'dialog'")]
    assert any("alert dialog ('Your session is about to expire')" in m for m in dialogs)
    assert any("confirm dialog" in m for m in dialogs) and any("prompt dialog" in m for m in dialogs)
    assert any("beforeunload dialog" in m and m.endswith("left the page") for m in dialogs)
    (verdict,) = db.query("select * from verdicts")
    assert verdict["verdict"] == "needs review"
    assert "page visits of account anonymous failed" in verdict["reasons"]
    assert "NEEDS REVIEW" in proc.stdout
