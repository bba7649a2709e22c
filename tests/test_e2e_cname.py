"""CNAME cloaking end to end: PencilCase (fixtures/vendors/pencilcase.py, fixtures/cname.toml) loads a pixel from its
own metrics.pencilcase.test, which sets the id cookie pc_vid; the stub DNS server on loopback answers that name with
a CNAME to pencilcase.eulerian.net. Audited with --dns-resolver, the subdomain is Eulerian's: IV.A for the cookie,
IV.D for the tracker, and the stored chain is the evidence."""

import json
import os

import pytest
import sqlite_utils

from conftest import run_cli
from dns_stub import StubDns
from fixtures.server import FixtureInternet

pytestmark = pytest.mark.e2e

CNAME_TOML = os.path.join(os.path.dirname(__file__), "..", "fixtures", "cname.toml")
CHAIN = ["metrics.pencilcase.test", "pencilcase.eulerian.net"]


@pytest.fixture(scope="module")
def cloaked_audit(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("cname")
    with FixtureInternet({}) as internet, StubDns({"metrics.pencilcase.test": "pencilcase.eulerian.net"}) as stub:
        browser = (
            f'[browser]\nheadless = true\nhost_resolver_rules = "{internet.host_resolver_rules}"\n'
            f'trusted_spki = ["{internet.spki}"]\n'
        )
        with open(CNAME_TOML) as toml:
            text = toml.read().replace("[browser]\nheadless = true\n", browser)
        config = workdir / "cname.toml"
        config.write_text(text)
        db = workdir / "cname.db"
        proc = run_cli(["audit", "--config", str(config), "--db", str(db), "--dns-resolver", stub.address], cwd=workdir)
        yield proc, sqlite_utils.Database(db), stub


def test_the_chains_of_the_first_party_hosts_are_stored(cloaked_audit):
    proc, db, stub = cloaked_audit
    rows = {r["host"]: r for r in db.query("select * from cname_chains")}
    assert set(rows) == {"www.pencilcase.test", "metrics.pencilcase.test"}, proc.stdout + proc.stderr
    metrics = rows["metrics.pencilcase.test"]
    assert json.loads(metrics["chain"]) == CHAIN and metrics["error"] is None
    assert metrics["resolver"] == stub.address and metrics["vendor_id"] == "pencilcase" and metrics["run_id"]
    assert json.loads(rows["www.pencilcase.test"]["chain"]) == ["www.pencilcase.test"]
    assert ("metrics.pencilcase.test", "CNAME") in stub.queries


def test_the_cloaked_cookie_is_a_third_party_identifier(cloaked_audit):
    proc, db, _ = cloaked_audit
    findings = [f for f in db.query("select * from findings where rule_id = 'IV.A-cross-site-identifier'")]
    (cookie,) = [f for f in findings if f["subject"] == "cookie pc_vid"]
    assert cookie["severity"] == "violation" and cookie["clause"] == "IV.A"
    assert "Eulerian Technologies" in cookie["message"] and "CNAME" in cookie["message"]
    evidence = json.loads(cookie["evidence"])
    assert evidence["cloaked"]["chain"] == CHAIN and evidence["cloaked"]["tracker_domain"] == "eulerian.net"
    assert evidence["cookie"]["party"] == "third" and evidence["cookie"]["entity"] == "Eulerian Technologies"
    (chain_row,) = db.query("select id from cname_chains where host = 'metrics.pencilcase.test'")
    assert evidence["rows"]["cname_chains"] == [chain_row["id"]]
    assert proc.returncode == 1, proc.stdout + proc.stderr  # violations


def test_the_cloaked_host_is_an_analytics_tracker(cloaked_audit):
    _, db, _ = cloaked_audit
    (tracker,) = db.query("select * from findings where rule_id = 'IV.D-behavioural-tracker'")
    assert tracker["subject"] == "host metrics.pencilcase.test" and tracker["clause"] == "IV.D"
    assert tracker["message"].startswith("Eulerian Technologies (metrics.pencilcase.test) runs analytics")
    evidence = json.loads(tracker["evidence"])
    assert [c["chain"] for c in evidence["cloaked"]] == [CHAIN]
    assert evidence["hosts"][0]["organisation"] == "Eulerian Technologies"


def test_without_a_resolver_the_test_names_are_not_looked_up(tmp_path):
    with FixtureInternet({}) as internet:
        browser = (
            f'[browser]\nheadless = true\nhost_resolver_rules = "{internet.host_resolver_rules}"\n'
            f'trusted_spki = ["{internet.spki}"]\n'
        )
        with open(CNAME_TOML) as toml:
            (tmp_path / "cname.toml").write_text(toml.read().replace("[browser]\nheadless = true\n", browser))
        run_cli(["audit", "--config", str(tmp_path / "cname.toml"), "--db", str(tmp_path / "plain.db")], cwd=tmp_path)
    db = sqlite_utils.Database(tmp_path / "plain.db")
    assert {r["error"].split(":")[0] for r in db.query("select error from cname_chains")} == {"not looked up"}
    assert not list(db.query("select * from findings where subject = 'cookie pc_vid' and clause = 'IV.A'"))
