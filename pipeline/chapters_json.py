"""Podcasting 2.0 JSON chapters: read (``--chapters``, feeds) and write (export).

    {"version": "1.2.0", "chapters": [{"startTime": 94.0, "title": "…", "toc": false}]}

Reading validates the shape and says what is wrong and where; a chapter that cannot be
used is reported and left out, never dropped silently.
"""

from __future__ import annotations

from pathlib import Path

from .documents import DocumentTooLarge, check_chapter_count, read_document, without_controls
from .outline import OutlineError
from .podcast_json import is_number, json_list
from .records import Chapter, Outline, OutlineEntry
from .warning_groups import capped

SPEC_VERSION = "1.2.0"
LINK_KEYS = ("img", "url")


def read_chapters_json(path: str | Path) -> Outline:
    try:
        text = read_document(path, "chapters files")
    except OSError as ex:
        raise OutlineError(f"{path}: cannot read chapters ({ex.strerror})") from None
    except DocumentTooLarge as ex:
        raise OutlineError(str(ex)) from None
    return parse_chapters_json(text, str(path))


def parse_chapters_json(text: str, name: str = "chapters") -> Outline:
    document, items = json_list(without_controls(text), name, "chapters", OutlineError)
    try:
        check_chapter_count(len(items), name)
    except DocumentTooLarge as ex:
        raise OutlineError(str(ex)) from None
    warnings = []
    if "version" not in document:
        warnings.append(f'{name}: no "version"; read as Podcasting 2.0 chapters {SPEC_VERSION}')
    entries, rejected = [], []
    for number, item in enumerate(items, start=1):
        entry = _chapter_entry(item, f"{name} chapter {number}", rejected)
        if entry is not None:
            entries.append(entry)
    warnings += capped(rejected, "chapters rejected or fixed")
    return Outline(entries=entries, source="chapters-json", warnings=warnings)


def _chapter_entry(item, where: str, warnings: list[str]) -> OutlineEntry | None:
    if not isinstance(item, dict):
        warnings.append(f"{where}: not an object; rejected")
        return None
    start = item.get("startTime")
    if not is_number(start):
        warnings.append(f'{where}: "startTime" missing or not a number ({start!r}); rejected')
        return None
    if start < 0:
        warnings.append(f'{where}: negative "startTime" ({start}); moved to 0')
        start = 0.0
    title = item.get("title", "")
    if not isinstance(title, str):
        warnings.append(f'{where}: "title" is not a string; used as text')
        title = str(title)
    hidden = item.get("toc") is False
    return OutlineEntry(
        title=title.strip(),
        start=float(start),
        hidden=hidden,
        where=where,
        links=chapter_links(item),
    )


def chapter_links(item: dict) -> dict | None:
    """The chapter's ``img`` and ``url`` (strings) and ``location`` (an object), as given."""
    links = {key: item[key].strip() for key in LINK_KEYS if isinstance(item.get(key), str)}
    links = {key: value for key, value in links.items() if value}
    location = item.get("location")
    if isinstance(location, dict) and isinstance(location.get("name"), str):
        links["location"] = location
    return links or None


def chapters_json(chapters: list[Chapter]) -> dict:
    """Aligned chapters as a Podcasting 2.0 chapters document."""
    items = []
    for chapter in chapters:
        item = {"startTime": round(chapter.start, 3), "title": chapter.title}
        if chapter.end > chapter.start:
            item["endTime"] = round(chapter.end, 3)
        if chapter.hidden:
            item["toc"] = False
        item.update(chapter.links or {})
        if not item["title"]:
            del item["title"]  # optional in the spec; an empty string is not a title
        items.append(item)
    return {"version": SPEC_VERSION, "chapters": items}
