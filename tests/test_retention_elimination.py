"""Greedy elimination of the saved cookies (crawler/browse/retention.py), against a fake login check."""

from conftest import run_async
from crawler.browse.retention import MAX_RELAUNCHES, eliminate
from crawler.observations import RETENTION_NOT_KEPT, RETENTION_PROVEN

SITE = {"quillpad.test"}


def cookie(name, domain="www.quillpad.test", expires=2_000_000_000.0):
    return {"name": name, "value": "v" * 32, "domain": domain, "path": "/", "expires": expires}


def run(saved, needs, max_relaunches=MAX_RELAUNCHES):
    """``needs``: a function of the set of names sent, true when the student is logged in."""
    calls = []

    async def logged_in(cookies):
        names = {c["name"] for c in cookies}
        calls.append(names)
        return list(cookies) if needs(names) else None

    result = run_async(eliminate(saved, SITE, logged_in, max_relaunches))
    return result, calls


def test_the_needed_cookie_is_proven_whatever_its_name_and_the_remember_named_one_is_not():
    saved = [
        cookie("zq_k"),
        cookie("remember_device"),
        cookie("qp_session", expires=-1),
        cookie("tr_uid", domain=".tracker.test"),
    ]
    result, calls = run(saved, lambda names: "zq_k" in names)
    assert result.result.result == RETENTION_PROVEN
    tested = {t.name: t.needed for t in result.tested}
    assert tested == {"remember_device": False, "zq_k": True}  # first-party persistent ones only
    assert all("qp_session" not in names for names in calls)  # a relaunch drops session cookies
    assert all("tr_uid" in names for names in calls)  # third-party cookies stay as they were
    assert result.relaunches == len(calls) == 3


def test_a_cookie_found_unneeded_stays_out_of_later_relaunches():
    saved = [cookie("a_remember"), cookie("b_session")]
    # Either cookie alone keeps the login: greedy elimination drops the first and proves the second.
    result, calls = run(saved, lambda names: bool(names & {"a_remember", "b_session"}))
    assert {t.name: t.needed for t in result.tested} == {"a_remember": False, "b_session": True}
    assert calls[-1] == set()


def test_more_cookies_than_relaunches_are_left_out_in_groups_within_the_cap():
    saved = [cookie(f"c{i:02}") for i in range(20)]
    result, calls = run(saved, lambda names: "c07" in names)
    assert len(calls) <= MAX_RELAUNCHES and result.relaunches == len(calls)
    by_name = {t.name: t for t in result.tested}
    assert by_name["c07"].needed is None and by_name["c07"].left_out > 1  # needed with its group, not told apart
    assert by_name["c19"].needed is False and len(by_name) == 20


def test_a_login_not_kept_by_any_cookie_covers_none():
    saved = [cookie("remember_device")]
    result, calls = run(saved, lambda names: False)
    assert result.result.result == RETENTION_NOT_KEPT and len(calls) == 1
    assert [(t.name, t.needed, t.left_out) for t in result.tested] == [("remember_device", False, 0)]


def test_a_token_the_site_replaced_while_logged_in_is_the_one_sent_next():
    """A remember-me token valid once: each logged-in relaunch gets a new one, which the next relaunch sends."""
    valid = {"zq_k": "t0"}
    sent = []

    async def logged_in(cookies):
        token = next((c["value"] for c in cookies if c["name"] == "zq_k"), None)
        sent.append(token)
        if token != valid["zq_k"]:
            return None
        valid["zq_k"] = f"t{len(sent)}"
        return [*(c for c in cookies if c["name"] != "zq_k"), {**cookie("zq_k"), "value": valid["zq_k"]}]

    saved = [{**cookie("zq_k"), "value": "t0"}, cookie("remember_device")]
    result = run_async(eliminate(saved, SITE, logged_in))
    assert {t.name: t.needed for t in result.tested} == {"remember_device": False, "zq_k": True}
    assert sent == ["t0", "t1", None]
