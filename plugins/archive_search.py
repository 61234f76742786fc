"""``fts_query(text)``: what a person typed into the search box, as an FTS5 query.

The canned ``search`` and ``chapter_search`` queries match ``fts_query(:q)``. The rule
itself is archive_rules.fts_query, which the CLI's search (db/search.py) shares. On the
web a search has at most MAX_TERMS words and MAX_CHARACTERS characters: FTS5 reads each
term's index in one step that the time limit cannot stop, so 5,000 OR-ed prefixes could
hold a thread for seconds. Longer searches fail at once ("string or blob too big").
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


MAX_TERMS = 64
MAX_CHARACTERS = 1000


def bounded_fts_query(text: str | None) -> str:
    if text is not None and (len(text) > MAX_CHARACTERS or len(text.split()) > MAX_TERMS):
        raise OverflowError("search too long")  # SQLite reports: string or blob too big
    return rules.fts_query(text)


@hookimpl
def prepare_connection(conn):
    conn.create_function("fts_query", 1, bounded_fts_query, deterministic=True)
