"""Scale-out through the CLI: three `audit --shard auto` workers run as parallel processes (as the pods of a
Kubernetes Indexed Job would), `merge` joins their databases, and the result has exactly the findings and
verdicts of one machine auditing the same vendors; merging the workers again changes nothing."""

import json
import os
import subprocess
import sys

import pytest
import sqlite_utils

from conftest import REPO, run_cli
from fixtures.server import FixtureInternet

pytestmark = pytest.mark.e2e

PASSWORDS = {
    "maya.okafor@students.mps.test": ("TRACKAUDIT_TEST_BRIGHTPATH_PASSWORD", "Bp shard/pass+1"),
    "noah.kim@students.mps.test": ("TRACKAUDIT_TEST_CLASSNOTES_PASSWORD", "Cn shard/pass+2"),
    "emma.garcia@students.mps.test": ("TRACKAUDIT_TEST_QUIZBLAST_PASSWORD", "Qb shard/pass+3"),
}
VENDORS = ("brightpath", "classnotes", "quizblast", "funmathzone")  # three with an account, one candidate


def config_text(internet) -> str:
    text = (REPO / "fixtures" / "jobs.toml").read_text()
    browser = (
        f'[browser]\nheadless = true\nhost_resolver_rules = "{internet.host_resolver_rules}"\n'
        f'trusted_spki = ["{internet.spki}"]\n'
    )
    # Audited while under contract; one page each keeps the test short (the same config for every run, so the
    # costs stay equal): every page of these vendors loads their trackers (fixtures/README.md), and the findings
    # and verdicts are those of three pages.
    return (
        text.replace("[browser]\nheadless = true\n", browser)
        .replace('status = "terminated"', 'status = "approved"')
        .replace("max_pages = 8", "max_pages = 1")
    )


def judged(db_path) -> tuple[set, set]:
    db = sqlite_utils.Database(db_path)
    # A finding is its vendor, account, rule, clause, severity and subject. Not its message: which response or
    # script a cookie is said to be renewed by can differ between two audits when both set it in the same moment.
    findings = {
        (f["vendor_id"], f["account"], f["rule_id"], f["clause"], f["severity"], f["subject"])
        for f in db.query("select * from findings")
    }
    verdicts = {
        (v["vendor_id"], v["job"], v["verdict"], tuple(sorted(json.loads(v["reasons"]))))
        for v in db.query("select * from verdicts")
    }
    return findings, verdicts


def test_three_shards_in_parallel_merge_into_what_one_machine_finds(tmp_path):
    env = {env: password for env, password in PASSWORDS.values()}
    vendor_args = [arg for vendor in VENDORS for arg in ("--vendor", vendor)]
    with FixtureInternet({user: password for user, (_, password) in PASSWORDS.items()}) as internet:
        config = tmp_path / "vendors.toml"
        config.write_text(config_text(internet))
        workers = []
        for index in range(3):
            worker_env = {**os.environ, **env, "JOB_COMPLETION_INDEX": str(index), "TRACKAUDIT_SHARD_COUNT": "3"}
            workers.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "crawler",
                        "audit",
                        "--config",
                        str(config),
                        *vendor_args,
                        "--shard",
                        "auto",
                        "--concurrency",
                        "1",
                        "--quiet",
                        "--db",
                        str(tmp_path / f"worker-{index}.db"),
                    ],
                    cwd=tmp_path,
                    env=worker_env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
            )
        single = run_cli(
            ["audit", "--config", str(config), *vendor_args, "--quiet", "--db", str(tmp_path / "one.db")],
            cwd=tmp_path,
            env_extra=env,
        )
        outputs = [worker.communicate(timeout=300)[0] for worker in workers]
    assert single.returncode == 1, single.stdout + single.stderr  # the fixture vendors track: violations
    assert [worker.returncode for worker in workers] == [1, 1, 1], outputs
    shares = [
        {
            r["vendor_id"]
            for r in sqlite_utils.Database(tmp_path / f"worker-{i}.db").query("select vendor_id from audits")
        }
        for i in range(3)
    ]
    assert sorted(v for share in shares for v in share) == sorted(VENDORS)  # each vendor on exactly one worker
    assert sorted(len(share) for share in shares) == [1, 1, 2]  # equal costs: balanced, not 4 on one worker

    workers_dbs = [str(tmp_path / f"worker-{i}.db") for i in range(3)]
    merged = run_cli(["merge", str(tmp_path / "all" / "all.db"), *workers_dbs], cwd=tmp_path)
    assert merged.returncode == 0, merged.stdout + merged.stderr
    findings, verdicts = judged(tmp_path / "all" / "all.db")
    assert findings and verdicts
    one_findings, one_verdicts = judged(tmp_path / "one.db")
    assert findings == one_findings, findings ^ one_findings
    assert verdicts == one_verdicts, verdicts ^ one_verdicts

    again = run_cli(["merge", str(tmp_path / "all" / "all.db"), workers_dbs[0], *workers_dbs], cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.count("already merged") == 4
    db = sqlite_utils.Database(tmp_path / "all" / "all.db")
    assert db["runs"].count == 3 and judged(tmp_path / "all" / "all.db") == (findings, verdicts)
    for run_id in (1, 2, 3):
        check = run_cli(["verify-evidence", str(run_id), "--db", str(tmp_path / "all" / "all.db")], cwd=tmp_path)
        assert check.returncode == 0, check.stdout + check.stderr
