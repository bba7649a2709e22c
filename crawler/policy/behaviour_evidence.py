"""Evidence of the behaviour rules (what scripts were seen doing), built in one place."""

from __future__ import annotations

from ..analyze.analysis import AuditAnalysis, PiiFlow
from ..analyze.fingerprinting import ScriptBehaviour
from .evidence import ApiCallEvidence, CanaryEvidence, CanaryItem, Technique, rows

MAX_ROWS = 50


def api_call_evidence(behaviour: ScriptBehaviour, party: str, entity: str) -> ApiCallEvidence:
    """A fingerprinting script: the techniques and the APIs behind each, the script, where it ran."""
    row_ids = [i for t in behaviour.techniques for i in t.row_ids]
    return ApiCallEvidence(
        rows(api_calls=row_ids[:MAX_ROWS]),
        behaviour.script_url,
        party,
        entity,
        tuple(Technique(t.name, tuple(t.apis), t.detail) for t in behaviour.techniques),
        tuple(sorted({api for t in behaviour.techniques for api in t.apis})),
        tuple(behaviour.properties_read),
        tuple(behaviour.pages[:20]),
        tuple(behaviour.frames[:20]),
        tuple(behaviour.phases),
    )


def canary_evidence(flows: list[PiiFlow], analysis: AuditAnalysis) -> CanaryEvidence:
    """Canaries the probes typed or planted, found in requests or WebSocket frames: which, how encoded, sent by
    which script (a request's initiator, the script that opened a socket)."""
    senders = {
        "requests": {r.row_id: r.obs.initiator_url for r in analysis.data.requests},
        "websocket_frames": {r.row_id: r.obs.initiator_url for r in analysis.data.websocket_frames},
    }

    def script(flow: PiiFlow) -> str | None:
        return senders[flow.table].get(flow.row_id)

    return CanaryEvidence(
        rows(**{table: [f.row_id for f in flows if f.table == table] for table in senders}),
        tuple(sorted({f.host for f in flows})),
        flows[0].party,
        flows[0].entity,
        tuple(
            CanaryItem(
                f.row_id,
                f.phase,
                f.url,
                f.match.field,
                f.match.description,
                f.match.location,
                f.match.value_variant,
                f.context,
                script(f),
                f.table,
            )
            for f in flows[:MAX_ROWS]
        ),
        tuple(sorted({s for f in flows if (s := script(f))})),
    )
