import calendar
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crawler.setcookie import SetCookie, cookie_date, cookie_name, lines, parse, parse_all, request_cookies

OCT_21_2015 = float(calendar.timegm((2015, 10, 21, 7, 28, 0)))


def test_a_full_header_with_every_attribute():
    cookie = parse(
        "uid=abc123; Expires=Wed, 21 Oct 2015 07:28:00 GMT; Max-Age=3600; Domain=.Tracker.Example; "
        "Path=/p; Secure; HttpOnly; SameSite=none; Partitioned"
    )
    assert cookie == SetCookie(
        "uid",
        "abc123",
        expires=OCT_21_2015,
        max_age=3600,
        domain="tracker.example",
        path="/p",
        secure=True,
        http_only=True,
        same_site="None",
        partitioned=True,
    )


def test_the_comma_in_expires_does_not_split_the_cookie():
    assert parse_all(["a=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT; Path=/"]) == [
        SetCookie("a", "1", expires=OCT_21_2015, path="/")
    ]


def test_several_set_cookie_headers_joined_by_newlines_as_chromium_gives_them():
    joined = "a=1; Path=/\nb=2; Max-Age=0\n\nc=3"
    assert lines([joined, "d=4"]) == ("a=1; Path=/", "b=2; Max-Age=0", "c=3", "d=4")
    assert [c.name for c in parse_all([joined])] == ["a", "b", "c"]


@pytest.mark.parametrize(
    "text",
    [
        "Wed, 21 Oct 2015 07:28:00 GMT",  # RFC 1123
        "Wednesday, 21-Oct-15 07:28:00 GMT",  # RFC 850
        "Wed Oct 21 07:28:00 2015",  # asctime
        "21 oct 2015 07:28:00",
    ],
)
def test_cookie_dates_browsers_accept(text):
    assert cookie_date(text) == OCT_21_2015


@pytest.mark.parametrize(
    "text",
    [
        "",
        "garbage",
        "Wed, 30 Feb 2015 07:28:00 GMT",
        "Wed, 21 Oct 2015 24:00:00 GMT",
        "Wed, 21 Oct 1600 07:28:00 GMT",
        "Wed, 21 Oct 2015",
    ],
)
def test_not_cookie_dates(text):
    assert cookie_date(text) is None


def test_a_deletion_dated_before_1970_is_understood():
    cookie = parse("a=; Expires=Mon, 01 Jan 1601 00:00:00 GMT")
    assert cookie.expires is not None and cookie.deletes(received_at=0)


def test_max_age_wins_over_expires_and_decides_deletion():
    kept = parse("a=1; Max-Age=60; Expires=Thu, 01 Jan 1970 00:00:00 GMT")
    assert not kept.deletes(received_at=1000) and kept.expiry(received_at=1000) == 1060
    assert parse("a=1; Max-Age=0").deletes(received_at=1000)
    assert parse("a=1; Max-Age=-5").expiry(received_at=1000) == 1000


def test_an_invalid_attribute_is_ignored_and_an_earlier_valid_one_stands():
    cookie = parse("a=1; Max-Age=60; Max-Age=1e3; Expires=never; SameSite=sometimes")
    assert (cookie.max_age, cookie.expires, cookie.same_site, cookie.session) == (60, None, None, False)
    assert parse("a=1; Path=relative").path is None


def test_a_session_cookie_has_no_expiry():
    cookie = parse("a=1")
    assert cookie.session and cookie.expiry(received_at=5) is None and not cookie.deletes(received_at=5)


def test_quoted_values_keep_their_quotes_as_browsers_store_them():
    assert parse('pref="a b"; Path=/').value == '"a b"'


def test_names_and_values_are_trimmed_and_a_value_may_contain_equals():
    assert (parse("  sid = x=y== ; secure").name, parse("  sid = x=y== ; secure").value) == ("sid", "x=y==")


def test_a_token_without_equals_is_a_nameless_cookie_and_an_empty_line_sets_nothing():
    assert parse("flag; Path=/") == SetCookie("", "flag", path="/")
    assert parse("=; Path=/") is None
    assert cookie_name("flag") == "" and cookie_name("") == ""


def test_a_line_stops_at_a_carriage_return_or_nul():
    assert parse("a=1\r; Secure") == SetCookie("a", "1")
    assert parse("a=1\x00; Secure") == SetCookie("a", "1")


def test_request_cookie_header_pairs():
    assert request_cookies("a=1; b = x=y;c=;lone") == [("a", "1"), ("b", "x=y"), ("c", ""), ("", "lone")]


NAMES = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters=";=,"), min_size=1)
VALUES = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters=";"))
DATES = st.datetimes(datetime(1601, 1, 1), datetime(9999, 12, 31), timezones=st.just(UTC))


@given(
    NAMES,
    VALUES,
    st.one_of(st.none(), DATES),
    st.one_of(st.none(), st.integers(-(10**9), 10**9)),
    st.booleans(),
    st.booleans(),
    st.sampled_from([None, "Strict", "Lax", "None"]),
    st.booleans(),
)
def test_a_header_built_from_attributes_parses_back_to_them(
    name, value, expires, max_age, secure, partitioned, same_site, http_only
):
    parts = [f"{name}={value}"]
    if expires is not None:
        expires = expires.replace(microsecond=0)
        parts.append(f"Expires={format_datetime(expires, usegmt=True)}")
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    parts += ["Secure"] * secure + ["Partitioned"] * partitioned + ["HttpOnly"] * http_only
    if same_site:
        parts.append(f"SameSite={same_site.lower()}")
    expected = SetCookie(
        name,
        value,
        expires=None if expires is None else expires.timestamp(),
        max_age=max_age,
        secure=secure,
        http_only=http_only,
        same_site=same_site,
        partitioned=partitioned,
    )
    assert parse("; ".join(parts)) == expected


@given(st.text())
def test_any_text_parses_without_raising(text):
    cookie = parse(text)
    assert cookie is None or "\n" not in cookie.name + cookie.value


@given(st.lists(st.text(st.characters(blacklist_characters="\n\r\x00"), min_size=1)))
def test_newline_joined_headers_parse_as_the_separate_headers(headers):
    separate = [c for h in headers if h.strip() for c in [parse(h)] if c is not None]
    assert parse_all(["\n".join(headers)]) == separate
