"""Built-in tracker and cookie knowledge, and importers of the public lists fetched at run time."""
