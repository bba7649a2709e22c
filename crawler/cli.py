"""The ``trackaudit`` command: a thin layer over the library; errors become messages and exit codes."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import click

from . import __version__
from .browser import BrowserNotFound, LaunchSettings
from .config import ConfigError, load_config, load_secrets_file
from .store import Store

EXIT_OK, EXIT_VIOLATIONS, EXIT_USAGE, EXIT_AUDIT_FAILED = 0, 1, 2, 3
DEFAULT_DB = Path("results") / "audit.db"


class UsageProblem(click.ClickException):
    exit_code = EXIT_USAGE


class AuditFailed(click.ClickException):
    exit_code = EXIT_AUDIT_FAILED


def _progress(message: str) -> None:
    click.echo(f"  · {message}", err=True)


def _terminate_cleanly(signum, frame):
    # Turns SIGTERM (systemd, timeout, kill) into an exception so the run is marked incomplete.
    raise SystemExit(128 + signum)


db_option = click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                         help=f"SQLite database to write (default {DEFAULT_DB}).")
chromium_option = click.option("--chromium", "chromium", default=None, metavar="PATH",
                               help="Chromium executable (default: $TRACKAUDIT_CHROMIUM, Debian's chromium, Playwright's).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="trackaudit")
def main() -> None:
    """Audit the tracking done by school edtech vendors, logged in, in a real browser, against district policy."""
    signal.signal(signal.SIGTERM, _terminate_cleanly)


@main.command()
@db_option
@chromium_option
def demo(db_path: Path | None, chromium: str | None) -> None:
    """Audit the bundled fixture vendors on loopback and summarise what was seen."""
    from .demo import DEMO_DB, run_demo
    from .summary import format_summary, run_summary

    store = Store(db_path or DEMO_DB)
    click.echo("Auditing the bundled fixture vendors (served on 127.0.0.1; nothing leaves this machine)…")
    try:
        result, _ = run_demo(store, executable_override=chromium, on_progress=_progress)
    except BrowserNotFound as exc:
        raise AuditFailed(str(exc)) from None
    except ConfigError as exc:
        raise UsageProblem(str(exc)) from None
    click.echo(f"\nRun {result.run_id}: {result.status}\n")
    click.echo(format_summary(run_summary(store, result.run_id)))
    click.echo(f"\nDatabase: {store.path}")
    if result.status != "complete":
        sys.exit(EXIT_AUDIT_FAILED)


@main.command()
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="vendors.toml")
@click.option("--vendor", "vendor_ids", multiple=True, metavar="ID", help="Audit only this vendor (repeatable).")
@db_option
@click.option("--policy", "policy", default=None, metavar="NAME_OR_PATH", help="Policy pack (default mps-7400.1).")
@click.option("--host-resolver-rules", default=None, help="Chromium host resolver rules (overrides [browser]).")
@click.option("--ignore-https-errors", is_flag=True, default=None, help="Accept invalid certificates (overrides [browser]).")
@click.option("--secrets", "secrets_path", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="NAME=value file holding the password variables, instead of the environment.")
@click.option("--concurrency", default=2, show_default=True, type=click.IntRange(1, 16),
              help="Vendor × account audits run at once.")
@chromium_option
def audit(config_path, vendor_ids, db_path, policy, host_resolver_rules, ignore_https_errors, secrets_path,
          concurrency, chromium) -> None:
    """Audit the vendors of a config file (all approved ones unless --vendor is given)."""
    from .runner import run_audit, targets_for
    from .summary import format_summary, run_summary

    try:
        config = load_config(config_path)
        vendors = [config.vendor(v) for v in vendor_ids] if vendor_ids else [v for v in config.vendors if v.status == "approved"]
        if not vendors:
            raise UsageProblem(f"{config_path}: no approved vendor to audit; name one with --vendor ID")
        secrets = load_secrets_file(secrets_path) if secrets_path else None
        targets = targets_for(config, vendors, secrets)
        settings = LaunchSettings.from_config(config.browser, chromium, host_resolver_rules, ignore_https_errors)
    except ConfigError as exc:
        raise UsageProblem(str(exc)) from None
    except BrowserNotFound as exc:
        raise AuditFailed(str(exc)) from None
    store = Store(db_path or DEFAULT_DB)
    command = "trackaudit audit " + " ".join(sys.argv[2:])
    result = run_audit(store, settings, targets, mode="audit", command=command, config=config,
                       concurrency=concurrency, on_progress=_progress)
    click.echo(f"\nRun {result.run_id}: {result.status}\n")
    click.echo(format_summary(run_summary(store, result.run_id)))
    click.echo(f"\nDatabase: {store.path}")
    if result.status != "complete":
        sys.exit(EXIT_AUDIT_FAILED)
