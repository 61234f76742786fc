"""The canned ``search`` and ``chapter_search`` queries call the archive's one search.

Three SQL functions, registered on every connection, each a thin wrapper over db/search.py
(the code ``archive search`` runs), so the web can never rank differently from the CLI:

- ``archive_search(q [, limit [, offset]])``: the hits as a JSON array, best first. The
  canned query unpacks it with ``json_each``.
- ``archive_chapter_search(q [, limit])``: chapters whose title or whole text matches.
- ``fts_query(q)``: what the search box's text becomes as an FTS5 query.

What a person types is searched leniently: text that is not valid FTS5 syntax is searched
as plain words, and an empty box matches nothing. Statements these functions run are on
the same connection, so Datasette's time limit and read-only rules apply to them too.
"""

from __future__ import annotations

import json

import sqlite_utils
from datasette import hookimpl

from db.search import fts_query, search, search_chapter_text

MAX_HITS = 1000  # Datasette's max_returned_rows


def _limit(value, default: int) -> int:
    try:
        return max(0, min(MAX_HITS, int(value)))
    except (TypeError, ValueError):
        return default


@hookimpl
def prepare_connection(conn, database):
    if database == "_internal":
        return
    db = sqlite_utils.Database(conn)

    def archive_search(q, limit=100, offset=0):
        if q is None or not str(q).strip():
            return "[]"
        page = search(db, str(q), limit=_limit(limit, 100), offset=_limit(offset, 0), lenient=True)
        return json.dumps(page.hits)

    def archive_chapter_search(q, limit=100):
        if q is None or not str(q).strip():
            return "[]"
        return json.dumps(search_chapter_text(db, str(q), limit=_limit(limit, 100)))

    for arity in (1, 2, 3):
        conn.create_function("archive_search", arity, archive_search)
    for arity in (1, 2):
        conn.create_function("archive_chapter_search", arity, archive_chapter_search)
    conn.create_function("fts_query", 1, lambda q: fts_query(q, conn))
