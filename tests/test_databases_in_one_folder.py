"""Two databases in one folder (the demo's results/demo.db and an audit's default results/audit.db) keep their
runs' evidence apart: a new run takes a number no database in the folder has used. Before, each database
numbered its runs from 1 and the second wrote into the first's evidence/run-1, so the first's sealed evidence
no longer matched its seal, and merging a worker's database into one beside it stopped with a traceback."""

from crawler.jobs.merge import merge_databases
from crawler.store.seal import verify_evidence, write_manifest
from crawler.store.writer import Store


def sealed_run(store: Store, har: str) -> int:
    run_id = store.start_run("audit", "trackaudit audit")
    session = store.run_folder("evidence", run_id) / "classnook" / "student"
    session.mkdir(parents=True)
    (session / "audited.har").write_text(har)
    store.finish_run(run_id, "complete")
    write_manifest(store, run_id)
    return run_id


def test_the_runs_of_two_databases_in_one_folder_never_share_a_number_or_a_folder(tmp_path):
    demo, audit = Store(tmp_path / "demo.db"), Store(tmp_path / "audit.db")
    assert [sealed_run(demo, "demo 1"), sealed_run(audit, "audit 1"), sealed_run(demo, "demo 2")] == [1, 2, 3]
    assert (tmp_path / "evidence" / "run-1" / "classnook" / "student" / "audited.har").read_text() == "demo 1"
    assert (tmp_path / "evidence" / "run-2" / "classnook" / "student" / "audited.har").read_text() == "audit 1"
    assert verify_evidence(demo, 1) == [] and verify_evidence(audit, 2) == [] and verify_evidence(demo, 3) == []


def test_a_worker_merged_into_a_database_beside_it_keeps_both_runs_evidence(tmp_path):
    worker = Store(tmp_path / "worker.db")
    sealed_run(worker, "worker 1")
    merged = Store(tmp_path / "all.db")
    (run,) = merge_databases(merged, [worker])
    assert (run.source_run, run.target_run, run.evidence_problems) == (1, 2, 0)
    assert verify_evidence(worker, 1) == [] and verify_evidence(merged, 2) == []
    assert (tmp_path / "evidence" / "run-2" / "classnook" / "student" / "audited.har").read_text() == "worker 1"
