"""Ctrl-C and SIGTERM end a run cleanly: the run is marked incomplete, its audits interrupted, the browsers closed.

Outside the event loop a signal raises ``Interrupted`` where Python is. Inside it, the signal cancels the main task
instead: raised wherever Python happened to be, it could land in Playwright's own task that reads the browser's
pipe, and the browsers could then never be closed (the run hung on its way out)."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(SystemExit):
    """A run ended by a signal; the exit status is 128 + its number."""

    def __init__(self, signum: int):
        super().__init__(128 + signum)
        self.signal_name = signal.Signals(signum).name


def raise_interrupted(signum: int, frame: object) -> None:
    raise Interrupted(signum)


def install() -> None:
    for signum in SIGNALS:
        signal.signal(signum, raise_interrupted)


def run_until_interrupted(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run``, where SIGINT and SIGTERM cancel the work (each ``finally`` runs, with the browser
    connection intact) and then raise ``Interrupted``."""

    async def main() -> T:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        received: list[int] = []
        previous = {}

        def on_signal(signum: int) -> None:
            received.append(signum)
            task.cancel()

        try:
            for signum in SIGNALS:
                previous[signum] = signal.getsignal(signum)
                loop.add_signal_handler(signum, on_signal, signum)
        except (ValueError, RuntimeError):  # not the main thread: signals stay as they were
            pass
        try:
            result = await coroutine
        except asyncio.CancelledError:
            if received:
                raise Interrupted(received[0]) from None
            raise
        finally:
            for signum, handler in previous.items():
                loop.remove_signal_handler(signum)
                signal.signal(signum, handler)
        if received:  # the work swallowed the cancellation
            raise Interrupted(received[0])
        return result

    return asyncio.run(main())
