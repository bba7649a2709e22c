"""What a vendor does, as comparable sets: third-party hosts, trackers, cookies, storage keys, identifiers
and PII flows. Two runs' inventories give the changes a scheduled audit reports."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .analysis import SENT_TABLES, AuditAnalysis

TRACKING_CATEGORIES = ("advertising", "analytics", "session_replay", "social", "fingerprinting", "tag_manager")
# kind -> (the clause a change of that kind bears on, how a subject is named)
KINDS = {
    "third-party host": ("IV.A", "host"),
    "tracker": ("IV.D", "host"),
    "cookie": ("IV.A", "cookie"),
    "storage key": ("IV.A", ""),
    "identifier": ("IV.B", ""),
    "PII flow": ("II.A", "PII"),
}


@dataclass
class Inventory:
    items: dict[str, dict[str, str]] = field(default_factory=lambda: {kind: {} for kind in KINDS})

    def add(self, kind: str, key: str, description: str) -> None:
        self.items[kind].setdefault(key, description)


@dataclass(frozen=True)
class Change:
    kind: str
    key: str
    status: str  # "new" | "vanished"
    description: str

    @property
    def clause(self) -> str:
        return KINDS[self.kind][0]

    @property
    def subject(self) -> str:
        prefix = KINDS[self.kind][1]
        return f"{prefix} {self.key}" if prefix else self.key


def inventory_of(analyses: Iterable[AuditAnalysis]) -> Inventory:
    """One vendor's inventory over all its accounts."""
    inventory = Inventory()
    for analysis in analyses:
        for host in analysis.third_party_hosts():
            inventory.add("third-party host", host.host, host.entity)
            if host.category in TRACKING_CATEGORIES:
                inventory.add("tracker", host.host, f"{host.category}, {host.entity}")
        for fact in analysis.cookies:
            cookie = fact.rec.obs
            lifetime = "session" if cookie.session else f"{fact.lifetime_days or 0:.0f} days"
            description = f"{cookie.domain}, {fact.party} party, {fact.purpose.purpose}, {lifetime}"
            inventory.add("cookie", cookie.name, description)
            if fact.identifier.is_identifier:
                inventory.add("identifier", fact.subject, f"identifier in {cookie.domain}")
        for stored in analysis.storage:
            item = stored.rec.obs
            inventory.add("storage key", stored.subject, item.origin)
            if stored.identifier.is_identifier:
                inventory.add("identifier", stored.subject, f"identifier in {item.origin}")
        for flow in analysis.pii_flows:
            if flow.table in SENT_TABLES and flow.party == "third":
                inventory.add("PII flow", f"{flow.match.field} to {flow.entity}", flow.match.description)
    return inventory


def changes_between(old: Inventory, new: Inventory) -> list[Change]:
    changes = []
    for kind in KINDS:
        before, after = old.items[kind], new.items[kind]
        changes += [Change(kind, key, "new", after[key]) for key in sorted(set(after) - set(before))]
        changes += [Change(kind, key, "vanished", before[key]) for key in sorted(set(before) - set(after))]
    return changes
