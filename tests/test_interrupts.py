"""A signal during the event loop cancels the work, lets every ``finally`` await its cleanup, then raises
``Interrupted``; the handlers in place before are back afterwards."""

import asyncio
import os
import signal

import pytest

from crawler.interrupts import Interrupted, raise_interrupted, run_until_interrupted


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_cancels_the_work_and_its_cleanup_still_awaits(signum):
    cleaned = []

    async def work():
        asyncio.get_running_loop().call_later(0.05, os.kill, os.getpid(), signum)
        try:
            await asyncio.sleep(30)
        finally:
            await asyncio.sleep(0.01)  # closing a browser: an await the cancellation must not cut short
            cleaned.append(True)

    previous = signal.signal(signum, raise_interrupted)
    try:
        with pytest.raises(Interrupted) as raised:
            run_until_interrupted(work())
        assert signal.getsignal(signum) is raise_interrupted
    finally:
        signal.signal(signum, previous)
    assert cleaned == [True]
    assert raised.value.code == 128 + signum and raised.value.signal_name == signal.Signals(signum).name


def test_without_a_signal_the_result_is_returned():
    async def work():
        await asyncio.sleep(0)
        return 42

    assert run_until_interrupted(work()) == 42
