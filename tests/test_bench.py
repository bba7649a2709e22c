"""`./run bench` runs end to end on a tiny input and prints every figure beside its goal (no timing is asserted:
benchmarks are not timed tests)."""

import subprocess
import sys

import pytest

from conftest import REPO

pytestmark = pytest.mark.e2e


def test_bench_prints_every_figure_with_its_goal_on_a_tiny_input():
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / "suite.py"), "--tiny"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| ") and "Figure" not in line]
    goals = {row.split("|")[3].strip() for row in rows}
    assert goals == {
        "<= 1.3x",
        ">= 50 MB/s",
        ">= 20x",
        ">= 10 MB/s",
        ">= 1.6x",
        "< 300 MB",
        "< 0.2 MB/page",
        "reported",
        "< 5 s",
    }
    assert len(rows) == 9
    assert "BrightPath audit / bare Playwright" in proc.stdout and "vendors per hour" in proc.stdout
    assert "load average" in proc.stdout  # the load the figures were measured under
    assert "./run bench" in (REPO / "README.md").read_text()
    assert "bench) exec" in (REPO / "run").read_text()
