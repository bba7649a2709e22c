from collections.abc import Iterator

from ...analyze.analysis import AuditAnalysis
from ...analyze.audit_data import Rec
from ...observations import RequestObs
from ..base import Finding, Rule, register
from ..evidence import TlsEvidence, rows


@register
class PlainHttp(Rule):
    id = "I.F-plain-http"
    clause = "I.F"
    title = "Cookies, personal data or pages sent without encryption"
    # Messages say "request(s)": a ws:// socket is counted by its handshake request, its frames are in the rows.

    def check(self, analysis: AuditAnalysis) -> Iterator[Finding]:
        pii_requests = {f.row_id for f in analysis.pii_flows if f.table == "requests"}
        # A ws:// socket whose frames carried PII: its handshake request stands for it, the frames beside it.
        pii_frames: dict[str, list[int]] = {}
        for flow in analysis.pii_flows:
            if flow.table == "websocket_frames" and flow.url and flow.url.startswith("ws:"):
                pii_frames.setdefault(flow.url, []).append(flow.row_id)
        by_host: dict[str, list[tuple[Rec[RequestObs], list[str]]]] = {}
        for rec in analysis.data.requests:
            request = rec.obs
            if request.scheme not in ("http", "ws"):
                continue
            carries = []
            if request.cookie_header:
                carries.append("cookies")
            if rec.row_id in pii_requests or (request.resource_type == "websocket" and request.url in pii_frames):
                carries.append("the student's personal data")
            if request.is_navigation and analysis.same_site(request.host):
                carries.append("a page of the service")
            if carries:
                by_host.setdefault(request.host, []).append((rec, carries))
        for host, items in sorted(by_host.items()):
            what = sorted({c for _, cs in items for c in cs})
            message = (
                f"{len(items)} unencrypted (plain HTTP) request(s) to {host} carried {' and '.join(what)}, "
                f"e.g. {items[0][0].obs.url[:200]}. I.F requires at least 256-bit encryption for student "
                f"information on the Internet."
            )
            yield self.finding(
                f"host {host}",
                message,
                TlsEvidence(
                    rows(
                        requests=[r.row_id for r, _ in items],
                        websocket_frames=[i for r, _ in items for i in pii_frames.get(r.obs.url, ())],
                    ),
                    carries=tuple(what),
                ),
                account=analysis.data.account,
            )
