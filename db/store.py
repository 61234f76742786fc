"""Write an aligned episode to the archive: one transaction per episode.

Storing an episode that is already there replaces it whole. If anything fails (or the
process is killed) part-way, SQLite rolls the transaction back and the archive is as
it was before.
"""

from __future__ import annotations

import datetime
import json
import sqlite3
from itertools import count

import sqlite_utils

from db.search_index import search_index_kept_in_step
from pipeline.records import AlignedEpisode, Chapter, Gap, Segment, Word


def store_episode(db: sqlite_utils.Database, episode: AlignedEpisode) -> None:
    with db.atomic(), search_index_kept_in_step(db, episode.id):
        delete_episode(db, episode.id)
        db["episodes"].insert(_episode_row(episode))
        chapter_ids = count(_next_id(db, "chapters"))
        segment_ids = count(_next_id(db, "segments"))
        word_ids = count(_next_id(db, "words"))
        segment_positions = count()
        chapter_rows, segment_rows, word_rows = [], [], []
        for chapter in episode.chapters:
            chapter_id = next(chapter_ids)
            chapter_rows.append(_chapter_row(episode.id, chapter_id, chapter))
            for segment in chapter.segments:
                segment_id = next(segment_ids)
                segment_rows.append(
                    _segment_row(
                        episode.id, chapter_id, segment_id, next(segment_positions), segment
                    )
                )
                word_rows.extend(
                    _word_row(episode.id, segment_id, next(word_ids), position, word)
                    for position, word in enumerate(segment.words)
                )
        _insert_rows(db, "chapters", chapter_rows)
        _insert_rows(db, "segments", segment_rows)
        _insert_rows(db, "words", word_rows)
        _insert_rows(db, "warnings", _warning_rows(episode))
        _insert_rows(db, "gaps", [_gap_row(episode.id, gap) for gap in episode.transcript.gaps])


def delete_episode(db: sqlite_utils.Database, episode_id: str) -> bool:
    """Remove an episode and everything under it; the FTS triggers follow."""
    with db.atomic(), search_index_kept_in_step(db, episode_id):
        existed = db.execute("select 1 from episodes where id = ?", [episode_id]).fetchone()
        for table in ("gaps", "words", "segments", "chapters"):
            db.execute(f"delete from [{table}] where episode_id = ?", [episode_id])
        db.execute("delete from warnings where episode_id = ?", [episode_id])
        db.execute("delete from episodes where id = ?", [episode_id])
    return existed is not None


def _insert_rows(db: sqlite_utils.Database, table: str, rows: list[dict]) -> None:
    """All the rows in as few statements as possible (one for an episode of a few hours).

    FTS5 writes its pending terms out as a new index segment before each statement inside
    a transaction: a statement per row or per chapter leaves dozens of small segments per
    episode, and merging them costs most in a large archive, where the index has more
    levels. One statement writes one segment.
    """
    if not rows:
        return
    columns = list(rows[0])
    names = ", ".join(f"[{column}]" for column in columns)
    per_statement = max(1, _variables_per_statement(db.conn) // len(columns))
    row_sql = "(" + ", ".join("?" * len(columns)) + ")"
    for start in range(0, len(rows), per_statement):
        batch = rows[start : start + per_statement]
        db.execute(
            f"insert into [{table}] ({names}) values " + ", ".join([row_sql] * len(batch)),
            [row[column] for row in batch for column in columns],
        )


def _variables_per_statement(conn: sqlite3.Connection) -> int:
    """SQLite's limit on bound values in one statement (999 before 3.32; asked on 3.11+)."""
    getlimit = getattr(conn, "getlimit", None)
    return getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) if getlimit else 999


def _next_id(db: sqlite_utils.Database, table: str) -> int:
    return db.execute(f"select coalesce(max(id), 0) + 1 from [{table}]").fetchone()[0]


def _episode_row(episode: AlignedEpisode) -> dict:
    return {
        "id": episode.id,
        "title": episode.title,
        "show": episode.show,
        "description": episode.description,
        "published": episode.published,
        "audio_path": episode.audio.path,
        "audio_url": episode.audio_url,
        "audio_sha256": episode.audio.sha256,
        "duration": episode.audio.duration,
        "language": episode.transcript.language,
        "model": episode.transcript.model,
        "transcribed_at": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"
        ),
        "outline_source": episode.outline_source,
        "outline_offset": episode.outline_offset,
    }


def _chapter_row(episode_id: str, chapter_id: int, chapter: Chapter) -> dict:
    return {
        "id": chapter_id,
        "episode_id": episode_id,
        "position": chapter.position,
        "title": chapter.title,
        "start": chapter.start,
        "end": chapter.end,
        "stated_start": chapter.stated_start,
        "confidence": chapter.confidence,
        "text": chapter.text,
        "hidden": int(chapter.hidden),
        **_link_columns(chapter.links or {}),
    }


def _link_columns(links: dict) -> dict:
    location = links.get("location")
    return {
        "img": links.get("img"),
        "url": links.get("url"),
        "location": None if location is None else json.dumps(location, ensure_ascii=False),
    }


def _warning_rows(episode: AlignedEpisode) -> list[dict]:
    return [
        {"episode_id": episode.id, "position": position, "message": message}
        for position, message in enumerate(episode.warnings)
    ]


def _segment_row(
    episode_id: str, chapter_id: int, segment_id: int, position: int, segment: Segment
) -> dict:
    return {
        "id": segment_id,
        "episode_id": episode_id,
        "chapter_id": chapter_id,
        "position": position,
        "start": segment.start,
        "end": segment.end,
        "text": segment.text,
        "avg_logprob": segment.avg_logprob,
        "no_speech_prob": segment.no_speech_prob,
        "speaker": segment.speaker,
    }


def _word_row(episode_id: str, segment_id: int, word_id: int, position: int, word: Word) -> dict:
    return {
        "id": word_id,
        "segment_id": segment_id,
        "episode_id": episode_id,
        "position": position,
        "start": word.start,
        "end": word.end,
        "word": word.word,
        "probability": word.probability,
    }


def _gap_row(episode_id: str, gap: Gap) -> dict:
    return {"episode_id": episode_id, "start": gap.start, "end": gap.end, "reason": gap.reason}
