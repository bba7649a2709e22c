"""Optional import of Disconnect's tracking-protection ``services.json`` into tracker knowledge.

Disconnect's list is CC BY-NC-SA 4.0: trackaudit never bundles it; a user may fetch it into the list
cache (``trackaudit lists update disconnect``) and it is then merged under the built-in knowledge,
which wins on every conflict.

Category mapping, in precedence order for a domain Disconnect lists under several categories
(an entry flagged ``"session-replay"`` is always ``session_replay``):

- Advertising → advertising
- FingerprintingInvasive → fingerprinting
- Analytics → analytics
- Social → social
- Email, EmailAggressive → advertising (marketing e-mail open and click tracking)
- FingerprintingGeneral → fingerprinting (Disconnect adds this tag to services whose main purpose is
  something else, so any other category wins)
- Anti-fraud → essential (mostly captcha and bot defence; fraud services that fingerprint are also
  listed under a Fingerprinting category, which wins)
- ConsentManagers → essential
- Content → content (embedded video, widgets; not essential to running a service)
- Cryptomining and categories unknown to this importer are skipped: they are not tracking, and
  EasyList flags miners anyway.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from crawler.knowledge.trackers import TrackerInfo, TrackerKnowledge

DISCONNECT_SOURCE = "disconnect"

DISCONNECT_CATEGORIES: Mapping[str, str] = {
    "Advertising": "advertising",
    "FingerprintingInvasive": "fingerprinting",
    "Analytics": "analytics",
    "Social": "social",
    "Email": "advertising",
    "EmailAggressive": "advertising",
    "FingerprintingGeneral": "fingerprinting",
    "Anti-fraud": "essential",
    "ConsentManagers": "essential",
    "Content": "content",
}
_PRECEDENCE = {name: rank for rank, name in enumerate(DISCONNECT_CATEGORIES)}
_SESSION_REPLAY_RANK = -1


def parse_disconnect(document: Mapping) -> TrackerKnowledge:
    if not isinstance(document, Mapping) or not isinstance(document.get("categories"), Mapping):
        raise ValueError("not a Disconnect services.json: no 'categories' object")
    ranked: dict[str, tuple[int, TrackerInfo]] = {}
    for disconnect_category, companies in document["categories"].items():
        if disconnect_category not in DISCONNECT_CATEGORIES:
            continue
        for company_entry in companies:
            for company, properties in company_entry.items():
                records_sessions = properties.get("session-replay") == "true"
                category = "session_replay" if records_sessions else DISCONNECT_CATEGORIES[disconnect_category]
                rank = _SESSION_REPLAY_RANK if records_sessions else _PRECEDENCE[disconnect_category]
                for domains in properties.values():
                    if not isinstance(domains, list):
                        continue  # flags such as "session-replay": "true" sit beside the homepage → domains list
                    for domain in domains:
                        domain = domain.strip().lower()
                        if domain and (domain not in ranked or rank < ranked[domain][0]):
                            ranked[domain] = (rank, TrackerInfo(domain, company, category, DISCONNECT_SOURCE))
    return TrackerKnowledge({domain: info for domain, (_, info) in ranked.items()})


def load_disconnect(path: Path) -> TrackerKnowledge:
    return parse_disconnect(json.loads(Path(path).read_text(encoding="utf-8")))
