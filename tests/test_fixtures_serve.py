"""`trackaudit fixtures serve`: a first vendor audited from what it prints, as the README's "Audit your first
vendor" shows it."""

from __future__ import annotations

import queue
import shlex
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from conftest import run_cli
from crawler.config import load_config, load_secrets_file
from crawler.jobs.fixture_web import DEFAULT_PORTS
from readme import readme_commands, trackaudit_args


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


class Served:
    """`trackaudit fixtures serve` in a subprocess, its output read line by line."""

    def __init__(self, workdir: Path, ports: list[int]):
        args = ["--https-port", str(ports[0]), "--http-port", str(ports[1]), "--closed-port", str(ports[2])]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "crawler", "fixtures", "serve", *args],
            cwd=workdir,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()  # None: the output ended
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None  # stdout=PIPE
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def read_until(self, prefix: str, timeout: float = 30) -> list[str]:
        seen: list[str] = []
        while True:
            line = self.lines.get(timeout=timeout)
            assert line is not None, f"fixtures serve ended:\n{seen}\n{self.proc.stderr and self.proc.stderr.read()}"
            seen.append(line)
            if line.startswith(prefix):
                return seen

    def stop(self) -> tuple[int, str]:
        self.proc.send_signal(signal.SIGINT)  # Ctrl-C
        try:
            _, stderr = self.proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        return self.proc.returncode, stderr


def parse(printed: list[str]) -> dict:
    flags = printed[printed.index("Browser flags, for every browser command:") + 1]
    exports = dict(line.split("export ", 1)[1].split("=", 1) for line in printed if "export " in line)
    config = next(line.split(": ", 1)[1] for line in printed if line.startswith("Config: "))
    return {"flags": shlex.split(flags), "exports": exports, "config": config, "audit": shlex.split(printed[-1])}


@pytest.mark.e2e
def test_a_first_vendor_audited_from_what_fixtures_serve_prints(tmp_path):
    ports = free_ports(3)
    served = Served(tmp_path, ports)
    try:
        printed = served.read_until("  ./run trackaudit audit ")
        shown = parse(printed)
        assert shown["flags"] == [
            "--host-resolver-rules",
            f"MAP *:443 127.0.0.1:{ports[0]}, MAP *:80 127.0.0.1:"
            f"{ports[1]}, MAP * 127.0.0.1:{ports[2]}, EXCLUDE localhost, EXCLUDE 127.0.0.1",
            "--ignore-https-errors",
        ]
        config = load_config(tmp_path / shown["config"])
        variables = {a.password_env for v in config.vendors for a in v.accounts}
        assert set(shown["exports"]) == variables
        assert load_secrets_file(tmp_path / "results" / "fixtures" / "secrets") == shown["exports"]
        assert config.browser.host_resolver_rules is None  # the flags come from the command line, as for a real vendor

        # The README's block is what fixtures serve prints, on its default ports; run it on this test's ports.
        block = [
            c
            for c in readme_commands()
            if c.section == "Audit your first vendor" and "results/fixtures/vendors.toml" in c.words
        ]
        assert block, "README: the first-vendor block is gone"
        commands = [c for c in readme_commands() if c.block == block[0].block]
        on_these_ports = {
            f"127.0.0.1:{DEFAULT_PORTS[name]}": f"127.0.0.1:{port}"
            for name, port in zip(("https", "http", "closed"), ports, strict=True)
        }

        def substituted(args: list[str]) -> list[str]:
            for default, actual in on_these_ports.items():
                args = [arg.replace(default, actual) for arg in args]
            return args

        assert ["./run", "trackaudit", *substituted(trackaudit_args(commands[0]))] == shown["audit"]
        results = [run_cli(substituted(trackaudit_args(c)), cwd=tmp_path) for c in commands]
    finally:
        returncode, stderr = served.stop()
    audit, findings, report = results
    assert audit.returncode == 1, audit.stdout + audit.stderr  # violations found
    assert "Verdict for leakyquiz (scheduled audit): VIOLATIONS FOUND" in audit.stdout
    assert findings.returncode == 0 and "VIOLATION  cookie lq_vid:" in findings.stdout
    assert report.returncode == 0, report.stderr
    assert (tmp_path / "results" / "first" / "audit-report-run-1.html").is_file()  # where the README says
    assert returncode == 0 and "Fixture web stopped." in stderr


def test_fixtures_serve_on_a_port_in_use_says_which_option_to_change(tmp_path):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        http, closed = free_ports(2)
        proc = run_cli(
            [
                "fixtures",
                "serve",
                "--https-port",
                str(taken.getsockname()[1]),
                "--http-port",
                str(http),
                "--closed-port",
                str(closed),
            ],
            cwd=tmp_path,
            timeout=60,
        )
    finally:
        taken.close()
    assert proc.returncode == 2
    assert "cannot listen on 127.0.0.1" in proc.stderr and "--https-port" in proc.stderr
