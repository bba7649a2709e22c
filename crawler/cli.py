"""The ``trackaudit`` command: a thin layer over the library; errors become messages and exit codes."""

from __future__ import annotations

import signal
import sys
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

import click

from . import __version__
from .browse.browser import BrowserNotFound, LaunchSettings
from .config import BrowserConfig, ConfigError, load_config, load_secrets_file, parse_config
from .knowledge.lists import LIST_SOURCES, ListError, default_cache_dir, knowledge_warning, update_lists
from .store.writer import Store

EXIT_OK, EXIT_VIOLATIONS, EXIT_USAGE, EXIT_AUDIT_FAILED = 0, 1, 2, 3
DEFAULT_DB = Path("results") / "audit.db"


class UsageProblem(click.ClickException):
    exit_code = EXIT_USAGE


class AuditFailed(click.ClickException):
    exit_code = EXIT_AUDIT_FAILED


def _terminate_cleanly(signum, frame):
    # Turns SIGTERM (systemd, timeout, kill) into an exception so the run is marked incomplete.
    raise SystemExit(128 + signum)


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


def _open_store(db_path: Path, must_exist: bool = False) -> Store:
    if must_exist and not db_path.exists():
        raise UsageProblem(f"{db_path}: no such database. Fix: pass --db with the database an audit wrote")
    try:
        return Store(db_path)
    except Exception as exc:  # not SQLite, locked, newer schema
        raise UsageProblem(f"{db_path}: cannot open the database ({exc}). Fix: pass --db with a trackaudit database") from None


def _print_run(store: Store, result, quiet: bool = False) -> None:
    from .report.text import format_findings
    from .report.summary import format_summary, run_summary

    if quiet:
        for vendor_id, verdict in sorted(result.verdicts.items()):
            click.echo(f"run {result.run_id} {result.status}: {vendor_id}: {verdict.verdict}")
        if not result.verdicts:
            click.echo(f"run {result.run_id} {result.status}")
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


@contextmanager
def _run_lock(db_path: Path):
    from .jobs.lock import DatabaseBusy, RunLock

    try:
        with RunLock(db_path) as lock:
            yield lock
    except DatabaseBusy as exc:
        raise AuditFailed(str(exc)) from None


def _due_targets(store: Store, targets):
    """Targets whose vendor has no complete audit younger than its audit_every_days; says which are skipped."""
    now = datetime.now(timezone.utc)
    due = []
    for target in targets:
        last = store.last_complete_audit(target.vendor.id)
        if last:
            age = now - datetime.fromisoformat(last["started_at"])
            if age < timedelta(days=target.vendor.audit_every_days):
                click.echo(f"{target.vendor.id}: last audited {last['started_at']} (run {last['run_id']}), "
                           f"every {target.vendor.audit_every_days} days: not due", err=True)
                continue
        due.append(target)
    return due


def output_options(command):
    """--verbose, --quiet, --log-file: how much a run says while it works."""
    command = click.option("--log-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
                           help="Also write a detailed log here (passwords masked).")(command)
    command = click.option("--quiet", "-q", is_flag=True, help="Print only the verdicts (for cron).")(command)
    command = click.option("--verbose", "-v", is_flag=True, help="Log every phase and page instead of a progress bar.")(command)
    return command


def _progress(store: Store, verbose: bool, quiet: bool, log_file: Path | None):
    from .progress import configure

    return configure(verbose, quiet, log_file, store.redactor)


db_option = click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                         help=f"SQLite database (default {DEFAULT_DB}).")
chromium_option = click.option("--chromium", "chromium", default=None, metavar="PATH",
                               help="Chromium executable (default: $TRACKAUDIT_CHROMIUM, Debian's chromium, Playwright's).")
policy_option = click.option("--policy", "policy", default=None, metavar="NAME_OR_PATH",
                             help="Policy pack: a name in policies/ or a TOML file (default mps-7400.1).")
lists_option = click.option("--lists-dir", "lists_dir", default=None, type=click.Path(file_okay=False, path_type=Path),
                            help="Extra folder of tracker/cookie lists (besides the cache of 'lists update').")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="trackaudit")
def main() -> None:
    """Audit the tracking done by school edtech vendors, logged in, in a real browser, against district policy."""
    signal.signal(signal.SIGTERM, _terminate_cleanly)


def _options(*decorators):
    def apply(command):
        for decorator in reversed(decorators):
            command = decorator(command)
        return command
    return apply


browser_options = _options(
    click.option("--host-resolver-rules", default=None, help="Chromium host resolver rules (overrides [browser])."),
    click.option("--ignore-https-errors", is_flag=True, default=None,
                 help="Accept invalid certificates (overrides [browser])."),
    chromium_option,
)
run_options = _options(db_option, policy_option, lists_option, browser_options, output_options)
config_options = _options(
    click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
                 help="vendors.toml"),
    click.option("--secrets", "secrets_path", default=None, type=click.Path(dir_okay=False, path_type=Path),
                 help="NAME=value file holding the password variables, instead of the environment."),
)


def _prepare(config_path, pick, secrets_path, chromium, host_resolver_rules, ignore_https_errors):
    """Config, targets and browser settings of a run, or a usage error (exit 2) that names the fix.
    ``pick`` chooses the config's vendors to run."""
    from .jobs.runner import targets_for

    try:
        config = load_config(config_path)
        vendors = pick(config)
        secrets = load_secrets_file(secrets_path) if secrets_path else None
        targets = targets_for(config, vendors, secrets)
        settings = LaunchSettings.from_config(config.browser, chromium, host_resolver_rules, ignore_https_errors)
    except ConfigError as exc:
        raise UsageProblem(str(exc)) from None
    except BrowserNotFound as exc:
        raise AuditFailed(str(exc)) from None
    return config, targets, settings


def _finish(store: Store, result, quiet: bool) -> None:
    _print_run(store, result, quiet)
    if result.status != "complete":
        sys.exit(EXIT_AUDIT_FAILED)
    sys.exit(EXIT_VIOLATIONS if result.violations else EXIT_OK)


@main.command()
@run_options
def demo(db_path, policy, lists_dir, host_resolver_rules, ignore_https_errors, chromium, verbose, quiet,
         log_file) -> None:
    """Audit the bundled fixture vendors on loopback, judge them and summarise what was seen.

    The fixture sites run in this process and the browser is pointed at them; --host-resolver-rules and
    --ignore-https-errors override that as in every browser command. Exit 0 when the run completes."""
    from .jobs.demo import DEMO_DB, run_demo

    judge = _load_judge(policy, lists_dir, warn_about_lists=True)
    db_path = db_path or DEMO_DB
    if not quiet:
        click.echo("Auditing the bundled fixture vendors (served on 127.0.0.1; nothing leaves this machine)…")
    with _run_lock(db_path):
        store = _open_store(db_path)
        try:
            result, _ = run_demo(store, judge, executable_override=chromium, host_resolver_rules=host_resolver_rules,
                                 ignore_https_errors=ignore_https_errors,
                                 progress=_progress(store, verbose, quiet, log_file))
        except BrowserNotFound as exc:
            raise AuditFailed(str(exc)) from None
        except ConfigError as exc:
            raise UsageProblem(str(exc)) from None
    if result.status == "complete":
        from .report import write_report

        written = write_report(store, result.run_id, "html", store.artefacts_dir / "demo-report.html", judge.pack)
    _print_run(store, result, quiet)
    if result.status != "complete":
        sys.exit(EXIT_AUDIT_FAILED)
    if not quiet:
        click.echo(f"Report:   {written}")


@main.command()
@config_options
@click.option("--vendor", "vendor_ids", multiple=True, metavar="ID", help="Audit only this vendor (repeatable).")
@click.option("--due", is_flag=True, help="Only vendors whose last complete audit is older than their audit_every_days.")
@click.option("--shard", default=None, metavar="I/N",
              help="Audit only worker I's share of N (vendors in id order); merge the databases afterwards.")
@click.option("--concurrency", default=2, show_default=True, type=click.IntRange(1, 16),
              help="Vendor × account audits run at once.")
@run_options
def audit(config_path, secrets_path, vendor_ids, due, shard, concurrency, db_path, policy, lists_dir,
          host_resolver_rules, ignore_https_errors, chromium, verbose, quiet, log_file) -> None:
    """Audit the vendors of a config file (every approved one unless --vendor is given).

    Each vendor's run is compared with its previous complete audit; a candidate vendor gets a pre-approval
    verdict. Exit status: 0 no violation, 1 violations found, 2 usage or config error, 3 the audit itself
    failed or another run holds the database."""
    from .jobs.runner import run_audit

    def pick(config):
        vendors = [config.vendor(v) for v in vendor_ids] if vendor_ids else \
            [v for v in config.vendors if v.status == "approved"]
        if not vendors:
            raise UsageProblem(f"{config_path}: no approved vendor to audit. Fix: name one with --vendor ID")
        if shard:
            from .jobs.merge import shard_of

            try:
                vendors = shard_of(sorted(vendors, key=lambda v: v.id), shard)
            except ValueError as exc:
                raise UsageProblem(str(exc)) from None
            if not vendors:
                raise UsageProblem(f"--shard {shard}: this worker's share is empty. Fix: use fewer workers")
        terminated = [v.id for v in vendors if v.status == "terminated"]
        if terminated:
            raise UsageProblem(f"{config_path}: {', '.join(terminated)} is terminated. Fix: check it with "
                               f"'trackaudit verify-removal --config {config_path} --vendor {terminated[0]}'")
        return vendors

    config, targets, settings = _prepare(config_path, pick, secrets_path, chromium, host_resolver_rules,
                                         ignore_https_errors)
    judge = _load_judge(policy, lists_dir, warn_about_lists=True)
    db_path = db_path or DEFAULT_DB
    with _run_lock(db_path):
        store = _open_store(db_path)
        if due:
            targets = _due_targets(store, targets)
            if not targets:
                click.echo("No vendor is due for an audit.")
                return
        command = "trackaudit audit " + " ".join(sys.argv[2:])
        result = run_audit(store, settings, targets, mode="audit", command=command, config=config, judge=judge,
                           concurrency=concurrency, progress=_progress(store, verbose, quiet, log_file))
    _finish(store, result, quiet)


@main.command()
@click.argument("url")
@click.option("--max-pages", default=10, show_default=True, type=click.IntRange(1, 200), help="Pages to visit.")
@run_options
def scan(url, max_pages, db_path, policy, lists_dir, host_resolver_rules, ignore_https_errors, chromium,
         verbose, quiet, log_file) -> None:
    """Pre-approval scan of a candidate vendor's public pages, with no account and no config file.

    Visits URL, same-site links (sign-up and login pages first), restarts the browser and deletes cookies
    as an audit does, and ends in a verdict: approve, do not approve or needs review."""
    from .jobs.runner import run_audit, targets_for

    host = urlsplit(url).hostname
    if urlsplit(url).scheme not in ("http", "https") or not host:
        raise UsageProblem(f"{url!r} is not an absolute http(s) URL. Fix: give the full address, e.g. https://app.example.com/")
    vendor_id = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in host)
    try:
        config = parse_config({"vendors": [{"id": vendor_id, "name": host, "status": "candidate", "start_url": url,
                                            "max_pages": max_pages}]}, "(scan)")
        settings = LaunchSettings.from_config(BrowserConfig(), chromium, host_resolver_rules, ignore_https_errors)
    except ConfigError as exc:
        raise UsageProblem(str(exc)) from None
    except BrowserNotFound as exc:
        raise AuditFailed(str(exc)) from None
    judge = _load_judge(policy, lists_dir, warn_about_lists=True)
    db_path = db_path or DEFAULT_DB
    with _run_lock(db_path):
        store = _open_store(db_path)
        result = run_audit(store, settings, targets_for(config, list(config.vendors)), mode="scan",
                           command=f"trackaudit scan {url}", judge=judge,
                           progress=_progress(store, verbose, quiet, log_file))
    _finish(store, result, quiet)


@main.command("verify-removal")
@config_options
@click.option("--vendor", "vendor_id", required=True, metavar="ID", help="The terminated vendor to check.")
@run_options
def verify_removal(config_path, secrets_path, vendor_id, db_path, policy, lists_dir, host_resolver_rules,
                   ignore_https_errors, chromium, verbose, quiet, log_file) -> None:
    """Check a terminated vendor: the test account must no longer log in, the public pages must no longer
    serve the trackers its last audit recorded, and the browser state that audit left must not be
    recognised. Ends in a verdict: removal verified, or not verified (exit 1)."""
    import dataclasses

    from .jobs.removal import saved_state
    from .jobs.runner import run_audit

    def pick(config):
        vendor = config.vendor(vendor_id)
        if vendor.status != "terminated":
            raise UsageProblem(f"{config_path}: vendor {vendor_id} has status {vendor.status!r}; verify-removal checks "
                               f"terminated vendors. Fix: set status = \"terminated\" once its contract has ended")
        return [vendor]

    config, targets, settings = _prepare(config_path, pick, secrets_path, chromium, host_resolver_rules,
                                         ignore_https_errors)
    judge = _load_judge(policy, lists_dir, warn_about_lists=True)
    db_path = db_path or DEFAULT_DB
    with _run_lock(db_path):
        store = _open_store(db_path)
        with_state = []
        for target in targets:
            cookies, storage, _ = saved_state(store, vendor_id, target.account.id if target.account else "anonymous")
            with_state.append(dataclasses.replace(target, saved_cookies=tuple(cookies), saved_storage=tuple(storage)))
        command = "trackaudit verify-removal " + " ".join(sys.argv[2:])
        result = run_audit(store, settings, with_state, mode="verify-removal", command=command, config=config,
                           judge=judge, progress=_progress(store, verbose, quiet, log_file))
    _finish(store, result, quiet)


@main.command()
@click.argument("run_a", type=int)
@click.argument("run_b", type=int)
@click.option("--vendor", "vendor_id", default=None, metavar="ID", help="Only this vendor.")
@db_option
@policy_option
@lists_option
def diff(run_a, run_b, vendor_id, db_path, policy, lists_dir) -> None:
    """What changed for each vendor between two runs: third-party hosts, trackers, cookies, storage keys,
    identifiers and PII flows (+ new in RUN_B, - gone since RUN_A)."""
    from .analyze.inventory import changes_between, inventory_of
    from .policy.engine import analyse_run

    store = _open_store(db_path or DEFAULT_DB, must_exist=True)
    for run_id in (run_a, run_b):
        if store.run(run_id) is None:
            raise UsageProblem(f"{store.path}: no run {run_id}. Fix: pass run ids the database has")
    judge = _load_judge(policy, lists_dir)
    before = analyse_run(store, run_a, judge.pack, judge.knowledge, vendor_id)
    after = analyse_run(store, run_b, judge.pack, judge.knowledge, vendor_id)
    common = sorted(set(before) & set(after))
    if not common:
        raise UsageProblem(f"runs {run_a} and {run_b} have no vendor in common"
                           + (f" named {vendor_id}" if vendor_id else "") + ". Fix: pick runs that audited the same vendor")
    for vid in common:
        changes = changes_between(inventory_of(before[vid]), inventory_of(after[vid]))
        click.echo(f"{vid}: run {run_a} → run {run_b}: {len(changes)} change(s)")
        for change in changes:
            mark = "+" if change.status == "new" else "-"
            click.echo(f"  {mark} {change.kind:<16} {change.key}  ({change.description})")
    for vid in sorted(set(before) ^ set(after)):
        click.echo(f"{vid}: only in run {run_a if vid in before else run_b}")


@main.command()
@click.option("--run", "run_id", type=int, default=None, help="Run id (default: the latest run).")
@click.option("--vendor", "vendor_id", default=None, metavar="ID", help="Only this vendor.")
@db_option
def findings(run_id, vendor_id, db_path) -> None:
    """Print a run's findings by vendor and clause, one line each."""
    from .report.text import format_findings

    store = _open_store(db_path or DEFAULT_DB, must_exist=True)
    run_id = run_id or store.latest_run_id()
    run = store.run(run_id) if run_id else None
    if run is None:
        raise UsageProblem(f"{store.path}: no run {run_id or ''}. Fix: pass --run with an id the database has")
    click.echo(f"Run {run_id} ({run['mode']}, {run['started_at']}, {run['status']}, policy {run['policy_name']})\n")
    click.echo(format_findings(store, run_id, vendor_id))


@main.command()
@click.argument("run_id", type=int, required=False)
@click.option("--format", "fmt", type=click.Choice(["html", "json", "csv", "md", "junit"]), default="html",
              show_default=True, help="html: the full report; json: versioned schema; csv: findings; "
                                      "md: a short summary for an email or ticket; junit: one test case per vendor × clause.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write (default: results/report-run-N.<ext>; '-' for standard output).")
@db_option
@policy_option
def report(run_id, fmt, out_path, db_path, policy) -> None:
    """Write a run's report (default: the latest run)."""
    from .report import EXTENSIONS, write_report

    store = _open_store(db_path or DEFAULT_DB, must_exist=True)
    run_id = run_id or store.latest_run_id()
    if run_id is None or store.run(run_id) is None:
        raise UsageProblem(f"{store.path}: no run {run_id or ''}. Fix: pass a run id the database has")
    judge = _load_judge(policy, None)
    out_path = out_path or store.artefacts_dir / f"report-run-{run_id}.{EXTENSIONS[fmt]}"
    written = write_report(store, run_id, fmt, out_path, judge.pack)
    if written is not None:
        click.echo(f"Report: {written}", err=True)


@main.command("verify-evidence")
@click.argument("run_id", type=int)
@db_option
def verify_evidence_command(run_id, db_path) -> None:
    """Recompute the SHA-256 of a run's artefacts and the digest of its rows against its manifest; name
    anything that changed (exit 1)."""
    from .store.seal import read_manifest, verify_evidence

    store = _open_store(db_path or DEFAULT_DB, must_exist=True)
    if store.run(run_id) is None:
        raise UsageProblem(f"{store.path}: no run {run_id}. Fix: pass a run id the database has")
    manifest = read_manifest(store, run_id)
    if manifest is None:
        click.echo(f"Run {run_id}: no evidence manifest, so nothing can be verified (the run was never sealed, or "
                   f"its manifest was removed).")
        sys.exit(EXIT_VIOLATIONS)
    problems = verify_evidence(store, run_id)
    if not problems:
        click.echo(f"Run {run_id}: evidence intact ({len(manifest['artefacts'])} artefacts, "
                   f"{sum(t['rows'] for t in manifest['rows'].values())} database rows in {len(manifest['rows'])} tables "
                   f"match the manifest).")
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
        merged = merge_databases(_open_store(target), [_open_store(source, must_exist=True) for source in sources])
    for run in merged:
        flag = f"  (its evidence had {run.evidence_problems} problem(s) before the merge)" if run.evidence_problems else ""
        click.echo(f"{run.source} run {run.source_run} -> {target} run {run.target_run}{flag}")


@main.group()
def lists() -> None:
    """Tracker and cookie lists: download current ones, show what is loaded."""


@lists.command("update")
@click.argument("names", nargs=-1)
@click.option("--cache", "cache_dir", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="List cache folder (default $TRACKAUDIT_LISTS_DIR or ~/.cache/trackaudit/lists).")
def lists_update(names, cache_dir) -> None:
    f"""Download lists into the cache (default: {', '.join(n for n, s in LIST_SOURCES.items() if s.default)})."""
    cache_dir = cache_dir or default_cache_dir()
    try:
        updates = update_lists(cache_dir, list(names) or None)
    except ListError as exc:
        raise UsageProblem(str(exc)) from None
    for update in updates:
        if update.ok:
            click.echo(f"{update.name}: version {update.entry.version}, {update.entry.bytes} bytes, sha256 {update.entry.sha256[:16]}…")
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
        click.echo(f"{entry['name']:<24} version {entry['version']:<20} sha256 {entry['sha256'][:16]}…  {entry['source']}")
    missing = [n for n in LIST_SOURCES if n not in {i.name for i in judge.lists}]
    if missing:
        click.echo(f"\nNot loaded: {', '.join(missing)} (run 'trackaudit lists update' to fetch them)")
