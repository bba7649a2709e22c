"""The quality gates of ``./run test``: ruff (lint, format) and mypy (strict on the policy, the analyzers, the store
and the read model), with the configuration in pyproject.toml and the virtualenv's own executables."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def gate(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / command[0]), *command[1:]], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_lint_passes():
    result = gate("ruff", "check", "--output-format", "concise", ".")
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr


def test_ruff_format_leaves_every_file_unchanged():
    result = gate("ruff", "format", "--check", ".")
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr


def test_mypy_passes():
    result = gate("mypy")
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr


def test_the_gates_run_with_the_project_configuration():
    """The tools are there and read pyproject.toml (a gate that cannot start would fail for the wrong reason)."""
    ruff = gate("ruff", "check", "--show-settings", "crawler/setcookie.py")
    assert ruff.returncode == 0 and "line_length = 120" in ruff.stdout, ruff.stderr
    mypy = gate("mypy", "crawler/setcookie.py")
    assert mypy.returncode == 0, mypy.stdout + mypy.stderr
