"""Where observations and findings are kept: the SQLite schema and writes, and the seal over a run's evidence."""
