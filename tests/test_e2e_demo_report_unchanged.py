"""The demo's JSON report, normalised (ids, times, digests and per-run random values masked), is the same as the
one recorded before the code was reorganised: findings, verdicts, evidence and report content are unchanged.

A deliberate change of what the demo finds regenerates the recorded document:
    TRACKAUDIT_REGENERATE_GOLDEN=1 ./run test tests/test_e2e_demo_report_unchanged.py
and the diff of tests/golden/demo-report.normalised.json is reviewed like code."""

import json
import os
from pathlib import Path

import pytest

from conftest import SHARED_LISTS, run_cli
from crawler.analyze.identifiers import find_identifier
from report_normalise import normalise, normalised_report

pytestmark = pytest.mark.e2e

GOLDEN = Path(__file__).with_name("golden") / "demo-report.normalised.json"


def _differences(expected, actual, path="") -> list[str]:
    if type(expected) is not type(actual):
        return [f"{path}: {expected!r:.120} became {actual!r:.120}"]
    if isinstance(expected, dict):
        found = []
        for key in sorted(set(expected) | set(actual)):
            if key not in actual:
                found.append(f"{path}/{key}: missing")
            elif key not in expected:
                found.append(f"{path}/{key}: new")
            else:
                found += _differences(expected[key], actual[key], f"{path}/{key}")
        return found
    if isinstance(expected, list):
        found = [f"{path}: {len(expected)} items became {len(actual)}"] if len(expected) != len(actual) else []
        for index, (e, a) in enumerate(zip(expected, actual, strict=False)):
            found += _differences(e, a, f"{path}[{index}]")
        return found
    return [] if expected == actual else [f"{path}: {expected!r:.120} became {actual!r:.120}"]


@pytest.mark.skipif(not SHARED_LISTS.is_dir(), reason="the recorded report was judged with ../shared/lists loaded")
def test_demo_json_report_is_unchanged(demo_run, tmp_path):
    out = tmp_path / "demo.json"
    proc = run_cli(
        ["report", "--db", str(demo_run.db_path), "--format", "json", "--out", str(out)],
        cwd=demo_run.db_path.parent.parent,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    actual = normalised_report(out)
    if os.environ.get("TRACKAUDIT_REGENERATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(actual, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    differences = _differences(expected, actual)
    assert not differences, "\n".join(differences[:40])


def test_how_many_digits_a_random_client_id_got_is_masked():
    # One demo run in 200 gives LeakyQuiz's _ga a client id of 7 digits, judged by its field's length: the same
    # finding, with a reason that says so.
    def reasons(client_id: str) -> object:
        value = f"GA1.2.{client_id}.1796203119"
        verdict = find_identifier(value, "GA1.2.505369133.1796203118", value, 400, now=1796203119)
        assert verdict.is_identifier
        return normalise(list(verdict.reasons))

    assert reasons("7444439") == reasons("1384296967")
