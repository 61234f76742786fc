"""Reading episodes and chapters back out of the archive."""

from __future__ import annotations

import json

import sqlite_utils

from pipeline.records import AlignedEpisode, AudioInfo, Chapter, Segment, Transcript, Word

LIST_EPISODES_SQL = """
select
  episodes.id,
  episodes.title,
  episodes.duration,
  (select count(*) from chapters where chapters.episode_id = episodes.id) as chapters,
  (select count(*) from segments where segments.episode_id = episodes.id) as segments,
  episodes.outline_source,
  episodes.model,
  episodes.transcribed_at
from episodes
order by episodes.transcribed_at, episodes.id
"""

EPISODE_CHAPTERS_SQL = """
select position, title, start, end, stated_start, confidence, hidden = 1 as hidden
from chapters
where episode_id = ?
order by position
"""


class EpisodeNotFound(Exception):
    pass


def list_episodes(db: sqlite_utils.Database) -> list[dict]:
    return list(db.query(LIST_EPISODES_SQL))


def find_episode(db: sqlite_utils.Database, reference: str) -> dict:
    """An episode by its id, or by a prefix of its id that only it has."""
    row = db.execute("select id from episodes where id = ?", [reference]).fetchone()
    if row is None:
        escaped = reference.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = db.execute(
            "select id from episodes where id like ? escape '\\' limit 2", [escaped + "%"]
        ).fetchall()
        if len(rows) != 1:
            problem = "no episode" if not rows else "more than one episode"
            raise EpisodeNotFound(f"{problem} matches {reference!r} (see: archive episodes)")
        row = rows[0]
    return db["episodes"].get(row[0])


def episode_chapters(db: sqlite_utils.Database, episode_id: str) -> list[dict]:
    rows = list(db.query(EPISODE_CHAPTERS_SQL, [episode_id]))
    for row in rows:
        row["hidden"] = bool(row["hidden"])
    return rows


def episode_warnings(db: sqlite_utils.Database, episode_id: str) -> list[str]:
    """What was fixed or left out when the episode was read, as stored."""
    rows = db.execute(
        "select message from warnings where episode_id = ? order by position", [episode_id]
    )
    return [row[0] for row in rows]


def episode_gaps(db: sqlite_utils.Database, episode_id: str) -> list[dict]:
    """Stretches of heard speech that have no words, in order."""
    return list(
        db.query(
            "select start, end, reason from gaps where episode_id = ? order by start", [episode_id]
        )
    )


def existing_episode_ids(db: sqlite_utils.Database, ids: list[str]) -> set[str]:
    """Those of ``ids`` that the archive already holds."""
    found: set[str] = set()
    for first in range(0, len(ids), 500):  # SQLite limits the number of parameters
        batch = ids[first : first + 500]
        marks = ", ".join("?" for _ in batch)
        rows = db.execute(f"select id from episodes where id in ({marks})", batch)
        found.update(row[0] for row in rows)
    return found


def stored_transcriptions(db: sqlite_utils.Database, ids: list[str]) -> dict[str, tuple]:
    """``(audio_sha256, model)`` of each of ``ids`` that the archive already holds."""
    found: dict[str, tuple] = {}
    for first in range(0, len(ids), 500):  # SQLite limits the number of parameters
        batch = ids[first : first + 500]
        marks = ", ".join("?" for _ in batch)
        sql = f"select id, audio_sha256, model from episodes where id in ({marks})"
        found.update((row[0], (row[1], row[2])) for row in db.execute(sql, batch))
    return found


def load_episode(db: sqlite_utils.Database, episode_id: str) -> AlignedEpisode:
    """An episode as stored: its chapters in order, each with its segments and words."""
    row = db["episodes"].get(episode_id)
    words = _words_by_segment(db, episode_id)
    segments_by_chapter: dict[int, list[Segment]] = {}
    for segment in db.query(
        "select * from segments where episode_id = ? order by position", [episode_id]
    ):
        segments_by_chapter.setdefault(segment["chapter_id"], []).append(
            Segment(
                start=segment["start"],
                end=segment["end"],
                text=segment["text"],
                words=words.get(segment["id"], []),
                avg_logprob=segment["avg_logprob"],
                no_speech_prob=segment["no_speech_prob"],
                speaker=segment["speaker"],
            )
        )
    chapters = [
        Chapter(
            position=chapter["position"],
            title=chapter["title"],
            start=chapter["start"],
            end=chapter["end"],
            stated_start=chapter["stated_start"],
            confidence=chapter["confidence"],
            hidden=bool(chapter["hidden"]),
            segments=segments_by_chapter.get(chapter["id"], []),
            links=_links(chapter),
        )
        for chapter in db.query(
            "select * from chapters where episode_id = ? order by position", [episode_id]
        )
    ]
    episode = _episode_from_row(row, chapters)
    episode.warnings = episode_warnings(db, episode_id)
    return episode


def _links(chapter: dict) -> dict | None:
    links = {key: chapter[key] for key in ("img", "url") if chapter[key]}
    if chapter["location"]:
        links["location"] = json.loads(chapter["location"])
    return links or None


def _words_by_segment(db: sqlite_utils.Database, episode_id: str) -> dict[int, list[Word]]:
    words: dict[int, list[Word]] = {}
    for word in db.query(
        "select * from words where episode_id = ? order by segment_id, position", [episode_id]
    ):
        words.setdefault(word["segment_id"], []).append(
            Word(word["start"], word["end"], word["word"], word["probability"])
        )
    return words


def _episode_from_row(row: dict, chapters: list[Chapter]) -> AlignedEpisode:
    audio = AudioInfo(row["audio_path"], row["audio_sha256"], row["duration"], None)
    segments = [segment for chapter in chapters for segment in chapter.segments]
    transcript = Transcript(segments, row["language"], row["duration"], row["model"])
    return AlignedEpisode(
        id=row["id"],
        title=row["title"],
        audio=audio,
        transcript=transcript,
        chapters=chapters,
        outline_source=row["outline_source"],
        outline_offset=row["outline_offset"] or 0.0,
        show=row["show"],
        description=row["description"],
        published=row["published"],
        audio_url=row["audio_url"],
    )
