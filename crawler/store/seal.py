"""Evidence a court could rely on: each browser session's HAR and Playwright trace (passwords removed), the
screenshots, and a manifest with the SHA-256 of every artefact and a digest of the run's database rows.
``verify_evidence`` recomputes them all and names whatever changed."""

from __future__ import annotations

import hashlib
import hmac
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

from .. import __version__
from ..redact import Redactor
from . import queries
from .queries import OBSERVATION_TYPES
from .schema import DERIVED_COLUMNS, LATE_COLUMNS
from .writer import RUN_FOLDER_KINDS, Store, utc_now

MANIFEST_SCHEMA = "trackaudit-evidence/1"
# Every table whose rows a run owns; their digests make a silent edit of the database visible.
RUN_TABLES = ("runs", "audits", "phases", *(t.table for t in OBSERVATION_TYPES), "findings", "verdicts")


def manifest_path(store: Store, run_id: int) -> Path:
    return store.run_folder("evidence", run_id) / "manifest.json"


HMAC_PREFIX = "hmac-sha256:"


def inside_results(store: Store, path: Path) -> Path:
    """``path``, asserted to resolve inside the results folder (ids and roles are slugs: this is the last guard)."""
    base = store.artefacts_dir.resolve()
    if not path.resolve().is_relative_to(base):
        raise ValueError(f"{path} is outside the results folder {base}")
    return path


def session_paths(
    store: Store, run_id: int, vendor_id: str, account: str, session: str, part: int = 1
) -> tuple[Path, Path]:
    """Where one browser session (control, audited, reconnect, …) keeps the HAR and the trace of one part of its
    visits: ``audited.har`` for the first, ``audited.part-2.har`` for the next, and so on."""
    folder = inside_results(store, store.run_folder("evidence", run_id) / vendor_id / account / session).parent
    folder.mkdir(parents=True, exist_ok=True)
    stem = session if part == 1 else f"{session}.part-{part}"
    return folder / f"{stem}.har", folder / f"{stem}.trace.zip"


def redact_file(path: Path, redactor: Redactor) -> None:
    """Remove passwords from a HAR (text) or a trace (a zip whose members are rewritten)."""
    if not path.exists() or not redactor:
        return
    if zipfile.is_zipfile(path):
        cleaned = path.with_name(path.name + ".redacting")
        with zipfile.ZipFile(path) as source, zipfile.ZipFile(cleaned, "w", zipfile.ZIP_DEFLATED) as target:
            for member in source.infolist():
                target.writestr(member, redactor.bytes(source.read(member)))
        cleaned.replace(path)
    else:
        path.write_bytes(redactor.bytes(path.read_bytes()))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class TableDigest(TypedDict):
    rows: int
    sha256: str


# A manifest is JSON read back from disk (or a worker's database): its shape is checked where it is used.
Manifest = dict[str, Any]


def rows_digest(store: Store, run_id: int) -> dict[str, TableDigest]:
    """Per table: how many rows the run has and the SHA-256 of them in canonical JSON, in id order."""
    digests: dict[str, TableDigest] = {}
    for table in RUN_TABLES:
        if not queries.has_table(store, table):
            continue
        digest, count = hashlib.sha256(), 0
        for row in queries.run_rows(store, table, run_id):
            # The manifest's own record in the run row cannot be part of what it seals; labels are derived.
            left_out = (*DERIVED_COLUMNS.get(table, ()), *(("manifest_sha256",) if table == "runs" else ()))
            late = LATE_COLUMNS.get(table, ())
            row = {k: v for k, v in row.items() if k not in left_out and not (k in late and v is None)}
            digest.update(json.dumps(row, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8"))
            digest.update(b"\n")
            count += 1
        digests[table] = {"rows": count, "sha256": digest.hexdigest()}
    return digests


def vendor_digests(store: Store, run_id: int) -> dict[str, str]:
    """Per vendor of the run: the SHA-256 of its ``vendors`` row (a later run of the vendor rewrites it)."""
    rows = queries.vendors_of_run(store, run_id)
    return {
        row["id"]: hashlib.sha256(
            json.dumps(row, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8")
        ).hexdigest()
        for row in rows
    }


def seal_of(path: Path, key: bytes | None) -> str:
    """What the run row records of its manifest: its SHA-256, or with a key an HMAC nobody can recompute
    without that key."""
    if key:
        return HMAC_PREFIX + hmac.new(key, path.read_bytes(), hashlib.sha256).hexdigest()
    return file_sha256(path)


def _artefacts(store: Store, run_id: int) -> list[Path]:
    roots = [store.run_folder(kind, run_id) for kind in RUN_FOLDER_KINDS]
    files = [p for root in roots if root.is_dir() for p in sorted(root.rglob("*")) if p.is_file()]
    return [p for p in files if p.name != "manifest.json" and not p.name.endswith(".redacting")]


def _kind(path: Path) -> str:
    if path.suffix == ".har":
        return "har"
    if path.name.endswith(".trace.zip"):
        return "trace"
    return "screenshot" if path.suffix == ".png" else "file"


def write_manifest(store: Store, run_id: int, merged_from: dict[str, Any] | None = None) -> Path:
    """Seal a run; a run merged from a worker's database names the run and manifest it came from."""
    base = store.artefacts_dir
    manifest: Manifest = {
        "schema": MANIFEST_SCHEMA,
        "run_id": run_id,
        "created_at": utc_now(),
        "tool_version": __version__,
        "database": store.path.name,
        "artefacts": [
            {"path": str(p.relative_to(base)), "kind": _kind(p), "bytes": p.stat().st_size, "sha256": file_sha256(p)}
            for p in _artefacts(store, run_id)
        ],
        "rows": rows_digest(store, run_id),
        "vendors": vendor_digests(store, run_id),
    }
    if merged_from:
        manifest["merged_from"] = merged_from
    path = manifest_path(store, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    store.update("runs", run_id, {"manifest_sha256": seal_of(path, store.seal_key)})
    return path


def read_manifest(store: Store, run_id: int) -> Manifest | None:
    path = manifest_path(store, run_id)
    try:
        manifest: Manifest = json.loads(path.read_text(encoding="utf-8"))
        return manifest
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class EvidenceProblem:
    what: str  # "file" | "rows" | "manifest"
    name: str  # the artefact's path, the table, or the manifest
    problem: str


def _check_seal(store: Store, run_id: int, path: Path, key: bytes | None) -> str | None:
    recorded = (queries.run(store, run_id) or {}).get("manifest_sha256")
    if not recorded:
        return None
    if recorded.startswith(HMAC_PREFIX) and not key:
        return "sealed with a key: pass --seal-key FILE to verify it"
    if key and not recorded.startswith(HMAC_PREFIX):
        return "not sealed with a key, though one was given (the seal may have been replaced)"
    if not hmac.compare_digest(recorded, seal_of(path, key)):
        return (
            "the manifest itself was changed after it was written, or the key differs"
            if key
            else "the manifest itself was changed after it was written"
        )
    return None


def _vendor_problems(store: Store, run_id: int, sealed: dict[str, str]) -> list[EvidenceProblem]:
    """A vendors row must be as this run sealed it, or as a later sealed run of that vendor left it."""
    problems = []
    now = vendor_digests(store, run_id)
    for vendor_id, digest in sealed.items():
        current = now.get(vendor_id)
        if current == digest:
            continue
        later = queries.runs_of_vendor_after(store, vendor_id, run_id)
        if current and any((read_manifest(store, r) or {}).get("vendors", {}).get(vendor_id) == current for r in later):
            continue
        problems.append(
            EvidenceProblem(
                "rows", f"vendors ({vendor_id})", "the vendor's row changed and no later sealed run explains it"
            )
        )
    return problems


def verify_evidence(store: Store, run_id: int, key: bytes | None = None) -> list[EvidenceProblem]:
    """Everything that no longer matches the run's manifest; empty when the evidence is intact."""
    path = manifest_path(store, run_id)
    manifest = read_manifest(store, run_id)
    if manifest is None:
        return [EvidenceProblem("manifest", str(path), "missing or unreadable")]
    problems = []
    seal_problem = _check_seal(store, run_id, path, key)
    if seal_problem:
        problems.append(EvidenceProblem("manifest", str(path.relative_to(store.artefacts_dir)), seal_problem))
    problems += _vendor_problems(store, run_id, manifest.get("vendors", {}))
    listed = set()
    for entry in manifest["artefacts"]:
        listed.add(entry["path"])
        file = store.artefacts_dir / entry["path"]
        if not file.exists():
            problems.append(EvidenceProblem("file", entry["path"], "missing"))
        elif file_sha256(file) != entry["sha256"]:
            problems.append(EvidenceProblem("file", entry["path"], f"SHA-256 differs from {entry['sha256']}"))
    for file in _artefacts(store, run_id):
        relative = str(file.relative_to(store.artefacts_dir))
        if relative not in listed:
            problems.append(EvidenceProblem("file", relative, "not in the manifest (added afterwards)"))
    now = rows_digest(store, run_id)
    for table, sealed in manifest["rows"].items():
        current = now.get(table)
        if current != sealed:
            said = (
                f"{sealed['rows']} rows sealed, {current['rows'] if current else 0} now"
                if not current or current["rows"] != sealed["rows"]
                else "a row's content changed"
            )
            problems.append(EvidenceProblem("rows", table, said))
    return problems
