"""The archive's schema, built by numbered migrations.

Each migration runs in its own transaction together with the record that it ran, so a
migration either applies whole or not at all, and applying them again is a no-op.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import sqlite_utils
from sqlite_utils.migrations import Migrations

migrations = Migrations("archive")
FTS_TOKENIZER = "porter unicode61 remove_diacritics 2"


@migrations()
def m001_episodes_chapters_segments_words(db: sqlite_utils.Database) -> None:
    db["episodes"].create(
        {
            "id": str,
            "title": str,
            "show": str,
            "description": str,
            "published": str,
            "audio_path": str,
            "audio_url": str,
            "audio_sha256": str,
            "duration": float,
            "language": str,
            "model": str,
            "transcribed_at": str,
            "outline_source": str,
            "outline_offset": float,
        },
        pk="id",
        not_null={"title"},
        defaults={"outline_offset": 0.0},
    )
    db["chapters"].create(
        {
            "id": int,
            "episode_id": str,
            "position": int,
            "title": str,
            "start": float,
            "end": float,
            "stated_start": float,
            "confidence": float,
            "text": str,
        },
        pk="id",
        foreign_keys=[("episode_id", "episodes", "id")],
        not_null={"episode_id", "position", "start", "end"},
    )
    db["chapters"].create_index(["episode_id", "position"], unique=True)
    db["segments"].create(
        {
            "id": int,
            "episode_id": str,
            "chapter_id": int,
            "position": int,
            "start": float,
            "end": float,
            "text": str,
            "avg_logprob": float,
            "no_speech_prob": float,
        },
        pk="id",
        foreign_keys=[("episode_id", "episodes", "id"), ("chapter_id", "chapters", "id")],
        not_null={"episode_id", "chapter_id", "position", "start", "end"},
    )
    db["segments"].create_index(["episode_id", "position"], unique=True)
    db["segments"].create_index(["chapter_id"])
    db["words"].create(
        {
            "id": int,
            "segment_id": int,
            "episode_id": str,
            "position": int,
            "start": float,
            "end": float,
            "word": str,
            "probability": float,
        },
        pk="id",
        foreign_keys=[("segment_id", "segments", "id"), ("episode_id", "episodes", "id")],
        not_null={"segment_id", "episode_id", "position"},
    )
    db["words"].create_index(["segment_id", "position"], unique=True)
    db["words"].create_index(["episode_id"])
    db["episodes"].create_index(["audio_sha256"])


@migrations()
def m002_full_text_search(db: sqlite_utils.Database) -> None:
    db["segments"].enable_fts(["text"], create_triggers=True, tokenize=FTS_TOKENIZER)
    db["chapters"].enable_fts(["title", "text"], create_triggers=True, tokenize=FTS_TOKENIZER)


@migrations()
def m003_hidden_chapters(db: sqlite_utils.Database) -> None:
    """Chapters an outline keeps out of its table of contents (Podcasting 2.0 ``toc: false``)."""
    db["chapters"].add_column("hidden", int, not_null_default=0)


@migrations()
def m004_gaps(db: sqlite_utils.Database) -> None:
    """Stretches where speech was heard but no decoding produced words."""
    db["gaps"].create(
        {"id": int, "episode_id": str, "start": float, "end": float, "reason": str},
        pk="id",
        foreign_keys=[("episode_id", "episodes", "id")],
        not_null={"episode_id", "start", "end", "reason"},
    )
    db["gaps"].create_index(["episode_id", "start"])


@migrations()
def m005_warnings(db: sqlite_utils.Database) -> None:
    """What was fixed or left out while an episode was read, grouped and capped."""
    db["warnings"].create(
        {"id": int, "episode_id": str, "position": int, "message": str},
        pk="id",
        foreign_keys=[("episode_id", "episodes", "id")],
        not_null={"episode_id", "position", "message"},
    )
    db["warnings"].create_index(["episode_id", "position"], unique=True)


@migrations()
def m005b_chapter_links(db: sqlite_utils.Database) -> None:
    """Podcasting 2.0 chapter ``img``, ``url`` and ``location`` (a JSON object)."""
    for column in ("img", "url", "location"):
        db["chapters"].add_column(column, str)


@migrations()
def m005c_segment_speakers(db: sqlite_utils.Database) -> None:
    """Who speaks, where a publisher's transcript says so."""
    db["segments"].add_column("speaker", str)


@migrations()
def m006_search_index(db: sqlite_utils.Database) -> None:
    """Term statistics and champion lists, so frequent words rank fast (db/search_index.py);
    m007 fills them."""
    from .search_index import create_search_index_tables

    create_search_index_tables(db)


@migrations()
def m007_search_list_tails(db: sqlite_utils.Database) -> None:
    """Each champion list split into an impact-ordered head and a tail in segment order, so
    storing an episode appends to the tails; the lists are rebuilt split."""
    from .search_index import create_list_tails, rebuild_search_index

    create_list_tails(db)
    rebuild_search_index(db)


class ArchiveError(Exception):
    """The archive file cannot be used; the message says why, in one line."""


def open_archive(path: str | os.PathLike, *, create: bool = True) -> sqlite_utils.Database:
    """Open (and bring up to date) the archive at ``path``, for writing.

    Only a new (empty) file or an archive is touched: any other SQLite file, such as an
    application's database named by mistake, is refused before anything is written.
    """
    if not create and not os.path.exists(path):
        raise ArchiveError(f"{path}: no archive here (ingest something first, or pass --db)")
    try:
        db = sqlite_utils.Database(path)
        db.execute("PRAGMA busy_timeout = 5000")
        refuse_other_files(db, path)
        # WAL: `archive serve` goes on reading while an episode is stored, and never sees
        # half of one. The mode is kept in the file, so readers find it there.
        db.execute("PRAGMA journal_mode = WAL")
        migrations.apply(db)
    except sqlite3.DatabaseError as ex:
        if "locked" in str(ex):
            raise ArchiveError(f"{path}: the archive is locked by another process") from None
        raise ArchiveError(f"{path}: not a usable archive ({ex})") from None
    return db


def open_archive_read_only(path: str | os.PathLike) -> sqlite_utils.Database:
    """The archive at ``path`` for reading: a read-only connection that migrates nothing."""
    if not os.path.isfile(path):
        raise ArchiveError(f"{path}: no archive here (ingest something first, or pass --db)")
    try:
        conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
        conn.execute("PRAGMA query_only = 1")
        db = sqlite_utils.Database(conn)
        db.execute("PRAGMA busy_timeout = 5000")
        if not is_archive(db):
            raise ArchiveError(f"{path}: not an archive ({describe_tables(db)})")
        pending = [migration.name for migration in migrations.pending(db)]
    except sqlite3.DatabaseError as ex:
        raise ArchiveError(f"{path}: not a usable archive ({ex})") from None
    if pending:
        db.close()
        raise ArchiveError(
            f"{path}: made by an older version (schema lacks {', '.join(pending)}); "
            "upgrade it once with a command that writes, such as `archive reindex`"
        )
    return db


def is_archive(db: sqlite_utils.Database) -> bool:
    """True when the archive's migrations have run on this file."""
    if not db[Migrations.migrations_table].exists():
        return False
    sql = f"select 1 from [{Migrations.migrations_table}] where migration_set = ? limit 1"
    return db.execute(sql, [migrations.name]).fetchone() is not None


def refuse_other_files(db: sqlite_utils.Database, path) -> None:
    if db.table_names() and not is_archive(db):
        raise ArchiveError(
            f"{path}: not an archive ({describe_tables(db)}); nothing was changed "
            "(is --db pointing at another application's database?)"
        )


def describe_tables(db: sqlite_utils.Database) -> str:
    names = db.table_names()
    if not names:
        return "an empty SQLite file"
    shown = ", ".join(names[:5]) + (", …" if len(names) > 5 else "")
    return f"a SQLite file with other tables: {shown}"
