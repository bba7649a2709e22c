from ..base import Rule, register
from ..evidence import fields_words, flow_evidence, rows


@register
class PiiStoredClientSide(Rule):
    id = "IV.A-pii-stored-client-side"
    clause = "IV.A"
    title = "Student PII kept in cookies or browser storage"

    def check(self, analysis):
        retention = {f.subject for f in analysis.cookies if f.login_retention}
        groups: dict[str, list] = {}
        for flow in analysis.pii_flows:
            if flow.table not in ("cookies", "storage_items"):
                continue
            if flow.subject in retention:
                continue  # IV.B allows a persistent cookie that keeps the user name for logging in
            groups.setdefault(flow.subject, []).append(flow)
        for subject, group in sorted(groups.items()):
            first = group[0]
            where = "a cookie" if first.table == "cookies" else "browser storage"
            message = (f"The test student's {fields_words(group)} is kept in {where} ({subject}, {first.party}-party "
                       f"{first.host}) on the student's computer. IV.A does not allow tracking mechanisms that store "
                       f"information on the user's computer to collect personal data.")
            # sessionStorage ends with the tab: a warning, not a stored record.
            severity = "warning" if subject.startswith("sessionStorage") else None
            yield self.finding(subject, message, {"rows": rows(**{first.table: [f.row_id for f in group]}),
                                                  "host": first.host, "party": first.party,
                                                  "flows": [flow_evidence(f) for f in group[:20]]},
                               account=analysis.data.account, severity=severity)
