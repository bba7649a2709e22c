import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlite_utils

REPO = Path(__file__).resolve().parents[1]
SHARED_LISTS = REPO.parent / "shared" / "lists"
# Known passwords for the demo's accounts, so the leak test knows what to look for.
DEMO_PASSWORDS = {
    "TRACKAUDIT_DEMO_BRIGHTPATH_PASSWORD": "Bp-pass+w0rd/Secret",
    "TRACKAUDIT_DEMO_LEAKYQUIZ_PASSWORD": "Lq pass&w0rd=Secret",
}


@dataclass(frozen=True)
class CliRun:
    db_path: Path
    stdout: str
    stderr: str
    returncode: int
    seconds: float

    @property
    def db(self) -> sqlite_utils.Database:
        return sqlite_utils.Database(self.db_path)


def run_cli(args, cwd: Path, env_extra=None, timeout=300) -> subprocess.CompletedProcess:
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "crawler", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> CliRun:
    """`trackaudit demo` once for the session, in a scratch folder, as a user would run it."""
    workdir = tmp_path_factory.mktemp("demo")
    started = time.monotonic()
    lists = ["--lists-dir", str(SHARED_LISTS)] if SHARED_LISTS.is_dir() else []
    proc = run_cli(["demo", *lists], cwd=workdir, env_extra=DEMO_PASSWORDS)
    seconds = time.monotonic() - started
    assert proc.returncode == 0, proc.stdout + proc.stderr  # a complete demo run exits 0
    return CliRun(workdir / "results" / "demo.db", proc.stdout, proc.stderr, proc.returncode, seconds)
