"""Ways to show a run: the full HTML report, a versioned JSON document, findings as CSV, a Markdown summary,
JUnit XML for CI, and Datasette metadata for browsing the database. (``text`` prints findings to the terminal.)

Every format renders the same ``model.Report``, read once from the database by ``model.build_report``.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

EXTENSIONS = {"html": "html", "json": "json", "csv": "csv", "md": "md", "junit": "xml"}


def _renderer(fmt: str):
    if fmt == "html":
        from .html import render
    elif fmt == "json":
        from .json_report import render
    elif fmt == "csv":
        from .csv_report import render
    elif fmt == "md":
        from .markdown import render
    elif fmt == "junit":
        from .junit import render
    else:
        raise ValueError(f"unknown report format {fmt!r}; use one of: {', '.join(EXTENSIONS)}")
    return render


def render_report(store, run_id: int, fmt: str, pack) -> str:
    """The report of one run in one format, as text."""
    from .model import build_report

    render = _renderer(fmt)
    return render(build_report(store, run_id, pack))


def write_report(store, run_id: int, fmt: str, out_path, pack) -> Path | None:
    """Write run ``run_id``'s report in ``fmt`` (a key of ``EXTENSIONS``) to ``out_path``.

    ``out_path`` ``-`` writes to standard output and returns None; otherwise the file (parent folders made)
    is replaced atomically and its path returned. Raises ValueError for an unknown format or run."""
    text = render_report(store, run_id, fmt, pack)
    if str(out_path) == "-":
        buffer = getattr(sys.stdout, "buffer", None)
        if buffer is not None:  # UTF-8 whatever the terminal's locale
            sys.stdout.flush()
            buffer.write(text.encode("utf-8"))
            buffer.flush()
        else:
            sys.stdout.write(text)
            sys.stdout.flush()
        return None
    path = Path(out_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.chmod(temporary, 0o600)  # reports name session cookies: owner only, like every artefact
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
