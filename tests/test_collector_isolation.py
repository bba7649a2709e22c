"""A failing collector writes an error row and the others go on."""

from conftest import run_async
from crawler.browse.collectors.base import CaptureState, Collector
from crawler.store.writer import Store


class Broken(Collector):
    name = "broken"

    async def end_phase(self, context, page):
        raise RuntimeError("CDP said no")


class Working(Collector):
    name = "working"
    ran = False

    async def end_phase(self, context, page):
        Working.ran = True


def test_failing_collector_gives_an_error_row_and_the_rest_run(tmp_path):
    store = Store(tmp_path / "a.db")
    run_id = store.start_run("audit", "test")
    sink = store.start_audit(run_id, "v", "student", "u")
    sink.begin_phase("crawl")
    state = CaptureState(sink)

    async def inventory():
        for collector in (Broken(state), Working(state)):
            await collector.run("end_phase", None, None)

    run_async(inventory())
    (error,) = store.db.query("select * from errors")
    assert (error["source"], error["phase"], error["vendor_id"]) == ("broken.end_phase", "crawl", "v")
    assert "CDP said no" in error["message"]
    assert Working.ran


def test_failing_event_capture_is_recorded_with_the_phase_it_began_in(tmp_path):
    store = Store(tmp_path / "a.db")
    sink = store.start_audit(store.start_run("audit", "t"), "v", "student", "u")
    sink.begin_phase("reconnect")
    state = CaptureState(sink)

    async def capture():
        async def fails():
            raise ValueError("response body gone")

        state.spawn(fails(), "network")
        sink.phase = "respawn"
        await state.flush()

    run_async(capture())
    (error,) = store.db.query("select * from errors")
    assert (error["source"], error["phase"]) == ("network", "reconnect")
