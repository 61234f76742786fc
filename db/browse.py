"""What the web pages show besides search hits: the episode list, the archive's figures,
one episode's chapters and transcript, and the choices for the search filters.
"""

from __future__ import annotations

import sqlite_utils

# Newest first; undated episodes after the dated ones, most recently transcribed first.
EPISODE_LIST_SQL = """
select
  episodes.id,
  episodes.title,
  episodes.show,
  episodes.published,
  episodes.duration,
  (select count(*) from chapters where chapters.episode_id = episodes.id) as chapters
from episodes
order by episodes.published desc nulls last, episodes.transcribed_at desc, episodes.id
limit :limit
"""
FIGURES_SQL = """
select
  (select count(*) from episodes) as episodes,
  (select coalesce(sum(duration), 0) from episodes) as seconds,
  (select count(*) from words) as words
"""
CHAPTERS_SQL = """
select id, position, title, start, end, hidden
from chapters where episode_id = ? order by position
"""
SEGMENTS_SQL = """
select chapter_id, start, end, text
from segments where episode_id = ? order by position
"""
EPISODE_COLUMNS = "id, title, show, published, duration, audio_url, audio_sha256"


def archive_figures(db: sqlite_utils.Database) -> dict:
    """Episodes, seconds of audio and words in the archive."""
    episodes, seconds, words = db.execute(FIGURES_SQL).fetchone()
    return {"episodes": episodes, "seconds": seconds, "words": words}


def newest_episodes(db: sqlite_utils.Database, limit: int = 100) -> list[dict]:
    return list(db.query(EPISODE_LIST_SQL, {"limit": limit}))


def episode_with_transcript(db: sqlite_utils.Database, episode_id: str) -> dict | None:
    """The episode, with its chapters in order, each holding its segments; None if unknown."""
    rows = list(db.query(f"select {EPISODE_COLUMNS} from episodes where id = ?", [episode_id]))
    if not rows:
        return None
    chapters = [dict(row, segments=[]) for row in db.query(CHAPTERS_SQL, [episode_id])]
    by_id = {chapter["id"]: chapter for chapter in chapters}
    for segment in db.query(SEGMENTS_SQL, [episode_id]):
        chapter = by_id.get(segment.pop("chapter_id"))
        if chapter is not None:
            chapter["segments"].append(segment)
    return {**rows[0], "chapters": chapters}


def filter_choices(
    db: sqlite_utils.Database, episode_id: str | None = None, shows: list[str] | None = None
) -> dict:
    """The shows a search can be narrowed to (read unless ``shows`` are known), and the
    title of the episode it is in."""
    if shows is None:
        shows = archive_shows(db)
    title = None
    if episode_id is not None:
        row = db.execute("select title from episodes where id = ?", [episode_id]).fetchone()
        title = (row[0] or episode_id) if row else None
    return {"shows": shows, "episode_title": title}


def archive_shows(db: sqlite_utils.Database) -> list[str]:
    return [
        row[0]
        for row in db.execute(
            "select distinct show from episodes where coalesce(show, '') != '' order by show"
        )
    ]
