"""One run at a time per database: a scheduled run that finds another still going stops at once."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from typing import TextIO


class DatabaseBusy(Exception):
    pass


class RunLock:
    """An exclusive, non-blocking lock on ``<db>.lock``; the kernel frees it if the process dies."""

    def __init__(self, db_path: str | Path):
        # Keyed on the resolved path: a symlink or another spelling of the same database shares the lock.
        self.path = Path(f"{Path(db_path).resolve()}.lock")
        self._file: TextIO | None = None

    def __enter__(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise DatabaseBusy(
                f"another trackaudit run is using {str(self.path)[:-5]} ({holder}); "
                "this run did not start. Fix: wait for it to finish, or use another --db"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {time.strftime('%Y-%m-%d %H:%M:%S')}")
        handle.flush()
        self._file = handle
        return self

    def __exit__(self, *exc_info) -> None:
        if self._file:
            self._file.seek(0)
            self._file.truncate()
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
