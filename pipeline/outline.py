"""Read an episode's outline of chapters from its show notes.

Show notes state chapters in many styles: ``(05:32) Title`` (the seed page),
``[00:12:30] Title``, ``0:00 Intro``, ``1:02:03 - Title``, ``Title (12:30)``. Pages often
repeat themselves (the seed page lists every chapter twice); each chapter is kept once.
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


class OutlineError(Exception):
    """The outline cannot be read at all."""


def read_notes(path: str | Path) -> Outline:
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as ex:
        raise OutlineError(f"{path}: cannot read show notes ({ex.strerror})") from None
    return parse_notes(text)


def no_outline() -> Outline:
    """One chapter spanning the episode."""
    return Outline(entries=[], source="none")


def parse_notes(text: str) -> Outline:
    """Find the timed outline in a show-notes page."""
    lines = text.splitlines()
    block = _outline_block(lines)
    numbered = block if block is not None else list(enumerate(lines, start=1))
    entries: list[OutlineEntry] = []
    warnings: list[str] = []
    seen: set[tuple[float, str]] = set()
    for number, line in numbered:
        entry = parse_timed_line(line, number)
        if entry is None:
            continue
        key = (entry.start, entry.title.casefold())
        if key in seen:
            continue  # the same chapter listed again, as pages that repeat themselves do
        seen.add(key)
        entries.append(entry)
    return Outline(entries=entries, source="notes", warnings=warnings)


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
    return OutlineEntry(title=match["title"].strip(), start=start, line=number)


def _outline_block(lines: list[str]) -> list[tuple[int, str]] | None:
    """The numbered lines under the first ``Outline:`` header, up to the next ``---``."""
    for index, line in enumerate(lines):
        if OUTLINE_HEADER.match(line):
            block = []
            for number, body in enumerate(lines[index + 1 :], start=index + 2):
                if BLOCK_END.match(body):
                    break
                block.append((number, body))
            if any(parse_timed_line(body) for _, body in block):
                return block
    return None
