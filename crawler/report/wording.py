"""Words the reports share: short clause titles, why each rule matters, how to read a verdict and an
encoding chain. Plain language for a privacy officer and the vendor receiving the report."""

from __future__ import annotations

from ..analyze.encodings import ENCODING_NAMES, NORMALIZER_ADJECTIVES
from ..policy.evidence import lifetime_words as _lifetime_in_days

SEVERITIES = ("violation", "warning", "info")

SEVERITY_LABEL = {"violation": "Violation", "warning": "Warning", "info": "Info"}

# The policy gives its clauses no headings; these are the headings the reports use (fallback: its first words).
CLAUSE_TITLES = {
    "I.F": "Encryption of student information (at least 256-bit)",
    "II.A": "No disclosure of student PII to third parties",
    "III.C": "Student data destroyed when the contract ends",
    "IV.A": "Tracking limited to one site, collects no PII, removed at termination",
    "IV.B": "No persistent identifiers re-activated when the student reconnects",
    "IV.C": "Tracking data kept only as long as reasonably necessary",
    "IV.D": "Compliance with FERPA and COPPA",
}

# Why a finding of each rule matters, for a reader who is not an engineer.
WHY: dict[str | tuple[str, str], str] = {
    "IV.A-pii-to-third-party": (
        "A third party that receives a student's personal data, even hashed, can recognise the same student wherever "
        "else that email or ID appears and build a profile the district never agreed to. A hash of an email is not "
        "anonymous: anyone who has the email computes the same hash and matches it."
    ),
    "IV.A-pii-stored-client-side": (
        "Personal data kept in cookies or browser storage stays on the (often shared) school computer after the "
        "student leaves, and every script the site runs, third-party scripts included, can read it."
    ),
    "IV.A-cross-site-identifier": (
        "A third-party cookie holding a unique ID lets its owner recognise the same student on every other site that "
        "embeds it, linking schoolwork to the student's browsing elsewhere."
    ),
    "IV.A-id-syncing": (
        "Handing the site's own identifier for the student to other companies lets them join their records about "
        "the same child: the mechanism behind cross-site profiling."
    ),
    "IV.B-identifier-on-reconnect": (
        "An identifier that the browser sends back by itself when the student returns lets the service and its "
        "partners follow the same student from session to session without a login. The policy allows this only for "
        "a cookie that keeps the student logged in."
    ),
    "IV.B-identifier-survives-logout": (
        "Logging out is the student's way of ending the session. An identifier that stays in the browser afterwards "
        "is sent again on the next visit, so the service (and anyone it shares the value with) still recognises "
        "the student on a shared or family computer."
    ),
    "IV.B-respawned-identifier": (
        "Respawning defeats the student's, or the school IT department's, decision to clear cookies: tracking "
        "resumes under the old identity without anyone's consent."
    ),
    "IV.C-lifetime-over-maximum": (
        "The longer an identifier lives, the longer a child's activity can be linked together. The district accepts "
        "tracking data for at most the maximum set in its policy pack."
    ),
    "IV.D-behavioural-tracker": (
        "Advertising, behavioural profiling, session recording and fingerprinting on student-facing pages collect "
        "data about children for purposes that FERPA and COPPA do not allow without consent."
    ),
    "IV.D-fingerprinting-script": (
        "A fingerprint (how the device draws a canvas, renders audio, which fonts and network addresses it has) "
        "recognises the same student on every site that computes it, and clearing cookies does not stop it."
    ),
    "IV.A-form-keylogging": (
        "A script that sends what a student types before they press submit collects it whether or not they "
        "decide to send it: a name, an email, a message half-written and deleted."
    ),
    "IV.D-session-recording": (
        "Session recording sends the content of the page, what the student reads and writes on it, to a third "
        "party that can replay the visit."
    ),
    "IV.A-session-recording-pii": (
        "A recording of a page that shows the student's name or e-mail sends that personal data to the recording "
        "service with everything else on the page."
    ),
    "I.F-plain-http": (
        "Anything sent over plain HTTP can be read and altered by anyone on the same network: school Wi-Fi, a "
        "public hotspot, an internet provider."
    ),
    "I.F-weak-tls": (
        "Old TLS versions and short keys have known attacks; the policy requires at least 256-bit encryption for "
        "student information."
    ),
    ("IV.A-pii-to-third-party", "II.A"): (
        "The contract forbids passing student personal data to third parties beyond what running the service "
        "needs; analytics and advertising are not needed to run it."
    ),
    "III.C-account-still-active": (
        "If the test account still works after the contract ended, the student's data has not been destroyed as "
        "the policy requires."
    ),
    "IV.A-tracking-after-termination": (
        "Trackers still served after the contract ended keep collecting data about students the district no longer "
        "has an agreement to protect."
    ),
    "IV.A-identifier-recognised-after-termination": (
        "A service that still recognises an old identifier has kept the data linked to it after the contract ended."
    ),
}
WHY_BASELINE = (
    "Compared with the vendor's previous audit: a new third party, tracker, cookie or data flow is a change the "
    "district has not reviewed; one that vanished may show that an earlier finding was fixed."
)

VERDICT_TONE = {
    "compliant": "good",
    "approve": "good",
    "removal verified": "good",
    "violations found": "bad",
    "do not approve": "bad",
    "removal not verified": "bad",
    "warnings only": "warn",
    "needs review": "warn",
    "incomplete": "warn",
    "violations found — audit incomplete": "bad",
    "do not approve — audit incomplete": "bad",
    "removal not verified — audit incomplete": "bad",
}

# Where a job's verdict comes from when no ``verdicts`` row exists (older databases).
NO_VERDICT = "not judged"


def clause_title(clause: str, text: str = "") -> str:
    if clause in CLAUSE_TITLES:
        return CLAUSE_TITLES[clause]
    words = text.split()
    return " ".join(words[:8]) + ("…" if len(words) > 8 else "") if words else clause


def why(rule_id: str, clause: str | None = None) -> str:
    """Why a finding of the rule matters (under ``clause``, where a rule cited under several reads differently)."""
    from ..policy.base import RETIRED_RULES

    if rule_id.startswith("baseline."):
        return WHY_BASELINE
    rule_id, clause = RETIRED_RULES.get(rule_id, (rule_id, clause))
    return WHY.get((rule_id, clause or ""), "") or WHY.get(rule_id, "")


def verdict_tone(verdict: str | None) -> str:
    return VERDICT_TONE.get((verdict or "").lower(), "neutral")


def chain_steps(field: str, chain: list[str] | tuple[str, ...]) -> list[str]:
    """An encoding chain spelled out step by step, innermost first: ``["email", "lower-cased", "SHA-256"]``."""
    try:  # the formats (First.Last, MM/DD/YYYY …) live with the matcher
        from ..analyze.pii import FORMAT_DESCRIPTIONS
    except Exception:  # pragma: no cover - the matcher's optional C extension missing
        FORMAT_DESCRIPTIONS = {}
    steps = [field.replace("_", " ")]
    for step in chain or ():
        if step in FORMAT_DESCRIPTIONS:
            steps.append(FORMAT_DESCRIPTIONS[step].replace("{}", "").strip() or step)
        elif step in NORMALIZER_ADJECTIVES:
            steps.append(NORMALIZER_ADJECTIVES[step])
        else:
            name = ENCODING_NAMES.get(step, step)
            steps.append(name.upper() if name in ("md5", "sha1", "sha224", "sha256", "sha384", "sha512") else name)
    return steps


def lifetime_words(days: float | None) -> str:
    if days is None:
        return "session (deleted when the browser closes)"
    return _lifetime_in_days(days)
