"""The ``trackaudit`` command: a thin layer over the library; errors become messages and exit codes."""

from __future__ import annotations

import logging
import os
import sys
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import click

from . import __version__, interrupts
from .config import BrowserConfig, ConfigError, load_config, load_secrets_file, parse_config
from .dns import DnsResolver
from .interrupts import Interrupted
from .jobs.fixture_web import DEFAULT_PORTS as DEFAULT_FIXTURE_PORTS
from .knowledge.lists import LIST_SOURCES, ListError, default_cache_dir, knowledge_warning, update_lists
from .store import queries
from .store.schema import NotOurDatabase
from .store.writer import Store

if TYPE_CHECKING:  # imported where used: commands that only read a database start without them
    from .analyze.inventory import Change
    from .policy.judge import Judge

EXIT_OK, EXIT_VIOLATIONS, EXIT_USAGE, EXIT_AUDIT_FAILED = 0, 1, 2, 3
EXIT_INTERRUPTED = 130
DEFAULT_DB = Path("results") / "audit.db"


class UsageProblem(click.ClickException):
    exit_code = EXIT_USAGE


class AuditFailed(click.ClickException):
    exit_code = EXIT_AUDIT_FAILED


class _Commands(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (Interrupted, KeyboardInterrupt) as exc:
            name = exc.signal_name if isinstance(exc, Interrupted) else "SIGINT"
            code = exc.code if isinstance(exc, Interrupted) else EXIT_INTERRUPTED
            run_id = getattr(exc, "run_id", None)
            what = f"run {run_id} marked incomplete, its unfinished audits interrupted" if run_id else "stopped"
            click.echo(f"Interrupted ({name}): {what}; browsers closed and temporary profiles removed.", err=True)
            sys.exit(code)


def _load_judge(policy, lists_dir, warn_about_lists: bool = False):
    from .policy.judge import Judge

    try:
        judge = Judge.load(policy, lists_dir)
    except ConfigError as exc:
        raise UsageProblem(str(exc)) from None
    except ListError as exc:
        raise UsageProblem(f"{exc}. Fix: run 'trackaudit lists update' or remove the damaged file") from None
    warning = knowledge_warning(judge.lists) if warn_about_lists else None
    if warning:
        click.echo(f"Warning: {warning}.", err=True)
    return judge


def _results_db(db_path: Path | None) -> Path:
    """The database a command that reads results uses: --db, else results/audit.db, else the demo's
    results/demo.db (said on stderr, so the reader knows which one answered)."""
    from .jobs.demo import DEMO_DB

    if db_path is not None:
        if not db_path.exists():
            example = f", e.g. --db {DEMO_DB} (the demo's)" if DEMO_DB.exists() else ""
            raise UsageProblem(f"{db_path}: no such database. Fix: pass --db with the database an audit wrote{example}")
        return db_path
    if DEFAULT_DB.exists():
        return DEFAULT_DB
    if DEMO_DB.exists():
        click.echo(f"Database: {DEMO_DB} (the demo's; there is no {DEFAULT_DB})", err=True)
        return DEMO_DB
    raise UsageProblem(
        f"{DEFAULT_DB}: no such database, and no demo database {DEMO_DB} either. Fix: run an audit "
        f"first ('./run demo' writes {DEMO_DB}), or pass --db with the database an audit wrote"
    )


class RunReference(click.ParamType):
    """A run id, or ``latest`` for the database's latest run."""

    name = "RUN"

    def convert(self, value, param, ctx):
        if isinstance(value, int) or value == "latest":
            return value
        try:
            return int(value)
        except ValueError:
            self.fail(
                f"{value!r} is not a run id. Fix: give a number (see 'trackaudit findings') or 'latest'", param, ctx
            )


RUN = RunReference()


def _run_id(store: Store, reference: int | str) -> int:
    """The run a reference names, or a usage error that says which runs exist."""
    run_id = reference if isinstance(reference, int) else queries.latest_run_id(store)
    if run_id is None:
        raise UsageProblem(f"{store.path}: no run yet. Fix: run an audit first, or pass --db with another database")
    if queries.run(store, run_id) is None:
        raise UsageProblem(
            f"{store.path}: no run {run_id} (the latest is {queries.latest_run_id(store)}). "
            f"Fix: pass a run id the database has, or 'latest'"
        )
    return run_id


def _open_store(db_path: Path, read_only: bool = False) -> Store:
    """The database; ``read_only`` for commands that only read it (the file is then never changed)."""
    if read_only and not db_path.is_file():
        raise UsageProblem(f"{db_path}: no such database. Fix: pass --db with the database an audit wrote")
    try:
        return Store(db_path, read_only=read_only)
    except NotOurDatabase as exc:
        raise UsageProblem(f"{exc}. Fix: pass --db with a trackaudit database") from None
    except Exception as exc:  # unwritable, locked
        raise UsageProblem(
            f"{db_path}: cannot open the database ({exc}). Fix: pass --db with a writable path to a trackaudit database"
        ) from None


def _print_run(store: Store, result, quiet: bool = False) -> None:
    from .report.summary import format_summary, run_summary
    from .report.text import format_findings

    if quiet:
        for vendor_id, verdict in sorted(result.verdicts.items()):
            click.echo(f"run {result.run_id} {result.status}: {vendor_id}: {verdict.verdict}")
        if not result.verdicts:
            click.echo(f"run {result.run_id} {result.status}")
        _print_seal(store, result.run_id)
        return
    click.echo(f"\nRun {result.run_id}: {result.status}\n")
    click.echo(format_summary(run_summary(store, result.run_id)))
    if result.judgements:
        click.echo("\nFindings\n")
        click.echo(format_findings(store, result.run_id))
    for vendor_id, verdict in sorted(result.verdicts.items()):
        click.echo(f"\nVerdict for {vendor_id} ({verdict.job}): {verdict.verdict.upper()}")
        for reason in verdict.reasons:
            click.echo(f"  - {reason}")
    click.echo(f"\nDatabase: {store.path}")
    _print_seal(store, result.run_id)


def _print_seal(store: Store, run_id: int) -> None:
    """The manifest's digest, to paste into a ticket: the run's evidence can be checked against it later."""
    seal = (queries.run(store, run_id) or {}).get("manifest_sha256")
    if seal:
        click.echo(f"Evidence seal of run {run_id}: {seal if ':' in seal else 'sha256:' + seal}")


@contextmanager
def _run_lock(db_path: Path):
    from .jobs.lock import DatabaseBusy, RunLock
    from .jobs.scratch import scratch_folder

    try:
        lock = RunLock(db_path)
        lock.__enter__()
    except DatabaseBusy as exc:
        raise AuditFailed(str(exc)) from None
    except OSError as exc:
        raise UsageProblem(
            f"{db_path}: cannot write beside the database ({exc.strerror or exc}). "
            f"Fix: pass --db with a path in a folder you can write"
        ) from None
    try:
        with scratch_folder():
            yield lock
    finally:
        lock.__exit__(None, None, None)


def _due_targets(store: Store, targets):
    """Targets whose vendor has no complete audit younger than its audit_every_days (an incomplete audit does
    not count); says which are skipped."""
    now = datetime.now(UTC)
    due = []
    for target in targets:
        last = queries.last_complete_audit(store, target.vendor.id)
        if last and queries.latest_audit_incomplete(store, target.vendor.id):
            click.echo(f"{target.vendor.id}: its last audit was incomplete: due", err=True)
        elif last:
            age = now - datetime.fromisoformat(last["started_at"])
            if age < timedelta(days=target.vendor.audit_every_days):
                click.echo(
                    f"{target.vendor.id}: last audited {last['started_at']} (run {last['run_id']}), "
                    f"every {target.vendor.audit_every_days} days: not due",
                    err=True,
                )
                continue
        due.append(target)
    return due


def output_options(command):
    """--verbose, --quiet, --log-file: how much a run says while it works."""
    command = click.option(
        "--log-file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Also write a detailed log here (passwords masked).",
    )(command)
    command = click.option("--quiet", "-q", is_flag=True, help="Print only the verdicts (for cron).")(command)
    command = click.option("--verbose", "-v", is_flag=True, help="Log every phase and page instead of a progress bar.")(
        command
    )
    return command


def _progress(store: Store, verbose: bool, quiet: bool, log_file: Path | None):
    from .browse.browser import sandbox_enabled
    from .progress import configure

    try:
        progress = configure(verbose, quiet, log_file, store.redactor)
    except OSError as exc:
        raise UsageProblem(
            f"{log_file}: cannot write the log file ({exc.strerror or exc}). "
            f"Fix: pass --log-file with a path you can write"
        ) from None
    if not sandbox_enabled():
        logging.getLogger("trackaudit").warning(
            "Running as root: Chromium refuses its sandbox for root, so the audited sites run unsandboxed. "
            "Fix: run trackaudit as a dedicated non-root user"
        )
    return progress


db_option = click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"SQLite database (default {DEFAULT_DB}).",
)
chromium_option = click.option(
    "--chromium",
    "chromium",
    default=None,
    metavar="PATH",
    help="Chromium executable (default: $TRACKAUDIT_CHROMIUM, Debian's chromium, Playwright's).",
)
policy_option = click.option(
    "--policy",
    "policy",
    default=None,
    metavar="NAME_OR_PATH",
    help="Policy pack: a name in policies/ or a TOML file (default mps-7400.1).",
)
lists_option = click.option(
    "--lists-dir",
    "lists_dir",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="Extra folder of tracker/cookie lists (besides the cache of 'lists update').",
)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="trackaudit")
def main() -> None:
    """Audit the tracking done by school edtech vendors, logged in, in a real browser, against district policy.

    Exit status of the commands that audit: 0 no violation, 1 violations found, 2 usage or config error,
    3 an audit was incomplete (its verdict says why and how to fix it; outranks 1) or the run failed.
    Ctrl-C or SIGTERM ends a run cleanly: it is marked incomplete and the exit status is 130 (143 for SIGTERM)."""
    interrupts.install()
    # Databases, HARs, traces, screenshots and logs hold the test accounts' session cookies: owner only.
    os.umask(0o077)


def _options(*decorators):
    def apply(command):
        for decorator in reversed(decorators):
            command = decorator(command)
        return command

    return apply


def _check_dns_resolver(ctx, param, value):
    try:
        DnsResolver.parse(value)
    except ValueError as exc:
        raise click.BadParameter(f"{exc}. Fix: give the resolver as IP:PORT, e.g. 127.0.0.1:53") from None
    return value


browser_options = _options(
    click.option("--host-resolver-rules", default=None, help="Chromium host resolver rules (overrides [browser])."),
    click.option(
        "--ignore-https-errors", is_flag=True, default=None, help="Accept invalid certificates (overrides [browser])."
    ),
    click.option(
        "--dns-resolver",
        default=None,
        callback=_check_dns_resolver,
        metavar="HOST:PORT",
        help="DNS server asked for first-party hosts' CNAME chains, to find CNAME-cloaked trackers "
        "(overrides [browser] dns_resolver; default: the system resolver).",
    ),
    chromium_option,
)
seal_key_option = click.option(
    "--seal-key",
    "seal_key",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A secret key file: the evidence seal becomes an HMAC that cannot be recomputed "
    "without it (verify-evidence then needs the same key).",
)
run_options = _options(db_option, policy_option, lists_option, browser_options, output_options, seal_key_option)


def _read_seal_key(path: Path | None) -> bytes | None:
    if path is None:
        return None
    try:
        key = path.read_bytes().strip()
    except OSError as exc:
        raise UsageProblem(
            f"{path}: cannot read the seal key ({exc.strerror or exc}). Fix: pass --seal-key with a readable file"
        ) from None
    if len(key) < 16:
        raise UsageProblem(
            f"{path}: the seal key is shorter than 16 bytes. Fix: e.g. "
            f"'head -c 32 /dev/urandom | base64 > {path}' and keep it apart from the results"
        )
    return key


config_options = _options(
    click.option(
        "--config", "config_path", required=True, type=click.Path(dir_okay=False, path_type=Path), help="vendors.toml"
    ),
    click.option(
        "--secrets",
        "secrets_path",
        default=None,
        type=click.Path(dir_okay=False, path_type=Path),
        help="NAME=value file holding the password variables, instead of the environment.",
    ),
)


def _prepare(config_path, pick, secrets_path, chromium, host_resolver_rules, ignore_https_errors, dns_resolver):
    """Config, targets and browser settings of a run, or a usage error (exit 2) that names the fix.
    ``pick`` chooses the config's vendors to run."""
    from .browse.browser import BrowserNotFound, LaunchSettings
    from .jobs.runner import targets_for

    try:
        config = load_config(config_path)
        vendors = pick(config)
        secrets = load_secrets_file(secrets_path) if secrets_path else None
        targets = targets_for(config, vendors, secrets)
        settings = LaunchSettings.from_config(
            config.browser, chromium, host_resolver_rules, ignore_https_errors, dns_resolver
        )
    except ConfigError as exc:
        raise UsageProblem(str(exc)) from None
    except BrowserNotFound as exc:
        raise AuditFailed(str(exc)) from None
    return config, targets, settings


def _finish(store: Store, result, quiet: bool) -> None:
    _print_run(store, result, quiet)
    if result.status != "complete" or result.incomplete:  # an incomplete audit outranks violations: cron must alert
        sys.exit(EXIT_AUDIT_FAILED)
    sys.exit(EXIT_VIOLATIONS if result.violations else EXIT_OK)


@main.command()
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="SQLite database (default results/demo.db).",
)
@policy_option
@lists_option
@browser_options
@output_options
@seal_key_option
def demo(
    db_path,
    policy,
    lists_dir,
    host_resolver_rules,
    ignore_https_errors,
    dns_resolver,
    chromium,
    verbose,
    quiet,
    log_file,
    seal_key,
) -> None:
    """Audit the bundled fixture vendors on loopback, judge them and summarise what was seen.

    The fixture sites run in this process and the browser is pointed at them; --host-resolver-rules and
    --ignore-https-errors override that as in every browser command. Exit 0 when the run completes."""
    from .browse.browser import BrowserNotFound
    from .jobs.demo import DEMO_DB, run_demo

    judge = _load_judge(policy, lists_dir, warn_about_lists=True)
    db_path = db_path or DEMO_DB
    if not quiet:
        click.echo("Auditing the bundled fixture vendors (served on 127.0.0.1; nothing leaves this machine)…")
    with _run_lock(db_path):
        store = _open_store(db_path)
        store.seal_key = _read_seal_key(seal_key)
        try:
            result, _ = run_demo(
                store,
                judge,
                executable_override=chromium,
                host_resolver_rules=host_resolver_rules,
                ignore_https_errors=ignore_https_errors,
                dns_resolver=dns_resolver,
                progress=_progress(store, verbose, quiet, log_file),
            )
        except BrowserNotFound as exc:
            raise AuditFailed(str(exc)) from None
        except ConfigError as exc:
            raise UsageProblem(str(exc)) from None
    if result.status == "complete":
        from .report import write_report

        written = write_report(store, result.run_id, "html", store.artefacts_dir / "demo-report.html", judge.pack)
    _print_run(store, result, quiet)
    if result.status != "complete" or result.incomplete:
        sys.exit(EXIT_AUDIT_FAILED)
    if not quiet:
        click.echo(f"Report:   {written}")


@main.command()
@config_options
@click.option("--vendor", "vendor_ids", multiple=True, metavar="ID", help="Audit only this vendor (repeatable).")
@click.option(
    "--due", is_flag=True, help="Only vendors whose last complete audit is older than their audit_every_days."
)
@click.option(
    "--shard",
    default=None,
    metavar="I/N|auto",
    help="Audit only worker I's share of N (balanced by pages × accounts); merge the databases afterwards. "
    "'auto' reads $JOB_COMPLETION_INDEX (from 0) and $TRACKAUDIT_SHARD_COUNT (a Kubernetes Indexed Job).",
)
@click.option(
    "--concurrency",
    default=2,
    show_default=True,
    type=click.IntRange(1, 16),
    help="Vendor × account audits run at once.",
)
@run_options
def audit(
    config_path,
    secrets_path,
    vendor_ids,
    due,
    shard,
    concurrency,
    db_path,
    policy,
    lists_dir,
    host_resolver_rules,
    ignore_https_errors,
    dns_resolver,
    chromium,
    verbose,
    quiet,
    log_file,
    seal_key,
) -> None:
    """Audit the vendors of a config file (every approved one unless --vendor is given).

    Each vendor's run is compared with its previous complete audit; a candidate vendor gets a pre-approval
    verdict. An audit that could not see what it had to (start or login page not loaded, login failed, a phase
    that could not run, most page visits failed) is "incomplete", with the cause and the fix.

    Exit status: 0 no violation, 1 violations found, 2 usage or config error, 3 an audit was incomplete
    (outranks 1), the audit itself failed, or another run holds the database."""
    from .jobs.runner import run_audit

    def pick(config):
        vendors = (
            [config.vendor(v) for v in vendor_ids]
            if vendor_ids
            else [v for v in config.vendors if v.status == "approved"]
        )
        if not vendors:
            raise UsageProblem(f"{config_path}: no approved vendor to audit. Fix: name one with --vendor ID")
        if shard:
            from .jobs.merge import resolve_shard, shard_of, vendor_cost

            try:
                vendors = shard_of(sorted(vendors, key=lambda v: v.id), resolve_shard(shard), cost=vendor_cost)
            except ValueError as exc:
                raise UsageProblem(str(exc)) from None
            if not vendors:
                raise UsageProblem(f"--shard {shard}: this worker's share is empty. Fix: use fewer workers")
        terminated = [v.id for v in vendors if v.status == "terminated"]
        if terminated:
            raise UsageProblem(
                f"{config_path}: {', '.join(terminated)} is terminated. Fix: check it with "
                f"'trackaudit verify-removal --config {config_path} --vendor {terminated[0]}'"
            )
        return vendors

    config, targets, settings = _prepare(
        config_path, pick, secrets_path, chromium, host_resolver_rules, ignore_https_errors, dns_resolver
    )
    judge = _load_judge(policy, lists_dir, warn_about_lists=True)
    db_path = db_path or DEFAULT_DB
    with _run_lock(db_path):
        store = _open_store(db_path)
        store.seal_key = _read_seal_key(seal_key)
        if due:
            targets = _due_targets(store, targets)
            if not targets:
                click.echo("No vendor is due for an audit.")
                return
        command = "trackaudit audit " + " ".join(sys.argv[2:])
        result = run_audit(
            store,
            settings,
            targets,
            mode="audit",
            command=command,
            config=config,
            judge=judge,
            concurrency=concurrency,
            progress=_progress(store, verbose, quiet, log_file),
        )
    _finish(store, result, quiet)


@main.command()
@click.argument("url")
@click.option("--max-pages", default=10, show_default=True, type=click.IntRange(1, 200), help="Pages to visit.")
@run_options
def scan(
    url,
    max_pages,
    db_path,
    policy,
    lists_dir,
    host_resolver_rules,
    ignore_https_errors,
    dns_resolver,
    chromium,
    verbose,
    quiet,
    log_file,
    seal_key,
) -> None:
    """Pre-approval scan of a candidate vendor's public pages, with no account and no config file.

    Visits URL, same-site links (sign-up and login pages first), restarts the browser and deletes cookies
    as an audit does, and ends in a verdict: approve, do not approve or needs review; "incomplete" (exit 3)
    when the site could not be seen."""
    from .browse.browser import BrowserNotFound, LaunchSettings
    from .jobs.runner import run_audit, targets_for

    parts = urlsplit(url)
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        raise UsageProblem(
            f"{url!r} is not an absolute http(s) URL. Fix: give the full address, e.g. https://app.example.com/"
        )
    if parts.username is not None or parts.password is not None:
        # Credentials in a URL would be stored with every request and page of the run.
        raise UsageProblem(
            "the URL holds a user name or password (user:pass@). Fix: scan the public address "
            "without them; audit a logged-in account with 'trackaudit audit --config'"
        )
    vendor_id = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in host)
    try:
        config = parse_config(
            {
                "vendors": [
                    {"id": vendor_id, "name": host, "status": "candidate", "start_url": url, "max_pages": max_pages}
                ]
            },
            "(scan)",
        )
        settings = LaunchSettings.from_config(
            BrowserConfig(), chromium, host_resolver_rules, ignore_https_errors, dns_resolver
        )
    except ConfigError as exc:
        raise UsageProblem(str(exc)) from None
    except BrowserNotFound as exc:
        raise AuditFailed(str(exc)) from None
    judge = _load_judge(policy, lists_dir, warn_about_lists=True)
    db_path = db_path or DEFAULT_DB
    with _run_lock(db_path):
        store = _open_store(db_path)
        store.seal_key = _read_seal_key(seal_key)
        result = run_audit(
            store,
            settings,
            targets_for(config, list(config.vendors)),
            mode="scan",
            command=f"trackaudit scan {url}",
            judge=judge,
            progress=_progress(store, verbose, quiet, log_file),
        )
    _finish(store, result, quiet)


@main.command("verify-removal")
@config_options
@click.option("--vendor", "vendor_id", required=True, metavar="ID", help="The terminated vendor to check.")
@run_options
def verify_removal(
    config_path,
    secrets_path,
    vendor_id,
    db_path,
    policy,
    lists_dir,
    host_resolver_rules,
    ignore_https_errors,
    dns_resolver,
    chromium,
    verbose,
    quiet,
    log_file,
    seal_key,
) -> None:
    """Check a terminated vendor: the test account must no longer log in, the public pages must no longer
    serve the trackers its last audit recorded, and the browser state that audit left must not be
    recognised. Ends in a verdict: removal verified, or not verified (exit 1). A refused login and pages that
    answer with errors are evidence of removal; a site that cannot be reached makes the check "incomplete"
    (exit 3)."""
    import dataclasses

    from .jobs.removal import logout_caveat, saved_state
    from .jobs.runner import run_audit

    def pick(config):
        vendor = config.vendor(vendor_id)
        if vendor.status != "terminated":
            raise UsageProblem(
                f"{config_path}: vendor {vendor_id} has status {vendor.status!r}; verify-removal checks "
                f'terminated vendors. Fix: set status = "terminated" once its contract has ended'
            )
        return [vendor]

    config, targets, settings = _prepare(
        config_path, pick, secrets_path, chromium, host_resolver_rules, ignore_https_errors, dns_resolver
    )
    judge = _load_judge(policy, lists_dir, warn_about_lists=True)
    db_path = db_path or DEFAULT_DB
    with _run_lock(db_path):
        store = _open_store(db_path)
        store.seal_key = _read_seal_key(seal_key)
        with_state = []
        for target in targets:
            cookies, storage, baseline = saved_state(
                store, vendor_id, target.account.id if target.account else "anonymous"
            )
            caveat = logout_caveat(store, vendor_id, baseline["run_id"] if baseline else None)
            if caveat and target is targets[0]:
                click.echo(f"Warning: {caveat}", err=True)
            with_state.append(dataclasses.replace(target, saved_cookies=tuple(cookies), saved_storage=tuple(storage)))
        command = "trackaudit verify-removal " + " ".join(sys.argv[2:])
        result = run_audit(
            store,
            settings,
            with_state,
            mode="verify-removal",
            command=command,
            config=config,
            judge=judge,
            progress=_progress(store, verbose, quiet, log_file),
        )
    _finish(store, result, quiet)


results_db_option = click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"SQLite database (default {DEFAULT_DB}, or the demo's results/demo.db when there is no {DEFAULT_DB}).",
)


@main.command()
@click.argument("run_a", type=RUN, required=False)
@click.argument("run_b", type=RUN, required=False)
@click.option("--vendor", "vendor_id", default=None, metavar="ID", help="Only this vendor.")
@results_db_option
@policy_option
@lists_option
def diff(run_a, run_b, vendor_id, db_path, policy, lists_dir) -> None:
    """What changed for each vendor between two runs: third-party hosts, trackers, cookies, storage keys,
    identifiers and PII flows (+ new in RUN_B, - gone since RUN_A).

    RUN_B defaults to the latest run; without RUN_A each vendor of RUN_B is compared with its previous
    complete audit, as a scheduled audit is. A run is an id or 'latest'."""
    store = _open_store(_results_db(db_path), read_only=True)
    run_b = _run_id(store, run_b if run_b is not None else "latest")
    run_a = _run_id(store, run_a) if run_a is not None else None
    judge = _load_judge(policy, lists_dir)
    after = {v["id"] for v in queries.audited_vendors(store, run_b, vendor_id)}
    if not after:
        raise UsageProblem(
            f"run {run_b} audited no vendor"
            + (f" named {vendor_id}" if vendor_id else "")
            + ". Fix: pick a run that audited it (see 'trackaudit findings --run N')"
        )
    pairs: list[tuple[str, int]] = []  # (vendor, the run it is compared with)
    if run_a is None:
        for vid in sorted(after):
            previous = queries.last_complete_audit(store, vid, before_run=run_b)
            if previous is None:
                click.echo(f"{vid}: run {run_b} is its first complete audit in {store.path}: nothing to compare with")
            else:
                pairs.append((vid, previous["run_id"]))
    else:
        before = {v["id"] for v in queries.audited_vendors(store, run_a, vendor_id)}
        if not before & after:
            raise UsageProblem(
                f"runs {run_a} and {run_b} have no vendor in common"
                + (f" named {vendor_id}" if vendor_id else "")
                + ". Fix: pick runs that audited the same vendor"
            )
        pairs = [(vid, run_a) for vid in sorted(before & after)]
        for vid in sorted(before ^ after):
            click.echo(f"{vid}: only in run {run_a if vid in before else run_b}")
    for vid, earlier_run in pairs:
        # One vendor at a time: a run of hundreds of vendors is compared without holding every vendor's evidence.
        changes = _vendor_changes(store, judge, vid, earlier_run, run_b)
        click.echo(f"{vid}: run {earlier_run} → run {run_b}: {len(changes)} change(s)")
        for change in changes:
            mark = "+" if change.status == "new" else "-"
            click.echo(f"  {mark} {change.kind:<16} {change.key}  ({change.description})")


def _vendor_changes(store: Store, judge: Judge, vendor_id: str, earlier_run: int, later_run: int) -> list[Change]:
    """What changed in a vendor's inventory between two of its runs."""
    from .analyze.inventory import changes_between, inventory_of
    from .policy.engine import analyse_run

    earlier, later = (
        analyse_run(store, run_id, judge.pack, judge.knowledge, vendor_id)[vendor_id]
        for run_id in (earlier_run, later_run)
    )
    return changes_between(inventory_of(earlier), inventory_of(later))


@main.command()
@click.option("--run", "run_ref", type=RUN, default="latest", show_default=True, help="Run id, or 'latest'.")
@click.option("--vendor", "vendor_id", default=None, metavar="ID", help="Only this vendor.")
@results_db_option
def findings(run_ref, vendor_id, db_path) -> None:
    """Print a run's findings by vendor and clause, one line each."""
    from .report.text import format_findings

    store = _open_store(_results_db(db_path), read_only=True)
    run_id = _run_id(store, run_ref)
    run = queries.run(store, run_id)
    assert run is not None  # _run_id checked it exists
    click.echo(f"Run {run_id} ({run['mode']}, {run['started_at']}, {run['status']}, policy {run['policy_name']})\n")
    click.echo(format_findings(store, run_id, vendor_id))


@main.command()
@click.argument("run_ref", metavar="[RUN]", type=RUN, default="latest")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "json", "csv", "md", "junit"]),
    default="html",
    show_default=True,
    help="html: the full report; json: versioned schema; csv: findings; "
    "md: a short summary for an email or ticket; junit: one test case per vendor × clause.",
)
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File to write (default: DB-report-run-N.<ext> beside the database, e.g. "
    "results/audit-report-run-3.html for results/audit.db; '-' for standard output).",
)
@results_db_option
@policy_option
def report(run_ref, fmt, out_path, db_path, policy) -> None:
    """Write a run's report (RUN: a run id, or 'latest', the default)."""
    from .report import EXTENSIONS, write_report

    store = _open_store(_results_db(db_path), read_only=True)
    run_id = _run_id(store, run_ref)
    judge = _load_judge(policy, None)
    out_path = out_path or default_report_path(store, run_id, EXTENSIONS[fmt])
    written = write_report(store, run_id, fmt, out_path, judge.pack)
    if written is not None:
        click.echo(f"Report: {written}", err=True)


def default_report_path(store: Store, run_id: int, extension: str) -> Path:
    """Beside the database, named after it, so the demo's and an audit database's reports never collide."""
    return store.artefacts_dir / f"{store.path.stem}-report-run-{run_id}.{extension}"


@main.command("verify-evidence")
@click.argument("run_ref", metavar="RUN", type=RUN)
@results_db_option
@seal_key_option
def verify_evidence_command(run_ref, db_path, seal_key) -> None:
    """Recompute the SHA-256 of a run's artefacts and the digest of its rows against its manifest; name
    anything that changed (exit 1). RUN: a run id, or 'latest'."""
    from .store.seal import read_manifest, verify_evidence

    store = _open_store(_results_db(db_path), read_only=True)
    run_id = _run_id(store, run_ref)
    manifest = read_manifest(store, run_id)
    if manifest is None:
        click.echo(
            f"Run {run_id}: no evidence manifest, so nothing can be verified (the run was never sealed, or "
            f"its manifest was removed)."
        )
        sys.exit(EXIT_VIOLATIONS)
    problems = verify_evidence(store, run_id, _read_seal_key(seal_key))
    if not problems:
        click.echo(
            f"Run {run_id}: evidence intact ({len(manifest['artefacts'])} artefacts, "
            f"{sum(t['rows'] for t in manifest['rows'].values())} database rows in {len(manifest['rows'])} tables "
            f"match the manifest)."
        )
        _print_seal(store, run_id)
        return
    click.echo(f"Run {run_id}: evidence CHANGED since it was sealed:")
    for problem in problems:
        click.echo(f"  {problem.what} {problem.name}: {problem.problem}")
    sys.exit(EXIT_VIOLATIONS)


@main.command()
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("sources", nargs=-1, required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path))
def merge(target, sources) -> None:
    """Merge the databases of sharded workers (audit --shard i/n) into TARGET, artefacts included.
    Runs get new ids; each is sealed again and names the source run and manifest it came from."""
    from .jobs.merge import merge_databases

    if any(source.resolve() == target.resolve() for source in sources):
        raise UsageProblem("a source is the target. Fix: merge into a new database")
    with _run_lock(target):
        merged = merge_databases(_open_store(target), [_open_store(source) for source in sources])
    for run in merged:
        if run.already_merged:
            click.echo(f"{run.source} run {run.source_run}: already merged as {target} run {run.target_run}, skipped")
            continue
        flag = (
            f"  (its evidence had {run.evidence_problems} problem(s) before the merge)" if run.evidence_problems else ""
        )
        click.echo(f"{run.source} run {run.source_run} -> {target} run {run.target_run}{flag}")


@main.group()
def lists() -> None:
    """Tracker and cookie lists: download current ones, show what is loaded."""


@lists.command(
    "update",
    help=f"Download lists into the cache (default: {', '.join(n for n, s in LIST_SOURCES.items() if s.default)}).",
)
@click.argument("names", nargs=-1)
@click.option(
    "--cache",
    "cache_dir",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="List cache folder (default $TRACKAUDIT_LISTS_DIR or ~/.cache/trackaudit/lists).",
)
def lists_update(names, cache_dir) -> None:
    cache_dir = cache_dir or default_cache_dir()
    try:
        updates = update_lists(cache_dir, list(names) or None)
    except ListError as exc:
        raise UsageProblem(str(exc)) from None
    for update in updates:
        if update.entry is not None:
            click.echo(
                f"{update.name}: version {update.entry.version}, {update.entry.bytes} bytes, sha256 {update.entry.sha256[:16]}…"
            )
        else:
            click.echo(f"FAILED: {update.error}", err=True)
    click.echo(f"Cache: {cache_dir}")
    if not all(u.ok for u in updates):
        sys.exit(EXIT_AUDIT_FAILED)


@lists.command("show")
@lists_option
def lists_show(lists_dir) -> None:
    """What an audit would load now: built-in knowledge and cached lists, with versions."""
    judge = _load_judge(None, lists_dir)
    for entry in judge.provenance():
        click.echo(
            f"{entry['name']:<24} version {entry['version']:<20} sha256 {entry['sha256'][:16]}…  {entry['source']}"
        )
    missing = [n for n in LIST_SOURCES if n not in {i.name for i in judge.lists}]
    if missing:
        click.echo(f"\nNot loaded: {', '.join(missing)} (run 'trackaudit lists update' to fetch them)")


@main.group("fixtures")
def fixtures_group() -> None:
    """The fixture web: the bundled fixture vendors on loopback, to try an audit config on."""


@fixtures_group.command("serve")
@click.option(
    "--https-port",
    default=DEFAULT_FIXTURE_PORTS["https"],
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port of the HTTPS server (every fixture host's port 443).",
)
@click.option(
    "--http-port",
    default=DEFAULT_FIXTURE_PORTS["http"],
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port of the HTTP server (every fixture host's port 80).",
)
@click.option(
    "--closed-port",
    default=DEFAULT_FIXTURE_PORTS["closed"],
    show_default=True,
    type=click.IntRange(1, 65535),
    help="A port held closed: every other port of a fixture host refuses.",
)
@click.option(
    "--dir",
    "out_dir",
    default=Path("results") / "fixtures",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where vendors.toml and the secrets file go.",
)
def fixtures_serve(https_port, http_port, closed_port, out_dir) -> None:
    """Serve the fixture vendors on 127.0.0.1 until Ctrl-C; print the browser flags, the test accounts and a
    ready vendors.toml to audit them with."""
    import shlex
    import threading

    from .jobs.fixture_web import FIRST_VENDOR, start_fixtures

    try:
        served = start_fixtures(out_dir, https_port, http_port, closed_port)
    except OSError as exc:
        raise UsageProblem(
            f"cannot listen on 127.0.0.1 ports {https_port}, {http_port} and {closed_port} ({exc.strerror}). "
            "Fix: pick free ones with --https-port, --http-port and --closed-port"
        ) from None
    flags = shlex.join(served.browser_flags)
    first = FIRST_VENDOR
    click.echo(f"Fixture web on 127.0.0.1: HTTPS port {https_port}, HTTP port {http_port} (Ctrl-C stops it).\n")
    click.echo("Browser flags, for every browser command:")
    click.echo(f"  {flags}\n")
    click.echo(f"Test accounts (new passwords at every start; also in {served.secrets_path} for --secrets):")
    for account in served.accounts:
        click.echo(f"  {account.vendor_id:<12} {account.username:<34} export {account.password_env}={account.password}")
    click.echo(f"\nConfig: {served.config_path}\n")
    click.echo(f"Audit {first} from another terminal:")
    click.echo(f"  {served.audit_command(first, 'results/first/audit.db')}")
    try:
        threading.Event().wait()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        served.internet.stop()
    click.echo("Fixture web stopped.", err=True)
