"""Commands that only read a database start quickly: loading the CLI does not load the browser driver, the DNS
library or the filter-list engine, which only audits need (they cost most of a second at every start)."""

import subprocess
import sys


def test_loading_the_cli_leaves_the_audit_only_libraries_unloaded():
    heavy = ["playwright", "dns", "adblock"]
    probe = f"import sys, crawler.cli; print([m for m in {heavy!r} if m in sys.modules])"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
