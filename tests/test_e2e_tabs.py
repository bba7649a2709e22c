"""`tabs = 3`: the crawl's waves and the revisits open three tabs at once, every request is stamped with the page
of the tab that made it, and the audit makes the same visits and finds the same as the demo's one tab."""

import pytest
import sqlite_utils

from conftest import DEMO_PASSWORDS, REPO, run_cli
from fixtures.server import FixtureInternet

pytestmark = pytest.mark.e2e

STUDENT, PASSWORD_ENV = "maya.okafor@students.mps.test", "TRACKAUDIT_DEMO_BRIGHTPATH_PASSWORD"


def visits_and_findings(db):
    where = "vendor_id = 'brightpath'"
    visits = {(p["phase"], p["url"], p["status"]) for p in db.query(f"select * from pages where {where}")}
    found = {(f["rule_id"], f["severity"], f["subject"]) for f in db.query(f"select * from findings where {where}")}
    return visits, found


def audited(tmp_path, config_text: str, vendor: str, passwords: dict[str, str], env_extra=None):
    """``vendor`` audited with ``config_text`` on the fixture web (exit 0 required); its database."""
    config = tmp_path / "vendors.toml"
    config.write_text(config_text)
    with FixtureInternet(passwords) as internet:
        proc = run_cli(
            [
                "audit",
                "--config",
                str(config),
                "--vendor",
                vendor,
                "--db",
                str(tmp_path / "audit.db"),
                "--host-resolver-rules",
                internet.host_resolver_rules,
                "--ignore-https-errors",
            ],
            cwd=tmp_path,
            env_extra=env_extra,
        )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return sqlite_utils.Database(tmp_path / "audit.db")


def test_three_tabs_make_the_same_visits_stamped_per_tab_and_find_the_same(tmp_path, demo_run):
    config = (REPO / "fixtures" / "demo.toml").read_text().replace("[browser]\n", "[browser]\ntabs = 3\n", 1)
    password = DEMO_PASSWORDS[PASSWORD_ENV]
    db = audited(tmp_path, config, "brightpath", {STUDENT: password}, {PASSWORD_ENV: password})
    checked = 0
    for phase in ("crawl", "reconnect", "respawn"):
        visits = list(db.query("select url, final_url, started, finished from pages where phase = ?", [phase]))
        at_once = [sum(1 for o in visits if o["started"] <= v["started"] < o["finished"]) for v in visits]
        assert max(at_once) == 3, (phase, at_once)
        requests = list(db.query("select url, page_url, is_navigation from requests where phase = ?", [phase]))
        for visit in visits:
            if visit["final_url"] != visit["url"]:
                continue  # sent to the login page (the respawn has no session): every tab shows that page
            stamped = [r for r in requests if r["page_url"] == visit["url"]]
            assert visit["url"] in [r["url"] for r in stamped if r["is_navigation"]], (phase, visit["url"])
            # Its script, once: not a neighbour tab's too.
            assert len([r for r in stamped if r["url"].endswith("/ui.min.js")]) == 1, (phase, visit["url"])
            checked += 1
    assert checked >= 10  # the crawl's and the reconnect's pages
    (verdict,) = db.query("select verdict from verdicts")
    assert verdict["verdict"] == "compliant"
    assert visits_and_findings(db) == visits_and_findings(demo_run.db)


HANG_ONCE = """
[browser]
tabs = 2
page_timeout_s = 3

[[vendors]]
id = "hostile"
name = "Hostile vendor"
status = "candidate"
start_url = "https://www.hostile.test/"
pages = ["/hang-once"]
max_pages = 2
"""


def test_a_page_that_did_not_load_beside_other_tabs_is_visited_again_alone(tmp_path):
    """A page lost while another tab loaded (here its first request never answers) is visited again with no other
    tab loading: the audit sees it load, and the record keeps both visits and says why."""
    db = audited(tmp_path, HANG_ONCE, "hostile", {})
    crawl = list(db.query("select url, status, error, started, finished from pages where phase = 'crawl'"))
    lost, again = [p for p in crawl if p["url"].endswith("/hang-once")]
    (start,) = [p for p in crawl if p["url"] == "https://www.hostile.test/"]
    assert lost["error"] and lost["status"] is None and start["started"] < lost["finished"]  # lost beside "/"
    assert again["status"] == 200 and again["error"] is None and again["started"] >= start["finished"]  # alone
    (retry,) = db.query("select * from errors where source = 'visit.retry'")
    assert retry["url"].endswith("/hang-once") and "visited again alone: it loaded" in retry["message"]
    statuses = [p["status"] for p in db.query("select status from pages where url like '%/hang-once' order by id")]
    assert statuses == [None, 200, 200, 200]  # lost, again, then the reconnect's and the respawn's visits
    (audit,) = db.query("select incomplete, pages_visited from audits")
    assert audit == {"incomplete": None, "pages_visited": 2}
    (verdict,) = db.query("select verdict, reasons from verdicts")  # the page was seen: not a failed visit
    assert verdict["verdict"] == "approve" and "failed" not in verdict["reasons"], verdict
