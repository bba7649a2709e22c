import base64
import hashlib

import pytest

from crawler.analyze import encodings
from crawler.analyze.encodings import DIGEST_ALGORITHMS, ENCODERS, ENCODING_NAMES, FINAL_STEPS

ABC_DIGESTS = {
    "md5": "900150983cd24fb0d6963f7d28e17f72",
    "sha1": "a9993e364706816aba3e25717850c26c9cd0d89d",
    "sha224": "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7",
    "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    "sha384": "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
    "sha512": "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
    "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
}


@pytest.mark.parametrize("algorithm", DIGEST_ALGORITHMS)
def test_hex_digests_match_the_published_test_vectors(algorithm):
    assert ENCODERS[algorithm]("abc") == ABC_DIGESTS[algorithm]
    assert ENCODERS[f"{algorithm}_upper"]("abc") == ABC_DIGESTS[algorithm].upper()


@pytest.mark.parametrize("algorithm", DIGEST_ALGORITHMS)
def test_base64_digest_is_base64_of_the_raw_digest(algorithm):
    encoded = ENCODERS[f"{algorithm}_base64"]("abc")
    assert base64.b64decode(encoded) == bytes.fromhex(ABC_DIGESTS[algorithm])


def test_sha256_base64_known_value():
    assert encodings.sha256_base64("abc") == "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="


def test_md5_of_empty_string():
    assert encodings.md5("") == "d41d8cd98f00b204e9800998ecf8427e"


def test_digests_hash_utf8():
    assert encodings.sha1("Zoë") == hashlib.sha1("Zoë".encode()).hexdigest()


def test_normalizations():
    assert encodings.identity(" Liam ") == " Liam "
    assert encodings.lower("Liam.Novak@Example.ORG") == "liam.novak@example.org"
    assert encodings.upper("liam") == "LIAM"
    assert encodings.title("liam novak") == "Liam Novak"
    assert encodings.trimmed("  liam\t") == "liam"


def test_url_encodings():
    assert encodings.url("liam novak@x.org/a") == "liam%20novak%40x.org%2Fa"
    assert encodings.url_plus("liam novak@x.org/a") == "liam+novak%40x.org%2Fa"


def test_base64_flavours():
    value = "<<???>>"
    assert encodings.base64_standard(value) == "PDw/Pz8+Pg=="
    assert encodings.base64_unpadded(value) == "PDw/Pz8+Pg"
    assert encodings.base64_urlsafe(value) == "PDw_Pz8-Pg=="
    assert encodings.base64_urlsafe_unpadded(value) == "PDw_Pz8-Pg"


def test_hex():
    assert encodings.hex_encoded("Ab@") == "416240"


def test_registry_names_are_the_function_names_of_digests():
    for name in ENCODERS:
        if name.startswith(DIGEST_ALGORITHMS):
            assert ENCODERS[name].__name__ == name


def test_every_chainable_encoder_has_a_readable_name_and_final_steps_are_presentations():
    chainable = set(ENCODERS) - set(encodings.NORMALIZERS)
    assert chainable <= set(ENCODING_NAMES)
    assert {f"{a}_{p}" for a in DIGEST_ALGORITHMS for p in ("upper", "base64")} == FINAL_STEPS


def test_apply_chain_applies_innermost_first():
    assert encodings.apply_chain("Liam@X.org", ("lower", "sha256")) == hashlib.sha256(b"liam@x.org").hexdigest()
