"""``fts_query(text)``: what a person typed into the search box, as an FTS5 query.

The canned ``search`` and ``chapter_search`` queries match ``fts_query(:q)``. The rule
itself is archive_rules.fts_query, which the CLI's search (db/search.py) shares.
"""

from __future__ import annotations

from pathlib import Path

from datasette import hookimpl

try:
    from plugins import archive_rules as rules
except ImportError:  # a published bundle on Datasette alone: the rules file is beside this one
    import runpy
    import types

    rules_file = Path(__file__).with_name("archive_rules.py")
    rules = types.SimpleNamespace(**runpy.run_path(str(rules_file)))


@hookimpl
def prepare_connection(conn):
    conn.create_function("fts_query", 1, rules.fts_query, deterministic=True)
