"""Storing an episode when the archive file is locked, read-only, full or damaged.

SQLite's error messages ("attempt to write a readonly database") do not say which file
or what to do; these name the archive and the problem in one line. A locked archive is
waited for (another ingest may be storing a long episode), with a word on stderr so the
wait is not mistaken for a hang.
"""

from __future__ import annotations

import os
import sqlite3
import time
from typing import Callable

import sqlite_utils

from pipeline.records import AlignedEpisode

from .schema import ArchiveError
from .store import store_episode

DEFAULT_PATIENCE = 60.0  # seconds to wait for a locked archive before giving up
FIRST_WAIT = 3.0  # after this long, say that we are waiting


class StorageError(ArchiveError):
    """The episode could not be written; the message names the archive and why."""


def describe_storage_error(path: str, ex: sqlite3.Error) -> str:
    name = getattr(ex, "sqlite_errorname", "") or ""
    text = str(ex)
    if name.startswith("SQLITE_BUSY") or name.startswith("SQLITE_LOCKED") or "locked" in text:
        return f"{path}: the archive is locked by another process"
    if name.startswith("SQLITE_READONLY") or "readonly" in text:
        return f"{path}: the archive is read-only"
    if name.startswith("SQLITE_FULL") or "full" in text:
        return f"{path}: the disk (or the archive's size limit) is full"
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "malformed" in text:
        return f"{path}: the archive is damaged ({text})"
    if name.startswith(("SQLITE_IOERR", "SQLITE_CANTOPEN")):
        return f"{path}: the archive cannot be written ({text})"
    return f"{path}: cannot store the episode ({text})"


def patience_from_environment() -> float:
    try:
        return float(os.environ.get("ARCHIVE_BUSY_TIMEOUT", DEFAULT_PATIENCE))
    except ValueError:
        return DEFAULT_PATIENCE


def store_patiently(
    db: sqlite_utils.Database,
    episode: AlignedEpisode,
    *,
    on_wait: Callable[[str], None],
    patience: float | None = None,
) -> None:
    """``store_episode``, waiting up to ``patience`` seconds while the archive is locked;
    any storage failure becomes a ``StorageError``."""
    path = database_file(db)
    patience = patience_from_environment() if patience is None else patience
    deadline = time.monotonic() + patience
    wait = min(FIRST_WAIT, patience / 2)
    while True:
        db.execute(f"PRAGMA busy_timeout = {int(wait * 1000)}")
        try:
            store_episode(db, episode)
            return
        except sqlite3.Error as ex:
            message = describe_storage_error(path, ex)
            left = deadline - time.monotonic()
            if "locked" not in message or left <= 0:
                if "locked" in message:
                    message += (
                        f" (waited {patience:.0f} s; set ARCHIVE_BUSY_TIMEOUT to wait longer)"
                    )
                raise StorageError(message) from None
            on_wait(f"{path} is locked by another process; waiting up to {left:.0f} s more")
            wait = left


def database_file(db: sqlite_utils.Database) -> str:
    row = db.execute("PRAGMA database_list").fetchone()
    return row[2] if row and row[2] else "(memory)"
