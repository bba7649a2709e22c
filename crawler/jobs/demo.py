"""The demo: the bundled fixture vendors, served on loopback, audited end to end."""

from __future__ import annotations

import dataclasses
import os
import secrets
from importlib import resources
from pathlib import Path

from ..browse.browser import LaunchSettings
from ..config import Config, load_config
from ..policy.judge import Judge
from ..progress import Progress
from ..store.writer import Store
from .runner import RunResult, run_audit, targets_for

DEMO_DB = Path("results") / "demo.db"


def demo_config_path() -> Path:
    return Path(str(resources.files("fixtures").joinpath("demo.toml")))


def run_demo(
    store: Store,
    judge: Judge | None = None,
    executable_override: str | None = None,
    host_resolver_rules: str | None = None,
    ignore_https_errors: bool | None = None,
    dns_resolver: str | None = None,
    progress: Progress | None = None,
) -> tuple[RunResult, Config]:
    from fixtures.server import FixtureInternet

    config = load_config(demo_config_path())
    # The password variables when set (tests set them to look for leaks), else fresh random passwords:
    # the fixture server accepts them, the audit types them, nothing stores them.
    passwords = {
        account.password_env: os.environ.get(account.password_env) or secrets.token_urlsafe(12)
        for v in config.vendors
        for account in v.accounts
    }
    by_username = {account.username: passwords[account.password_env] for v in config.vendors for account in v.accounts}
    with FixtureInternet(by_username) as internet:
        browser = dataclasses.replace(
            config.browser, host_resolver_rules=internet.host_resolver_rules, trusted_spki=(internet.spki,)
        )
        config = dataclasses.replace(config, browser=browser)
        settings = LaunchSettings.from_config(
            browser, executable_override, host_resolver_rules, ignore_https_errors, dns_resolver
        )
        targets = targets_for(config, list(config.vendors), secrets=passwords)
        result = run_audit(
            store,
            settings,
            targets,
            mode="demo",
            command="trackaudit demo",
            config=config,
            judge=judge,
            progress=progress,
        )
    return result, config
