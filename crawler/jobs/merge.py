"""Merge the databases of sharded workers (``audit --shard i/n``) into one: runs get new ids, every row keeps
its provenance, findings keep pointing at their evidence rows, and artefacts move with their run.

Each merged run is sealed again (its row ids changed); the new manifest names the source database, run and
manifest it came from, and the source's evidence is checked before it is taken."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass

from ..store import queries
from ..store.queries import OBSERVATION_TYPES
from ..store.seal import read_manifest, verify_evidence, write_manifest
from ..store.writer import RUN_FOLDER_KINDS, Store

ROW_TABLES = ("phases", *(t.table for t in OBSERVATION_TYPES))


@dataclass(frozen=True)
class MergedRun:
    source: str
    source_run: int
    target_run: int
    evidence_problems: int
    already_merged: bool = False


# What identifies a run across databases: one process started it at one moment (copied verbatim by a merge).
RUN_IDENTITY = ("mode", "command", "started_at", "finished_at", "hostname", "pid")


def merge_databases(target: Store, sources: list[Store]) -> list[MergedRun]:
    merged = []
    for source in sources:
        run_map: dict[int, int] = {}
        for run in queries.runs(source):
            existing = _merged_before(target, source, run)
            if existing is not None:  # merging the same worker twice changes nothing
                merged.append(MergedRun(str(source.path), run["id"], existing, 0, already_merged=True))
                continue
            problems = verify_evidence(source, run["id"]) if read_manifest(source, run["id"]) else []
            new_run = _copy_run(source, target, run, run_map)
            merged.append(MergedRun(str(source.path), run["id"], new_run, len(problems)))
    return merged


def _merged_before(target: Store, source: Store, run: dict) -> int | None:
    """The target's copy of ``run`` if an earlier merge took it: same run row and the same audits."""
    audits = queries.audit_identities(source, run["id"])
    for candidate in queries.runs_matching(target, {column: run[column] for column in RUN_IDENTITY}):
        if queries.audit_identities(target, candidate) == audits:
            return candidate
    return None


def _copy_run(source: Store, target: Store, run: dict, run_map: dict[int, int]) -> int:
    old_run = run["id"]
    row = {k: v for k, v in run.items() if k not in ("id", "manifest_sha256")}
    row["message"] = "; ".join(filter(None, [run.get("message"), f"merged from {source.path} run {old_run}"]))
    new_run = target.insert("runs", {"id": target.claim_run_id(), **row})
    run_map[old_run] = new_run
    for vendor in queries.vendors_of_run(source, old_run):
        target.copy_vendor(vendor)
    audit_map: dict[int, int] = {}
    for audit in queries.run_rows(source, "audits", old_run):
        audit_map[audit["id"]] = target.insert("audits", {**_without_id(audit), "run_id": new_run})
    row_maps: dict[str, dict[int, int]] = {}
    for table in ROW_TABLES:
        ids = row_maps.setdefault(table, {})
        for item in queries.run_rows(source, table, old_run):
            copied = {**_without_id(item), "run_id": new_run}
            if copied.get("audit_id") is not None:
                copied["audit_id"] = audit_map.get(copied["audit_id"])
            if table == "pages" and copied.get("screenshot"):
                copied["screenshot"] = copied["screenshot"].replace(f"run-{old_run}/", f"run-{new_run}/", 1)
            ids[item["id"]] = target.insert(table, copied)
    for finding in queries.run_rows(source, "findings", old_run):
        evidence = json.loads(finding["evidence"] or "{}")
        evidence["rows"] = {
            table: [row_maps.get(table, {}).get(i, i) for i in ids] for table, ids in evidence.get("rows", {}).items()
        }
        if "previous_run_id" in evidence:
            evidence["previous_run_id"] = run_map.get(evidence["previous_run_id"])
        target.insert(
            "findings",
            {
                **_without_id(finding),
                "run_id": new_run,
                "evidence": json.dumps(evidence, ensure_ascii=False, sort_keys=True),
            },
        )
    for verdict in queries.run_rows(source, "verdicts", old_run):
        target.insert(
            "verdicts",
            {**_without_id(verdict), "run_id": new_run, "baseline_run_id": run_map.get(verdict["baseline_run_id"])},
        )
    _copy_artefacts(source, target, old_run, new_run)
    manifest = read_manifest(source, old_run)
    write_manifest(
        target,
        new_run,
        merged_from={
            "database": str(source.path),
            "run_id": old_run,
            "manifest_sha256": (queries.run(source, old_run) or {}).get("manifest_sha256") if manifest else None,
        },
    )
    return new_run


def _copy_artefacts(source: Store, target: Store, old_run: int, new_run: int) -> None:
    for kind in RUN_FOLDER_KINDS:
        origin = source.run_folder(kind, old_run)
        if origin.is_dir():
            destination = target.run_folder(kind, new_run)
            shutil.copytree(origin, destination, ignore=shutil.ignore_patterns("manifest.json"), dirs_exist_ok=True)


def _without_id(row: dict) -> dict:
    return {k: v for k, v in row.items() if k != "id"}


SHARD_INDEX_ENV = "JOB_COMPLETION_INDEX"  # set by Kubernetes in each pod of an Indexed Job, from 0
SHARD_COUNT_ENV = "TRACKAUDIT_SHARD_COUNT"  # the Job's completions, set in the manifest beside it


def resolve_shard(shard: str, environ=None) -> str:
    """``--shard auto`` is worker JOB_COMPLETION_INDEX + 1 of TRACKAUDIT_SHARD_COUNT; anything else is kept."""
    if shard != "auto":
        return shard
    environ = os.environ if environ is None else environ
    index, count = environ.get(SHARD_INDEX_ENV), environ.get(SHARD_COUNT_ENV)
    if index is None or count is None:
        raise ValueError(
            f"--shard auto needs ${SHARD_INDEX_ENV} (set by an Indexed Job) and ${SHARD_COUNT_ENV} "
            "(the Job's completions): set both, or write --shard i/n"
        )
    try:
        return f"{int(index) + 1}/{int(count)}"
    except ValueError:
        raise ValueError(
            f"--shard auto: ${SHARD_INDEX_ENV}={index!r} and ${SHARD_COUNT_ENV}={count!r} must be whole numbers"
        ) from None


def shard_of(items: list, shard: str, cost: Callable[[object], float] | None = None) -> list:
    """The share of ``items`` that worker ``i`` of ``n`` takes, for ``shard`` = "i/n".

    Shares are balanced by estimated cost: the costliest item first goes to the least loaded worker (ties go
    to the lower worker, equal costs keep the given order), so every worker computes the same split."""
    try:
        index, count = (int(part) for part in shard.split("/"))
    except ValueError:
        raise ValueError(f"--shard {shard!r}: write it as i/n, e.g. 2/8") from None
    if not 1 <= index <= count:
        raise ValueError(f"--shard {shard!r}: i must be between 1 and n")
    cost = cost or (lambda item: 1)
    loads = [0.0] * count
    shares: list[list] = [[] for _ in range(count)]
    for position, item in sorted(enumerate(items), key=lambda pair: (-cost(pair[1]), pair[0])):
        worker = min(range(count), key=lambda w: (loads[w], w))
        loads[worker] += cost(item)
        shares[worker].append((position, item))
    return [item for _, item in sorted(shares[index - 1], key=lambda pair: pair[0])]


def vendor_cost(vendor) -> int:
    """An audit's estimated cost: pages it may visit × the accounts it is audited with."""
    return max(1, vendor.max_pages) * max(1, len(vendor.accounts))
