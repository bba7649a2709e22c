"""Random passwords typed into a real browser and sent four ways (urlencoded and multipart form POSTs, a JSON
fetch, a GET form) never reach an artefact in any encoding: database, HARs, traces, log, reports, output."""

import base64
import functools
import html
import json
import stat
import string
import textwrap
import zipfile
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
import sqlite_utils
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from conftest import REPO, run_cli
from fixtures.server import FixtureInternet

pytestmark = pytest.mark.e2e

SPECIAL = "~*'\"<&é! +%/Zq9"
ALPHABET = string.ascii_letters + string.digits + string.punctuation + " éßЖ中ø"


# Hypothesis also draws strings from the project's own modules ("databases" once, a key of the Datasette
# metadata the audit writes), and those words are in the artefacts whatever the password. A password is random
# text, so none of those: no password is a piece of our code or fixtures.
@functools.cache
def our_text() -> str:
    """Read once, when a password is first drawn: not at collection, which every xdist worker makes."""
    return "\n".join(
        path.read_text(errors="replace").lower()
        for folder in ("crawler", "fixtures", "tests")
        for path in (REPO / folder).rglob("*")
        if path.suffix in {".py", ".js", ".html", ".json", ".toml", ".sql", ".md"}
    )


def is_random_password(text: str) -> bool:
    return len(set(text)) >= 6 and text.strip() == text and text.lower() not in our_text()


PASSWORDS = st.text(alphabet=ALPHABET, min_size=8, max_size=20).filter(is_random_password)
ACCOUNT = """
[[vendors.accounts]]
role = "student{n}"
username = "s{n}@students.mps.test"
password_env = "FORMLAB_PASSWORD_{n}"
"""
# Every visit its own HAR and trace part: each part is redacted, sealed and verified on its own.
CONFIG = """
[browser]
evidence_part_visits = 1

[[vendors]]
id = "formlab"
name = "FormLab"
status = "approved"
start_url = "https://app.formlab.test/"
max_pages = 1

[vendors.login]
url = "https://app.formlab.test/login"
steps = [
  {fill = "#email", value = "{username}"},
  {fill = "#password", value = "{password}"},
  {click = "#go"},
]
success = {url_contains = "/welcome"}
"""


def _percent(raw: bytes, safe: str, plus: bool = False) -> str:
    return "".join(
        chr(b) if b < 128 and (chr(b).isalnum() or chr(b) in safe) else "+" if plus and b == 32 else f"%{b:02X}"
        for b in raw
    )


def encodings(password: str) -> set[str]:
    """Every way the password could be written: independent of the redactor's own list."""
    raw = password.encode()
    percent = {quote(raw, safe=""), quote_plus(raw), _percent(raw, "*-._", plus=True), _percent(raw, "!'()*-._~")}
    forms = {
        password,
        json.dumps(password)[1:-1],
        json.dumps(password, ensure_ascii=False)[1:-1],
        html.escape(password),
        html.escape(password, quote=False),
        base64.b64encode(raw).decode().rstrip("="),
    }
    forms |= percent | {p.lower() for p in percent}
    return forms


def artefact_texts(workdir: Path, outputs: list[str]):
    """(where, bytes) of every artefact: DB text columns, every file under the work folder, zip members, output."""
    db = sqlite_utils.Database(workdir / "results" / "audit.db")
    for table in db.table_names():
        for row in db[table].rows:
            for column, value in row.items():
                if isinstance(value, (str, bytes)):
                    yield f"{table}.{column}", value.encode() if isinstance(value, str) else value
    for path in workdir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            yield str(path), data
            if zipfile.is_zipfile(path):
                with zipfile.ZipFile(path) as archive:
                    for member in archive.namelist():
                        yield f"{path}!{member}", archive.read(member)
    for i, text in enumerate(outputs):
        yield f"output {i}", text.encode()


def hits(password: str, workdir: Path, outputs: list[str]) -> list[str]:
    forms = [f.encode() for f in encodings(password)]
    return [f"{where}: {form!r}" for where, data in artefact_texts(workdir, outputs) for form in forms if form in data]


# One generated example per run (a full audit takes seconds): the fixed password with every special character
# is always audited beside it, as a second account.
@settings(max_examples=1, database=None, phases=[Phase.generate])
@given(st.lists(PASSWORDS, min_size=1, max_size=1))
def test_no_encoding_of_a_random_password_reaches_an_artefact(tmp_path_factory, passwords):
    passwords = [SPECIAL, *passwords]
    workdir = tmp_path_factory.mktemp("leak")
    config = workdir / "vendors.toml"
    config.write_text(textwrap.dedent(CONFIG) + "".join(ACCOUNT.format(n=n) for n in range(len(passwords))))
    env = {f"FORMLAB_PASSWORD_{n}": p for n, p in enumerate(passwords)}
    log = workdir / "results" / "run.log"
    outputs = []
    with FixtureInternet({f"s{n}@students.mps.test": p for n, p in enumerate(passwords)}) as internet:
        audit = run_cli(
            [
                "audit",
                "--config",
                str(config),
                "--host-resolver-rules",
                internet.host_resolver_rules,
                "--ignore-https-errors",
                "--verbose",
                "--log-file",
                str(log),
            ],
            cwd=workdir,
            env_extra=env,
        )
        sent = [r for r in internet.log if r.host == "app.formlab.test" and r.method == "POST" or "/welcome?" in r.url]
    outputs += [audit.stdout, audit.stderr]
    assert audit.returncode in (0, 1), audit.stdout + audit.stderr
    assert len(sent) >= 4 * len(passwords), [r.url for r in sent]  # every account sent it all four ways
    db = sqlite_utils.Database(workdir / "results" / "audit.db")
    assert {r["login_outcome"] for r in db.query("select login_outcome from audits")} == {"success"}
    for fmt in ("html", "json", "csv", "md", "junit"):
        report = run_cli(["report", "--format", fmt], cwd=workdir)
        assert report.returncode == 0, report.stderr
        outputs += [report.stdout, report.stderr]
    assert log.exists() and list((workdir / "results" / "evidence").rglob("*.har"))
    parts = [p.name for p in (workdir / "results" / "evidence").rglob("audited.part-2.*")]
    assert sorted(parts) == sorted(["audited.part-2.har", "audited.part-2.trace.zip"] * len(passwords)), parts
    with zipfile.ZipFile(next((workdir / "results" / "evidence").rglob("audited.part-2.trace.zip"))) as trace:
        assert b'"frame-snapshot"' in trace.read("trace.trace")  # each part keeps the pages' DOM snapshots
    verified = run_cli(["verify-evidence", "latest"], cwd=workdir)
    assert verified.returncode == 0 and "evidence intact" in verified.stdout, verified.stdout + verified.stderr
    outputs += [verified.stdout, verified.stderr]
    for password in passwords:
        assert not hits(password, workdir, outputs), password
    # Session cookies of the test accounts are in there: owner-only files and folders, whatever the umask.
    for path in (workdir / "results").rglob("*"):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), f"{path} is {oct(mode)}"
    assert stat.S_IMODE((workdir / "results").stat().st_mode) == 0o700


def test_a_word_of_our_own_code_is_never_the_random_password():
    assert not is_random_password("databases")  # drawn by Hypothesis from our code, and in every Datasette file
    assert is_random_password("k#9Qz!" + "v2Lw")  # in two pieces: written whole, this file would hold it
