"""Analysis of recorded observations: parties, trackers, cookie purposes, identifiers, PII, persistence."""
