import base64
import dataclasses
import hashlib
import json

import pytest

from crawler.analyze.decode import scan_request
from crawler.analyze.encodings import ENCODERS, apply_chain
from crawler.analyze.pii import (
    PiiField,
    PiiMatcher,
    describe_chain,
    field_kind,
    pii_fields,
    pii_variants,
)

LIAM = {
    "name": "Liam Novak",
    "email": "Liam.Novak@Example.org",
    "student_id": "4417209",
    "birth_date": "2012-11-23",
    "phone": "402-555-0147",
}


@pytest.fixture(scope="module")
def matcher():
    return PiiMatcher(pii_fields("liam", LIAM))


def texts(field, value, **kwargs):
    return {variant.text for variant in pii_variants(PiiField("liam", field, value), **kwargs)}


def test_pii_fields_skips_empty_values():
    fields = pii_fields("liam", {"name": "Liam Novak", "phone": "", "nickname": None})
    assert fields == [PiiField("liam", "name", "Liam Novak")]


@pytest.mark.parametrize(
    ("field", "value", "kind"),
    [
        ("email", "a@b.org", "email"),
        ("contact", "liam.novak@example.org", "email"),
        ("phone", "402-555-0147", "phone"),
        ("mobile_phone", "4025550147", "phone"),
        ("birth_date", "2012-11-23", "date"),
        ("dob", "11/23/2012", "date"),
        ("name", "Liam Novak", "full_name"),
        ("first_name", "Liam", "name_part"),
        ("lastName", "Novak", "name_part"),
        ("username", "lnovak", "text"),
        ("student_id", "4417209", "text"),
    ],
)
def test_field_kind(field, value, kind):
    assert field_kind(PiiField("a", field, value)) == kind


def test_name_variants_cover_orderings_joins_and_case_folds():
    found = texts("name", "Liam Novak")
    assert {
        "Liam Novak", "liam novak", "LIAM NOVAK", "Novak, Liam", "Novak Liam", "novak, liam",
        "Liam", "Novak", "liam", "NOVAK", "Liam.Novak", "liam.novak", "Liam_Novak", "Liam+Novak",
        "Liam%20Novak", "LiamNovak",
    } <= found  # fmt: skip


def test_name_given_last_first_is_understood():
    assert {"Liam Novak", "Novak Liam", "liam.novak"} <= texts("name", "Novak, Liam")


def test_name_parts_alone_only_from_four_letters():
    found = texts("name", "Ava Chen")
    assert "Chen" in found
    assert "Ava" not in found
    assert "Ava Chen" in found


def test_email_variants_and_local_part():
    found = texts("email", "Liam.Novak@Example.org")
    assert {"Liam.Novak@Example.org", "liam.novak@example.org", "LIAM.NOVAK@EXAMPLE.ORG"} <= found
    assert {"Liam.Novak", "liam.novak"} <= found


@pytest.mark.parametrize("email", ["info@example.org", "li@example.org"])
def test_email_local_part_only_when_long_and_distinctive(email):
    assert email.split("@")[0] not in texts("email", email)


def test_phone_formats():
    found = texts("phone", "(402) 555-0147")
    assert {
        "402-555-0147", "4025550147", "(402) 555-0147", "+14025550147", "402.555.0147",
        "14025550147", "402 555 0147", "+1 402-555-0147",
    } <= found  # fmt: skip


def test_date_formats():
    found = texts("birth_date", "2012-11-23")
    assert {
        "2012-11-23", "11/23/2012", "23/11/2012", "20121123", "2012/11/23", "Nov 23 2012",
        "Nov 23, 2012", "November 23, 2012", "23 Nov 2012", "11232012", "23.11.2012",
    } <= found  # fmt: skip


def test_hash_chains_to_depth_two():
    email = "Liam.Novak@Example.org"
    variants = {v.chain: v.text for v in pii_variants(PiiField("liam", "email", email))}
    lowered = email.lower()
    assert variants[("lower", "sha256")] == hashlib.sha256(lowered.encode()).hexdigest()
    assert (
        variants[("lower", "sha256", "base64")]
        == base64.b64encode(hashlib.sha256(lowered.encode()).hexdigest().encode()).decode()
    )
    assert variants[("md5",)] == hashlib.md5(email.encode()).hexdigest()
    assert variants[("url", "md5")] == hashlib.md5(b"Liam.Novak%40Example.org").hexdigest()
    assert variants[("lower", "sha256_upper")] == hashlib.sha256(lowered.encode()).hexdigest().upper()
    assert max(len(chain) for chain in variants) <= 4  # normalization + format + two encodings


def test_depth_limits_the_number_of_encoding_steps():
    plain_steps = {"lower", "upper", "title", "trimmed"}
    for depth in (0, 1):
        for variant in pii_variants(PiiField("liam", "email", "liam@example.org"), depth=depth):
            encoding_steps = [step for step in variant.chain if step in ENCODERS and step not in plain_steps]
            assert len(encoding_steps) <= depth


def test_variants_are_unique_and_reproducible_from_their_chain():
    variants = pii_variants(PiiField("liam", "email", "Liam.Novak@Example.org"))
    assert len({v.text for v in variants}) == len(variants)
    by_chain = {v.chain: v.text for v in variants}
    for variant in variants:
        if len(variant.chain) >= 2 and variant.chain[:-1] in by_chain:
            assert apply_chain(by_chain[variant.chain[:-1]], variant.chain[-1:]) == variant.text


def test_describe_chain_reads_aloud():
    assert describe_chain("email", ()) == "the email"
    assert describe_chain("email", ("lower", "sha256")) == "sha256 of the lower-cased email"
    assert describe_chain("email", ("lower", "sha256", "base64")) == "base64 of sha256 of the lower-cased email"
    assert describe_chain("name", ("name_last_comma_first", "upper")) == "the upper-cased name as Last, First"
    assert describe_chain("birth_date", ("date_us",)) == "the birth date as MM/DD/YYYY"
    assert describe_chain("email", ("email_local_part", "md5_upper")) == "upper-case md5 of the local part of the email"


def test_sha256_of_lower_cased_email_in_a_json_post_body(matcher):
    digest = hashlib.sha256(b"liam.novak@example.org").hexdigest()
    body = json.dumps({"uid": digest, "event": "page_view"})
    [match] = scan_request(matcher, "https://t.test/collect", {"content-type": "application/json"}, body)
    assert (match.account, match.field, match.chain) == ("liam", "email", ("lower", "sha256"))
    assert match.description == "sha256 of the lower-cased email"
    assert match.location == "post body"
    assert body[match.start : match.end] == digest == match.text


def test_upper_case_hex_digest_is_found(matcher):
    digest = hashlib.md5(b"liam.novak@example.org").hexdigest().upper()
    [match] = matcher.scan(f"h={digest}", "request url")
    assert match.chain == ("lower", "md5_upper")


def test_base64_in_a_url_param(matcher):
    token = base64.urlsafe_b64encode(b"Liam.Novak@Example.org").decode().rstrip("=")
    matches = scan_request(matcher, f"https://t.test/p?u={token}&v=2", {}, None)
    [email] = [m for m in matches if m.field == "email"]
    assert email.location == "request url"
    # Without "+" or "/" in it, unpadded standard and URL-safe base64 are the same string.
    assert email.chain in {("base64_nopad",), ("base64url_nopad",)}
    assert email.description.endswith("base64 of the email")


def test_email_in_referer_url_encoded(matcher):
    referer = "https://vendor.test/profile?email=liam.novak%40example.org&tab=grades"
    matches = scan_request(matcher, "https://t.test/pixel.gif", [("Referer", referer)], None)
    emails = [m for m in matches if m.field == "email"]
    assert [(m.location, m.chain) for m in emails] == [("header referer", ("lower", "url"))]
    assert emails[0].description == "URL-encoding of the lower-cased email"


@pytest.mark.parametrize(
    "text",
    ["student_id=4417209", '{"studentId": "4417209"}', '{"sid":4417209}', "/api/students/4417209/grades",
     "X-Student-Id: 4417209"],
)  # fmt: skip
def test_student_id_found_next_to_a_key_hint(matcher, text):
    [match] = matcher.scan(text, "post body")
    assert match.field == "student_id"
    assert text[match.start : match.end] == "4417209"


@pytest.mark.parametrize(
    "text",
    ['"cid":"1234417209876"', "x=4417209", "order 4417209 shipped", "rnd=0.4417209", "student_id=44172091",
     "ts=1700004417209"],
)  # fmt: skip
def test_student_id_not_found_without_context(matcher, text):
    assert matcher.scan(text, "post body") == []


def test_whole_value_takes_its_key_from_the_caller(matcher):
    assert [m.field for m in matcher.scan("4417209", "cookie value", key="sid")] == ["student_id"]
    assert matcher.scan("4417209", "cookie value", key="theme") == []


@pytest.mark.parametrize("text", ["tel=4025550147", "phone: +14025550147", "mobile=14025550147"])
def test_numeric_phone_needs_a_key_hint(matcher, text):
    assert [m.field for m in matcher.scan(text, "post body")] == ["phone"]


def test_formatted_phone_counts_anywhere_numeric_phone_does_not(matcher):
    assert [m.field for m in matcher.scan("call (402) 555-0147 today", "body")] == ["phone"]
    assert matcher.scan("ts=4025550147", "body") == []


@pytest.mark.parametrize("text", ["dob=20121123", "v=20121123&x=1", "born 11/23/2012.", "d=2012-11-23T00:00"])
def test_full_date_formats_count_when_delimited(matcher, text):
    assert [m.field for m in matcher.scan(text, "body")] == ["birth_date"]


def test_date_digits_inside_a_longer_number_do_not_count(matcher):
    assert matcher.scan("id=992012112377", "body") == []


def test_short_name_part_needs_key_hint(matcher):
    assert [m.chain for m in matcher.scan("fn=Liam&ln=x", "url")] == [("name_first",)]
    assert matcher.scan("William and Liam went", "body") == []


def test_overlapping_matches_of_a_field_keep_the_longest(matcher):
    matches = matcher.scan("to=Liam.Novak@Example.org;", "body")
    assert [(m.field, m.text) for m in matches] == [
        ("name", "Liam.Novak"),
        ("email", "Liam.Novak@Example.org"),
    ]


def test_repeated_occurrences_are_all_reported(matcher):
    matches = matcher.scan("Liam Novak / Liam Novak", "body")
    assert [(m.start, m.end) for m in matches] == [(0, 10), (13, 23)]


def test_matches_are_frozen(matcher):
    [match] = matcher.scan("Liam Novak", "body")
    with pytest.raises(dataclasses.FrozenInstanceError):
        match.field = "other"  # type: ignore[misc]


def test_several_accounts_in_one_automaton():
    matcher = PiiMatcher(
        pii_fields("liam", LIAM) + pii_fields("ava", {"name": "Ava Chen", "email": "ava.chen@example.org"})
    )
    found = {(m.account, m.field) for m in matcher.scan("Ava Chen <ava.chen@example.org> cc Liam Novak", "body")}
    assert found == {("ava", "name"), ("ava", "email"), ("liam", "name")}


def test_min_length_skips_very_short_variants():
    matcher = PiiMatcher([PiiField("a", "first_name", "Al")])
    assert all(len(variant.text) >= 4 for variant in matcher.variants())
    assert matcher.scan("first_name=Al", "url") == []


def test_matcher_without_fields_finds_nothing():
    assert PiiMatcher([]).scan("anything at all", "body") == []
