"""Reading episodes and chapters back out of the archive."""

from __future__ import annotations

import sqlite_utils

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
select position, title, start, end, stated_start, confidence
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
    return list(db.query(EPISODE_CHAPTERS_SQL, [episode_id]))
