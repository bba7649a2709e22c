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


def test_three_tabs_make_the_same_visits_stamped_per_tab_and_find_the_same(tmp_path, demo_run):
    config = tmp_path / "vendors.toml"
    config.write_text((REPO / "fixtures" / "demo.toml").read_text().replace("[browser]\n", "[browser]\ntabs = 3\n", 1))
    password = DEMO_PASSWORDS[PASSWORD_ENV]
    with FixtureInternet({STUDENT: password}) as internet:
        proc = run_cli(
            [
                "audit",
                "--config",
                str(config),
                "--vendor",
                "brightpath",
                "--db",
                str(tmp_path / "audit.db"),
                "--host-resolver-rules",
                internet.host_resolver_rules,
                "--ignore-https-errors",
            ],
            cwd=tmp_path,
            env_extra={PASSWORD_ENV: password},
        )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    db = sqlite_utils.Database(tmp_path / "audit.db")
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
