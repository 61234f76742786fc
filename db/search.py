"""Ranked full-text search over what was said.

Queries use SQLite FTS5 syntax: phrases (``"ask not"``), prefixes (``count*``), ``AND``,
``OR``, ``NOT``, ``NEAR``. Plain words with punctuation (``RSP v3.0``, ``don't``) that
FTS5 would reject are searched as the literal words instead.
"""

from __future__ import annotations

import sqlite3

import sqlite_utils

from plugins.archive_rules import FTS_SYNTAX, quote_words

MARK_START, MARK_END = "<mark>", "</mark>"
SNIPPET_TOKENS = 16

SEARCH_SEGMENTS_SQL = """
select
  segments.id as segment_id,
  segments.episode_id,
  episodes.title as episode_title,
  chapters.position as chapter_position,
  chapters.title as chapter_title,
  segments.start,
  segments.end,
  segments.text,
  snippet(segments_fts, 0, :mark_start, :mark_end, '…', :tokens) as snippet,
  bm25(segments_fts) as rank
from segments_fts
  join segments on segments.id = segments_fts.rowid
  join chapters on chapters.id = segments.chapter_id
  join episodes on episodes.id = segments.episode_id
where segments_fts match :query
  and (:episode is null or segments.episode_id = :episode)
order by rank, segments.episode_id, segments.start
limit :limit
"""

class SearchQueryError(Exception):
    """The query is not valid FTS5 syntax; the message says where."""


def search_segments(
    db: sqlite_utils.Database,
    query: str,
    *,
    episode: str | None = None,
    limit: int = 20,
    mark: tuple[str, str] = (MARK_START, MARK_END),
) -> list[dict]:
    """Best hits first (bm25), each with its episode, chapter, times and a snippet."""
    if not query.strip():
        raise SearchQueryError("empty search query")
    params = {
        "mark_start": mark[0],
        "mark_end": mark[1],
        "tokens": SNIPPET_TOKENS,
        "episode": episode,
        "limit": limit,
    }
    try:
        return _run(db, query, params)
    except sqlite3.OperationalError as ex:
        # FTS5 reports bad syntax in several ways ("fts5: syntax error", "unterminated
        # string", "no such column"); with no operators in the query, the user meant words.
        if FTS_SYNTAX.search(query):
            raise SearchQueryError(f"invalid search query {query!r}: {ex}") from None
    return _run(db, quote_words(query), params)


def _run(db: sqlite_utils.Database, query: str, params: dict) -> list[dict]:
    cursor = db.execute(SEARCH_SEGMENTS_SQL, {**params, "query": query})
    columns = [description[0] for description in cursor.description]
    return [dict(zip(columns, row)) for row in cursor.fetchall()]
