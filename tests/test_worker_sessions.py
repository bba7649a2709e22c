"""A service or shared worker serves every tab of its site, so several pages' CDP sessions attach to it and each
receives every batch of its calls: each batch is stored once, from the session that delivers it first. A session
gone before it could instrument the worker is not an error."""

import json

from conftest import run_async
from crawler.browse.collectors.api_calls import WORKER_BINDING, ApiCallCollector
from crawler.browse.collectors.base import CaptureState
from crawler.store.writer import Store

WORKER = "https://www.studyhall.test/offline-sw.js"


class FakeCdp:
    def __init__(self, refuse: str | None = None):
        self.refuse = refuse
        self.sent: list[str] = []

    async def send(self, method, params=None):
        if self.refuse:
            raise RuntimeError(self.refuse)
        self.sent.append(method)


class FakePage:
    frames: list = []

    def __init__(self, url):
        self.url = url


def attached(session):
    return {"sessionId": session, "targetInfo": {"targetId": "sw-1", "type": "service_worker", "url": WORKER}}


def call_message(session, detail):
    payload = json.dumps({"calls": [[1.0, WORKER, "OffscreenCanvas.convertToBlob", "", detail]], "frame": WORKER})
    message = {"method": "Runtime.bindingCalled", "params": {"name": WORKER_BINDING, "payload": payload}}
    return {"sessionId": session, "message": json.dumps(message)}


def test_a_worker_batch_is_kept_once_from_the_session_that_delivers_it_first(tmp_path):
    store = Store(tmp_path / "a.db")
    sink = store.start_audit(store.start_run("audit", "t"), "v", "anonymous", "u")
    sink.begin_phase("crawl")
    collector = ApiCallCollector(CaptureState(sink))
    home, games = FakePage("https://www.studyhall.test/"), FakePage("https://www.studyhall.test/games")
    home_cdp, games_cdp = FakeCdp(), FakeCdp()

    async def scenario():
        await collector._instrument_worker(home_cdp, home, attached("s-home"))
        await collector._instrument_worker(games_cdp, games, attached("s-games"))
        for session, page in (("s-home", home), ("s-games", games)):  # one call, received by both sessions
            collector._on_worker_message(page, call_message(session, "first"))
        collector._on_worker_message(games, call_message("s-games", "second"))  # the home tab has closed
        collector._on_worker_message(home, call_message("s-home", "second"))  # or delivers it later

    run_async(scenario())
    assert len(home_cdp.sent) == len(games_cdp.sent) == 2  # both instrument it: either can take over
    calls = [(c["detail"], c["page_url"]) for c in store.db.query("select * from api_calls order by id")]
    assert calls == [("first", home.url), ("second", games.url)]


def test_a_session_gone_before_the_worker_was_instrumented_is_not_an_error(tmp_path):
    store = Store(tmp_path / "a.db")
    sink = store.start_audit(store.start_run("audit", "t"), "v", "anonymous", "u")
    sink.begin_phase("crawl")
    collector = ApiCallCollector(CaptureState(sink))
    gone = FakeCdp(refuse="Protocol error (Target.sendMessageToTarget): No session with given id")
    run_async(collector._instrument_worker(gone, FakePage("https://www.studyhall.test/"), attached("s-gone")))
    assert not list(store.db.query("select * from errors"))
