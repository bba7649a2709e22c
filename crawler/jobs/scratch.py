"""The run's scratch folder: browser profiles and Playwright's temporary files live in one folder named
``trackaudit-<pid>-…``, removed when the run ends (Ctrl-C and SIGTERM included). A folder left by a run that
was killed outright (its pid is gone) is removed at the next start."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PREFIX = "trackaudit-"
_OURS = re.compile(rf"{PREFIX}(\d+)-")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_abandoned(base: Path) -> list[Path]:
    """Scratch folders whose run is dead: they may hold a test account's live session, so they go."""
    removed = []
    for entry in base.glob(f"{PREFIX}*"):
        found = _OURS.match(entry.name)
        if found and entry.is_dir() and not entry.is_symlink() and not _pid_alive(int(found.group(1))):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


@contextmanager
def scratch_folder() -> Iterator[Path]:
    """A private temporary folder for this run; TMPDIR points to it so the Playwright driver and Chromium
    (child processes) put their temporary files there too."""
    base = Path(tempfile.gettempdir())
    remove_abandoned(base)
    folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=base))
    saved_env, saved_tempdir = os.environ.get("TMPDIR"), tempfile.tempdir
    os.environ["TMPDIR"] = str(folder)
    tempfile.tempdir = str(folder)
    try:
        yield folder
    finally:
        tempfile.tempdir = saved_tempdir
        if saved_env is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = saved_env
        shutil.rmtree(folder, ignore_errors=True)
