"""The browser stage: find and launch Chromium, log in, run the audit protocol, capture through collectors."""
