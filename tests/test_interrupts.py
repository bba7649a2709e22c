"""A signal during the event loop cancels the work, lets every ``finally`` await its cleanup, then raises
``Interrupted``; the handlers in place before are back afterwards. Each case runs in a fresh interpreter: a test
worker's main thread may already hold the event loop of the synchronous Playwright fixtures."""

import json
import signal
import subprocess
import sys

import pytest

CASE = """
import asyncio, json, os, signal, sys
from crawler.interrupts import Interrupted, raise_interrupted, run_until_interrupted

signum = int(sys.argv[1])
cleaned = []

async def work():
    if signum:
        asyncio.get_running_loop().call_later(0.05, os.kill, os.getpid(), signum)
    try:
        await asyncio.sleep(30 if signum else 0)
    finally:
        await asyncio.sleep(0.01)  # closing a browser: an await the cancellation must not cut short
        cleaned.append(True)
    return 42

for handled in (signal.SIGINT, signal.SIGTERM):
    signal.signal(handled, raise_interrupted)
try:
    outcome = {"result": run_until_interrupted(work())}
except Interrupted as exc:
    outcome = {"code": exc.code, "name": exc.signal_name}
outcome["cleaned"] = cleaned
outcome["handlers_back"] = all(signal.getsignal(s) is raise_interrupted for s in (signal.SIGINT, signal.SIGTERM))
print(json.dumps(outcome))
"""


def run_case(signum: int) -> dict:
    proc = subprocess.run([sys.executable, "-c", CASE, str(signum)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_cancels_the_work_and_its_cleanup_still_awaits(signum):
    assert run_case(signum) == {
        "code": 128 + signum,
        "name": signal.Signals(signum).name,
        "cleaned": [True],
        "handlers_back": True,
    }


def test_without_a_signal_the_result_is_returned():
    assert run_case(0) == {"result": 42, "cleaned": [True], "handlers_back": True}
