"""The read model: every SQL query that reads a trackaudit database, and nothing else does.

The store (``writer.py``) writes; everything that reads (the reports, the run summary, the text output, the
analysis input, the evidence seal, merging and the Datasette metadata) asks here. Rows come back as dicts of
column values, or as observation dataclasses (``from_row``) for the observation tables.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from ..observations import (
    ApiCallObs,
    CnameChainObs,
    CookieObs,
    ErrorObs,
    PageObs,
    RequestObs,
    RetentionCookieObs,
    ScriptCookieWrite,
    StorageObs,
    WebSocketFrameObs,
)
from .schema import PROVENANCE

if TYPE_CHECKING:
    from .writer import Store

OBSERVATION_TYPES = (
    RequestObs,
    CookieObs,
    StorageObs,
    ScriptCookieWrite,
    PageObs,
    ErrorObs,
    ApiCallObs,
    CnameChainObs,
    RetentionCookieObs,
    WebSocketFrameObs,
)
Row = dict[str, Any]
Obs = TypeVar("Obs")


def _rows(store: Store, sql: str, params: Sequence[Any] = ()) -> list[Row]:
    return list(store.db.query(sql, list(params)))


def has_table(store: Store, table: str) -> bool:
    return bool(store.db[table].exists())


# runs ----------------------------------------------------------------------------------------------------
def run(store: Store, run_id: int) -> Row | None:
    rows = _rows(store, "select * from runs where id = ?", [run_id])
    return rows[0] if rows else None


def runs(store: Store) -> list[Row]:
    return _rows(store, "select * from runs order by id")


def runs_matching(store: Store, values: dict[str, Any]) -> list[int]:
    """The runs whose row has these values (NULL matching NULL), oldest first."""
    clauses = " and ".join(f"{column} is ?" for column in values)
    return [
        row["id"] for row in _rows(store, f"select id from runs where {clauses} order by id", list(values.values()))
    ]


def audit_identities(store: Store, run_id: int) -> list[tuple[Any, ...]]:
    """What tells a run's audits apart from another run's: vendor, account, times and status, in order."""
    return [
        tuple(row.values())
        for row in _rows(
            store,
            "select vendor_id, account, started_at, finished_at, status "
            "from audits where run_id = ? order by vendor_id, account",
            [run_id],
        )
    ]


def audit_coverage(store: Store, run_id: int, vendor_id: str) -> list[Row]:
    """Each account's audit of the vendor in the run: login outcome, coverage (JSON) and why it is incomplete."""
    return _rows(
        store,
        "select account, login_outcome, coverage, incomplete from audits where run_id = ? and vendor_id = ? "
        "order by account",
        [run_id, vendor_id],
    )


def phase_ran(store: Store, run_id: int, vendor_id: str, phase: str) -> bool:
    """Whether any audit of the vendor in the run began the phase."""
    return bool(
        _rows(
            store,
            "select count(*) as n from phases where run_id = ? and vendor_id = ? and phase = ?",
            [run_id, vendor_id, phase],
        )[0]["n"]
    )


def latest_audit_incomplete(store: Store, vendor_id: str) -> bool:
    """Whether the vendor's latest audit (not a post-termination check) left a gap or did not complete."""
    sql = (
        "select count(*) as n from audits a join runs r on r.id = a.run_id where a.vendor_id = ? "
        "and r.mode != 'verify-removal' and a.run_id = (select max(run_id) from audits where vendor_id = ?) "
        "and (a.incomplete is not null or a.status != 'complete')"
    )
    return bool(_rows(store, sql, [vendor_id, vendor_id])[0]["n"])


def running_runs(store: Store) -> list[Row]:
    """Runs still marked 'running', with the host and process that started them."""
    return _rows(store, "select id, pid, hostname from runs where status = 'running'")


def latest_run_id(store: Store, mode: str | None = None) -> int | None:
    sql, params = "select max(id) from runs", []
    if mode:
        sql, params = sql + " where mode = ?", [mode]
    latest: int | None = store.db.execute(sql, params).fetchone()[0]
    return latest


def last_complete_audit(store: Store, vendor_id: str, before_run: int | None = None) -> Row | None:
    """The latest run, complete, in which this vendor's audits completed and saw what they had to (no audit of
    the vendor incomplete), optionally before a run."""
    sql = (
        "select r.id as run_id, r.started_at, r.mode from runs r join audits a on a.run_id = r.id "
        "where a.vendor_id = ? and r.status = 'complete' and a.status = 'complete' and r.mode != 'verify-removal' "
        "and not exists (select 1 from audits b where b.run_id = r.id and b.vendor_id = a.vendor_id "
        "and b.incomplete is not null)"
    )
    params: list[Any] = [vendor_id]
    if before_run is not None:
        sql += " and r.id < ?"
        params.append(before_run)
    rows = _rows(store, sql + " order by r.id desc limit 1", params)
    return rows[0] if rows else None


# a run's rows ----------------------------------------------------------------------------------------------
def run_rows(store: Store, table: str, run_id: int, leave_out: Collection[str] = ()) -> Iterator[Row]:
    """Every row of one of a run's tables (the run's own row for ``runs``), in id order, read one by one as
    they are used (a run of hundreds of vendors has more requests than fit in memory), without the columns
    ``leave_out`` names; none when the table does not exist."""
    if not has_table(store, table):
        return
    column = "id" if table == "runs" else "run_id"
    columns = ", ".join(f"[{c}]" for c in store.db[table].columns_dict if c not in leave_out) if leave_out else "*"
    yield from store.db.query(f"select {columns} from [{table}] where {column} = ? order by id", [run_id])


def rows_by_id(store: Store, table: str, run_id: int, ids: Sequence[int]) -> list[Row]:
    """The rows of a run's table with these ids (those that exist)."""
    wanted = sorted(set(ids))
    found: list[Row] = []
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found += _rows(
            store,
            f"select * from [{table}] where run_id = ? and id in ({', '.join('?' * len(chunk))})",
            [run_id, *chunk],
        )
    return found


def vendors(store: Store) -> dict[str, Row]:
    """Every vendor as last configured, by id."""
    return {v["id"]: v for v in _rows(store, "select * from vendors")} if has_table(store, "vendors") else {}


def vendors_of_run(store: Store, run_id: int) -> list[Row]:
    """The vendor rows of a run's audited vendors."""
    return _rows(store, "select * from vendors where id in (select vendor_id from audits where run_id = ?)", [run_id])


def runs_of_vendor_after(store: Store, vendor_id: str, run_id: int) -> list[int]:
    """The runs after ``run_id`` that audited the vendor, oldest first."""
    return [
        row["run_id"]
        for row in _rows(
            store,
            "select distinct run_id from audits where vendor_id = ? and run_id > ? order by run_id",
            [vendor_id, run_id],
        )
    ]


def audited_vendors(store: Store, run_id: int, vendor_id: str | None = None) -> list[Row]:
    """The vendors a run audited (optionally only one), in id order: id, name, start_url, first_party."""
    sql = (
        "select distinct a.vendor_id as id, v.name, v.start_url, v.first_party from audits a "
        "join vendors v on v.id = a.vendor_id where a.run_id = ?"
    )
    if vendor_id:
        return _rows(store, sql + " and a.vendor_id = ? order by a.vendor_id", [run_id, vendor_id])
    return _rows(store, sql + " order by a.vendor_id", [run_id])


def findings(store: Store, run_id: int, vendor_id: str | None = None) -> list[Row]:
    if vendor_id:
        return _rows(
            store, "select * from findings where run_id = ? and vendor_id = ? order by id", [run_id, vendor_id]
        )
    return _rows(store, "select * from findings where run_id = ? order by vendor_id, id", [run_id])


def verdicts(store: Store, run_id: int) -> dict[str, Row]:
    """The run's verdicts, by vendor."""
    return {v["vendor_id"]: v for v in run_rows(store, "verdicts", run_id)}


def contacted_hosts(store: Store, run_id: int) -> list[Row]:
    """Each host every audit of the run sent a request to, once per audit, with the provenance of its first
    request (audit_id, run_id, vendor_id, account, phase), in audit and host order."""
    return _rows(
        store,
        "select audit_id, run_id, vendor_id, account, phase, host, min(id) as first_request "
        "from requests where run_id = ? and host is not null and host != '' "
        "group by audit_id, host order by audit_id, host",
        [run_id],
    )


def request_counts(store: Store, run_id: int) -> dict[str, dict[str, int]]:
    """vendor → host → how many requests went to it."""
    counts: dict[str, dict[str, int]] = {}
    for row in _rows(
        store, "select vendor_id, host, count(*) as n from requests where run_id = ? group by vendor_id, host", [run_id]
    ):
        counts.setdefault(row["vendor_id"], {})[row["host"] or ""] = row["n"]
    return counts


# observations ----------------------------------------------------------------------------------------------
def observations(
    store: Store, obs_type: type[Obs], run_id: int, vendor_id: str | None = None, phase: str | None = None
) -> Iterator[tuple[Row, Obs]]:
    """Rows of one observation table as (provenance with the row id, observation) pairs, in id order."""
    where = ["run_id = ?"]
    params: list[Any] = [run_id]
    if vendor_id:
        where.append("vendor_id = ?")
        params.append(vendor_id)
    if phase:
        where.append("phase = ?")
        params.append(phase)
    yield from _observations(store, obs_type, " and ".join(where), params)


def persistent_cookies(store: Store, run_id: int) -> Iterator[tuple[Row, CookieObs]]:
    """The run's persistent cookies (an expiry, not a session cookie), as (provenance, cookie) pairs."""
    yield from _observations(store, CookieObs, "run_id = ? and session = 0 and expires is not null", [run_id])


def _observations(store: Store, obs_type: Any, where: str, params: Sequence[Any]) -> Iterator[tuple[Row, Any]]:
    for row in store.db.query(f"select * from {obs_type.table} where {where} order by id", list(params)):
        yield {k: row[k] for k in ("id", *PROVENANCE)}, obs_type.from_row(row)


@dataclass
class StoredAudit:
    """One vendor × account audit as recorded: its row, its vendor's configuration, its phases and every
    observation with its row id and phase."""

    audit: Row
    vendor: Row
    phases: list[Row]
    observations: dict[type, list[tuple[int, str, Any]]] = field(default_factory=dict)


def stored_audits(store: Store, run_id: int, vendor_id: str | None = None) -> list[StoredAudit]:
    """Every vendor × account audit of a run (optionally of one vendor), in vendor and account order."""
    if vendor_id:
        rows = _rows(
            store, "select * from audits where run_id = ? and vendor_id = ? order by account", [run_id, vendor_id]
        )
    else:
        rows = _rows(store, "select * from audits where run_id = ? order by vendor_id, account", [run_id])
    known = vendors(store)
    audits = []
    for audit in rows:
        if audit["vendor_id"] not in known:
            continue
        recorded = StoredAudit(
            audit,
            known[audit["vendor_id"]],
            _rows(store, "select * from phases where audit_id = ? order by id", [audit["id"]]),
        )
        for obs_type in (
            RequestObs,
            CookieObs,
            StorageObs,
            PageObs,
            ScriptCookieWrite,
            ApiCallObs,
            CnameChainObs,
            RetentionCookieObs,
            WebSocketFrameObs,
        ):
            recorded.observations[obs_type] = [
                (prov["id"], prov["phase"], obs)
                for prov, obs in _observations(store, obs_type, "audit_id = ?", [audit["id"]])
            ]
        audits.append(recorded)
    return audits


# the run summary -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class VendorTotals:
    """What a run recorded of one vendor, counted."""

    logins: tuple[tuple[str, str | None], ...]  # (account, login outcome)
    pages: int
    requests: int
    hosts: frozenset[str]
    cookies: dict[tuple[str, str, str], bool]  # (name, domain, path) -> session cookie
    storage_items: int  # distinct (kind, origin, container, key)
    errors: int


def vendor_totals(store: Store, run_id: int, vendor_id: str) -> VendorTotals:
    args = [run_id, vendor_id]

    def count(sql: str) -> int:
        return int(store.db.execute(sql, args).fetchone()[0])

    return VendorTotals(
        logins=tuple(
            (a["account"], a["login_outcome"])
            for a in _rows(store, "select account, login_outcome from audits where run_id = ? and vendor_id = ?", args)
        ),
        pages=count("select count(*) from pages where run_id = ? and vendor_id = ?"),
        requests=count("select count(*) from requests where run_id = ? and vendor_id = ?"),
        hosts=frozenset(
            r["host"]
            for r in _rows(store, "select distinct host from requests where run_id = ? and vendor_id = ?", args)
        ),
        cookies={
            (r["name"], r["domain"], r["path"]): bool(r["session"])
            for r in _rows(
                store, "select name, domain, path, session from cookies where run_id = ? and vendor_id = ?", args
            )
        },
        storage_items=count(
            "select count(distinct kind || origin || coalesce(container, '') || key) "
            "from storage_items where run_id = ? and vendor_id = ?"
        ),
        errors=count("select count(*) from errors where run_id = ? and vendor_id = ?"),
    )


# Datasette -------------------------------------------------------------------------------------------------
# Canned queries for browsing a database in Datasette. The lifetime is CookieObs.lifetime_days written in SQL:
# days from the end of the phase the cookie was seen in to its expiry.
DATASETTE_QUERIES = {
    "violations_by_clause": {
        "title": "Violations by vendor and clause, per run",
        "sql": "select run_id, vendor_id, clause, count(*) as violations from findings where severity = 'violation' "
        "group by run_id, vendor_id, clause order by run_id desc, vendor_id, clause",
    },
    "pii_flows": {
        "title": "Where the test account's personal data went (every PII flow in the findings)",
        "description": "One row per flow: the observation row that carried it (request_id for a request; "
        "source_table and row_id otherwise) and the finding that cites it.",
        "sql": "select f.run_id, f.vendor_id, f.id as finding_id, f.rule_id, json_extract(flow.value, '$.phase') as phase, "
        "case json_extract(flow.value, '$.table') when 'requests' then json_extract(flow.value, '$.row_id') "
        "end as request_id, json_extract(flow.value, '$.table') as source_table, "
        "json_extract(flow.value, '$.row_id') as row_id, json_extract(flow.value, '$.field') as field, "
        "json_extract(flow.value, '$.encoding') as encoding, json_extract(flow.value, '$.host') as host, "
        "json_extract(flow.value, '$.party') as party, json_extract(flow.value, '$.location') as location, "
        "json_extract(flow.value, '$.matched') as matched, json_extract(flow.value, '$.url') as url "
        "from findings f, json_each(f.evidence, '$.flows') as flow "
        "order by f.run_id desc, f.vendor_id, f.id, request_id, row_id",
    },
    "finding_evidence": {
        "title": "A finding's evidence: every observation row it points at",
        "description": "Give a finding id (the findings table's id column): one row per observation the finding "
        "relies on, with the table, the row id (open it as /DATABASE/TABLE/ROW_ID) and what it is.",
        "sql": "with cited as (select f.id as finding_id, f.rule_id, f.subject, t.key as source_table, "
        "cast(r.value as integer) as row_id from findings f, json_each(f.evidence, '$.rows') t, "
        "json_each(t.value) r where f.id = :finding_id) "
        "select c.*, coalesce("
        "(select phase || ': ' || method || ' ' || url from requests where c.source_table = 'requests' and id = c.row_id), "
        "(select phase || ': WebSocket frame ' || direction || ' ' || socket_url || ': ' || substr(payload, 1, 200) "
        "from websocket_frames where c.source_table = 'websocket_frames' and id = c.row_id), "
        "(select phase || ': cookie ' || name || '=' || value || ' (' || domain || ')' from cookies "
        "where c.source_table = 'cookies' and id = c.row_id), "
        "(select phase || ': ' || kind || ' ' || origin || ' ' || key || '=' || coalesce(value, '') from storage_items "
        "where c.source_table = 'storage_items' and id = c.row_id), "
        "(select phase || ': ' || script_url || ' wrote ' || cookie_string from script_cookie_writes "
        "where c.source_table = 'script_cookie_writes' and id = c.row_id), "
        "(select phase || ': page ' || url from pages where c.source_table = 'pages' and id = c.row_id), "
        "(select phase || ': ' || source || ': ' || message from errors where c.source_table = 'errors' and id = c.row_id)"
        ") as observed from cited c order by c.source_table, c.row_id",
    },
    "third_party_hosts": {
        "title": "Hosts each vendor's pages contacted, with request counts",
        "sql": "select run_id, vendor_id, host, count(*) as requests, sum(cookie_header is not null) as with_cookies, "
        "min(tls_protocol) as tls from requests group by run_id, vendor_id, host "
        "order by run_id desc, vendor_id, requests desc",
    },
    "cookie_lifetimes": {
        "title": "Persistent cookies and their lifetimes in days",
        "sql": "select c.run_id, c.vendor_id, c.name, c.domain, c.phase, "
        "round((c.expires - coalesce(p.finished_at, p.started_at)) / 86400.0, 1) as lifetime_days, "
        "c.same_site, c.secure, c.http_only, c.set_by_url from cookies c join phases p on "
        "p.audit_id = c.audit_id and p.phase = c.phase where c.session = 0 order by lifetime_days desc",
    },
}
