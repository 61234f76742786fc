"""The rules the CLI and the web pages share, each written once.

Query quoting, the clock format next to hits, which audio URLs are public, and where a
stored audio path points. Standard library only: a published bundle's plugins carry this
file beside them and run on Datasette alone (see ``load_rules`` in each plugin).
"""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from pathlib import Path

FTS_SYNTAX = re.compile(r'["*()^:]|\b(AND|OR|NOT|NEAR)\b')
AUDIO_ROUTE = r"^/-/audio/(?P<sha256>[0-9a-f]{64})(?P<suffix>\.[0-9A-Za-z]{1,8})?$"
LOCAL_AUDIO = "/-/audio/{sha256}{suffix}"  # a URL that AUDIO_ROUTE matches
STATIC_ROUTE = r"^/-/archive-static/(?P<path>.*)$"
PUBLIC_SCHEMES = ("https://", "http://")


def quote_words(query: str) -> str:
    """Each word as a literal FTS5 string, so punctuation means nothing special."""
    return " ".join('"' + word.replace('"', '""') + '"' for word in query.split())


def hours_minutes_seconds(whole_seconds: int) -> tuple[int, int, int]:
    hours, rest = divmod(max(0, whole_seconds), 3600)
    return (hours, *divmod(rest, 60))


def clock(seconds: float) -> str:
    """``05:32`` or ``01:02:06``: a moment, as printed next to search hits."""
    hours, minutes, secs = hours_minutes_seconds(int(max(0.0, seconds)))
    return f"{hours:02d}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def has_public_url(audio_url: str | None) -> bool:
    """Only http and https URLs are links: never ``javascript:``, ``file:`` and the like."""
    return bool(audio_url) and audio_url.lower().startswith(PUBLIC_SCHEMES)


def audio_file_path(database_file: str | Path | None, audio_path: str) -> Path:
    """Where a stored ``audio_path`` points: a relative path (a published bundle's
    ``audio/<sha256>.mp3``) is relative to the folder of the database file."""
    path = Path(audio_path)
    if path.is_absolute() or database_file is None:
        return path
    return Path(database_file).resolve().parent / path


def static_url(datasette, file_name: str) -> str:
    """The URL of ``plugins/static/<file_name>`` (archive_static.py serves it)."""
    return datasette.urls.path(f"/-/archive-static/{file_name}")


def read_privately(database_file: str | Path, sql: str, params=()) -> list[tuple]:
    """Rows read on a read-only connection of the plugins' own: the connections Datasette
    serves SQL on read every ``*path`` column as NULL (archive_limits.py)."""
    uri = f"{Path(database_file).resolve().as_uri()}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as conn:
        return conn.execute(sql, list(params)).fetchall()


def file_version(database_file: str | Path) -> tuple:
    """Changes whenever the database or its write-ahead log does: when cached answers
    about a live archive must be read again."""
    version = []
    for path in (Path(database_file), Path(f"{database_file}-wal")):
        try:
            status = path.stat()
            version += [status.st_mtime_ns, status.st_size, status.st_ino]
        except OSError:
            version += [None]
    return tuple(version)
