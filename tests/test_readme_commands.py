"""Every command the README prints works as printed after `./run demo`: none is a usage error (exit 2).

Commands run in a copy of the demo's folder. Those that need what a test machine has not got are parsed by the
CLI without running (a renamed option or command still fails here), or skipped, each with its reason below;
a README command that no rule here covers fails the test, so a new one cannot slip by unchecked."""

from __future__ import annotations

import glob
import shlex
import shutil
from pathlib import Path

import pytest

from conftest import run_cli
from readme import Command, parse_only, readme_commands, trackaudit_args

pytestmark = pytest.mark.e2e

SKIPPED = {
    ("./run", "demo"): "the session's demo_run fixture ran `trackaudit demo`, which is what it runs",
    ("./run", "trackaudit", "demo"): "the session's demo_run fixture ran it",
    ("./run", "test"): "it is this test suite",
    ("./run", "bench"): "the benchmarks take minutes; tests/test_bench.py runs them on a tiny input (--tiny)",
    ("./run", "fixtures"): "serves until Ctrl-C; tests/test_fixtures_serve.py starts it and runs its block",
    ("./run", "trackaudit", "fixtures", "serve"): "serves until Ctrl-C; tests/test_fixtures_serve.py starts it",
    (".venv/bin/datasette",): "serves until stopped; tests/test_datasette_links.py starts it on the demo database "
    "with the metadata this line names",
    ("export",): "sets the password of a real vendor's account",
    ("kubectl",): "needs a Kubernetes cluster; tests/test_deploy_kubernetes.py validates the manifests it applies",
}
FIXTURE_WEB_PATHS = ("results/fixtures/", "results/first/")  # tests/test_fixtures_serve.py runs those commands


def why_not_run(command: Command) -> str | None:
    """A reason to parse the command only: it needs a real vendor's config or the network."""
    args = trackaudit_args(command) or []
    if "vendors.toml" in args:
        return "audits a real vendor of the district's vendors.toml"
    if args[:1] == ["scan"]:
        return "scans a public web site"
    if args[:2] == ["lists", "update"]:
        return "downloads lists from the internet"
    return None


def skip_reason(command: Command) -> str | None:
    for prefix, reason in SKIPPED.items():
        if command.words[: len(prefix)] == prefix:
            return reason
    if any(path in word for word in command.words for path in FIXTURE_WEB_PATHS):
        return "needs the fixture web running: tests/test_fixtures_serve.py runs it"
    return None


def prepare_worker_database(workdir: Path) -> None:
    """The merge example needs workers' databases: worker 2's is a copy of the demo's, in a folder of its own."""
    worker = workdir / "results" / "worker-2"
    worker.mkdir(parents=True)
    for item in (workdir / "results").iterdir():
        if item.name.startswith("demo.db"):
            shutil.copy(item, worker / item.name.replace("demo.db", "audit.db"))
        elif item.name in ("evidence", "screenshots"):
            shutil.copytree(item, worker / item.name)


def test_every_readme_command_after_the_demo(demo_run, tmp_path):
    workdir = tmp_path / "checkout"
    shutil.copytree(demo_run.db_path.parent, workdir / "results", ignore=shutil.ignore_patterns("*.lock"))
    prepare_worker_database(workdir)
    ran, parsed, skipped = [], [], []
    for command in readme_commands():
        if skip_reason(command):
            skipped.append(command.line)
            continue
        args = trackaudit_args(command)
        assert args is not None, f"README command no rule covers: {command.line!r} (run it here or give a reason)"
        if why_not_run(command):
            parse_only(args)  # click's UsageError here is what exit 2 would be
            parsed.append(command.line)
            continue
        args = [expanded for arg in args for expanded in (sorted(glob.glob(arg, root_dir=workdir)) or [arg])]
        proc = run_cli(args, cwd=workdir)
        assert proc.returncode in (0, 1), f"{command.line!r} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
        ran.append(command.line)
    assert len(ran) >= 10 and len(parsed) >= 5, (ran, parsed, skipped)


def test_what_the_readme_says_the_commands_leave_behind(demo_run, tmp_path):
    workdir = tmp_path / "checkout"
    shutil.copytree(demo_run.db_path.parent, workdir / "results", ignore=shutil.ignore_patterns("*.lock"))
    proc = run_cli(["report", "1", "--db", "results/demo.db", "--format", "md"], cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    assert (workdir / "results" / "demo-report-run-1.md").is_file()  # as the Reports section says
    proc = run_cli(["findings"], cwd=workdir)
    assert (
        proc.returncode == 0 and "Database: results/demo.db (the demo's; there is no results/audit.db)" in proc.stderr
    )
    proc = run_cli(["diff", "--vendor", "brightpath"], cwd=workdir)
    assert proc.returncode == 0
    assert "brightpath: run 1 is its first complete audit in results/demo.db: nothing to compare with" in proc.stdout
    proc = run_cli(["verify-evidence", "latest"], cwd=workdir)
    assert proc.returncode == 0 and proc.stdout.startswith("Run 1: evidence intact"), proc.stdout


def test_a_missing_database_names_the_demos_when_there_is_one(demo_run, tmp_path):
    workdir = tmp_path / "checkout"
    shutil.copytree(demo_run.db_path.parent, workdir / "results", ignore=shutil.ignore_patterns("*.lock"))
    proc = run_cli(["findings", "--db", "results/audit.db"], cwd=workdir)
    assert proc.returncode == 2
    assert "results/audit.db: no such database" in proc.stderr and "--db results/demo.db" in proc.stderr
    proc = run_cli(["findings"], cwd=tmp_path)  # no database anywhere
    assert proc.returncode == 2 and "./run demo" in proc.stderr, proc.stderr


def test_the_markdown_report_prints_a_command_that_works(demo_run, tmp_path):
    workdir = tmp_path / "checkout"
    shutil.copytree(demo_run.db_path.parent, workdir / "results", ignore=shutil.ignore_patterns("*.lock"))
    proc = run_cli(["report", "--db", "results/demo.db", "--format", "md", "--out", "-"], cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    printed = [line for line in proc.stdout.splitlines() if "`trackaudit report" in line]
    assert printed, proc.stdout  # LeakyQuiz has more findings than the summary lists
    command = printed[0].split("`trackaudit ", 1)[1].split("`", 1)[0]
    again = run_cli([*shlex.split(command), "--out", "report.html"], cwd=workdir)
    assert again.returncode == 0, again.stderr
    assert (workdir / "report.html").stat().st_size > 10_000
