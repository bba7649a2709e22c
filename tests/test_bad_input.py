"""Bad input ends cleanly: exit 2 with a message naming the file, the key and the fix, never a traceback."""

import pytest
from click.testing import CliRunner

from crawler.cli import main
from crawler.config import ConfigError, load_config

from test_config import VALID, write


@pytest.mark.parametrize("change, key", [
    (('role = "student"', 'role = "../../x"'), "vendors[0].accounts[0].role"),
    (('role = "student"', 'role = ""'), "vendors[0].accounts[0].role"),
    (('id = "brightpath"', 'id = "../../x"'), "vendors[0].id"),
    (('id = "brightpath"', 'id = ".hidden"'), "vendors[0].id"),
    (('ignore_https_errors = true', 'ignore_https_errors = true\npage_timeout_s = nan'), "browser.page_timeout_s"),
    (('ignore_https_errors = true', 'ignore_https_errors = true\npage_timeout_s = inf'), "browser.page_timeout_s"),
    (('ignore_https_errors = true', 'ignore_https_errors = true\npage_timeout_s = -1'), "browser.page_timeout_s"),
    (('ignore_https_errors = true', 'ignore_https_errors = true\npage_timeout_s = 1e300'), "browser.page_timeout_s"),
    (('ignore_https_errors = true', 'ignore_https_errors = true\nvendor_timeout_s = nan'), "browser.vendor_timeout_s"),
    (('logout_url =', 'audit_every_days = 99999999999\nlogout_url ='), "vendors[0].audit_every_days"),
    (('logout_url =', 'audit_every_days = -3\nlogout_url ='), "vendors[0].audit_every_days"),
    (('logout_url =', 'max_pages = 99999999999\nlogout_url ='), "vendors[0].max_pages"),
    (('logout_url =', 'max_pages = -1\nlogout_url ='), "vendors[0].max_pages"),
    (('start_url = "https://www.brightpath.test/"', 'start_url = "file:///etc/passwd"'), "vendors[0].start_url"),
    (('url = "https://www.brightpath.test/login"', 'url = "file:///etc/passwd"'), "vendors[0].login.url"),
    (('{check = "#remember"}', '{goto = "file:///etc/passwd"}'), "vendors[0].login.steps[2].goto"),
    (('{check = "#remember"}', '{wait = nan}'), "vendors[0].login.steps[2].wait"),
    (('{check = "#remember"}', '{wait = -inf}'), "vendors[0].login.steps[2].wait"),
    (('{check = "#remember"}', '{wait = "1e12"}'), "vendors[0].login.steps[2].wait"),
])
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
