from ..base import Rule, register
from .pii_to_third_party import third_party_pii_findings


@register
class PiiDisclosed(Rule):
    id = "II.A-pii-disclosed"
    clause = "II.A"
    title = "Student PII disclosed to a third party"

    def check(self, analysis):
        return third_party_pii_findings(
            self, analysis, "II.A forbids disclosing a student's personal data to third parties beyond what "
                            "operating the service needs.")
