"""The archive's schema, built by numbered migrations.

Each migration runs in its own transaction together with the record that it ran, so a
migration either applies whole or not at all, and applying them again is a no-op.
"""

from __future__ import annotations

import os
import sqlite3

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


class ArchiveError(Exception):
    """The archive file cannot be used; the message says why, in one line."""


def open_archive(path: str | os.PathLike, *, create: bool = True) -> sqlite_utils.Database:
    """Open (and bring up to date) the archive at ``path``."""
    if not create and not os.path.exists(path):
        raise ArchiveError(f"{path}: no archive here (ingest something first, or pass --db)")
    try:
        db = sqlite_utils.Database(path)
        db.execute("PRAGMA busy_timeout = 5000")
        migrations.apply(db)
    except sqlite3.DatabaseError as ex:
        if "locked" in str(ex):
            raise ArchiveError(f"{path}: the archive is locked by another process") from None
        raise ArchiveError(f"{path}: not a usable archive ({ex})") from None
    return db
