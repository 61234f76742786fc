"""Derived search structures that let a frequent word be ranked without scoring every row.

FTS5's ``ORDER BY rank`` computes bm25 for every row that matches: about half a second for
"the" in a 1,000-hour archive. For each *frequent* term (in more than ``frequent`` segments)
this module keeps a champion list: the ``champions`` segments with the highest bm25 weight
for that term, with their term frequency and length, plus a *bound*: the highest weight of
any segment left out. Because a one-term bm25 score is ``idf × weight(tf, length, avgdl)``,
a list's top k are the exact top k whenever the k-th beats the bound (see ``weight_bound``).

A list is kept in two parts. Its *head*, its best 32nd (312 entries), is impact-ordered,
so one word's first pages read a few entries and stop; its *tail*, the rest, is in segment
order, so the entries a new episode brings are appended at the end of each term's tail
rather than scattered through it (in a 1,000-hour archive, scattered they dirtied one page
each: most of the cost of storing an episode). Every tail entry weighs at most the head's
least, so the head followed by the tail, sorted, is the list in impact order.

Tables (all rebuildable from ``segments`` by ``rebuild_search_index``):

- ``search_terms(term, df)``: how many segments hold each FTS5 term (bm25's idf needs it).
- ``search_lists(term, avgdl, bound)``: the frequent terms, the average segment length
  their list was ranked under, and the bound.
- ``search_champions(term, weight, segment_id, tf, length)``: the lists' heads,
  impact-ordered (``weight`` under the list's avgdl), so a search reads a list from its
  best entry down and stops as soon as the rest cannot matter.
- ``search_list_tails(term, segment_id, weight, tf, length)``: the rest of each list.
- ``search_list_sizes(term, entries)``: about how many entries each list holds. New
  entries never push old ones out, so a list grows with its word; once it holds twice
  ``champions`` it is trimmed back to its best ``champions`` and its bound raised (else an
  archive built by ingest alone would keep every posting of every frequent word).
- ``search_index_state``: ``in_step`` is 1 while the tables describe ``segments`` exactly.
  Triggers on ``segments`` clear it on any insert, update or delete (sqlite-utils, plain
  SQL, anything); ``store_episode`` brings the tables up to date and sets it again. While
  it is 0, search ranks with FTS5 alone: slower, never wrong. ``archive reindex`` sets it.
"""

from __future__ import annotations

import math
import sqlite3
import threading
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NamedTuple

import sqlite_utils

K1, B = 1.2, 0.75  # FTS5's bm25 constants (fts5_aux.c)
FREQUENT_TERM_ROWS = 5_000  # FTS5 ranks up to this many rows in about 12 ms
CHAMPIONS = 10_000  # per frequent term: deep enough for two or three words together
HEAD_SHARE = 32  # a list's best 32nd (312 of 10,000 entries) is its impact-ordered head
STATE_TABLE = "search_index_state"
LIST_TABLES = (
    "search_terms",
    "search_lists",
    "search_champions",
    "search_list_tails",
    "search_list_sizes",
)


def create_search_index_tables(db: sqlite_utils.Database) -> None:
    """The tables and triggers of m006 (``create_list_tails`` adds m007's)."""
    db.executescript(
        f"""
        create table search_terms (term text primary key, df integer not null) without rowid;
        create table search_lists (
          term text primary key, avgdl real not null, bound real not null) without rowid;
        create table search_champions (
          term text not null, weight real not null, segment_id integer not null,
          tf integer not null, length integer not null,
          primary key (term, weight, segment_id)) without rowid;
        create table {STATE_TABLE} (
          id integer primary key check (id = 1), in_step integer not null,
          frequent integer not null, champions integer not null);
        insert into {STATE_TABLE} values (1, 0, {FREQUENT_TERM_ROWS}, {CHAMPIONS});
        """
    )
    for event, when in (
        ("insert", ""),
        ("delete", ""),
        ("update of text", ""),
    ):
        name = "segments_search_index_" + event.split()[0]
        db.execute(
            f"create trigger [{name}] after {event} on segments {when}"
            f" begin update {STATE_TABLE} set in_step = 0 where in_step = 1; end"
        )


def create_list_tails(db: sqlite_utils.Database) -> None:
    """m007's tables: the lists' tails and sizes, and a trigger that drops both with their
    list, so code that rebuilds the lists without knowing of them (an older version, plain
    SQL) cannot leave a stale tail behind."""
    db.executescript(
        """
        create table search_list_tails (
          term text not null, segment_id integer not null, weight real not null,
          tf integer not null, length integer not null,
          primary key (term, segment_id)) without rowid;
        create table search_list_sizes (
          term text primary key, entries integer not null) without rowid;
        create trigger search_lists_delete_parts after delete on search_lists begin
          delete from search_list_tails where term = old.term;
          delete from search_list_sizes where term = old.term;
        end;
        """
    )


def head_size(champions: int) -> int:
    return max(1, champions // HEAD_SHARE)


def has_search_index(db: sqlite_utils.Database) -> bool:
    return db[STATE_TABLE].exists()


def index_in_step(conn: sqlite3.Connection) -> bool:
    try:
        row = conn.execute(f"select in_step from {STATE_TABLE}").fetchone()
    except sqlite3.OperationalError:
        return False  # an archive from before the search index: FTS5 alone
    return bool(row and row[0])


# --- bm25, exactly as FTS5 computes it --------------------------------------------------


@dataclass(frozen=True)
class FtsStats:
    rows: int
    tokens: int

    @property
    def avgdl(self) -> float:
        return float(self.tokens) / float(self.rows) if self.rows else 0.0


def fts_stats(conn: sqlite3.Connection) -> FtsStats:
    """Row and token totals from FTS5's own averages record (rowid 1 of the data table)."""
    row = conn.execute("select block from segments_fts_data where id = 1").fetchone()
    if row is None or not row[0]:
        return FtsStats(0, 0)
    rows, at = _varint(row[0], 0)
    tokens, _ = _varint(row[0], at)
    return FtsStats(rows, tokens)


def _varint(data: bytes, at: int) -> tuple[int, int]:
    """SQLite's varint: 7 bits a byte, high bit set on all but the last; a 9th byte has 8."""
    value = 0
    for index in range(9):
        byte = data[at + index]
        if index == 8:
            return (value << 8) | byte, at + 9
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, at + index + 1
    raise AssertionError("unreachable")


def idf(stats: FtsStats, df: int) -> float:
    value = math.log((stats.rows - df + 0.5) / (df + 0.5))
    return value if value > 0.0 else 1e-6


def weight(tf: float, length: int, avgdl: float) -> float:
    """One term's bm25 factor for one row, written as fts5_aux.c writes it (same rounding)."""
    return (tf * (K1 + 1.0)) / (tf + K1 * (1 - B + B * float(length) / avgdl))


def weights_of(tfs, lengths, avgdl: float, np):
    """weight() of numpy arrays: the same operations in the same order, so the same floats."""
    tfs = tfs.astype(np.float64)
    return (tfs * (K1 + 1.0)) / (tfs + K1 * ((1 - B) + B * lengths.astype(np.float64) / avgdl))


def rank_value(idfs: list[float], weights: list[float]) -> float:
    score = 0.0
    for term_idf, term_weight in zip(idfs, weights):
        score += term_idf * term_weight
    return -1.0 * score


def weight_bound(bound: float, list_avgdl: float, avgdl: float) -> float:
    """The highest weight, under today's ``avgdl``, of a row that weighed at most ``bound``
    under ``list_avgdl`` (when the list was ranked).

    weight = tf(K1+1) / (tf + L) with L = c + d/avgdl. weight <= bound fixes a least L for
    each tf; rescaling d/avgdl to the new average, the weight is largest as tf grows (the
    average grew) or at tf = 1 (it shrank). A little slack covers rounding.
    """
    if bound <= 0.0:
        return 0.0
    if list_avgdl == avgdl:
        return bound
    top = K1 + 1.0
    c, r = K1 * (1 - B), list_avgdl / avgdl
    spread = r * (top - bound) / bound
    if r <= 1.0:
        worst = top / (1.0 + spread)
    else:
        worst = top / max(1e-12, 1.0 + c * (1.0 - r) + spread)
    return min(top, worst) * (1.0 + 1e-9)


# --- the archive's tokenizer, outside the archive -----------------------------------------

_local = threading.local()


def _tokenizer() -> sqlite3.Connection:
    """A private in-memory FTS5 table with the archive's tokenizer: query and new segments
    are split into terms exactly as the index splits them, on any connection, read-only or not.
    """
    conn = getattr(_local, "conn", None)
    if conn is None:
        from .schema import FTS_TOKENIZER

        conn = sqlite3.connect(":memory:", check_same_thread=False)
        conn.execute(f"create virtual table tok using fts5(text, tokenize='{FTS_TOKENIZER}')")
        conn.execute("create virtual table tok_i using fts5vocab(tok, instance)")
        _local.conn = conn
    return conn


def tokenize_rows(rows: list[tuple[int, str]]) -> dict[int, tuple[Counter, int]]:
    """``{rowid: (term counts, length in tokens)}`` for ``(rowid, text)`` pairs."""
    conn = _tokenizer()
    with conn:
        conn.execute("delete from tok")
        conn.executemany("insert into tok (rowid, text) values (?, ?)", rows)
        result: dict[int, tuple[Counter, int]] = {rowid: (Counter(), 0) for rowid, _ in rows}
        for term, doc, count in conn.execute(
            "select term, doc, count(*) from tok_i group by doc, term"
        ):
            counts, length = result[doc]
            counts[term] = count
            result[doc] = (counts, length + count)
        conn.execute("delete from tok")
    return result


def tokenize(text: str) -> list[str]:
    """The terms of ``text`` in order."""
    conn = _tokenizer()
    with conn:
        conn.execute("delete from tok")
        conn.execute("insert into tok (rowid, text) values (1, ?)", [text])
        terms = [row[0] for row in conn.execute("select term from tok_i order by offset")]
        conn.execute("delete from tok")
    return terms


# --- building and keeping in step ------------------------------------------------------


def rebuild_search_index(
    db: sqlite_utils.Database, *, frequent: int | None = None, champions: int | None = None
) -> None:
    """Rebuild every derived search structure from ``segments`` (via its FTS5 index)."""
    import numpy as np

    with db.atomic():
        settings = _settings(db, frequent, champions)
        for table in LIST_TABLES:
            db.execute(f"delete from {table}")
        with _vocabulary_tables(db.conn):
            db.execute("insert into search_terms select term, doc from temp.search_vocab_row")
            stats = fts_stats(db.conn)
            all_lengths = _segment_lengths(db.conn, np)
            terms = db.execute(
                "select term from search_terms where df > ? order by term", [settings[0]]
            ).fetchall()
            for (term,) in terms:
                docs, tfs = _postings(db.conn, term, np)
                lengths = all_lengths[docs]
                _build_list(db.conn, term, docs, tfs, lengths, stats.avgdl, settings[1], np)
        db.execute(
            f"update {STATE_TABLE} set in_step = 1, frequent = ?, champions = ?", list(settings)
        )


def _settings(db, frequent, champions) -> tuple[int, int]:
    stored = db.execute(f"select frequent, champions from {STATE_TABLE}").fetchone()
    return (frequent or stored[0], champions or stored[1])


@contextmanager
def _vocabulary_tables(conn: sqlite3.Connection):
    conn.execute(
        "create virtual table temp.search_vocab_row using fts5vocab(main, segments_fts, row)"
    )
    conn.execute(
        "create virtual table temp.search_vocab_instance"
        " using fts5vocab(main, segments_fts, instance)"
    )
    try:
        yield
    finally:
        conn.execute("drop table temp.search_vocab_row")
        conn.execute("drop table temp.search_vocab_instance")


def _segment_lengths(conn, np):
    """Tokens per segment, indexed by segment id (FTS5's docsize blobs: one varint per column)."""
    top = conn.execute("select coalesce(max(id), 0) from segments_fts_docsize").fetchone()[0]
    lengths = np.zeros(top + 1, dtype=np.int64)
    for rowid, size in conn.execute("select id, sz from segments_fts_docsize"):
        lengths[rowid] = _varint(size, 0)[0]
    return lengths


def _postings(conn, term: str, np):
    """The segments that hold ``term`` and how often, from the FTS5 index."""
    postings = np.array(
        conn.execute(
            "select doc, count(*) from temp.search_vocab_instance where term = ? group by doc",
            [term],
        ).fetchall(),
        dtype=np.int64,
    ).reshape(-1, 2)
    return postings[:, 0], postings[:, 1]


def _postings_with_lengths(conn, term: str, np):
    """``_postings`` and each segment's length, for one list: cheaper than reading every
    length as the rebuild does. SQLite hands over each column as one string for numpy to
    parse (a row per posting costs as much again); lengths come as the hex of FTS5's docsize
    varints, one byte each below 128 tokens."""
    occurrences = conn.execute(
        "select group_concat(doc, ' ') from temp.search_vocab_instance where term = ?", [term]
    ).fetchone()[0]
    docs, tfs = np.unique(
        np.fromstring(occurrences or "", dtype=np.int64, sep=" "), return_counts=True
    )
    sizes = conn.execute(
        "select group_concat(hex(sz), '') from (select sz from segments_fts_docsize"
        " where id in (select doc from temp.search_vocab_instance where term = ?) order by id)",
        [term],
    ).fetchone()[0]
    one_byte_each = bytes.fromhex(sizes or "")
    if len(one_byte_each) == len(docs):
        return docs, tfs, np.frombuffer(one_byte_each, dtype=np.uint8).astype(np.int64)
    lengths = dict(
        (rowid, _varint(size, 0)[0])
        for rowid, size in conn.execute(
            "select id, sz from segments_fts_docsize"
            " where id in (select doc from temp.search_vocab_instance where term = ?)",
            [term],
        )
    )
    return docs, tfs, np.array([lengths[doc] for doc in docs.tolist()], dtype=np.int64)


def _build_list(conn, term, docs, tfs, lengths, avgdl, champions, np) -> None:
    """A term's list from its postings: the best ``champions`` by weight, head then tail,
    and the bound."""
    weights = weights_of(tfs, lengths, avgdl, np)
    order = np.argsort(-weights, kind="stable")
    kept, left_out = order[:champions], order[champions:]
    bound = float(weights[left_out].max()) if len(left_out) else 0.0
    head = head_size(champions)
    best, rest = kept[:head], np.sort(kept[head:])  # the rest in segment order, as stored
    _insert_entries(
        conn,
        _rows(term, best, weights, docs, tfs, lengths),
        _rows(term, rest, docs, weights, tfs, lengths),
    )
    conn.execute("insert or replace into search_lists values (?, ?, ?)", [term, avgdl, bound])
    conn.execute("insert or replace into search_list_sizes values (?, ?)", [term, len(kept)])


def _rows(term: str, chosen, *columns) -> list[tuple]:
    """``(term, *columns)`` of the chosen postings, from numpy arrays (the same floats)."""
    return list(zip([term] * len(chosen), *(column[chosen].tolist() for column in columns)))


def _entry(term: str, segment_id: int, tf: int, length: int, list_avgdl: float) -> tuple:
    """A list entry; its weight comes from weight() alone, so a delete can find it again."""
    return (term, weight(tf, length, list_avgdl), segment_id, tf, length)


def _insert_entries(conn, head: list[tuple], tail: list[tuple]) -> None:
    """Rows into the heads (term, weight, segment id, tf, length) and the tails (term,
    segment id, weight, tf, length), each in key order, so SQLite fills one page after
    another instead of hopping between them."""
    conn.executemany("insert or replace into search_champions values (?, ?, ?, ?, ?)", sorted(head))
    conn.executemany(
        "insert or replace into search_list_tails values (?, ?, ?, ?, ?)", sorted(tail)
    )


def _remove_entries(conn, entries: list[tuple]) -> None:
    """Entries (as ``_entry`` makes them) out of whichever part of their list holds them."""
    conn.executemany(
        "delete from search_champions where term = ? and weight = ? and segment_id = ?",
        [entry[:3] for entry in entries],
    )
    conn.executemany(
        "delete from search_list_tails where term = ? and segment_id = ?",
        [(entry[0], entry[2]) for entry in entries],
    )


@contextmanager
def search_index_kept_in_step(db: sqlite_utils.Database, episode_id: str):
    """Around a change to one episode's segments (inside its transaction): afterwards, update
    the search structures by that episode's difference, so ingest never needs a reindex."""
    conn = db.conn
    active = _local.__dict__.setdefault("changing", set())
    if (id(conn), episode_id) in active:
        yield  # the outer change (store_episode around delete_episode) accounts for it
        return
    in_step = index_in_step(conn)
    select = "select id, text from segments where episode_id = ?"
    removed = conn.execute(select, [episode_id]).fetchall() if in_step else []
    active.add((id(conn), episode_id))
    try:
        yield
    finally:
        active.discard((id(conn), episode_id))
    if in_step:
        _apply_difference(db, removed, conn.execute(select, [episode_id]).fetchall())


def _apply_difference(db, removed: list, added: list) -> None:
    """Term counts, list entries and new lists for segments removed and added.

    A new segment joins a list only if it outweighs the bound (else the list's top k stay
    provable as they are); it joins the head only if it outweighs the head's least entry,
    which keeps every tail entry at most that heavy (reading the head before the tail
    keeps impact order), and sends most new entries to the tail's end.
    """
    conn = db.conn
    frequent, champions = _settings(db, None, None)
    lists = _list_summaries(conn)
    changes: Counter = Counter()
    leaving = []
    for rowid, (counts, length) in tokenize_rows([(i, t or "") for i, t in removed]).items():
        changes.update({term: -1 for term in counts})
        leaving += [
            _entry(term, rowid, counts[term], length, lists[term].avgdl)
            for term in counts.keys() & lists.keys()
        ]
    _remove_entries(conn, leaving)
    head, tail = [], []
    for rowid, (counts, length) in tokenize_rows([(i, t or "") for i, t in added]).items():
        changes.update({term: 1 for term in counts})
        for term, tf in counts.items():
            listed = lists.get(term)
            if listed is None:
                continue
            w = weight(tf, length, listed.avgdl)
            if w <= listed.bound:
                continue
            if w > listed.least_in_head:
                head.append((term, w, rowid, tf, length))
            else:
                tail.append((term, rowid, w, tf, length))
    _insert_entries(conn, head, tail)
    _count_and_trim(conn, lists, Counter(row[0] for row in head + tail), champions)
    _change_document_frequencies(conn, changes)
    _list_newly_frequent_terms(db, changes, lists, frequent, champions)
    conn.execute(f"update {STATE_TABLE} set in_step = 1")


class _ListSummary(NamedTuple):
    avgdl: float  # the average segment length the list was ranked under
    bound: float
    least_in_head: float  # infinite once deletions empty the head: all then goes to the tail
    entries: int  # from search_list_sizes: counted up as entries join (deletions aside)


def _list_summaries(conn) -> dict[str, _ListSummary]:
    return {
        row[0]: _ListSummary(row[1], row[2], math.inf if row[3] is None else row[3], row[4])
        for row in conn.execute(
            "select l.term, l.avgdl, l.bound,"
            " (select min(c.weight) from search_champions as c where c.term = l.term),"
            " coalesce(s.entries, 0)"
            " from search_lists as l left join search_list_sizes as s on s.term = l.term"
        )
    }


def _count_and_trim(conn, lists: dict, joined: Counter, champions: int) -> None:
    """Add the entries that joined each list to its size; trim the lists grown past twice
    ``champions`` (for each list about once every time its word doubles its segments)."""
    conn.executemany(
        "insert into search_list_sizes values (?, ?)"
        " on conflict (term) do update set entries = entries + excluded.entries",
        list(joined.items()),
    )
    for term, count in joined.items():
        if lists[term].entries + count > 2 * champions:
            _trim_list(conn, term, champions)


def _trim_list(conn, term: str, champions: int) -> None:
    """Keep a list's best ``champions`` entries (ties with the last kept too) and raise its
    bound to the best one dropped: still every entry above the bound, as a list must be."""
    both = (
        "(select weight from search_champions where term = :term"
        " union all select weight from search_list_tails where term = :term)"
    )
    params = {"term": term, "offset": champions - 1}
    cut = conn.execute(
        f"select weight from {both} order by weight desc limit 1 offset :offset", params
    ).fetchone()
    if cut is None:
        return
    params["cut"] = cut[0]
    best_dropped = conn.execute(f"select max(weight) from {both} where weight < :cut", params)
    best_dropped = best_dropped.fetchone()[0]
    if best_dropped is not None:
        conn.execute("delete from search_list_tails where term = :term and weight < :cut", params)
        conn.execute("delete from search_champions where term = :term and weight < :cut", params)
        conn.execute(
            "update search_lists set bound = max(bound, ?) where term = ?", [best_dropped, term]
        )
    kept = conn.execute(f"select count(*) from {both}", params).fetchone()[0]
    conn.execute("update search_list_sizes set entries = ? where term = ?", [kept, term])


def _change_document_frequencies(conn, changes: Counter) -> None:
    conn.executemany(
        "insert into search_terms values (?, ?)"
        " on conflict (term) do update set df = df + excluded.df",
        [(term, change) for term, change in changes.items() if change],
    )
    gone = [term for term, change in changes.items() if change < 0]
    conn.executemany("delete from search_terms where term = ? and df <= 0", [(t,) for t in gone])


def _list_newly_frequent_terms(db, changes, listed, frequent, champions) -> None:
    grown = [term for term, change in changes.items() if change > 0 and term not in listed]
    if not grown:
        return
    placeholders = ",".join("?" * len(grown))
    crossing = [
        row[0]
        for row in db.execute(
            f"select term from search_terms where df > ? and term in ({placeholders})",
            [frequent, *grown],
        )
    ]
    if crossing:
        import numpy as np

        with _vocabulary_tables(db.conn):
            avgdl = fts_stats(db.conn).avgdl
            for term in crossing:
                docs, tfs, lengths = _postings_with_lengths(db.conn, term, np)
                _build_list(db.conn, term, docs, tfs, lengths, avgdl, champions, np)


def search_index_summary(db: sqlite_utils.Database) -> dict:
    """What ``archive reindex`` reports."""
    count = lambda sql: db.execute(sql).fetchone()[0]  # noqa: E731
    return {
        "terms": count("select count(*) from search_terms"),
        "frequent_terms": count("select count(*) from search_lists"),
        "champions": count(
            "select (select count(*) from search_champions)"
            " + (select count(*) from search_list_tails)"
        ),
    }


def finish_search_index(path) -> None:
    """Rebuild the search structures of the archive file at ``path`` if they are not in step
    (``archive publish`` ships them finished: a bundle is read-only and can never catch up)."""
    db = sqlite_utils.Database(path)
    try:
        if has_search_index(db) and not index_in_step(db.conn):
            rebuild_search_index(db)
    finally:
        db.close()
