"""The fixture web as a server of its own (``trackaudit fixtures serve``): fixed ports, fresh passwords, and the
files a first audit needs, a ``vendors.toml`` and a secrets file, written into a folder."""

from __future__ import annotations

import os
import secrets
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import load_config

if TYPE_CHECKING:  # the fixtures package is imported only when serving
    from fixtures.server import FixtureInternet

DEFAULT_PORTS = {"https": 8443, "http": 8080, "closed": 8081}
FIRST_VENDOR = "leakyquiz"  # the one with findings to look at
CONFIG_HEADER = """\
# A ready config for the fixture web that `trackaudit fixtures serve` runs on 127.0.0.1. Its two vendors are
# the demo's: BrightPath (compliant) and LeakyQuiz (leaky). The browser reaches their host names only through
# the --host-resolver-rules and --ignore-https-errors that `fixtures serve` prints; a real vendor needs neither.
# The passwords are new at every start of the server: they are in the secrets file beside this one.
"""


@dataclass(frozen=True)
class TestAccount:
    vendor_id: str
    username: str
    password_env: str
    password: str


@dataclass(frozen=True)
class ServedFixtures:
    internet: FixtureInternet
    config_path: Path
    secrets_path: Path
    accounts: tuple[TestAccount, ...]

    @property
    def browser_flags(self) -> list[str]:
        return ["--host-resolver-rules", self.internet.host_resolver_rules, "--ignore-https-errors"]

    def audit_command(self, vendor_id: str, db_path: str) -> str:
        return shlex.join(
            [
                "./run",
                "trackaudit",
                "audit",
                "--config",
                str(self.config_path),
                "--secrets",
                str(self.secrets_path),
                "--vendor",
                vendor_id,
                "--db",
                db_path,
                *self.browser_flags,
            ]
        )


def fixture_config_source() -> str:
    """The demo's vendors.toml without its comments about the demo."""
    from .demo import demo_config_path  # the demo module brings in the browser stage

    text = demo_config_path().read_text(encoding="utf-8")
    lines = text.splitlines()
    while lines and (lines[0].startswith("#") or not lines[0].strip()):
        lines.pop(0)
    return CONFIG_HEADER + "\n" + "\n".join(lines) + "\n"


def start_fixtures(out_dir: Path, https_port: int, http_port: int, closed_port: int) -> ServedFixtures:
    """Start the fixture web on the given ports and write ``vendors.toml`` and ``secrets`` (mode 600) into
    ``out_dir``; raises OSError when a port is taken."""
    from fixtures.server import FixtureInternet

    out_dir.mkdir(parents=True, exist_ok=True)
    config_path = out_dir / "vendors.toml"
    config_path.write_text(fixture_config_source(), encoding="utf-8")
    config = load_config(config_path)
    accounts = tuple(
        TestAccount(vendor.id, account.username, account.password_env, secrets.token_urlsafe(12))
        for vendor in config.vendors
        for account in vendor.accounts
    )
    internet = FixtureInternet({a.username: a.password for a in accounts}, https_port, http_port, closed_port)
    internet.start()
    secrets_path = out_dir / "secrets"
    descriptor = os.open(secrets_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write("# Passwords of the fixture web's test accounts, valid while this `fixtures serve` runs.\n")
        file.writelines(f"{a.password_env}={a.password}\n" for a in accounts)
    return ServedFixtures(internet, config_path, secrets_path, accounts)
