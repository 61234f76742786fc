"""THE search: ranked full-text search over what was said, for the CLI, the web pages and the
canned queries alike.

Queries use SQLite FTS5 syntax: phrases (``"ask not"``), prefixes (``count*``), ``AND``,
``OR``, ``NOT``, ``NEAR``. Plain words with punctuation (``RSP v3.0``, ``don't``) that
FTS5 would reject are searched as the literal words instead.

Ranking is FTS5's bm25, ties broken by episode and time. A query of plain words whose terms
are all frequent is ranked from the champion lists (db/search_index.py) instead of scoring
every matching row: one word gives exactly FTS5's order (proved against the list's bound,
else FTS5 ranks it); several words rank the lists' union exactly, which finds the true top
results unless one of them is in no word's list (measured by benchmarks/search_scale.py).
Everything else (phrases, prefixes, operators, rare words) FTS5 ranks itself.
"""

from __future__ import annotations

import functools
import json
import math
import re
import sqlite3
from dataclasses import dataclass, field

import sqlite_utils

from plugins.archive_rules import FTS_SYNTAX, quote_words

from . import search_index as index

MARK_START, MARK_END = "<mark>", "</mark>"
MARKS = (MARK_START, MARK_END)
SNIPPET_TOKENS = 16
ORDERS = ("relevance", "newest")

_PLAIN_WORD = re.compile(r'^(?:[^\W]+|"[^"]*")$')
_OPERATOR = re.compile(r"^(AND|OR|NOT|NEAR)$")


def one_snapshot(function):
    """Run ``function(db, ...)`` inside one read transaction: every read sees the archive
    as of one moment, so term statistics, champion lists and rows agree even while an
    ingest stores an episode into a live archive (WAL readers keep their snapshot)."""

    @functools.wraps(function)
    def in_one_snapshot(db, *args, **kwargs):
        conn = db.conn
        if conn.in_transaction:
            return function(db, *args, **kwargs)
        conn.execute("begin")
        try:
            return function(db, *args, **kwargs)
        finally:
            conn.execute("commit")

    return in_one_snapshot


class SearchQueryError(Exception):
    """The query is empty or not valid FTS5 syntax; the message says where."""


@dataclass(frozen=True)
class SearchFilters:
    episode: str | None = None  # episodes.id
    show: str | None = None  # episodes.show, exact
    published_from: str | None = None  # 'YYYY-MM-DD', inclusive, on episodes.published
    published_to: str | None = None  # 'YYYY-MM-DD', inclusive


@dataclass(frozen=True)
class SearchPage:
    hits: list[dict]
    query: str  # the FTS5 query actually run
    as_words: bool  # the query was not valid FTS5 syntax and was searched as plain words
    words: list[str] = field(default_factory=list)  # the words searched, when as_words


@dataclass(frozen=True)
class MatchCount:
    moments: int  # matching segments (after filters), at most the cap
    # Distinct episodes among them; None when counting stopped at the cap, as the first
    # matches counted (in storage order) come from the first few episodes only.
    episodes: int | None
    at_least: bool  # more moments match than the cap


@dataclass(frozen=True)
class SearchResults:
    """What a results page shows: one page of hits, how many match, and chapter titles."""

    found: SearchPage  # the page's hits, and one more when there is a next page
    count: MatchCount
    chapters: list[dict]  # chapters whose title matches (first page only)


NO_FILTERS = SearchFilters()


@one_snapshot
def search(
    db: sqlite_utils.Database,
    query: str,
    *,
    filters: SearchFilters = NO_FILTERS,
    order: str = "relevance",
    limit: int = 20,
    offset: int = 0,
    mark: tuple[str, str] = (MARK_START, MARK_END),
    lenient: bool = False,
) -> SearchPage:
    """One page of hits, best first (bm25) or newest episode first.

    ``lenient=False`` raises SearchQueryError for invalid syntax that uses operators (the
    CLI); ``lenient=True`` searches such a query as plain words (the web). An empty query
    raises in both modes.
    """
    if order not in ORDERS:
        raise SearchQueryError(f"unknown order {order!r}: use relevance or newest")
    page = interpret_query(db.conn, query, lenient)
    limit, offset = max(0, int(limit)), max(0, int(offset))
    if order == "newest":
        ranked = _newest(db.conn, page.query, filters, limit + offset)
    else:
        ranked = rank_segments(db.conn, page.query, filters, limit + offset)
    hits = _hit_rows(db.conn, ranked[offset : offset + limit], page.query, mark)
    return SearchPage(hits, page.query, page.as_words, page.words)


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


def interpret_query(conn: sqlite3.Connection, query: str, lenient: bool) -> SearchPage:
    """The FTS5 query to run for what was typed (hits left empty)."""
    if not query or not query.strip():
        raise SearchQueryError("empty search query")
    try:
        conn.execute(
            "select 1 from segments_fts where segments_fts match ? limit 1", [query]
        ).fetchall()
        return SearchPage([], query, False)
    except sqlite3.OperationalError as ex:
        # FTS5 reports bad syntax in several ways ("fts5: syntax error", "unterminated
        # string", "no such column"); with no operators in the query, the user meant words.
        if not lenient and FTS_SYNTAX.search(query):
            raise SearchQueryError(f"invalid search query {query!r}: {ex}") from None
    return SearchPage([], quote_words(query), True, query.split())


def fts_query(text: str | None, conn: sqlite3.Connection) -> str:
    """What a search box's text becomes, leniently (a query that matches nothing if empty)."""
    if text is None or not text.strip():
        return '""'
    return interpret_query(conn, text, lenient=True).query


# --- ranking ---------------------------------------------------------------------------


def rank_segments(
    conn: sqlite3.Connection, fts: str, filters: SearchFilters, k: int
) -> list[tuple[int, float]]:
    """The top ``k`` (segment id, bm25 rank) pairs for a valid FTS5 query, best first."""
    if k <= 0:
        return []
    terms = bag_of_terms(fts)
    if terms and index.index_in_step(conn):
        ranked = _rank_from_champions(conn, terms, filters, k)
        if ranked is not None:
            return ranked
    return _rank_with_fts5_alone(conn, fts, filters, k)


def _rank_with_fts5_alone(conn, fts: str, filters: SearchFilters, k: int):
    """FTS5 ranks every match, without joining each to its segment (only the best few are)."""
    if _has_filters(filters):
        return rank_with_fts5(conn, fts, filters, k)
    rows = conn.execute(
        "select rowid, rank from segments_fts where segments_fts match ? order by rank limit ?",
        [fts, k + TIES_ROOM],
    ).fetchall()
    if len(rows) == k + TIES_ROOM and rows[-1][1] == rows[k - 1][1]:
        return rank_with_fts5(conn, fts, filters, k)  # a tie wider than the room: sort it all
    return _order_with_ties(conn, rows, k)


TIES_ROOM = 50  # matches ranked past the k-th, for ties with it


def bag_of_terms(fts: str) -> list[str] | None:
    """The FTS5 terms of a query made only of single words (implicitly ANDed), else None."""
    pieces = fts.split()
    if not pieces or any(_OPERATOR.match(p) or not _PLAIN_WORD.match(p) for p in pieces):
        return None
    terms = []
    for piece in pieces:
        tokens = index.tokenize(piece.strip('"'))
        if len(tokens) != 1:
            return None  # a phrase of several tokens, or none: FTS5 ranks it
        terms.append(tokens[0])
    return terms


def rank_with_fts5(
    conn: sqlite3.Connection, fts: str, filters: SearchFilters, k: int, offset: int = 0
) -> list[tuple[int, float]]:
    """FTS5 ranks every match itself: exact, and slow for frequent words (the baseline)."""
    where, params = _filter_sql(conn, filters)
    rows = conn.execute(
        "select segments.id, bm25(segments_fts) as rank from segments_fts"
        " join segments on segments.id = segments_fts.rowid"
        " join episodes on episodes.id = segments.episode_id"
        f" where segments_fts match ? {where}"
        " order by rank, segments.episode_id, segments.start limit ? offset ?",
        [fts, *params, k, offset],
    ).fetchall()
    return [(row[0], row[1]) for row in rows]


def _filter_sql(
    conn: sqlite3.Connection, filters: SearchFilters, *, segment_range: bool = True
) -> tuple[str, list]:
    """SQL conditions on ``episodes`` (joined in every query) for the filters, and for one
    episode, on the FTS rowid too when ``segment_range``."""
    where, params = [], []
    if filters.episode is not None:
        if segment_range:
            # An episode's segments are stored with neighbouring ids: let FTS5 seek to them.
            low, high = conn.execute(
                "select min(id), max(id) from segments where episode_id = ?", [filters.episode]
            ).fetchone()
            where.append("segments_fts.rowid between ? and ?")
            params += [low if low is not None else 0, high if high is not None else -1]
        where.append("episodes.id = ?")
        params.append(filters.episode)
    if filters.show is not None:
        where.append("episodes.show = ?")
        params.append(filters.show)
    if filters.published_from:
        where.append("substr(episodes.published, 1, 10) >= ?")
        params.append(filters.published_from)
    if filters.published_to:
        where.append("substr(episodes.published, 1, 10) <= ?")
        params.append(filters.published_to)
    return "".join(" and " + condition for condition in where), params


def _rank_from_champions(conn, terms, filters, k) -> list[tuple[int, float]] | None:
    """Rank from the champion lists; None when they cannot answer (FTS5 must rank it)."""
    unique = sorted(set(terms))
    placeholders = ",".join("?" * len(unique))
    found = dict(
        conn.execute(f"select term, df from search_terms where term in ({placeholders})", unique)
    )
    if len(found) < len(unique):
        return []  # a word no segment has: nothing matches them all
    lists = {
        term: (list_avgdl, bound)
        for term, list_avgdl, bound in conn.execute(
            f"select term, avgdl, bound from search_lists where term in ({placeholders})", unique
        )
    }
    if len(lists) < len(unique):
        return None  # a word in few segments: FTS5 ranks those few quickly
    stats = index.fts_stats(conn)
    together = stats.rows * math.prod(found[t] / stats.rows for t in unique)
    if len(unique) > 1 and together < FEW_TOGETHER:
        return None  # frequent words that seldom meet: FTS5 ranks the few quickly, exactly
    query = _Scoring(terms, [index.idf(stats, found[t]) for t in terms], stats.avgdl, lists)
    if len(unique) == 1:
        return _rank_one_term(conn, query, unique[0], filters, k)
    scored, proved = _rank_several_terms(conn, query, unique, filters, k)
    if proved or not _has_filters(filters):
        return _order_with_ties(conn, scored, k)  # unproved: the lists' best (recall measured)
    return None  # filters: exactness first, so FTS5 ranks it


@dataclass(frozen=True)
class _Scoring:
    """bm25 of a bag of terms, computed as FTS5 computes it (same order, same rounding)."""

    terms: list[str]
    idfs: list[float]
    avgdl: float
    lists: dict  # term: (avgdl the list was ranked under, bound)

    def coefficient(self, term: str) -> float:
        """The term's idf, times how often the query names it."""
        return sum(i for t, i in zip(self.terms, self.idfs) if t == term)

    def rank(self, weights: dict[str, float]) -> float:
        return index.rank_value(self.idfs, [weights[t] for t in self.terms])

    def rank_counts(self, counts: dict[str, int], length: int) -> float:
        return self.rank({t: index.weight(counts[t], length, self.avgdl) for t in set(self.terms)})

    def unread_bound(self, term: str, rows: list, asked: int) -> float:
        """Today's highest weight for ``term`` of a segment not among ``rows`` (read best
        first, ``asked`` of them asked for): below the last one read, or else off the list."""
        list_avgdl, bound = self.lists[term]
        below = rows[-1][0] if len(rows) == asked and rows else bound
        return index.weight_bound(below, list_avgdl, self.avgdl)


FEW_TOGETHER = 3_000  # segments expected to hold all the words, were they independent
FIRST_READ = 64  # list entries read first for one word; four times more each time it is short


def _rank_one_term(conn, query: _Scoring, term: str, filters, k):
    """Read the list best first until the k-th best beats everything unread: exact."""
    asked, rows = max(FIRST_READ, 2 * k), []
    while True:
        rows = _list_entries(conn, term, filters, asked)
        scored = [(sid, query.rank_counts({term: tf}, n)) for _, sid, tf, n in rows]
        top = _order_with_ties(conn, scored, k)
        unread = query.unread_bound(term, rows, asked)
        if unread == 0.0 or (len(top) == k and top[-1][1] < query.rank({term: unread})):
            return top
        if len(rows) < asked:
            return None  # the whole list is not enough: FTS5 ranks it
        asked *= 4


SEVERAL_DEPTH = 10_000  # entries read from each list for several words (recall is measured)
VERIFY_AT_MOST = 600  # entries missing from some lists whose other counts are looked up


def _rank_several_terms(conn, query: _Scoring, unique, filters, k):
    """Exact ranks of the best entries that hold every word, and whether that is provably
    the top k. Entries missing from some list are tokenized, best possible first, while
    they can still beat the k-th. numpy sorts the bulk; the ranks returned are exact.
    """
    import numpy as np

    bounds, blocks = {}, []
    for position, term in enumerate(unique):
        block, least = _list_block(conn, term, query.lists[term][0], filters, SEVERAL_DEPTH, np)
        bounds[term] = query.unread_bound(term, [] if least is None else [(least,)], 1)
        blocks.append(np.column_stack([block, np.full(len(block), position, dtype=np.int64)]))
    entries = np.concatenate(blocks)
    ids, inverse = np.unique(entries[:, 0], return_inverse=True)
    coefficients = np.array([query.coefficient(t) for t in unique])[entries[:, 3]]
    bound = np.array([bounds[t] for t in unique])[entries[:, 3]]
    tf, length = entries[:, 1].astype(np.float64), entries[:, 2].astype(np.float64)
    weights = (tf * (index.K1 + 1.0)) / (
        tf + index.K1 * ((1 - index.B) + index.B * length / query.avgdl)
    )
    known, known_bound, holding = (np.zeros(len(ids)) for _ in range(3))
    np.add.at(known, inverse, coefficients * weights)
    np.add.at(known_bound, inverse, coefficients * bound)
    np.add.at(holding, inverse, 1)
    every = holding == len(unique)
    upper = known + (
        float(np.dot([query.coefficient(t) for t in unique], list(bounds.values()))) - known_bound
    )
    best_complete = np.argsort(np.where(every, -known, np.inf), kind="stable")[: 4 * k + 50]
    best_partial = np.argsort(np.where(every, np.inf, -upper), kind="stable")[
        : VERIFY_AT_MOST + 100
    ]
    complete = _exact_ranks(query, unique, entries, inverse, [i for i in best_complete if every[i]])
    partial = [(-float(upper[i]), int(ids[i])) for i in best_partial if not every[i]]
    verified = _verify_best_partial(conn, query, unique, complete, partial, k)
    complete.sort(key=lambda pair: pair[1])
    kth = complete[k - 1][1] if len(complete) >= k else 0.0
    outside = query.rank(bounds) if all(bounds.values()) else 0.0
    return complete, verified and kth < outside and int(every.sum()) <= 4 * k + 50


def _exact_ranks(query, unique, entries, inverse, chosen) -> list[tuple[int, float]]:
    """Exact bm25 ranks of the chosen segments, from their list entries."""
    import numpy as np

    counts: dict[int, dict] = {}
    lengths: dict[int, int] = {}
    for row in np.flatnonzero(np.isin(inverse, chosen)):
        segment_id, tf, length, position = (int(v) for v in entries[row])
        counts.setdefault(segment_id, {})[unique[position]] = tf
        lengths[segment_id] = length
    return [(sid, query.rank_counts(found, lengths[sid])) for sid, found in counts.items()]


def _verify_best_partial(conn, query, unique, complete, partial, k) -> bool:
    """Look up the words an entry's other lists left out, best possible entry first, while
    it could still beat the k-th; True when every such entry was looked up."""
    at = 0
    while at < len(partial):
        complete.sort(key=lambda pair: pair[1])
        kth = complete[k - 1][1] if len(complete) >= k else 0.0
        batch = [segment_id for best, segment_id in partial[at : at + 100] if best < kth]
        if not batch:
            return True
        if at >= VERIFY_AT_MOST:
            return False
        texts = _texts(conn, batch)
        for segment_id, (found, length) in index.tokenize_rows(list(texts.items())).items():
            if all(found[t] for t in unique):
                complete.append((segment_id, query.rank_counts(found, length)))
        at += len(batch)
    return True


def _list_block(conn, term: str, list_avgdl: float, filters, limit: int, np):
    """A list's best ``limit`` entries (under filters) as a numpy array of (segment id, tf,
    length) rows, and the least weight among them if the list has more (else None: what
    passes the filters and is not among them is off the list).

    The head and the tail are read whole and in storage order (SQLite joins the rows into
    one string, which numpy parses far faster than row tuples); numpy picks the best, so the
    tail, mostly read anyway, is never sorted.
    """
    block = np.concatenate(
        [
            _list_part_block(conn, table, term, filters, np)
            for table in ("search_champions", "search_list_tails")
        ]
    )
    if len(block) <= limit:
        return block, None
    weights = index.weights_of(block[:, 1], block[:, 2], list_avgdl, np)
    best = np.argsort(-weights, kind="stable")[:limit]
    return block[best], float(weights[best[-1]])


def _list_part_block(conn, table: str, term: str, filters, np):
    where, params = _filter_sql(conn, filters, segment_range=False)
    text = conn.execute(
        "select group_concat(c.segment_id || ' ' || c.tf || ' ' || c.length, ' ')"
        f" from {table} as c{_list_joins(where)} where c.term = ? {where}",
        [term, *params],
    ).fetchone()[0]
    return np.fromstring(text or "", dtype=np.int64, sep=" ").reshape(-1, 3)


def _list_entries(conn, term: str, filters, limit: int) -> list[tuple]:
    """(weight, segment id, tf, length) of a list's best ``limit`` entries (under filters):
    its head, then as much of its tail as that takes (no tail entry outweighs the head)."""
    rows = conn.execute(*_list_part_sql(conn, "search_champions", term, filters, limit))
    rows = rows.fetchall()
    if len(rows) < limit:
        rest = _list_part_sql(conn, "search_list_tails", term, filters, limit - len(rows))
        rows += conn.execute(*rest).fetchall()
    return rows


def _list_part_sql(conn, table: str, term: str, filters, limit: int) -> tuple[str, list]:
    """The query for the best ``limit`` entries of a list's head or tail, under filters."""
    where, params = _filter_sql(conn, filters, segment_range=False)
    return (
        f"select c.weight, c.segment_id, c.tf, c.length from {table} as c{_list_joins(where)}"
        f" where c.term = ? {where} order by c.weight desc limit ?",
        [term, *params, limit],
    )


def _list_joins(where: str) -> str:
    """The joins that filters on a list's entries need (none without filters)."""
    if not where:
        return ""
    return (
        " join segments on segments.id = c.segment_id"
        " join episodes on episodes.id = segments.episode_id"
    )


def _order_with_ties(conn, scored: list[tuple[int, float]], k: int) -> list[tuple[int, float]]:
    """The best k by rank, ties broken by episode and start as FTS5's order has them."""
    scored = sorted(scored, key=lambda pair: pair[1])
    if len(scored) > k:
        cut = scored[k - 1][1]
        scored = [pair for pair in scored if pair[1] <= cut]
    placeholders = ",".join("?" * len(scored))
    keys = {
        row[0]: (row[1], row[2])
        for row in conn.execute(
            f"select id, episode_id, start from segments where id in ({placeholders})",
            [segment_id for segment_id, _ in scored],
        )
    }
    scored.sort(key=lambda pair: (pair[1], *keys[pair[0]]))
    return scored[:k]


def _has_filters(filters: SearchFilters) -> bool:
    return filters != NO_FILTERS


def _newest(conn, fts: str, filters: SearchFilters, k: int) -> list[tuple[int, float]]:
    """Matches from the newest episodes first (then by time), found episode by episode."""
    where, params = _filter_sql(conn, filters, segment_range=False)
    episode_ids = conn.execute(
        f"select episodes.id from episodes where 1 {where}"
        " order by episodes.published desc nulls last, episodes.id",
        params,
    ).fetchall()
    found: list[int] = []
    for (episode_id,) in episode_ids:
        found += _episode_matches(conn, fts, episode_id)
        if len(found) >= k:
            break
    return _with_ranks(conn, fts, found[:k])


def _episode_matches(conn, fts: str, episode_id: str) -> list[int]:
    low, high = conn.execute(
        "select min(id), max(id) from segments where episode_id = ?", [episode_id]
    ).fetchone()
    if low is None:
        return []
    rows = conn.execute(
        "select segments.id from segments_fts join segments on segments.id = segments_fts.rowid"
        " where segments_fts match ? and segments_fts.rowid between ? and ?"
        " and segments.episode_id = ? order by segments.start",
        [fts, low, high, episode_id],
    ).fetchall()
    return [row[0] for row in rows]


def _with_ranks(conn, fts: str, segment_ids: list[int]) -> list[tuple[int, float]]:
    """bm25 for a few chosen segments: from the term statistics when they can give it."""
    terms = bag_of_terms(fts)
    if terms and segment_ids and index.index_in_step(conn):
        unique = sorted(set(terms))
        placeholders = ",".join("?" * len(unique))
        found = dict(
            conn.execute(
                f"select term, df from search_terms where term in ({placeholders})", unique
            )
        )
        stats = index.fts_stats(conn)
        idfs = [index.idf(stats, found.get(term, 0)) for term in terms]
        texts = _texts(conn, segment_ids)
        tokens = index.tokenize_rows([(sid, texts[sid]) for sid in segment_ids])
        return [
            (
                sid,
                index.rank_value(
                    idfs,
                    [index.weight(tokens[sid][0][t], tokens[sid][1], stats.avgdl) for t in terms],
                ),
            )
            for sid in segment_ids
        ]
    return [(sid, _fts5_rank(conn, fts, sid)) for sid in segment_ids]


def _texts(conn, segment_ids: list[int]) -> dict[int, str]:
    placeholders = ",".join("?" * len(segment_ids))
    return dict(
        conn.execute(f"select id, text from segments where id in ({placeholders})", segment_ids)
    )


def _fts5_rank(conn, fts: str, segment_id: int) -> float:
    row = conn.execute(
        "select bm25(segments_fts) from segments_fts where segments_fts match ? and rowid = ?",
        [fts, segment_id],
    ).fetchone()
    return row[0] if row else 0.0


# --- what each hit shows ------------------------------------------------------------------

HIT_SQL = """
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
  snippet(segments_fts, 0, :mark_start, :mark_end, '…', :tokens) as snippet
from segments_fts
  join segments on segments.id = segments_fts.rowid
  join chapters on chapters.id = segments.chapter_id
  join episodes on episodes.id = segments.episode_id
where segments_fts match :query and segments_fts.rowid = :segment_id
"""


HITS_IN_ONE_PASS_SQL = HIT_SQL.replace(
    "segments_fts.rowid = :segment_id",
    "+segments_fts.rowid in (select value from json_each(:ids))",
)


def _hit_rows(conn, ranked: list[tuple[int, float]], fts: str, mark) -> list[dict]:
    """Each hit's episode, chapter and snippet (FTS5 makes a snippet only inside a MATCH)."""
    if not ranked:
        return []
    params = {"mark_start": mark[0], "mark_end": mark[1], "tokens": SNIPPET_TOKENS, "query": fts}
    if bag_of_terms(fts):
        # Plain words: a MATCH per hit is cheap, where one pass would visit every match.
        rows = {}
        for segment_id, _ in ranked:
            cursor = conn.execute(HIT_SQL, {**params, "segment_id": segment_id})
            rows.update({row[0]: row for row in cursor.fetchall()})
    else:
        # A prefix or phrase costs more to set up than to scan: one pass over its matches.
        params["ids"] = json.dumps([segment_id for segment_id, _ in ranked])
        cursor = conn.execute(HITS_IN_ONE_PASS_SQL, params)
        rows = {row[0]: row for row in cursor.fetchall()}
    columns = [d[0] for d in cursor.description]
    return [
        {**dict(zip(columns, rows[segment_id])), "rank": rank}
        for segment_id, rank in ranked
        if segment_id in rows
    ]


# --- counting and chapters ---------------------------------------------------------------


COUNT_CAP = 1000  # moments counted exactly; past that, "more than 1,000"


@one_snapshot
def search_results(
    db: sqlite_utils.Database,
    query: str,
    *,
    filters: SearchFilters = NO_FILTERS,
    order: str = "relevance",
    page: int = 1,
    page_size: int = 20,
    chapters: int = 10,
) -> SearchResults:
    """A results page's search, the query read leniently (as the web reads it) and once
    for the hits, their count and the chapter titles.

    Asks for one hit more than the page shows, to know whether there is a next page. A
    first page that holds every hit counts them itself; else ``count_matches`` counts.
    """
    found = search(
        db,
        query,
        filters=filters,
        order=order,
        limit=page_size + 1,
        offset=(page - 1) * page_size,
        lenient=True,
    )
    if page == 1 and len(found.hits) <= page_size:
        episodes = len({hit["episode_id"] for hit in found.hits})
        count = MatchCount(len(found.hits), episodes, False)
    else:
        count = _count_matches(db.conn, found.query, filters, COUNT_CAP)
    titles = []
    if page == 1 and chapters > 0:
        titles = _chapter_matches(db, found.query, query, filters, chapters, MARKS, True)
    return SearchResults(found, count, titles)


@one_snapshot
def count_matches(
    db: sqlite_utils.Database,
    query: str,
    *,
    filters: SearchFilters = NO_FILTERS,
    cap: int = COUNT_CAP,
    lenient: bool = False,
) -> MatchCount:
    """How many moments (and episodes) match, counting no further than ``cap``."""
    return _count_matches(db.conn, interpret_query(db.conn, query, lenient).query, filters, cap)


def _count_matches(conn, fts: str, filters: SearchFilters, cap: int) -> MatchCount:
    """Moments and episodes for a valid FTS5 query, visiting at most ``cap`` + 1 matches:
    a word in half the segments must not cost a scan of them all on every page view.

    Episodes take a lookup of each match's segment (about 1.5 us on a 900,000-segment
    archive), so without filters FTS5 alone first says whether there are more than
    ``cap``; then no episodes are counted, as the first matches come from a few only.
    """
    if not _has_filters(filters):
        (matches,) = conn.execute(
            "select count(*) from (select rowid from segments_fts"
            " where segments_fts match ? limit ?)",
            [fts, cap + 1],
        ).fetchone()
        if matches > cap:
            return MatchCount(cap, None, True)
        # Every segment has its episode: no join to episodes without filters on them.
        sql = (
            "select count(*), count(distinct segments.episode_id) from segments_fts"
            " join segments on segments.id = segments_fts.rowid where segments_fts match ?"
        )
        moments, episodes = conn.execute(sql, [fts]).fetchone()
        return MatchCount(moments, episodes, False)
    where, params = _filter_sql(conn, filters)
    moments, episodes = conn.execute(
        "select count(*), count(distinct episode_id) from ("
        " select segments.episode_id from segments_fts"
        " join segments on segments.id = segments_fts.rowid"
        " join episodes on episodes.id = segments.episode_id"
        f" where segments_fts match ? {where} limit ?)",
        [fts, *params, cap + 1],
    ).fetchone()
    if moments > cap:
        return MatchCount(cap, None, True)
    return MatchCount(moments, episodes, False)


CHAPTER_SQL = """
select
  chapters.episode_id,
  episodes.title as episode_title,
  chapters.position as chapter_position,
  chapters.title as chapter_title,
  highlight(chapters_fts, 0, :mark_start, :mark_end) as title_snippet,
  chapters.start,
  bm25(chapters_fts, 1.0, 0.0) as rank
from chapters_fts
  join chapters on chapters.id = chapters_fts.rowid
  join episodes on episodes.id = chapters.episode_id
where chapters_fts match :query {where}
order by rank, chapters.episode_id, chapters.start
limit :limit
"""


@one_snapshot
def search_chapters(
    db: sqlite_utils.Database,
    query: str,
    *,
    filters: SearchFilters = NO_FILTERS,
    limit: int = 10,
    mark: tuple[str, str] = MARKS,
    lenient: bool = False,
) -> list[dict]:
    """Chapters whose title matches, best first, the matches highlighted in title_snippet."""
    fts = interpret_query(db.conn, query, lenient).query
    return _chapter_matches(db, fts, query, filters, limit, mark, lenient)


def _chapter_matches(db, fts: str, query: str, filters, limit: int, mark, lenient: bool):
    """search_chapters for ``fts``, the FTS5 query already made of ``query``."""
    where, params = _filter_sql(db.conn, filters, segment_range=False)
    named = {f"p{i}": value for i, value in enumerate(params)}
    for name in named:
        where = where.replace("?", f":{name}", 1)
    sql = CHAPTER_SQL.format(where=where)
    values = {"mark_start": mark[0], "mark_end": mark[1], "limit": limit, **named}
    try:
        cursor = db.execute(sql, {**values, "query": f"title : ({fts})"})
    except sqlite3.OperationalError as ex:
        if not lenient:  # e.g. a column filter of its own, which titles cannot take
            raise SearchQueryError(f"invalid search query {query!r}: {ex}") from None
        cursor = db.execute(sql, {**values, "query": f"title : ({quote_words(query)})"})
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row)) for row in cursor.fetchall()]


CHAPTER_TEXT_SQL = """
select
  episodes.title as episode_title,
  chapters.title as chapter_title,
  chapters.start,
  snippet(chapters_fts, -1, :mark_start, :mark_end, '…', 24) as snippet,
  chapters.episode_id,
  chapters.id as chapter_id,
  bm25(chapters_fts, 4.0, 1.0) as rank
from chapters_fts
  join chapters on chapters.id = chapters_fts.rowid
  join episodes on episodes.id = chapters.episode_id
where chapters_fts match :query
order by rank, chapters.episode_id, chapters.start
limit :limit
"""


@one_snapshot
def search_chapter_text(
    db: sqlite_utils.Database,
    query: str,
    *,
    limit: int = 100,
    mark: tuple[str, str] = (MARK_START, MARK_END),
    lenient: bool = True,
) -> list[dict]:
    """Chapters whose title or whole transcript matches, best first (a title match counts
    four times): finds a phrase even where it runs across two sentences."""
    fts = interpret_query(db.conn, query, lenient).query
    params = {"mark_start": mark[0], "mark_end": mark[1], "query": fts, "limit": limit}
    cursor = db.execute(CHAPTER_TEXT_SQL, params)
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row)) for row in cursor.fetchall()]
