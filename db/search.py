"""Ranked full-text search over what was said: the one search the CLI and the web share.

Queries use SQLite FTS5 syntax: phrases (``"ask not"``), prefixes (``count*``), ``AND``,
``OR``, ``NOT``, ``NEAR``. Plain words with punctuation (``RSP v3.0``, ``don't``) that
FTS5 would reject are searched as the literal words instead. With ``lenient=True`` (the
web pages) a query whose operators are malformed is searched as plain words too, and the
result says so (``as_words``), instead of raising ``SearchQueryError``.

This is a plain, exact implementation over the base tables; ranking is bm25.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

import sqlite_utils

from plugins.archive_rules import FTS_SYNTAX, quote_words

MARK_START, MARK_END = "<mark>", "</mark>"
SNIPPET_TOKENS = 16
ORDERS = ("relevance", "newest")

# Each filter is a no-op when its parameter is null, so one statement serves every mix.
FILTERS_SQL = """
  and (:episode is null or segments.episode_id = :episode)
  and (:show is null or episodes.show = :show)
  and (:published_from is null or substr(episodes.published, 1, 10) >= :published_from)
  and (:published_to is null or substr(episodes.published, 1, 10) <= :published_to)
"""
MATCHES_FROM_SQL = (
    """
from segments_fts
  join segments on segments.id = segments_fts.rowid
  join chapters on chapters.id = segments.chapter_id
  join episodes on episodes.id = segments.episode_id
where segments_fts match :query
"""
    + FILTERS_SQL
)
ORDER_SQL = {
    "relevance": "rank, segments.episode_id, segments.start",
    "newest": "episodes.published desc nulls last, segments.episode_id, segments.start",
}
SEARCH_SEGMENTS_SQL = """
select
  segments.id as segment_id,
  segments.episode_id,
  episodes.title as episode_title,
  episodes.show as episode_show,
  episodes.published as episode_published,
  chapters.position as chapter_position,
  chapters.title as chapter_title,
  segments.start,
  segments.end,
  segments.text,
  snippet(segments_fts, 0, :mark_start, :mark_end, '…', :tokens) as snippet,
  bm25(segments_fts) as rank
{matches}
order by {order}
limit :limit offset :offset
"""
COUNT_SQL = """
select count(*), count(distinct episode_id) from (
  select segments.episode_id {matches} limit :cap + 1
)
"""
CHAPTER_TITLES_SQL = """
select
  chapters.episode_id,
  episodes.title as episode_title,
  chapters.position as chapter_position,
  chapters.title as chapter_title,
  highlight(chapters_fts, 0, :mark_start, :mark_end) as title_snippet,
  chapters.start
from chapters_fts
  join chapters on chapters.id = chapters_fts.rowid
  join episodes on episodes.id = chapters.episode_id
where chapters_fts match 'title : (' || :query || ')'
  and (:episode is null or chapters.episode_id = :episode)
  and (:show is null or episodes.show = :show)
  and (:published_from is null or substr(episodes.published, 1, 10) >= :published_from)
  and (:published_to is null or substr(episodes.published, 1, 10) <= :published_to)
order by bm25(chapters_fts), chapters.episode_id, chapters.start
limit :limit
"""

class SearchQueryError(Exception):
    """The query is empty, or not valid FTS5 syntax; the message says where."""


@dataclass(frozen=True)
class SearchFilters:
    episode: str | None = None  # episodes.id
    show: str | None = None  # episodes.show, exact
    published_from: str | None = None  # 'YYYY-MM-DD', inclusive
    published_to: str | None = None  # 'YYYY-MM-DD', inclusive


@dataclass(frozen=True)
class SearchPage:
    hits: list[dict]
    query: str  # the FTS5 query actually run
    as_words: bool = False  # the query was not valid FTS5 syntax: searched as plain words
    words: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class MatchCount:
    moments: int
    episodes: int
    at_least: bool  # counting stopped at the cap


def search(
    db: sqlite_utils.Database,
    query: str,
    *,
    filters: SearchFilters = SearchFilters(),
    order: str = "relevance",
    limit: int = 20,
    offset: int = 0,
    mark: tuple[str, str] = (MARK_START, MARK_END),
    lenient: bool = False,
) -> SearchPage:
    """Hits best first (bm25) or newest episode first, with snippets and filters."""
    if order not in ORDER_SQL:
        raise ValueError(f"order must be one of {', '.join(ORDERS)}")
    sql = SEARCH_SEGMENTS_SQL.format(matches=MATCHES_FROM_SQL, order=ORDER_SQL[order])
    params = {
        **_filter_params(filters),
        "mark_start": mark[0],
        "mark_end": mark[1],
        "tokens": SNIPPET_TOKENS,
        "limit": limit,
        "offset": offset,
    }
    rows, page = _run_resolved(db, sql, params, query, lenient)
    return SearchPage(_dicts(rows), *page)


def search_segments(
    db: sqlite_utils.Database,
    query: str,
    *,
    episode: str | None = None,
    limit: int = 20,
    mark: tuple[str, str] = (MARK_START, MARK_END),
) -> list[dict]:
    """Best hits first (bm25), each with its episode, chapter, times and a snippet."""
    return search(db, query, filters=SearchFilters(episode=episode), limit=limit, mark=mark).hits


def count_matches(
    db: sqlite_utils.Database,
    query: str,
    *,
    filters: SearchFilters = SearchFilters(),
    cap: int = 1000,
    lenient: bool = False,
) -> MatchCount:
    """How many moments match, in how many episodes; counting stops past ``cap``."""
    params = {**_filter_params(filters), "cap": cap}
    cursor, _ = _run_resolved(
        db, COUNT_SQL.format(matches=MATCHES_FROM_SQL), params, query, lenient
    )
    moments, episodes = cursor.fetchone()
    return MatchCount(min(moments, cap), episodes, moments > cap)


def search_chapters(
    db: sqlite_utils.Database,
    query: str,
    *,
    filters: SearchFilters = SearchFilters(),
    limit: int = 10,
    mark: tuple[str, str] = (MARK_START, MARK_END),
    lenient: bool = False,
) -> list[dict]:
    """Chapters whose title matches, best first, the title highlighted (``title_snippet``)."""
    params = {**_filter_params(filters), "mark_start": mark[0], "mark_end": mark[1]}
    params["limit"] = limit
    cursor, _ = _run_resolved(db, CHAPTER_TITLES_SQL, params, query, lenient)
    return _dicts(cursor)


def _filter_params(filters: SearchFilters) -> dict:
    return {
        "episode": filters.episode,
        "show": filters.show,
        "published_from": filters.published_from,
        "published_to": filters.published_to,
    }


def _run_resolved(db, sql: str, params: dict, query: str, lenient: bool):
    """Run ``sql`` with the query as written, else as plain words; returns (cursor, page).

    page is (query run, as_words, words). FTS5 reports bad syntax in several ways ("fts5:
    syntax error", "unterminated string", "no such column"); with no operators in the
    query, the user meant words, and on the web any bad query is searched as words.
    """
    if not query.strip():
        raise SearchQueryError("empty search query")
    try:
        return db.execute(sql, {**params, "query": query}), (query, False, [])
    except sqlite3.OperationalError as ex:
        if FTS_SYNTAX.search(query) and not lenient:
            raise SearchQueryError(f"invalid search query {query!r}: {ex}") from None
    words = quote_words(query)
    return db.execute(sql, {**params, "query": words}), (words, True, query.split())


def _dicts(cursor) -> list[dict]:
    columns = [description[0] for description in cursor.description]
    return [dict(zip(columns, row)) for row in cursor.fetchall()]
