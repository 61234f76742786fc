"""How the archive reads in Datasette: times as links into the audio, highlighted
snippets, and an audio player on every episode and chapter.

- ``start``, ``end`` and ``stated_start`` in any row with an ``episode_id`` (tables, canned
  queries, SQL) become ``[mm:ss]`` links to ``<audio>#t=SECONDS``: the episode's public
  ``audio_url`` when it has one, else its local file as served by archive_audio.py.
- ``snippet`` columns keep the ``<mark>`` tags FTS5 put in and escape everything else, so
  markup in a transcript is shown as text.
- ``title`` in episodes and chapters gets an HTML5 player (a chapter's plays that chapter).
- A click on a time link plays it in one player docked at the bottom of the page.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import weakref
from pathlib import Path

from datasette import hookimpl
from markupsafe import Markup, escape

try:
    from plugins import archive_rules as rules
except ImportError:  # a published bundle on Datasette alone: the rules file is beside this one
    import runpy
    import types

    rules_file = Path(__file__).with_name("archive_rules.py")
    rules = types.SimpleNamespace(**runpy.run_path(str(rules_file)))

TIME_COLUMNS = {"start", "end", "stated_start"}
PLAYER_TABLES = {"episodes", "chapters"}
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_SUFFIX = re.compile(r"^\.[0-9a-z]{1,8}$")
_ESCAPED_MARK, _ESCAPED_UNMARK = str(escape("<mark>")), str(escape("</mark>"))
_ESCAPED_MARK_TAG = re.compile(f"({re.escape(_ESCAPED_MARK)}|{re.escape(_ESCAPED_UNMARK)})")
_audio_urls: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

EPISODE_AUDIO_SQL = "select id, audio_url, audio_path, audio_sha256 from episodes"

PLAYER_SCRIPT = "archive-player.js"  # in plugins/static/


def duration_text(seconds: float) -> str:
    """``4:28`` or ``1:02:06``: a length."""
    hours, minutes, secs = rules.hours_minutes_seconds(round(seconds))
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def fragment_seconds(seconds: float) -> str:
    """Seconds for a media fragment: ``35.34``, ``20``."""
    return f"{seconds:.2f}".rstrip("0").rstrip(".")


def highlight_snippet(snippet: str) -> Markup:
    """Escape the snippet but keep balanced ``<mark>`` highlights.

    Escaped whole, then its escaped tags turned back: one escape per snippet, not one per
    piece between matches (a results page makes twenty). Text can only hold an escaped tag
    where it held the tag itself, as escaping turns its own ``&`` into ``&amp;``.
    """
    parts, inside = [], False
    for piece in _ESCAPED_MARK_TAG.split(escape(snippet)):
        if piece == _ESCAPED_MARK and not inside:
            inside, piece = True, "<mark>"
        elif piece == _ESCAPED_UNMARK and inside:
            inside, piece = False, "</mark>"
        parts.append(piece)
    return Markup("".join(parts) + ("</mark>" if inside else ""))


def time_link(audio_url: str | None, seconds: float) -> Markup:
    label = f"[{rules.clock(seconds)}]"
    title = f"{fragment_seconds(seconds)} s"
    if audio_url is None:
        return Markup('<span title="{}">{}</span>').format(title, label)
    href = f"{audio_url}#t={fragment_seconds(seconds)}"
    return Markup('<a class="archive-time" href="{}" title="{}">{}</a>').format(href, title, label)


def title_with_player(title: str, audio_url: str, start=None, end=None) -> Markup:
    src = audio_url
    if start is not None:
        src += f"#t={fragment_seconds(start)}"
        if end is not None:
            src += f",{fragment_seconds(end)}"
    return Markup('{}<br><audio controls preload="none" src="{}"></audio>').format(title, src)


def audio_url_for(datasette, db, audio_url, audio_path, sha256) -> str | None:
    """The public URL when there is one (http/https only), else the local file's route.

    None when there is neither: a missing file gets no link rather than a dead one.
    """
    if rules.has_public_url(audio_url):
        return audio_url.split("#")[0]
    if audio_path and sha256 and _SHA256.match(sha256) and local_file(db, audio_path).is_file():
        suffix = Path(audio_path).suffix.lower()
        suffix = suffix if _SUFFIX.match(suffix) else ""
        return datasette.urls.path(rules.LOCAL_AUDIO.format(sha256=sha256, suffix=suffix))
    return None


def local_file(db, audio_path: str) -> Path:
    """Where archive_audio.py looks: a relative path is relative to the database file."""
    return rules.audio_file_path(db.path, audio_path)


async def episode_audio_urls(datasette, database: str) -> dict:
    """Episode id → audio URL: read once, and again whenever a live archive changes."""
    db = datasette.get_database(database)
    if db.path is None:
        return {}
    version = rules.file_version(db.path) if db.is_mutable else None
    cached = _audio_urls.get(db)
    if cached and cached[0] == version:
        return cached[1]
    try:  # audio paths are read on a connection of our own: SQL users' connections hide them
        rows = await asyncio.to_thread(rules.read_privately, db.path, EPISODE_AUDIO_SQL)
    except sqlite3.DatabaseError:  # not an archive: no audio links
        rows = []
    urls = {row[0]: audio_url_for(datasette, db, *row[1:]) for row in rows}
    _audio_urls[db] = (version, urls)
    return urls


def row_value(row, key):
    try:
        value = row[key]
    except (IndexError, KeyError):
        return None
    return value["value"] if isinstance(value, dict) else value  # an expanded foreign key


def is_seconds(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


async def time_cell(datasette, database, episode_id, seconds):
    urls = await episode_audio_urls(datasette, database)
    return time_link(urls.get(episode_id), seconds)


async def title_cell(datasette, database, table, episode_id, row, title):
    url = (await episode_audio_urls(datasette, database)).get(episode_id)
    if url is None or not isinstance(title, str):
        return None  # Datasette's own rendering
    if table == "chapters":
        return title_with_player(title, url, row_value(row, "start"), row_value(row, "end"))
    return title_with_player(title, url)


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    if column == "snippet" and isinstance(value, str):
        return highlight_snippet(value)
    if column == "duration" and is_seconds(value):
        return Markup('<span title="{} s">{}</span>').format(value, duration_text(value))
    episode_id = row_value(row, "id" if table == "episodes" else "episode_id")
    if episode_id is None:
        return None
    if column in TIME_COLUMNS and is_seconds(value):
        return time_cell(datasette, database, episode_id, value)
    if column == "title" and table in PLAYER_TABLES:
        return title_cell(datasette, database, table, episode_id, row, value)
    return None


@hookimpl
def extra_js_urls(datasette):
    return [rules.static_url(datasette, PLAYER_SCRIPT)]
