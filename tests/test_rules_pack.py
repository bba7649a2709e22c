"""Policy packs: the district's pack lists every rule; a broken pack is refused naming the file and the key."""

import pytest

from crawler.config import ConfigError
from crawler.policy.base import RULES
from crawler.policy.pack import load_pack

HEAD = """
[pack]
id = "test-pack"
name = "Test pack"
version = "1"

[clauses]
"IV.C" = "Retained only as long as reasonably necessary."
"""


def write(tmp_path, body: str):
    path = tmp_path / "pack.toml"
    path.write_text(HEAD + body)
    return path


def refused(path) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_pack(path)
    assert str(path) in str(caught.value)
    return caught.value


def test_the_district_pack_enables_every_rule_with_its_clause():
    pack = load_pack()
    assert pack.id == "mps-7400.1"
    assert sorted(r.id for r in pack.rules) == sorted(RULES)
    for rule in pack.rules:
        assert pack.clause_text(rule.clause), rule.id
    lifetime = next(r for r in pack.rules if r.id == "IV.C-lifetime-over-maximum")
    assert lifetime.params == {"max_lifetime_days": 396}  # the pack-wide parameter reached the rule


def test_unknown_rule_id(tmp_path):
    path = write(tmp_path, '[rules."IV.C-lifetime-too-long"]\nseverity = "violation"\n')
    error = refused(path)
    assert error.key == 'rules."IV.C-lifetime-too-long"'
    assert error.problem == "no rule has this id"
    assert "IV.C-lifetime-over-maximum" in error.fix


def test_bad_severity(tmp_path):
    path = write(tmp_path, '[rules."IV.C-lifetime-over-maximum"]\nseverity = "critical"\n')
    error = refused(path)
    assert error.key == 'rules."IV.C-lifetime-over-maximum".severity'
    assert "'critical'" in error.problem
    assert "violation, warning, info" in error.fix


def test_unknown_parameter(tmp_path):
    path = write(tmp_path, '[rules."IV.C-lifetime-over-maximum"]\nparams = {max_days = 90}\n')
    error = refused(path)
    assert error.key == 'rules."IV.C-lifetime-over-maximum".params.max_days'
    assert error.fix == "use one of: max_lifetime_days"


def test_bad_severity_in_a_severity_parameter(tmp_path):
    path = tmp_path / "pack.toml"
    path.write_text(
        HEAD.replace('"IV.C"', '"I.F"') + '[rules."I.F-weak-tls"]\nparams = {weak_cipher_severity = "critical"}\n'
    )
    error = refused(path)
    assert error.key == 'rules."I.F-weak-tls".params.weak_cipher_severity'


def test_rule_whose_clause_text_is_missing(tmp_path):
    path = write(tmp_path, '[rules."I.F-plain-http"]\n')
    error = refused(path)
    assert error.key == 'clauses."I.F"'


def test_missing_pack_table_and_bad_toml(tmp_path):
    path = tmp_path / "empty.toml"
    path.write_text("[rules]\n")
    assert refused(path).key == "pack.id"
    path.write_text("[pack\nid = 1")
    assert refused(path).key == "(syntax)"


def test_a_valid_pack_sets_severity_params_and_can_disable(tmp_path):
    path = write(
        tmp_path,
        '[rules."IV.C-lifetime-over-maximum"]\nseverity = "info"\n'
        "params = {max_lifetime_days = 90}\n"
        '[rules."IV.D-behavioural-tracker"]\nenabled = false\n',
    )
    pack = load_pack(path)
    [rule] = pack.rules
    assert (rule.id, rule.severity, rule.params) == ("IV.C-lifetime-over-maximum", "info", {"max_lifetime_days": 90})


def test_the_district_pack_cites_the_pii_leak_under_iv_a_and_ii_a():
    leak = next(r for r in load_pack().rules if r.id == "IV.A-pii-to-third-party")
    assert leak.clauses == ("IV.A", "II.A")
    assert leak.title_under("II.A") == "Student PII disclosed to a third party"


def test_a_rule_cited_under_a_clause_whose_text_is_missing(tmp_path):
    path = write(tmp_path, '[rules."IV.C-lifetime-over-maximum"]\nclauses = ["IV.C", "IV.D"]\n')
    assert refused(path).key == 'clauses."IV.D"'


def test_clauses_must_be_a_list_of_clause_ids(tmp_path):
    path = write(tmp_path, '[rules."IV.C-lifetime-over-maximum"]\nclauses = "IV.C"\n')
    error = refused(path)
    assert error.key == 'rules."IV.C-lifetime-over-maximum".clauses' and 'clauses = ["IV.C"]' in error.fix


def test_the_former_ii_a_rule_names_its_replacement(tmp_path):
    path = write(tmp_path, '[rules."II.A-pii-disclosed"]\nseverity = "violation"\n')
    error = refused(path)
    assert "IV.A-pii-to-third-party" in error.problem and '"II.A"' in error.fix
