"""CNAME cloaking: the chains looked up in a stub DNS server on loopback, stored, and the party they make a host."""

import json
import tomllib
from urllib.parse import urlsplit

import pytest

from crawler.analyze.analysis import AuditAnalysis
from crawler.analyze.audit_data import AuditData, Rec
from crawler.config import ConfigError, parse_config
from crawler.dns import DnsResolver, cname_chain
from crawler.jobs.cname import record_cname_chains
from crawler.jobs.runner import AuditResult, _record_cname_chains
from crawler.knowledge.cname import load_builtin_cname, parse_adguard_cname
from crawler.knowledge.lists import load_lists
from crawler.knowledge.trackers import load_builtin
from crawler.observations import CnameChainObs, CookieObs, RequestObs
from crawler.store.writer import Store
from dns_stub import StubDns


def test_a_chain_is_followed_to_its_end():
    with StubDns({"metrics.vendor.example": "vendor.eulerian.net", "vendor.eulerian.net": "edge.eulerian.net"}) as stub:
        resolver = DnsResolver.parse(stub.address).dnspython()
        assert cname_chain("Metrics.Vendor.example", resolver) == (
            ("metrics.vendor.example", "vendor.eulerian.net", "edge.eulerian.net"),
            None,
        )
        assert cname_chain("www.vendor.example", resolver) == (("www.vendor.example",), None)


def test_nxdomain_ends_the_chain_and_a_silent_server_is_an_error_not_a_crash():
    with StubDns({}, nxdomain={"gone.vendor.example"}, silent={"slow.vendor.example"}) as stub:
        resolver = DnsResolver.parse(stub.address).dnspython()
        assert cname_chain("gone.vendor.example", resolver) == (("gone.vendor.example",), None)
        chain, error = cname_chain("slow.vendor.example", resolver)
        assert chain == ("slow.vendor.example",) and "did not answer" in error


def test_a_loop_is_reported():
    with StubDns({"a.vendor.example": "b.vendor.example", "b.vendor.example": "a.vendor.example"}) as stub:
        chain, error = cname_chain("a.vendor.example", DnsResolver.parse(stub.address).dnspython())
        assert chain == ("a.vendor.example", "b.vendor.example") and "loop" in error


@pytest.mark.parametrize("text", ["dns.example:53", "127.0.0.1:0", "127.0.0.1:port"])
def test_a_bad_resolver_is_refused_with_the_fix(text, tmp_path):
    with pytest.raises(ValueError):
        DnsResolver.parse(text)
    config = tmp_path / "vendors.toml"
    config.write_text(
        f'[browser]\ndns_resolver = "{text}"\n[[vendors]]\nid = "v"\nname = "V"\nstatus = "approved"\n'
        f'start_url = "https://www.v.example/"\n'
    )
    with pytest.raises(ConfigError) as raised:
        parse_config(tomllib.loads(config.read_text()), config)
    assert raised.value.key == "browser.dns_resolver" and "127.0.0.1:53" in raised.value.fix


def test_the_config_key_is_read():
    config = parse_config(
        tomllib.loads(
            '[browser]\ndns_resolver = "127.0.0.1:5353"\n[[vendors]]\nid = "v"\nname = "V"\n'
            'status = "approved"\nstart_url = "https://www.v.example/"\n'
        ),
        "vendors.toml",
    )
    assert config.browser.dns_resolver == "127.0.0.1:5353"


def _store_with_requests(tmp_path, hosts):
    store = Store(tmp_path / "audit.db")
    run_id = store.start_run("audit", "trackaudit audit")

    class Vendor:
        id, name, status, start_url, first_party, remember_cookies = (
            "v",
            "V",
            "approved",
            "https://www.v.example/",
            (),
            (),
        )

    store.upsert_vendor(Vendor)
    sink = store.start_audit(run_id, "v", "anonymous", None, None)
    for host in hosts:
        sink.add(_request(f"https://{host}/x"), "control")
    return store, run_id


def _request(url):
    return RequestObs(
        time=1.0,
        method="GET",
        url=url,
        host=urlsplit(url).hostname,
        scheme="https",
        resource_type="image",
        frame_url=None,
        page_url="https://www.v.example/",
        is_navigation=False,
        from_service_worker=False,
        initiator_type=None,
        initiator_url=None,
        request_headers=(),
        cookie_header=None,
        referer=None,
        post_data=None,
        status=200,
        response_headers=(),
        set_cookies=(),
        remote_address=None,
        tls_protocol=None,
        tls_cipher=None,
        failure=None,
    )


def test_only_first_party_hosts_are_looked_up_and_stored_with_provenance(tmp_path):
    store, run_id = _store_with_requests(
        tmp_path, ["www.v.example", "metrics.v.example", "cdn.tracker.example", "slow.v.example"]
    )
    with StubDns({"metrics.v.example": "v.eulerian.net"}, silent={"slow.v.example"}) as stub:
        lookups = record_cname_chains(store, run_id, stub.address)
    assert lookups.recorded == 3
    rows = {r["host"]: r for r in store.db.query("select * from cname_chains")}
    assert set(rows) == {"www.v.example", "metrics.v.example", "slow.v.example"}
    metrics = rows["metrics.v.example"]
    assert json.loads(metrics["chain"]) == ["metrics.v.example", "v.eulerian.net"] and metrics["error"] is None
    assert (metrics["run_id"], metrics["vendor_id"], metrics["account"], metrics["phase"]) == (
        run_id,
        "v",
        "anonymous",
        "control",
    )
    assert metrics["resolver"] == stub.address
    assert "did not answer" in rows["slow.v.example"]["error"]
    assert set(lookups.unchecked) == {("v", "anonymous")}
    gap = lookups.gap("v", "anonymous")
    assert gap.startswith("the CNAME chain of 1 first-party host could not be looked up (slow.v.example: the ")
    assert "CNAME cloaking" in gap and "--dns-resolver HOST:PORT" in gap


def test_an_unanswered_lookup_makes_the_audit_incomplete(tmp_path):
    store, run_id = _store_with_requests(tmp_path, ["www.v.example", "slow.v.example"])
    audits = [AuditResult("v", "anonymous", "complete", "not configured")]
    with StubDns({}, silent={"slow.v.example"}) as stub:
        (audit,) = _record_cname_chains(store, run_id, stub.address, audits)
    assert len(audit.gaps) == 1 and "slow.v.example" in audit.gaps[0]
    (row,) = store.db.query("select incomplete from audits where run_id = ?", [run_id])
    assert row["incomplete"] == audit.gaps[0]


def test_answered_lookups_and_reserved_names_leave_the_audit_complete(tmp_path):
    store, run_id = _store_with_requests(tmp_path, ["www.v.example", "gone.v.example"])
    audits = [AuditResult("v", "anonymous", "complete", "not configured")]
    with StubDns({"www.v.example": "v.cdn.example"}, nxdomain={"gone.v.example"}) as stub:
        assert _record_cname_chains(store, run_id, stub.address, audits) == audits
    (row,) = store.db.query("select incomplete from audits where run_id = ?", [run_id])
    assert row["incomplete"] is None


def test_a_failed_lookup_step_is_an_error_row_and_a_gap(tmp_path, monkeypatch):
    store, run_id = _store_with_requests(tmp_path, ["www.v.example"])

    def broken(*args):
        raise RuntimeError("resolver library broken")

    monkeypatch.setattr("crawler.jobs.runner.record_cname_chains", broken)
    audits = [AuditResult("v", "anonymous", "complete", "not configured")]
    (audit,) = _record_cname_chains(store, run_id, None, audits)
    assert "resolver library broken" in audit.gaps[0] and "CNAME cloaking" in audit.gaps[0]
    assert [e["source"] for e in store.db.query("select source from errors")] == ["cname"]


def test_reserved_names_are_not_asked_of_the_system_resolver(tmp_path, monkeypatch):
    store, run_id = _store_with_requests(tmp_path, ["www.v.test"])
    store.db["vendors"].update("v", {"start_url": "https://www.v.test/"})

    def no_network(*args, **kwargs):
        raise AssertionError("a .test name was asked of the system resolver")

    monkeypatch.setattr("crawler.jobs.cname.cname_chain", no_network)
    lookups = record_cname_chains(store, run_id, None)
    assert lookups.recorded == 1 and not lookups.unchecked
    (row,) = store.db.query("select * from cname_chains")
    assert row["error"].startswith("not looked up: www.v.test is a reserved name") and row["resolver"] == "system"


def test_the_builtin_and_adguard_lists_name_the_tracker_at_the_end_of_a_chain():
    builtin = load_builtin_cname()
    assert builtin.first_tracker(("metrics.v.example", "v.eulerian.net")).organisation == "Eulerian Technologies"
    assert builtin.first_tracker(("eulerian.net",)) is None  # the queried name itself is not its own alias
    adguard = parse_adguard_cname(
        "! Company: Otto Group\n||oghub.io^\n! Company: Adobe\n||sc.omtrdc.net^\n", load_builtin()
    )
    assert adguard.lookup("x.oghub.io").organisation == "Otto Group"
    assert adguard.lookup("v.sc.omtrdc.net").organisation == "Adobe"  # the knowledge base names it
    assert builtin.merge(adguard).lookup("x.oghub.io").source == "adguard-cname"
    with pytest.raises(ValueError):
        parse_adguard_cname("<html>not the list</html>")


def _cookie(name, domain, set_by):
    return CookieObs(
        name=name,
        value="f3a9c1d27b5e48a6b0c4",
        domain=domain,
        host_only=True,
        path="/",
        expires=2_000_000_000.0,
        session=False,
        http_only=False,
        secure=True,
        same_site="Lax",
        partition_key=None,
        size=24,
        source_scheme="Secure",
        set_by_kind="header",
        set_by_url=set_by,
    )


def _analysis(chain):
    data = AuditData(run_id=1, vendor_id="v", vendor_name="V", account="anonymous", start_url="https://www.v.example/")
    data.requests.append(Rec(1, "crawl", _request("https://metrics.v.example/px.gif")))
    data.cookies.append(Rec(2, "crawl", _cookie("v_vid", "metrics.v.example", "https://metrics.v.example/px.gif")))
    data.cname_chains.append(
        Rec(
            3,
            "crawl",
            CnameChainObs(time=1.0, host="metrics.v.example", chain=chain, resolver="127.0.0.1:5353", error=None),
        )
    )
    bundle, _ = load_lists(None)
    return AuditAnalysis(data, bundle)


def test_a_chain_to_a_tracker_makes_the_subdomain_and_its_cookies_the_trackers():
    analysis = _analysis(("metrics.v.example", "v.eulerian.net"))
    host = analysis.hosts["metrics.v.example"]
    assert (host.party, host.entity, host.category) == ("third", "Eulerian Technologies", "analytics")
    assert host.cloaking.chain == ("metrics.v.example", "v.eulerian.net") and host.cloaking.row_id == 3
    (cookie,) = analysis.cookies
    assert (cookie.party, cookie.entity) == ("third", "Eulerian Technologies") and cookie.cloaking is not None
    assert not analysis.same_site("metrics.v.example") and analysis.same_site("www.v.example")


def test_a_chain_to_no_tracker_leaves_the_subdomain_first_party():
    analysis = _analysis(("metrics.v.example", "v.cdn-provider.example"))
    host = analysis.hosts["metrics.v.example"]
    assert (host.party, host.cloaking) == ("first", None)
    assert analysis.cookies[0].party == "first"
