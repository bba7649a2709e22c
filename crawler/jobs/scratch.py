"""The run's scratch folder: browser profiles and Playwright's temporary files live in one folder named
``trackaudit-<pid>-…``, removed when the run ends (Ctrl-C and SIGTERM included). A folder left by a run that
was killed outright (its pid is gone) is removed at the next start."""

from __future__ import annotations

import os
import re
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PREFIX = "trackaudit-"
_OURS = re.compile(rf"{PREFIX}(\d+)-")
MAX_SOCKET_PATH = 107


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
    # Chromium puts its singleton socket in TMPDIR and a socket path has at most 107 bytes: a folder too deep
    # keeps only the profiles, and Chromium's own temporary files stay in the usual place.
    if len(str(folder)) + len("/.org.chromium.Chromium.XXXXXX/SingletonSocket") <= MAX_SOCKET_PATH:
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
        _remove(folder)


def _browsers_using(folder: Path) -> list[int]:
    """Processes (Chromium left running by a cut-off run) whose command line names the folder (Linux /proc)."""
    pids = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if str(folder).encode() in command and int(entry.name) != os.getpid():
            pids.append(int(entry.name))
    return pids


def _remove(folder: Path, attempts: int = 25) -> None:
    # A browser cut off by Ctrl-C may outlive the run for a moment and keep writing into its profile.
    for pid in _browsers_using(folder):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    for _ in range(attempts):
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            return
        time.sleep(0.2)
