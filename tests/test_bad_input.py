"""Bad input ends cleanly: exit 2 with a message naming the file, the key and the fix, never a traceback."""

import os

import pytest
from click.testing import CliRunner

from crawler.cli import main
from crawler.config import ConfigError, load_config
from test_config import VALID, write


@pytest.mark.parametrize(
    "change, key",
    [
        (('role = "student"', 'role = "../../x"'), "vendors[0].accounts[0].role"),
        (('role = "student"', 'role = ""'), "vendors[0].accounts[0].role"),
        (('id = "brightpath"', 'id = "../../x"'), "vendors[0].id"),
        (('id = "brightpath"', 'id = ".hidden"'), "vendors[0].id"),
        (("ignore_https_errors = true", "ignore_https_errors = true\npage_timeout_s = nan"), "browser.page_timeout_s"),
        (("ignore_https_errors = true", "ignore_https_errors = true\npage_timeout_s = inf"), "browser.page_timeout_s"),
        (("ignore_https_errors = true", "ignore_https_errors = true\npage_timeout_s = -1"), "browser.page_timeout_s"),
        (
            ("ignore_https_errors = true", "ignore_https_errors = true\npage_timeout_s = 1e300"),
            "browser.page_timeout_s",
        ),
        (
            ("ignore_https_errors = true", "ignore_https_errors = true\nvendor_timeout_s = nan"),
            "browser.vendor_timeout_s",
        ),
        (
            ("ignore_https_errors = true", "ignore_https_errors = true\nevidence_part_visits = 0"),
            "browser.evidence_part_visits",
        ),
        (
            ("ignore_https_errors = true", "ignore_https_errors = true\nevidence_part_visits = 99999999999"),
            "browser.evidence_part_visits",
        ),
        (("ignore_https_errors = true", "ignore_https_errors = true\ntabs = 0"), "browser.tabs"),
        (("ignore_https_errors = true", "ignore_https_errors = true\ntabs = 64"), "browser.tabs"),
        (("ignore_https_errors = true", 'ignore_https_errors = true\ntabs = "three"'), "browser.tabs"),
        (("logout_url =", "audit_every_days = 99999999999\nlogout_url ="), "vendors[0].audit_every_days"),
        (("logout_url =", "audit_every_days = -3\nlogout_url ="), "vendors[0].audit_every_days"),
        (("logout_url =", "max_pages = 99999999999\nlogout_url ="), "vendors[0].max_pages"),
        (("logout_url =", "max_pages = -1\nlogout_url ="), "vendors[0].max_pages"),
        (('start_url = "https://www.brightpath.test/"', 'start_url = "file:///etc/passwd"'), "vendors[0].start_url"),
        (('url = "https://www.brightpath.test/login"', 'url = "file:///etc/passwd"'), "vendors[0].login.url"),
        (('{check = "#remember"}', '{goto = "file:///etc/passwd"}'), "vendors[0].login.steps[2].goto"),
        (('{check = "#remember"}', "{wait = nan}"), "vendors[0].login.steps[2].wait"),
        (('{check = "#remember"}', "{wait = -inf}"), "vendors[0].login.steps[2].wait"),
        (('{check = "#remember"}', '{wait = "1e12"}'), "vendors[0].login.steps[2].wait"),
    ],
)
def test_bad_values_are_config_errors_and_exit_2(tmp_path, monkeypatch, change, key):
    assert change[0] in VALID
    path = write(tmp_path, VALID.replace(*change, 1))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.key == key and caught.value.fix
    monkeypatch.setenv("BP_PASSWORD", "x")
    result = CliRunner().invoke(main, ["audit", "--config", str(path), "--db", str(tmp_path / "a.db")])
    assert result.exit_code == 2, result.output
    assert f"{path}: {key}:" in result.output and "Fix:" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "a.db").exists()


def test_a_safe_role_and_id_still_load(tmp_path):
    config = load_config(write(tmp_path, VALID.replace('role = "student"', 'role = "student_2-b"')))
    assert config.vendors[0].accounts[0].role == "student_2-b"


def test_a_scan_url_with_credentials_is_refused(tmp_path):
    result = CliRunner().invoke(
        main, ["scan", "https://user:hunter22@app.vendor.test/", "--db", str(tmp_path / "a.db")]
    )
    assert result.exit_code == 2 and "user:pass@" in result.output and "hunter22" not in result.output
    assert not (tmp_path / "a.db").exists()


def _audit_args(tmp_path, monkeypatch):
    monkeypatch.setenv("BP_PASSWORD", "x")
    return ["audit", "--config", str(write(tmp_path, VALID))]


def test_an_unwritable_db_is_exit_2_naming_the_path(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("not a folder")
    db = tmp_path / "file" / "a.db"
    result = CliRunner().invoke(main, [*_audit_args(tmp_path, monkeypatch), "--db", str(db)])
    assert result.exit_code == 2, result.output
    assert str(db) in result.output and "Fix:" in result.output and "Traceback" not in result.output


def test_an_unwritable_log_file_is_exit_2_naming_the_path(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("not a folder")
    log = tmp_path / "file" / "run.log"
    result = CliRunner().invoke(
        main, [*_audit_args(tmp_path, monkeypatch), "--db", str(tmp_path / "a.db"), "--log-file", str(log)]
    )
    assert result.exit_code == 2, result.output
    assert str(log) in result.output and "Fix:" in result.output and "Traceback" not in result.output


def _foreign_database(path):
    import sqlite3

    conn = sqlite3.connect(path)
    conn.execute("create table contacts (name text, phone text)")
    conn.execute("insert into contacts values ('Ada', '555')")
    conn.commit()
    conn.close()
    return path.read_bytes()


@pytest.mark.parametrize(
    "command", [["findings"], ["report", "--out", "-"], ["diff", "1", "2"], ["verify-evidence", "1"]]
)
def test_read_only_commands_leave_another_applications_database_unchanged(tmp_path, command):
    db = tmp_path / "contacts.db"
    before = _foreign_database(db)
    result = CliRunner().invoke(main, [*command, "--db", str(db)])
    assert result.exit_code == 2, result.output
    assert "not a trackaudit database" in result.output
    assert db.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["contacts.db"]


def test_an_audit_refuses_another_applications_database_and_leaves_it_unchanged(tmp_path, monkeypatch):
    db = tmp_path / "contacts.db"
    before = _foreign_database(db)
    result = CliRunner().invoke(main, [*_audit_args(tmp_path, monkeypatch), "--db", str(db)])
    assert result.exit_code == 2 and "not a trackaudit database" in result.output, result.output
    assert db.read_bytes() == before


def test_a_file_that_is_not_sqlite_is_not_a_trackaudit_database(tmp_path):
    db = tmp_path / "notes.db"
    db.write_text("hello" * 300)
    result = CliRunner().invoke(main, ["findings", "--db", str(db)])
    assert result.exit_code == 2 and "not a trackaudit database" in result.output
    assert db.read_text() == "hello" * 300


def test_a_newer_schema_is_named(tmp_path):
    from crawler.store.schema import MIGRATIONS
    from crawler.store.writer import Store

    db = tmp_path / "a.db"
    Store(db).close()
    import sqlite3

    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 3}")
    conn.commit()
    conn.close()
    before = db.read_bytes()
    result = CliRunner().invoke(main, ["findings", "--db", str(db)])
    assert result.exit_code == 2
    assert f"made by a newer trackaudit (schema {len(MIGRATIONS) + 3} > {len(MIGRATIONS)})" in result.output
    assert db.read_bytes() == before


def test_read_only_commands_read_a_trackaudit_database_without_changing_it(tmp_path):
    from crawler.store.writer import Store

    db = tmp_path / "a.db"
    store = Store(db)
    run_id = store.start_run("audit", "x")
    store.finish_run(run_id, "complete")
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    before = db.read_bytes()
    result = CliRunner().invoke(main, ["findings", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert db.read_bytes() == before


def test_the_run_lock_follows_symlinks(tmp_path):
    from crawler.jobs.lock import DatabaseBusy, RunLock

    real = tmp_path / "real.db"
    real.touch()
    link = tmp_path / "link.db"
    link.symlink_to(real)
    with RunLock(real), pytest.raises(DatabaseBusy), RunLock(link):
        pass


def test_scratch_folders_of_dead_runs_are_removed_and_the_runs_own_at_its_end(tmp_path, monkeypatch):
    import subprocess
    import sys
    import tempfile

    from crawler.jobs.scratch import remove_abandoned, scratch_folder

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    left = tmp_path / f"trackaudit-{dead.pid}-abc"
    (left / "trackaudit-profile-x" / "Default").mkdir(parents=True)
    alive = tmp_path / f"trackaudit-{os.getpid()}-def"
    alive.mkdir()
    unrelated = tmp_path / "trackaudit-notes"
    unrelated.mkdir()
    assert remove_abandoned(tmp_path) == [left]
    assert alive.exists() and unrelated.exists() and not left.exists()

    short = tempfile.mkdtemp(prefix="ta-")  # Chromium's socket path must fit in TMPDIR
    monkeypatch.setattr(tempfile, "tempdir", short)
    with pytest.raises(KeyboardInterrupt), scratch_folder() as folder:
        assert tempfile.gettempdir() == str(folder) and os.environ["TMPDIR"] == str(folder)
        assert oct(folder.stat().st_mode & 0o777) == "0o700"
        raise KeyboardInterrupt
    assert not folder.exists() and os.environ.get("TMPDIR") != str(folder)
    os.rmdir(short)


def test_artefact_paths_must_resolve_inside_the_results_folder(tmp_path):
    from crawler.store.seal import inside_results, session_paths
    from crawler.store.writer import Store

    store = Store(tmp_path / "results" / "a.db")
    assert inside_results(store, tmp_path / "results" / "evidence" / "x")
    with pytest.raises(ValueError, match="outside the results folder"):
        inside_results(store, tmp_path / "results" / "evidence" / ".." / ".." / "x")
    with pytest.raises(ValueError):
        session_paths(store, 1, "../../..", "student", "control")
    assert not (tmp_path / "control.har").exists()


def test_the_database_is_owner_only_whatever_the_umask(tmp_path):
    import stat

    from crawler.store.writer import Store

    old = os.umask(0o000)
    try:
        db = tmp_path / "a.db"
        db.touch(mode=0o666)
        Store(db).close()
    finally:
        os.umask(old)
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


def test_the_cli_makes_every_new_file_and_folder_owner_only(tmp_path, monkeypatch):
    import stat

    old = os.umask(0o000)
    try:
        result = CliRunner().invoke(main, ["findings", "--db", str(tmp_path / "nothing" / "a.db")])
        assert result.exit_code == 2
        made = tmp_path / "made"
        made.mkdir()
        (made / "f").write_text("x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(made.stat().st_mode) == 0o700 and stat.S_IMODE((made / "f").stat().st_mode) == 0o600
