"""What a run tells its user while it works: a progress display per vendor and page on a terminal, log lines
otherwise (quiet by default, so cron mails only what matters), and a log file that never holds a password."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from .redact import Redactor

LOGGER = logging.getLogger("trackaudit")


class Progress:
    """Events of a run; this base says nothing."""

    def audit_started(self, key: str, start_url: str, expected_pages: int) -> None:
        LOGGER.info("%s: auditing %s", key, start_url)

    def phase(self, key: str, phase: str) -> None:
        LOGGER.debug("%s: phase %s", key, phase)

    def page(self, key: str, url: str) -> None:
        LOGGER.debug("%s: visited %s", key, url)

    def audit_finished(self, key: str, summary: str) -> None:
        LOGGER.info("%s: %s", key, summary)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc_info) -> None:
        pass


class RichProgress(Progress):
    """A bar per vendor × account on the terminal, with the phase and the page being visited."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )
        from rich.progress import (
            Progress as Bars,
        )

        self.console = Console(stderr=True)
        self._bars = Bars(
            SpinnerColumn(),
            TextColumn("{task.fields[key]:<28}"),
            BarColumn(bar_width=24),
            MofNCompleteColumn(),
            TextColumn("{task.fields[phase]:<10} {task.fields[url]}"),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
        )
        self._tasks: dict[str, int] = {}

    def __enter__(self) -> RichProgress:
        self._bars.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._bars.stop()

    def audit_started(self, key, start_url, expected_pages):
        super().audit_started(key, start_url, expected_pages)
        self._tasks[key] = self._bars.add_task(key, total=expected_pages, key=key, phase="starting", url=start_url[:60])

    def phase(self, key, phase):
        super().phase(key, phase)
        self._bars.update(self._tasks[key], phase=phase)

    def page(self, key, url):
        super().page(key, url)
        self._bars.update(self._tasks[key], advance=1, url=url[:60])

    def audit_finished(self, key, summary):
        super().audit_finished(key, summary)
        task = self._tasks[key]
        self._bars.update(task, completed=self._bars.tasks[task].total, phase="done", url=summary[:60])


class _RedactingFilter(logging.Filter):
    def __init__(self, redactor: Redactor):
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redactor.text(record.getMessage())
        record.args = ()
        return True


def configure(verbose: bool, quiet: bool, log_file: Path | None, redactor: Redactor) -> Progress:
    """Set up logging and pick the progress display: bars on a terminal, log lines with --verbose, else quiet."""
    LOGGER.handlers.clear()
    LOGGER.setLevel(logging.DEBUG)
    LOGGER.propagate = False
    redacting = _RedactingFilter(redactor)
    interactive = sys.stderr.isatty() and not verbose and not quiet
    bars = RichProgress() if interactive else None
    progress: Progress = bars if bars is not None else Progress()
    if bars is not None:
        from rich.logging import RichHandler

        console: logging.Handler = RichHandler(console=bars.console, show_time=False, show_path=False)
    else:
        console = logging.StreamHandler(sys.stderr)
        console.setFormatter(logging.Formatter("%(message)s"))
    console.setLevel(logging.DEBUG if verbose else logging.ERROR if quiet else logging.WARNING)
    console.addFilter(redacting)
    LOGGER.addHandler(console)
    if log_file:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        to_file = logging.FileHandler(log_file, encoding="utf-8")
        to_file.setLevel(logging.DEBUG)
        to_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        to_file.addFilter(redacting)
        LOGGER.addHandler(to_file)
    return progress
