"""I.F-weak-tls: the vendor's hosts (and hosts receiving the student's PII) must negotiate TLS 1.2 or later
with a cipher of at least 256 bits. A weak protocol is a violation, a weak cipher alone a warning."""

from recorded import STUDENT, audit, judge, only, request

RULE = "I.F-weak-tls"


def test_first_party_tls_1_1_is_a_violation():
    old = request(
        "https://legacy.classnook.com/login", is_navigation=True, tls_protocol="TLS 1.1", tls_cipher="AES_256_CBC"
    )
    data = audit(request("https://app.classnook.com/home"), old)

    finding = only(judge(data, RULE))

    assert (finding.rule_id, finding.clause, finding.severity) == (RULE, "I.F", "violation")
    assert finding.subject == "host legacy.classnook.com"
    assert "negotiated TLS 1.1 (below TLS 1.2)" in finding.message
    assert "256-bit" in finding.message
    assert finding.evidence.rows == {"requests": [old.row_id]}
    assert finding.evidence.protocols == ("TLS 1.1",)
    assert finding.evidence.ciphers == ()


def test_128_bit_cipher_is_a_warning():
    aes128 = request("https://app.classnook.com/api/me", tls_protocol="TLS 1.3", tls_cipher="AES_128_GCM")
    data = audit(request("https://app.classnook.com/home"), aes128)

    finding = only(judge(data, RULE))

    assert finding.severity == "warning"
    assert finding.subject == "host app.classnook.com"
    assert "used the cipher AES_128_GCM (under 256-bit)" in finding.message
    assert finding.evidence.rows == {"requests": [aes128.row_id]}
    assert finding.evidence.ciphers == ("AES_128_GCM",)


def test_weak_protocol_and_cipher_together_is_a_violation_naming_both():
    both = request("https://app.classnook.com/old", tls_protocol="TLS 1.0", tls_cipher="AES_128_CBC")
    finding = only(judge(audit(both), RULE))
    assert finding.severity == "violation"
    assert "negotiated TLS 1.0 (below TLS 1.2) and used the cipher AES_128_CBC" in finding.message


def test_modern_tls_is_fine():
    data = audit(
        request("https://app.classnook.com/home", tls_protocol="TLS 1.3", tls_cipher="AES_256_GCM"),
        request("https://app.classnook.com/api", tls_protocol="TLS 1.2", tls_cipher="CHACHA20_POLY1305"),
    )
    assert judge(data, RULE) == []


def test_third_party_without_student_data_is_not_judged():
    cdn = request("https://cdn.example-assets.net/lib.js", tls_protocol="TLS 1.1", tls_cipher="AES_128_CBC")
    assert judge(audit(cdn), RULE) == []


def test_third_party_receiving_student_data_is_judged():
    leak = request(f"https://collect.edtrack-metrics.com/e?email={STUDENT['email']}", tls_cipher="AES_128_GCM")
    finding = only(judge(audit(leak), RULE))
    assert finding.subject == "host collect.edtrack-metrics.com"
    assert finding.severity == "warning"


def test_minimum_cipher_bits_is_a_parameter():
    aes128 = request("https://app.classnook.com/api/me", tls_cipher="AES_128_GCM")
    assert judge(audit(aes128), RULE, min_cipher_bits=128) == []
