"""Read an episode's outline of chapters from its show notes.

Show notes state chapters in many styles: ``(05:32) Title`` (the seed page),
``[00:12:30] Title``, ``0:00 Intro``, ``1:02:03 - Title``, ``Title (12:30)``. Pages often
repeat themselves (the seed page lists every chapter twice); each chapter is kept once.
An outline may also be headings with no times at all; alignment then finds each heading
in the transcript.
"""

from __future__ import annotations

import re
from pathlib import Path

from .records import Outline, OutlineEntry
from .timefmt import parse_clock

_TIME = r"\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?"
_BULLET = r"(?:[-*•>]\s+|\d+[.)]\s+)?"
_SEPARATOR = r"\s*(?:[-–—:|·]\s*)?"
TIME_FIRST = re.compile(rf"^{_BULLET}[(\[]?(?P<time>{_TIME})[)\]]?{_SEPARATOR}(?P<title>.*)$")
TIME_LAST = re.compile(rf"^{_BULLET}(?P<title>.+?){_SEPARATOR}[(\[](?P<time>{_TIME})[)\]]$")
OUTLINE_HEADER = re.compile(r"^\s*(outline|chapters|timestamps|contents)\s*:?\s*$", re.I)
BLOCK_END = re.compile(r"^\s*(---+|___+|\*\*\*+)\s*$")
BULLET = re.compile(rf"^{_BULLET}")
MAX_HEADING_CHARS = 160


class OutlineError(Exception):
    """The outline cannot be read at all."""


def read_notes(path: str | Path) -> Outline:
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as ex:
        raise OutlineError(f"{path}: cannot read show notes ({ex.strerror})") from None
    outline = parse_notes(text)
    if not outline.entries:
        outline.warnings.append(f"{path}: no chapters found; one chapter spans the episode")
    return outline


def no_outline() -> Outline:
    """One chapter spanning the episode."""
    return Outline(entries=[], source="none")


def parse_notes(text: str) -> Outline:
    """The outline in a show-notes page: timed lines, or a block (or file) of headings."""
    lines = list(enumerate(text.splitlines(), start=1))
    block = _outline_block(lines)
    timed = _timed_entries(block if block is not None else lines)
    if timed:
        return Outline(entries=timed, source="notes")
    headings = _heading_entries(block if block is not None else lines)
    if headings and (block is not None or _looks_like_headings(headings)):
        return Outline(entries=headings, source="notes-headings")
    return Outline(entries=[], source="none")


def parse_timed_line(line: str, number: int | None = None) -> OutlineEntry | None:
    stripped = line.strip()
    if not stripped:
        return None
    match = TIME_FIRST.match(stripped) or TIME_LAST.match(stripped)
    if not match:
        return None
    try:
        start = parse_clock(match["time"])
    except ValueError:
        return None
    where = f"notes line {number}" if number else None
    return OutlineEntry(title=match["title"].strip(), start=start, where=where)


def _timed_entries(lines: list[tuple[int, str]]) -> list[OutlineEntry]:
    entries: list[OutlineEntry] = []
    seen: set[tuple[float, str]] = set()
    for number, line in lines:
        entry = parse_timed_line(line, number)
        if entry is None:
            continue
        key = (entry.start, entry.title.casefold())
        if key not in seen:  # pages repeat themselves; keep each chapter once
            seen.add(key)
            entries.append(entry)
    return entries


def _heading_entries(lines: list[tuple[int, str]]) -> list[OutlineEntry]:
    entries: list[OutlineEntry] = []
    seen: set[str] = set()
    for number, line in lines:
        title = BULLET.sub("", line.strip()).strip()
        if title and title.casefold() not in seen:
            seen.add(title.casefold())
            entries.append(OutlineEntry(title=title, start=None, where=f"notes line {number}"))
    return entries


def _looks_like_headings(entries: list[OutlineEntry]) -> bool:
    """A whole file of short lines that mostly do not end like prose sentences."""
    if any(len(entry.title) > MAX_HEADING_CHARS for entry in entries):
        return False
    prose = sum(entry.title.endswith(".") for entry in entries)
    return prose * 2 <= len(entries)


def _outline_block(lines: list[tuple[int, str]]) -> list[tuple[int, str]] | None:
    """The numbered lines under the first ``Outline:`` header, up to the next ``---``."""
    for index, (_, line) in enumerate(lines):
        if OUTLINE_HEADER.match(line):
            block = []
            for number, body in lines[index + 1 :]:
                if BLOCK_END.match(body):
                    break
                block.append((number, body))
            if any(body.strip() for _, body in block):
                return block
    return None
