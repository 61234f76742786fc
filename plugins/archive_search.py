"""``fts_query(text)``: what a person typed into the search box, as an FTS5 query.

The canned ``search`` and ``chapter_search`` queries match ``fts_query(:q)``. The rule is
the CLI's (db/search.py): a query with FTS5 syntax (``"a phrase"``, ``prefix*``, ``AND``,
``OR``, ``NOT``, ``NEAR``) is used as written; plain words, punctuation and all
(``RSP v3.0``), are searched as literal words instead of failing as bad syntax.
"""

from __future__ import annotations

import re

from datasette import hookimpl

_FTS_SYNTAX = re.compile(r'["*()^:]|\b(AND|OR|NOT|NEAR)\b')


def fts_query(text: str | None) -> str:
    if text is None or not text.strip():
        return '""'  # matches nothing, where an empty MATCH would be a syntax error
    if _FTS_SYNTAX.search(text):
        return text
    return " ".join('"' + word.replace('"', '""') + '"' for word in text.split())


@hookimpl
def prepare_connection(conn):
    conn.create_function("fts_query", 1, fts_query, deterministic=True)
