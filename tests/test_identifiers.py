import dataclasses

import pytest

from crawler.analyze.identifiers import (
    STORAGE_LIFETIME,
    IdentifierParams,
    find_identifier,
    is_common_value,
    is_timestamp,
    similarity,
    split_value,
)

NOW = 1_700_000_000.0
RANDOM_ID = "k3J9xQ2mZ8vL4pR7tY1w"
OTHER_RANDOM_ID = "a8Bn2Cx7Vm4Qz9Lp3Kd6"


DEFAULT_PARAMS = IdentifierParams()


def judge(audited, control=OTHER_RANDOM_ID, after_restart=None, lifetime_days=395.0, params=DEFAULT_PARAMS):
    after_restart = audited if after_restart is None else after_restart
    return find_identifier(audited, control, after_restart, lifetime_days, params, now=NOW)


def test_split_value_keeps_the_whole_and_splits_on_delimiters():
    assert split_value("GA1.2.123456789.1700000000") == [
        "GA1.2.123456789.1700000000",
        "GA1",
        "2",
        "123456789",
        "1700000000",
    ]
    assert split_value("a|b:c&d=e,f;g") == ["a|b:c&d=e,f;g", "a", "b", "c", "d", "e", "f", "g"]


def test_split_value_splits_hyphens_and_underscores_but_keeps_the_piece():
    uuid = "550e8400-e29b-41d4-a716-446655440000"
    assert split_value(uuid) == [uuid, "550e8400", "e29b", "41d4", "a716", "446655440000"]


def test_split_value_reads_json_recursively_and_url_encoded_values():
    value = '{"id": "abc.defghijk", "seen": [1700000000, {"v": "x|y"}], "ok": true, "n": null}'
    assert split_value(value) == [value, "abc.defghijk", "abc", "defghijk", "1700000000", "x|y", "x", "y"]
    encoded = "%7B%22id%22%3A%22u-123%22%7D"
    assert split_value(encoded) == [encoded, '{"id":"u-123"}', "u-123", "u", "123"]


def test_split_value_survives_broken_json():
    assert split_value('{"a": [1,') == ['{"a": [1,', '{"a', "[1"]


def test_random_id_that_differs_from_control_and_survives_restart_is_an_identifier():
    verdict = judge(RANDOM_ID)
    assert verdict.is_identifier
    assert verdict.part == RANDOM_ID
    assert verdict.reasons == (
        "lasts 395 days, at least the 30 required",
        f"part '{RANDOM_ID}' is 20 characters (8 to 100 allowed)",
        "it is not a timestamp, boolean, small number, locale or common word",
        "differs from the control profile's value (closest similarity 0.05 < 0.45)",
        "it is the same after the browser restart",
    )


def test_missing_control_value_counts_as_different():
    verdict = judge(RANDOM_ID, control=None)
    assert verdict.is_identifier
    assert "no control value, so it counts as different from the control profile" in verdict.reasons


def test_persistent_storage_qualifies_without_expiry():
    assert judge(RANDOM_ID, lifetime_days=STORAGE_LIFETIME).is_identifier


def test_session_cookie_is_not_an_identifier():
    verdict = judge(RANDOM_ID, lifetime_days=None)
    assert not verdict.is_identifier
    assert verdict.part is None
    assert verdict.reasons[0].startswith("session cookie or storage")


def test_short_lived_cookie_is_not_an_identifier():
    verdict = judge(RANDOM_ID, lifetime_days=7)
    assert not verdict.is_identifier
    assert verdict.reasons[0] == "lasts 7 days, under the 30 required"


def test_value_changed_after_restart_is_not_an_identifier():
    verdict = judge(RANDOM_ID, after_restart="zz8Qm2Lx4Vb7Nc1Kd9Pw")
    assert not verdict.is_identifier
    assert f"'{RANDOM_ID}': changed or gone after the browser restart" in verdict.reasons


def test_value_gone_after_restart_is_not_an_identifier():
    assert not find_identifier(RANDOM_ID, None, None, 395, now=NOW).is_identifier


def test_value_equal_to_control_is_a_constant():
    verdict = judge(RANDOM_ID, control=RANDOM_ID)
    assert not verdict.is_identifier
    assert f"'{RANDOM_ID}': too close to the control profile's value (similarity 1.00 ≥ 0.45)" in verdict.reasons


@pytest.mark.parametrize("timestamp", ["1700000000", "1699999999123", "2023-11-14T22:13:20Z", "2023-11-14"])
def test_timestamp_is_not_an_identifier(timestamp):
    verdict = judge(timestamp, control=None)
    assert not verdict.is_identifier
    assert f"'{timestamp}': a timestamp" in verdict.reasons


def test_ten_digit_number_far_from_now_is_not_taken_for_a_timestamp():
    assert not is_timestamp("9876543210", NOW)
    assert judge("9876543210", control=None).part == "9876543210"


def test_dark_is_not_an_identifier():
    assert not judge("dark", control="light").is_identifier
    relaxed = IdentifierParams(min_length=3)
    verdict = judge("dark", control=None, params=relaxed)
    assert not verdict.is_identifier
    assert "'dark': a boolean, small number, locale or common word" in verdict.reasons


@pytest.mark.parametrize("value", ["true", "FALSE", "null", "dark", "en-US", "zh_Hant", "42", "1.5"])
def test_common_values(value):
    assert is_common_value(value)


def test_length_bounds_come_from_the_policy():
    assert not judge("abc1234", control=None).is_identifier  # 7 < 8
    assert judge("abc1234", control=None, params=IdentifierParams(min_length=6)).is_identifier
    long_value = "x1" * 60
    verdict = judge(long_value, control=None)
    assert not verdict.is_identifier
    assert "too long (120 > 100 characters)" in verdict.reasons[-1]


def test_google_analytics_client_id_is_the_identifying_part():
    # The version prefix is short, the timestamp is a timestamp, and the whole value is too close
    # to another browser's _ga; the random client number is what singles the browser out.
    verdict = find_identifier(
        "GA1.2.123456789.1700000000",
        "GA1.2.987654321.1699990000",
        "GA1.2.123456789.1700000000",
        730,
        now=NOW,
    )
    assert verdict.is_identifier
    assert verdict.part == "123456789"


def test_identifier_inside_json_value():
    verdict = judge(
        f'{{"uid": "{RANDOM_ID}", "theme": "dark"}}', control=f'{{"uid": "{OTHER_RANDOM_ID}", "theme": "dark"}}'
    )
    assert verdict.part == RANDOM_ID


def test_no_audited_value():
    assert find_identifier(None, None, None, 400) == find_identifier("", None, None, 400)
    assert not find_identifier(None, None, None, 400).is_identifier


def test_similarity_is_ratcliff_obershelp():
    assert similarity("abcd", "abcd") == 1.0
    assert similarity("abcd", "wxyz") == 0.0
    assert similarity("abcd", "abxy") == 0.5


def test_verdict_and_params_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        IdentifierParams().min_length = 3  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        judge(RANDOM_ID).part = "x"  # type: ignore[misc]


def test_random_numbers_differ_although_their_digits_overlap():
    # Two browsers' Google Analytics client numbers: Ratcliff-Obershelp alone would call them 0.47 alike.
    assert similarity("59757834", "527845883") < 0.45
    assert similarity("1700000123", "1700000456") > 0.45
    verdict = find_identifier(
        "GA1.2.59757834.1795964274", "GA1.2.527845883.1795964270", "GA1.2.59757834.1795964274", 400
    )
    assert verdict.is_identifier and verdict.part == "59757834"


def test_a_random_ten_digit_client_id_is_not_taken_for_a_timestamp():
    # 1964631049 read as seconds is 2032: an id, not a time made during the audit.
    assert not is_timestamp("1964631049", NOW)
    assert is_timestamp(str(int(NOW) - 3600), NOW) and is_timestamp(str(int(NOW * 1000)), NOW)


def test_an_id_inside_base64_json_is_found():
    import base64 as b64
    import json as js

    def hotjar(uuid):
        return b64.b64encode(js.dumps({"id": uuid, "created": 1700000000000, "existing": True}).encode()).decode()

    audited = hotjar("1d8183ca-c437-8d90-10ae-5145403ab02f")
    verdict = find_identifier(audited, hotjar("d6c02858-4805-50e9-6677-7e46be0e6bba"), audited, 365)
    assert verdict.is_identifier and verdict.part == "1d8183ca-c437-8d90-10ae-5145403ab02f"
    assert "ABCDEFGHIJKLMNOP" not in split_value("QUJDREVGR0hJSktMTU5PUA==")  # base64 of plain text: not opened


def test_a_random_part_is_not_judged_close_to_a_much_longer_control_value():
    # Seen in an audit: the random part scored 0.51 against the control's whole value, and _fbp went unjudged.
    verdict = find_identifier(
        "fb.1.1796163558467.1163711513",
        "fb.1.1796163557201.1069375013",
        "fb.1.1796163558467.1163711513",
        90,
        now=1796163560,
    )
    assert verdict.is_identifier and verdict.part == "1163711513", verdict.reasons


def test_a_client_id_written_without_its_leading_zeros_is_as_long_as_its_field():
    # Google Analytics' client id is a random number below 2^31: one browser in 200 gets 7 digits or fewer. This one
    # did in a demo run, and its _ga cookie, re-sent on reconnect, was not reported.
    verdict = find_identifier(
        "GA1.2.8328185.1796197907", "GA1.2.1348023589.1796197906", "GA1.2.8328185.1796197907", 400, now=1796197907
    )
    assert verdict.is_identifier and verdict.part == "8328185"
    assert verdict.reasons[1] == (
        "part '8328185' is 7 characters: a number written without its leading zeros, in a field of 10 in the"
        " control profile's value (8 to 100 allowed)"
    )


@pytest.mark.parametrize(
    ("audited", "control", "why"),
    [
        ("GA1.2.8328185.1796197907", "GA1.2.1348023.1796197906", "the other browser's number is as short"),
        ("GA1.2.8328185.1796197907", "GA1.1348023589.1796197906", "the values are not cut into the same pieces"),
        ("GA1.2.832818x.1796197907", "GA1.2.1348023589.1796197906", "a number in one, not in the other"),
        ("GA1.2.48185.1796197907", "GA1.2.1348023589.1796197906", "five digits are a small number, whatever the field"),
    ],
)
def test_a_short_number_counts_as_its_field_only_beside_a_longer_number_in_the_same_place(audited, control, why):
    verdict = find_identifier(audited, control, audited, 400, now=1796197907)
    assert not verdict.is_identifier, why
