import fcntl
import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlite_utils
from hypothesis import HealthCheck, settings

# The property tests run beside end-to-end audits that take the CPU: how fast Hypothesis generates inputs, and how
# long one example takes, then measure the machine's load, not the code. Settings a test gives still apply.
settings.register_profile("beside-audits", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("beside-audits")

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
    return subprocess.run(
        [sys.executable, "-m", "crawler", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


@contextmanager
def _exclusive(path: Path):
    with open(path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def once_per_session(tmp_path_factory, name: str, produce):
    """``produce(workdir)`` once for the whole test session, even when pytest-xdist runs it in several worker
    processes: the first worker to get here produces, the others wait and read what it wrote.

    ``produce`` returns a JSON-serialisable dict and writes its files under ``workdir``; every worker gets the
    same dict and the same folder. Use it for expensive session fixtures that tests only read (an audit)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker is None:
        workdir = tmp_path_factory.mktemp(name)
        return produce(workdir), workdir
    shared = tmp_path_factory.getbasetemp().parent  # the same folder for every worker of this session
    workdir, record = shared / name, shared / f"{name}.json"
    with _exclusive(shared / f"{name}.lock"):
        if not record.exists():
            workdir.mkdir(exist_ok=True)
            record.write_text(json.dumps(produce(workdir)))
    return json.loads(record.read_text()), workdir


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> CliRun:
    """`trackaudit demo` once for the session, in a scratch folder, as a user would run it (shared by every
    xdist worker: tests only read it)."""

    def produce(workdir: Path) -> dict:
        started = time.monotonic()
        lists = ["--lists-dir", str(SHARED_LISTS)] if SHARED_LISTS.is_dir() else []
        proc = run_cli(["demo", *lists], cwd=workdir, env_extra=DEMO_PASSWORDS)
        return {
            "stdout": proc.stdout,
            "stderr": proc.stderr,
            "returncode": proc.returncode,
            "seconds": time.monotonic() - started,
        }

    result, workdir = once_per_session(tmp_path_factory, "demo", produce)
    assert result["returncode"] == 0, result["stdout"] + result["stderr"]  # a complete demo run exits 0
    return CliRun(
        workdir / "results" / "demo.db", result["stdout"], result["stderr"], result["returncode"], result["seconds"]
    )


# The files xdist starts first, in this order. With `--dist loadfile` a file runs whole on one worker, so the run can
# end no sooner than its longest file. test_e2e_demo.py comes first: it makes the demo audit that a dozen files
# read (demo_run), and a worker that reaches one of them before the audit is made sits idle until it is. Then the
# longest files, longest first (seconds one worker spent on each in a full run on 2 cores), so they end on
# different workers; test_e2e_hostile.py mostly waits for pages that hang, beside the others' audits.
FIRST_FILES = (
    "test_e2e_demo.py",  # 35
    "test_e2e_jobs.py",  # 125
    "test_e2e_coverage.py",  # 60
    "test_bench.py",  # 56
    "test_e2e_hostile.py",  # 44
    "test_e2e_behaviour.py",  # 39
    "test_e2e_audit_cli.py",  # 35
    "test_fixtures_serve.py",  # 25
    "test_e2e_jobs_scan.py",  # 22
)


def pytest_xdist_auto_num_workers(config):
    """`-n auto`: one worker more than there are CPUs. The end-to-end tests spend about a third of their time
    waiting on pages (settling, hanging fixtures, login timeouts), which a third worker's audits fill. On 2 cores,
    in consecutive runs: 3 min 58 s with 3 workers against 4 min 37 s with 2, and (the machine slower) 5 min 42 s
    against 6 min 4 s."""
    return (os.cpu_count() or 1) + 1


def pytest_collection_modifyitems(config, items):
    """FIRST_FILES first, then the other files with end-to-end tests, then the unit tests; each file keeps its own
    order. xdist hands files out in this order (`--no-loadscope-reorder` in pyproject.toml; by default it would
    start the files with the most tests first), so the short unit-test files fill the gaps at the end."""
    slow_files = {item.path for item in items if item.get_closest_marker("e2e")}
    rank = {name: position for position, name in enumerate(FIRST_FILES)}
    items.sort(key=lambda item: (rank.get(item.path.name, len(rank)), item.path not in slow_files))


def run_async(coroutine):
    """Run a coroutine to completion in a thread of its own: pytest-playwright's sync ``page`` fixture keeps an
    event loop running in the main thread for the rest of the session, where ``asyncio.run`` is refused."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright's ``page`` fixture on the Chromium trackaudit uses (Debian's), never a downloaded one."""
    from crawler.browse.browser import find_chromium

    return {**browser_type_launch_args, "executable_path": find_chromium()}
