from crawler.browse.login import totp

RFC_6238_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # base32 of "12345678901234567890"


def test_totp_matches_rfc_6238_test_vectors():
    assert totp(RFC_6238_SECRET, at=59, digits=8) == "94287082"
    assert totp(RFC_6238_SECRET, at=1111111109, digits=8) == "07081804"
    assert totp(RFC_6238_SECRET, at=2000000000, digits=8) == "69279037"


def test_totp_accepts_lower_case_and_spaces_as_authenticator_apps_show_them():
    assert totp("gezd gnbv gy3t qojq gezd gnbv gy3t qojq", at=59) == "287082"
