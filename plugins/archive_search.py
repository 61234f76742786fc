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

On the web a search has at most MAX_TERMS words and MAX_CHARACTERS characters: FTS5 reads
each term's index in one step that the time limit cannot stop, so 5,000 OR-ed prefixes
could hold a thread for seconds. Longer searches fail at once ("string or blob too big").
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import sqlite_utils
from datasette import hookimpl

# A published bundle served by Datasette alone carries the search code it needs in
# plugins/archive_lib (db/publish.py); installed or in a checkout, that folder is absent.
BUNDLED_CODE = Path(__file__).with_name("archive_lib")
if BUNDLED_CODE.is_dir() and str(BUNDLED_CODE) not in sys.path:
    sys.path.append(str(BUNDLED_CODE))

try:
    from db.search import fts_query, search, search_chapter_text
except ImportError:  # the archive's code is nowhere: no search function
    search = None

MAX_HITS = 1000  # Datasette's max_returned_rows
MAX_TERMS = 64
MAX_CHARACTERS = 1000


def _limit(value, default: int) -> int:
    try:
        return max(0, min(MAX_HITS, int(value)))
    except (TypeError, ValueError):
        return default


def bounded(text) -> str | None:
    """The search text, or None for an empty one; too long a search is refused."""
    if text is None or not str(text).strip():
        return None
    text = str(text)
    if len(text) > MAX_CHARACTERS or len(text.split()) > MAX_TERMS:
        raise OverflowError("search too long")  # SQLite reports: string or blob too big
    return text


@hookimpl
def prepare_connection(conn, database):
    if database == "_internal" or search is None:
        return
    db = sqlite_utils.Database(conn)

    def archive_search(q, limit=100, offset=0):
        text = bounded(q)
        if text is None:
            return "[]"
        page = search(db, text, limit=_limit(limit, 100), offset=_limit(offset, 0), lenient=True)
        return json.dumps(page.hits)

    def archive_chapter_search(q, limit=100):
        text = bounded(q)
        if text is None:
            return "[]"
        return json.dumps(search_chapter_text(db, text, limit=_limit(limit, 100)))

    for arity in (1, 2, 3):
        conn.create_function("archive_search", arity, archive_search)
    for arity in (1, 2):
        conn.create_function("archive_chapter_search", arity, archive_chapter_search)
    conn.create_function("fts_query", 1, lambda q: fts_query(bounded(q), conn))
