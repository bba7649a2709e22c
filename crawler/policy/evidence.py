"""Shared wording and evidence shapes for rules, so findings read alike and point at rows alike."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..analyze.analysis import CookieFacts, PiiFlow


def rows(**tables: Iterable[int]) -> dict[str, list[int]]:
    """``{"requests": [12, 15], "cookies": [3]}``: the observation rows a finding rests on."""
    return {table: sorted(set(ids)) for table, ids in tables.items() if ids}


def lifetime_words(days: float | None) -> str:
    if days is None:
        return "a session cookie"
    if days >= 60:
        return f"{days / 30.44:.0f} months ({days:.0f} days)"
    return f"{days:.0f} days"


def cookie_description(fact: CookieFacts) -> dict[str, Any]:
    cookie = fact.rec.obs
    return {
        "name": cookie.name, "domain": cookie.domain, "path": cookie.path, "value": cookie.value,
        "expires": cookie.expires, "lifetime_days": None if fact.lifetime_days is None else round(fact.lifetime_days, 1),
        "session": cookie.session, "http_only": cookie.http_only, "secure": cookie.secure, "same_site": cookie.same_site,
        "partition_key": cookie.partition_key, "party": fact.party, "entity": fact.entity,
        "purpose": fact.purpose.purpose, "purpose_source": fact.purpose.source, "purpose_pattern": fact.purpose.pattern,
        "set_by": cookie.set_by_url, "set_by_kind": cookie.set_by_kind, "phase": fact.rec.phase,
    }


def flow_evidence(flow: PiiFlow) -> dict[str, Any]:
    match = flow.match
    return {
        "table": flow.table, "row_id": flow.row_id, "phase": flow.phase, "host": flow.host, "party": flow.party,
        "entity": flow.entity, "url": flow.url, "field": match.field, "encoding": match.description,
        "chain": list(match.chain), "location": match.location, "matched": match.value_variant, "context": flow.context,
    }


def fields_words(flows: Iterable[PiiFlow]) -> str:
    """'email (sha256 of the lower-cased email) and name (as written)'"""
    described: dict[str, list[str]] = {}
    for flow in flows:
        described.setdefault(flow.match.field, [])
        if flow.match.description not in described[flow.match.field]:
            described[flow.match.field].append(flow.match.description)
    parts = [f"{field} ({'; '.join(ways[:3])})" for field, ways in described.items()]
    return ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1] if parts else ""


def recipients(flows: Iterable[PiiFlow]) -> dict[str, list[PiiFlow]]:
    """Flows grouped by the organisation receiving them: a leak to three Google hosts is one recipient."""
    grouped: dict[str, list[PiiFlow]] = {}
    for flow in flows:
        grouped.setdefault(flow.entity, []).append(flow)
    return grouped


def recipient_subject(entity: str, flows: list[PiiFlow]) -> str:
    hosts = sorted({f.host for f in flows})
    return f"host {hosts[0]}" if len(hosts) == 1 else f"entity {entity} ({', '.join(hosts)})"
