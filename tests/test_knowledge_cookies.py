import pytest

from crawler.knowledge.cookies import (
    COOKIE_PURPOSES,
    CookieClassifier,
    CookiePurpose,
    load_builtin_patterns,
)
from crawler.knowledge.open_cookie_database import OcdCookie, parse_open_cookie_database

OCD_HEADER = (
    "\ufeffID,Platform,Category,Cookie / Data Key name,Domain,Description,Retention period,"
    "Data Controller,User Privacy & GDPR Rights Portals,Wildcard match\n"
)
OCD_CSV = (
    OCD_HEADER
    + """\
1,Google Analytics,Analytics,_ga,,"Registers a unique ID, used for statistics",2 years,Google,https://policies.google.com/,0
2,Google Analytics,Analytics,_ga_,,Keeps session state,2 years,Google,https://policies.google.com/,1
3,PHP.net,Functional,PHPSESSID,,Keeps the session,session,PHP,,0
4,Example,Marketing,bp_,,Marketing id prefix,1 year,Example,,1
5,Example,Marketing,bp_remember,,Claimed to be marketing,1 year,Example,,0
6,Example,Analytics,bp_remember_,,Longer prefix,1 year,Example,,1
7,Example,Marketing,csrf_marketing,,A marketing cookie with a misleading name,1 year,Example,,0
8,Example,Functional,ce_need_secure_cookie\t,,Trailing whitespace in the name,session,Example,,0
9,Example,Mystery,oddity,,A category the mapping does not know,session,Example,,0
,,,,,,,,,
"""
)


@pytest.fixture(scope="module")
def ocd_rows():
    return parse_open_cookie_database(OCD_CSV)


def test_parse_open_cookie_database(ocd_rows):
    assert len(ocd_rows) == 9
    assert ocd_rows[0] == OcdCookie(
        name="_ga",
        platform="Google Analytics",
        category="Analytics",
        purpose="analytics",
        domain="",
        description="Registers a unique ID, used for statistics",
        retention="2 years",
        wildcard=False,
    )
    assert ocd_rows[1].wildcard
    assert {row.name: row.purpose for row in ocd_rows}["bp_"] == "advertising"
    assert ocd_rows[7].name == "ce_need_secure_cookie"
    assert ocd_rows[8].purpose == "unknown"


def test_parse_refuses_other_csv():
    with pytest.raises(ValueError, match="no 'Cookie / Data Key name' column"):
        parse_open_cookie_database("a,b\n1,2\n")


def test_district_beats_open_cookie_database_beats_builtin(ocd_rows):
    classifier = CookieClassifier(ocd_rows=ocd_rows, remember_cookies=["bp_remember"])
    assert classifier.classify("bp_remember") == CookiePurpose("login_retention", "district", "bp_remember", None)
    # Without the district's word, the database's exact row wins over the built-in "*remember*".
    plain = CookieClassifier(ocd_rows=ocd_rows)
    assert plain.classify("bp_remember").purpose == "advertising"
    assert plain.classify("bp_remember").source == "open-cookie-database"
    assert plain.classify("csrf_marketing").purpose == "advertising"
    assert CookieClassifier().classify("bp_remember") == CookiePurpose("login_retention", "builtin", "*remember*", None)


def test_district_names_are_exact(ocd_rows):
    classifier = CookieClassifier(ocd_rows=ocd_rows, remember_cookies=["bp_remember"])
    assert classifier.classify("BP_REMEMBER").source != "district"


def test_exact_database_name_beats_its_wildcards_and_longest_prefix_wins(ocd_rows):
    classifier = CookieClassifier(ocd_rows=ocd_rows)
    assert classifier.classify("_ga").pattern == "_ga"
    assert classifier.classify("_ga_XYZ123").pattern == "_ga_*"
    assert classifier.classify("bp_remember_x").pattern == "bp_remember_*"
    assert classifier.classify("bp_remember_x").purpose == "analytics"
    assert classifier.classify("bp_other").pattern == "bp_*"


def test_builtin_pattern_narrows_a_broad_database_category(ocd_rows):
    purpose = CookieClassifier(ocd_rows=ocd_rows).classify("PHPSESSID")
    assert purpose == CookiePurpose(
        "login_session",
        "open-cookie-database",
        "PHPSESSID",
        "PHP.net",
        list_category="Functional",
        refined_by="PHPSESSID",
    )


@pytest.mark.parametrize(
    ("name", "purpose"),
    [
        ("PHPSESSID", "login_session"),
        ("JSESSIONID", "login_session"),
        ("ASP.NET_SessionId", "login_session"),
        ("connect.sid", "login_session"),
        ("laravel_session", "login_session"),
        ("MoodleSession", "login_session"),
        ("sid", "login_session"),
        ("csrftoken", "csrf"),
        ("XSRF-TOKEN", "csrf"),
        ("_csrf", "csrf"),
        ("__Host-next-auth.csrf-token", "csrf"),
        ("remember_token", "login_retention"),
        ("rememberMe", "login_retention"),
        ("remember_web_59ba36addc2b2f94", "login_retention"),
        ("_ga", "analytics"),
        ("_ga_ABC123", "analytics"),
        ("_gid", "analytics"),
        ("_gat_UA-1234-1", "analytics"),
        ("__utmz", "analytics"),
        ("ajs_anonymous_id", "analytics"),
        ("amplitude_id_abc123", "analytics"),
        ("mp_0123abcd_mixpanel", "analytics"),
        ("_pk_id.1.1fff", "analytics"),
        ("_fbp", "advertising"),
        ("_fbc", "advertising"),
        ("IDE", "advertising"),
        ("test_cookie", "advertising"),
        ("_gcl_au", "advertising"),
        ("_uetsid", "advertising"),
        ("_uetvid", "advertising"),
        ("MUID", "advertising"),
        ("anj", "advertising"),
        ("uuid2", "advertising"),
        ("_ttp", "advertising"),
        ("li_sugr", "advertising"),
        ("bcookie", "advertising"),
        ("_hjid", "session_replay"),
        ("_hjSessionUser_123456", "session_replay"),
        ("_hjSession_123456", "session_replay"),
        ("_clck", "session_replay"),
        ("_clsk", "session_replay"),
        ("fs_uid", "session_replay"),
        ("_lr_hb_-abc", "session_replay"),
        ("_lr_env_src_ats", "advertising"),
        ("site_theme", "preference"),
        ("lang", "preference"),
        ("user_locale", "preference"),
        ("OptanonConsent", "consent"),
        ("cookieyes-consent", "consent"),
        ("__cf_bm", "security"),
        ("AWSALB", "functional"),
        ("assessment_id", "unknown"),
    ],
)
def test_builtin_patterns(name, purpose):
    assert CookieClassifier().classify(name).purpose == purpose


def test_builtin_matching_ignores_case():
    assert CookieClassifier().classify("phpsessid").purpose == "login_session"
    assert CookieClassifier().classify("MY_SESSION").pattern == "*session*"


def test_without_builtin_patterns_only_lists_count(ocd_rows):
    classifier = CookieClassifier(builtin=False, ocd_rows=ocd_rows)
    assert classifier.classify("PHPSESSID").purpose == "functional"
    assert classifier.classify("laravel_session") == CookiePurpose("unknown", None, None, None)


def test_builtin_patterns_are_well_formed():
    patterns = load_builtin_patterns()
    assert len(patterns) >= 150
    assert {pattern.purpose for pattern in patterns} <= set(COOKIE_PURPOSES)
    folded = [pattern.pattern.casefold() for pattern in patterns]
    assert len(folded) == len(set(folded))
