"""Evidence shapes of the behaviour rules (what scripts were seen doing), in one place."""

from __future__ import annotations

from typing import Any

from ..analyze.fingerprinting import ScriptBehaviour
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
