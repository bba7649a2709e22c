import textwrap

import pytest
from click.testing import CliRunner

from crawler.cli import main
from crawler.config import ConfigError, load_config, load_secrets_file

VALID = """
[browser]
host_resolver_rules = "MAP *:443 127.0.0.1:9443"
ignore_https_errors = true

[[vendors]]
id = "brightpath"
name = "BrightPath Reading"
status = "approved"
start_url = "https://www.brightpath.test/"
pages = ["/dashboard", "https://www.brightpath.test/lessons"]
remember_cookies = ["bp_remember"]
logout_url = "https://www.brightpath.test/logout"

[vendors.login]
url = "https://www.brightpath.test/login"
steps = [
  {fill = "#email", value = "{username}"},
  {fill = "#password", value = "{password}"},
  {check = "#remember"},
  {click = "button[type=submit]"},
]
success = {selector = "#welcome"}

[[vendors.accounts]]
role = "student"
username = "maya@students.test"
password_env = "BP_PASSWORD"
pii = {name = "Maya Okafor", birth_date = "2013-04-09"}
"""


def write(tmp_path, text):
    path = tmp_path / "vendors.toml"
    path.write_text(textwrap.dedent(text))
    return path


def test_valid_config_loads_every_field(tmp_path):
    config = load_config(write(tmp_path, VALID))
    vendor = config.vendor("brightpath")
    assert config.browser.ignore_https_errors is True
    assert vendor.pages == ("/dashboard", "https://www.brightpath.test/lessons")
    assert [s.action for s in vendor.login.steps] == ["fill", "fill", "check", "click"]
    assert vendor.login.success_selector == "#welcome"
    assert vendor.accounts[0].pii["birth_date"] == "2013-04-09"
    assert len(config.sha256) == 64
    assert vendor.form_probe is True  # the key-logging probe types into fields unless turned off
    assert config.browser.evidence_part_visits == 50
    parted = load_config(write(tmp_path, VALID.replace("ignore_https_errors = true", "evidence_part_visits = 7")))
    assert parted.browser.evidence_part_visits == 7
    assert config.browser.tabs == 1
    assert load_config(write(tmp_path, VALID.replace("ignore_https_errors = true", "tabs = 3"))).browser.tabs == 3


def test_the_form_probe_is_turned_off_per_vendor(tmp_path):
    config = load_config(write(tmp_path, VALID.replace("logout_url =", "form_probe = false\nlogout_url =", 1)))
    assert config.vendor("brightpath").form_probe is False


@pytest.mark.parametrize(
    "change, key, words",
    [
        (('status = "approved"', 'status = "maybe"'), "vendors[0].status", "unknown status 'maybe'"),
        (
            ('start_url = "https://www.brightpath.test/"', 'start_url = "www.brightpath.test"'),
            "vendors[0].start_url",
            "not an absolute",
        ),
        (('{click = "button[type=submit]"}', '{tap = "button"}'), "vendors[0].login.steps[3]", "exactly one action"),
        (
            ('{fill = "#password", value = "{password}"}', '{fill = "#password", value = "{pasword}"}'),
            "vendors[0].login.steps[1].value",
            "unknown template '{pasword}'",
        ),
        (
            ('password_env = "BP_PASSWORD"', 'password = "hunter2"\npassword_env = "X"'),
            "vendors[0].accounts[0].password",
            "never written in the config",
        ),
        (('success = {selector = "#welcome"}', "success = {}"), "vendors[0].login.success", "no success check"),
        (
            ("ignore_https_errors = true", 'ignore_https_errors = "yes"'),
            "browser.ignore_https_errors",
            "expected true or false",
        ),
        (("remember_cookies", "remember_cookie"), "vendors[0].remember_cookie", "unknown key"),
        (("logout_url =", 'form_probe = "off"\nlogout_url ='), "vendors[0].form_probe", "expected true or false"),
    ],
)
def test_config_errors_name_file_key_and_fix(tmp_path, change, key, words):
    path = write(tmp_path, VALID.replace(*change, 1))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    error = caught.value
    assert error.key == key
    assert words in error.problem
    assert str(path) in str(error) and "Fix:" in str(error) and error.fix


def test_toml_syntax_error_names_the_line(tmp_path):
    path = write(tmp_path, VALID + "\n[[vendors]\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.key == "(syntax)" and "line" in caught.value.problem


def test_duplicate_vendor_ids_are_refused(tmp_path):
    block = VALID[VALID.index("[[vendors]]") :]
    with pytest.raises(ConfigError, match=r"vendors\[1\]\.id: duplicate vendor id 'brightpath'"):
        load_config(write(tmp_path, VALID + block))


def test_cli_exits_2_with_the_message_on_a_broken_config(tmp_path):
    path = write(tmp_path, VALID.replace('status = "approved"', 'status = "maybe"'))
    result = CliRunner().invoke(main, ["audit", "--config", str(path), "--db", str(tmp_path / "a.db")])
    assert result.exit_code == 2
    assert f"{path}: vendors[0].status: unknown status 'maybe'" in result.output
    assert "Traceback" not in result.output


def test_cli_exits_2_when_the_password_variable_is_unset(tmp_path, monkeypatch):
    monkeypatch.delenv("BP_PASSWORD", raising=False)
    result = CliRunner().invoke(
        main, ["audit", "--config", str(write(tmp_path, VALID)), "--db", str(tmp_path / "a.db")]
    )
    assert result.exit_code == 2
    assert "vendors[0].accounts[0].password_env: the environment variable BP_PASSWORD is not set" in result.output


def test_cli_exits_2_for_a_missing_config_file(tmp_path):
    result = CliRunner().invoke(main, ["audit", "--config", str(tmp_path / "nope.toml")])
    assert result.exit_code == 2
    assert "cannot read the file" in result.output


def test_secrets_file(tmp_path):
    path = tmp_path / "secrets"
    path.write_text("# district test accounts\nBP_PASSWORD = s3cret=with=equals\n\n")
    assert load_secrets_file(path) == {"BP_PASSWORD": "s3cret=with=equals"}
    path.write_text("just a line\n")
    with pytest.raises(ConfigError, match="line 1: expected NAME=value"):
        load_secrets_file(path)


def test_a_missing_browser_is_exit_3_with_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKAUDIT_CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.setenv("BP_PASSWORD", "x")
    result = CliRunner().invoke(
        main, ["audit", "--config", str(write(tmp_path, VALID)), "--db", str(tmp_path / "a.db")]
    )
    assert result.exit_code == 3
    assert "$TRACKAUDIT_CHROMIUM" in result.output and "is not an executable file" in result.output


def test_a_config_that_is_not_text_is_refused(tmp_path):
    path = tmp_path / "vendors.toml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    result = CliRunner().invoke(main, ["audit", "--config", str(path)])
    assert result.exit_code == 2 and "not UTF-8 text" in result.output
