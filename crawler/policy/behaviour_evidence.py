"""Evidence shapes of the behaviour rules (what scripts were seen doing), in one place."""

from __future__ import annotations

from typing import Any

from ..analyze.analysis import PiiFlow
from ..analyze.fingerprinting import ScriptBehaviour
from ..observations import RequestObs
from .evidence import rows

MAX_ROWS = 50


def api_call_evidence(behaviour: ScriptBehaviour, party: str, entity: str) -> dict[str, Any]:
    """A fingerprinting script: the techniques and the APIs behind each, the script, where it ran."""
    row_ids = [i for t in behaviour.techniques for i in t.row_ids]
    return {
        "rows": rows(api_calls=row_ids[:MAX_ROWS]),
        "script": behaviour.script_url, "party": party, "entity": entity,
        "techniques": [{"technique": t.name, "apis": list(t.apis), "detail": t.detail} for t in behaviour.techniques],
        "apis": sorted({api for t in behaviour.techniques for api in t.apis}),
        "properties_read": list(behaviour.properties_read),
        "pages": list(behaviour.pages[:20]), "frames": list(behaviour.frames[:20]), "phases": list(behaviour.phases),
    }


def canary_evidence(flows: list[PiiFlow], requests: dict[int, RequestObs]) -> dict[str, Any]:
    """Canaries the probes typed or planted, found in requests: which, how encoded, sent by which script."""
    return {
        "rows": rows(requests=[f.row_id for f in flows]),
        "hosts": sorted({f.host for f in flows}), "party": flows[0].party, "entity": flows[0].entity,
        "flows": [{"row_id": f.row_id, "phase": f.phase, "url": f.url, "canary": f.match.field,
                   "encoding": f.match.description, "location": f.match.location, "matched": f.match.value_variant,
                   "context": f.context, "script": requests[f.row_id].initiator_url if f.row_id in requests else None}
                  for f in flows[:MAX_ROWS]],
        "scripts": sorted({requests[f.row_id].initiator_url for f in flows
                           if f.row_id in requests and requests[f.row_id].initiator_url}),
    }
