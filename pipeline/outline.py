"""Read an episode's outline of chapters from its show notes.

Show notes state chapters in many styles: ``(05:32) Title`` (the seed page),
``[00:12:30] Title``, ``0:00 Intro``, ``1:02:03 - Title``, ``Title (12:30)``. Pages often
repeat themselves (the seed page lists every chapter twice); each chapter is kept once.
Markdown notes wrap the time in emphasis or a link (``**00:00** Intro``,
``* [05:30](#t=05:30) CRDTs``), or put it alone on a line with the title below it.
Caption cues pasted into a page (``00:00:07.000 --> 00:00:08.000``) are not chapters.
An outline may also be headings with no times at all; alignment then finds each heading
in the transcript.
"""

from __future__ import annotations

import re
from pathlib import Path

from .documents import (
    DocumentTooLarge,
    check_chapter_count,
    read_document,
    without_controls,
)
from .records import Outline, OutlineEntry
from .timefmt import parse_clock

_TIME = r"\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?"
_BULLET = r"(?:[-*•>]\s+|\d+[.)]\s+)?"
_SEPARATOR = r"\s*(?:[-–—:|·]\s*)?"
TIME_FIRST = re.compile(rf"^{_BULLET}[(\[]?(?P<time>{_TIME})[)\]]?{_SEPARATOR}(?P<title>.*)$")
TIME_LAST = re.compile(rf"^{_BULLET}(?P<title>.+?){_SEPARATOR}[(\[](?P<time>{_TIME})[)\]]$")
OUTLINE_HEADER = re.compile(
    r"^\s*(?:#{1,6}\s*)?(?:\*\*)?(outline|chapters|time\s?stamps|contents)(?:\*\*)?\s*:?\s*$",
    re.I,
)
BLOCK_END = re.compile(r"^\s*(---+|___+|\*\*\*+)\s*$")
MARKDOWN_HEADING = re.compile(r"^\s*#{1,6}\s")
CUE_TIMING = re.compile(r"-->")  # a caption cue's timing line, never a chapter
BULLET = re.compile(rf"^{_BULLET}")
MARKDOWN_LINK = re.compile(r"\[([^\[\]]*)\]\([^()\s]*\)")
MARKDOWN_EMPHASIS = re.compile(r"(\*\*|__|\*)(?=\S)(.+?)(?<=\S)\1")
MAX_HEADING_CHARS = 160


class OutlineError(Exception):
    """The outline cannot be read at all."""


def read_notes(path: str | Path) -> Outline:
    try:
        text = read_document(path, "show notes")
    except OSError as ex:
        raise OutlineError(f"{path}: cannot read show notes ({ex.strerror})") from None
    except DocumentTooLarge as ex:
        raise OutlineError(str(ex)) from None
    outline = parse_notes(text)
    try:
        check_chapter_count(len(outline.entries), str(path))
    except DocumentTooLarge as ex:
        raise OutlineError(str(ex)) from None
    if not outline.entries:
        outline.warnings.append(f"{path}: no chapters found; one chapter spans the episode")
    return outline


def no_outline() -> Outline:
    """One chapter spanning the episode."""
    return Outline(entries=[], source="none")


def parse_notes(text: str) -> Outline:
    """The outline in a show-notes page: timed lines, or a block (or file) of headings."""
    lines = list(enumerate(without_controls(text).splitlines(), start=1))
    block = _outline_block(lines)
    timed = _timed_entries(block if block is not None else lines)
    if timed:
        return Outline(entries=timed, source="notes")
    if any(CUE_TIMING.search(line) for _, line in lines):
        return Outline(entries=[], source="none")  # captions: a transcript, not an outline
    headings = _heading_entries(block if block is not None else lines)
    if headings and (block is not None or _looks_like_headings(headings)):
        return Outline(entries=headings, source="notes-headings")
    return Outline(entries=[], source="none")


def parse_timed_line(line: str, number: int | None = None) -> OutlineEntry | None:
    stripped = plain_markdown(line.strip())
    if not stripped or CUE_TIMING.search(stripped):
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


def plain_markdown(line: str) -> str:
    """The line as it reads: ``[text](url)`` as its text, ``**bold**`` without the stars."""
    line = MARKDOWN_LINK.sub(r"\1", line)
    return MARKDOWN_EMPHASIS.sub(r"\2", line)


def _timed_entries(lines: list[tuple[int, str]]) -> list[OutlineEntry]:
    entries: list[OutlineEntry] = []
    seen: set[tuple[float, str]] = set()
    for index, (number, line) in enumerate(lines):
        entry = parse_timed_line(line, number)
        if entry is None:
            continue
        if not entry.title:
            entry.title = _title_below(lines, index)
        key = (entry.start, entry.title.casefold())
        if key not in seen:  # pages repeat themselves; keep each chapter once
            seen.add(key)
            entries.append(entry)
    return entries


def _title_below(lines: list[tuple[int, str]], index: int) -> str:
    """A time alone on its line takes its title from the next line with text, if that
    line is not itself timed (Markdown lists often put the title below the time)."""
    for _, line in lines[index + 1 : index + 3]:
        if not line.strip():
            continue
        if parse_timed_line(line) is not None or CUE_TIMING.search(line):
            return ""
        title = BULLET.sub("", plain_markdown(line.strip())).strip()
        return title if len(title) <= MAX_HEADING_CHARS else ""
    return ""


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
    """The numbered lines under the first ``Outline:`` header, up to the next ``---`` or
    Markdown heading; a block of timed lines also ends at a blank line after which the
    page goes on with something else."""
    for index, (_, line) in enumerate(lines):
        if OUTLINE_HEADER.match(line):
            block = _block_after(lines, index + 1)
            if any(body.strip() for _, body in block):
                return block
    return None


def _block_after(lines: list[tuple[int, str]], first: int) -> list[tuple[int, str]]:
    block: list[tuple[int, str]] = []
    timed = False
    for position in range(first, len(lines)):
        number, body = lines[position]
        if BLOCK_END.match(body) or MARKDOWN_HEADING.match(body):
            break
        if not body.strip() and timed and _ends_timed_block(lines, position, block):
            break
        timed = timed or parse_timed_line(body) is not None
        block.append((number, body))
    return block


def _ends_timed_block(lines, blank: int, block) -> bool:
    """A blank line ends a list of times unless a time (or a bare time's title) follows."""
    following = next((line for _, line in lines[blank + 1 :] if line.strip()), None)
    if following is None or parse_timed_line(following) is not None:
        return False
    last = next((line for _, line in reversed(block) if line.strip()), "")
    bare_time = parse_timed_line(last)
    return not (bare_time is not None and not bare_time.title)
