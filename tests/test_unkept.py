"""What a page sent beyond a bound is cut, so never checked: the audit names it as a gap (incomplete), once per
socket or host, and names the first few when there are many."""

from conftest import run_async
from crawler.browse.browser import LaunchSettings
from crawler.browse.collectors import network
from crawler.browse.collectors.base import UNKEPT_SHOWN, CaptureState
from crawler.browse.collectors.network import NetworkCollector
from crawler.browse.protocol import VendorAudit
from crawler.config import parse_config
from crawler.jobs import runner
from crawler.progress import Progress
from crawler.store.writer import Store


class PostRequest:
    def __init__(self, url: str, body: bytes):
        self.url = url
        self.post_data_buffer = body


def capture_state(tmp_path) -> CaptureState:
    store = Store(tmp_path / "a.db")
    sink = store.start_audit(store.start_run("audit", "t"), "v", "student", "u")
    sink.begin_phase("crawl")
    return CaptureState(sink)


def test_a_request_body_over_its_bound_is_kept_cut_and_named_as_unchecked(tmp_path, monkeypatch):
    monkeypatch.setattr(network, "MAX_BODY_CHARS", 10)
    state = capture_state(tmp_path)
    collector = NetworkCollector(state)
    assert collector._post_body(PostRequest("https://collect.example.test/a", b"short")) == "short"
    assert state.unkept_gap() is None
    for path in ("a", "b"):  # two long bodies to one host: named once
        assert collector._post_body(PostRequest(f"https://collect.example.test/{path}", b"x" * 50)) == "x" * 10
    assert state.unkept == ["request bodies to collect.example.test past 10 bytes"]
    gap = state.unkept_gap()
    assert gap and "collect.example.test" in gap and "the session's HAR" in gap


def test_many_unkept_items_are_named_up_to_a_few_and_counted(tmp_path):
    state = capture_state(tmp_path)
    for n in range(UNKEPT_SHOWN + 2):
        state.note_unkept(f"frames of socket {n}")
    gap = state.unkept_gap()
    assert gap and f"frames of socket {UNKEPT_SHOWN - 1}" in gap and f"socket {UNKEPT_SHOWN}" not in gap
    assert gap.rstrip().count("and 2 more") == 1


def test_an_audit_that_could_not_keep_what_a_page_sent_is_incomplete(tmp_path, monkeypatch):
    class StreamingPage(VendorAudit):
        async def run(self) -> str:
            self.state.note_unkept("frames of the WebSocket wss://live.example.test/s past their bound")
            return "not configured"

    monkeypatch.setattr(runner, "VendorAudit", StreamingPage)
    vendor = {"id": "v", "name": "V", "status": "candidate", "start_url": "https://www.example.test/"}
    config = parse_config({"vendors": [vendor]}, "t.toml")
    store = Store(tmp_path / "a.db")
    run_id = store.start_run("audit", "t")
    (target,) = runner.targets_for(config, list(config.vendors), {})
    settings = LaunchSettings(executable_path="/usr/bin/chromium")
    result = run_async(runner._audit_one(None, store, settings, target, run_id, "audit", Progress()))
    assert result.status == "complete" and "wss://live.example.test/s" in result.gaps[-1]
    (audit,) = store.db.query("select incomplete from audits")
    assert "not checked for students' data" in audit["incomplete"]
