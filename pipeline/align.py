"""Place the outline's chapters on the audio and put every segment in one of them.

A segment that straddles a chapter start is split there at a word boundary: each word
goes to the chapter its midpoint falls in.
"""

from __future__ import annotations

from bisect import bisect_right
from itertools import groupby

from .headings import align_timed_chapters, place_headings
from .records import AlignedEpisode, AudioInfo, Chapter, Outline, OutlineEntry, Segment, Transcript
from .sentences import segment_from_words
from .timefmt import format_clock
from .warning_groups import capped

HEADINGS_ONLY = "notes-headings"


def plan_chapters(
    outline: Outline, duration: float, opening_title: str
) -> tuple[list[Chapter], list[str]]:
    """Chapters at the outline's stated times, tidied, with the warnings that tidying raised.

    Nothing is dropped: chapters out of order are sorted, chapters stated at the same
    time are merged, chapters stated past the end are kept, empty, at the end.
    """
    warnings = list(outline.warnings)
    entries = _titled(outline.entries, warnings)
    if outline.source == HEADINGS_ONLY:
        # No times to tidy: alignment places each heading where it is heard.
        chapters = [Chapter(0, opening_title, 0.0, duration, stated_start=None)]
        chapters += [
            Chapter(i, e.title, 0.0, duration, None, hidden=e.hidden)
            for i, e in enumerate(entries, start=1)
        ]
        return chapters, warnings
    entries = _in_time_order(entries, warnings)
    entries = _merged_duplicates(entries, warnings)
    chapters: list[Chapter] = []
    if not entries or entries[0].start > 0:
        chapters.append(Chapter(0, opening_title, 0.0, duration, stated_start=None))
    too_late = []
    for entry in entries:
        start = entry.start
        if start >= duration:
            too_late.append(
                f"{_where(entry)}: '{entry.title}' starts at {format_clock(start)}, after "
                f"the audio ends ({format_clock(duration)}); kept as an empty chapter at the end"
            )
            start = duration
        chapters.append(
            Chapter(
                len(chapters),
                entry.title,
                start,
                duration,
                entry.start,
                hidden=entry.hidden,
                links=entry.links,
            )
        )
    warnings += capped(too_late, "chapters after the audio ends")
    close_chapter_ends(chapters, duration)
    return chapters, warnings


def close_chapter_ends(chapters: list[Chapter], duration: float) -> None:
    """Each chapter ends where the next starts; a visible chapter runs on past hidden ones
    (a Podcasting 2.0 ``toc: false`` chapter marks a moment, such as a new image or place,
    inside the chapter listeners see)."""
    for index, chapter in enumerate(chapters):
        following = chapters[index + 1 :]
        if not chapter.hidden:
            following = [later for later in following if not later.hidden]
        chapter.end = following[0].start if following else duration


def transcript_chapters(chapters: list[Chapter]) -> list[Chapter]:
    """The chapters that hold the transcript: the visible ones, and hidden ones only
    before the first visible chapter (nothing else covers that stretch)."""
    owners, visible_seen = [], False
    for chapter in chapters:
        visible_seen = visible_seen or not chapter.hidden
        if not (chapter.hidden and visible_seen):
            owners.append(chapter)
    return owners


def assign_segments(chapters: list[Chapter], segments: list[Segment]) -> None:
    """Give each chapter its segments, splitting any segment that crosses a chapter start.
    Hidden chapters inside a visible one hold none: their moments belong to it."""
    for chapter in chapters:
        chapter.segments = []
    owners = transcript_chapters(chapters)
    starts = [chapter.start for chapter in owners]
    for segment in segments:
        for index, piece in _split_by_chapter(segment, starts):
            owners[index].segments.append(piece)


def chapter_index_at(starts: list[float], seconds: float) -> int:
    """The chapter playing at ``seconds``: the last one started by then."""
    return max(0, bisect_right(starts, seconds) - 1)


def _split_by_chapter(segment: Segment, starts: list[float]):
    if not segment.words:
        midpoint = (segment.start + segment.end) / 2
        yield chapter_index_at(starts, midpoint), segment
        return
    by_chapter = groupby(
        segment.words, key=lambda word: chapter_index_at(starts, (word.start + word.end) / 2)
    )
    groups = [(index, list(words)) for index, words in by_chapter]
    if len(groups) == 1:
        yield groups[0][0], segment
        return
    for index, words in groups:
        yield index, segment_from_words(words, segment)


def _titled(entries: list[OutlineEntry], warnings: list[str]) -> list[OutlineEntry]:
    """Visible chapters need a title; a hidden one may have none (the spec makes title
    optional, and a ``toc: false`` chapter often only changes the image)."""
    untitled = []
    for number, entry in enumerate(entries, start=1):
        if not entry.title.strip() and not entry.hidden:
            entry.title = f"Chapter {number}"
            untitled.append(f"{_where(entry)}: empty title; named '{entry.title}'")
    warnings += capped(untitled, "chapters with an empty title")
    return entries


def _in_time_order(entries: list[OutlineEntry], warnings: list[str]) -> list[OutlineEntry]:
    out_of_order = [
        f"{_where(entry)}: '{entry.title}' at {format_clock(entry.start)} comes after "
        f"'{previous.title}' at {format_clock(previous.start)}; sorted into time order"
        for previous, entry in zip(entries, entries[1:])
        if entry.start < previous.start
    ]
    warnings += capped(out_of_order, "chapters out of time order")
    return sorted(entries, key=lambda entry: entry.start)


def _merged_duplicates(entries: list[OutlineEntry], warnings: list[str]) -> list[OutlineEntry]:
    merged: list[OutlineEntry] = []
    same_time = []
    for entry in entries:
        if merged and entry.start == merged[-1].start:
            kept = merged[-1]
            same_time.append(
                f"{_where(entry)}: '{entry.title}' has the same time as '{kept.title}' "
                f"({format_clock(entry.start)}); merged into one chapter"
            )
            kept.title = " / ".join(title for title in (kept.title, entry.title) if title)
            kept.hidden = kept.hidden and entry.hidden
            continue
        merged.append(entry)
    warnings += capped(same_time, "chapters merged with one at the same time")
    return merged


def _where(entry: OutlineEntry) -> str:
    return entry.where or "outline"


def align_episode(
    episode_id: str,
    title: str,
    audio: AudioInfo,
    transcript: Transcript,
    outline_source: str,
    chapters: list[Chapter],
) -> tuple[AlignedEpisode, list[str]]:
    """Move the planned chapters to their spoken headings where the transcript shows them,
    then fill them with segments. Warnings about headings not heard come back beside it."""
    offset, warnings = 0.0, []
    if outline_source == HEADINGS_ONLY:
        place_headings(chapters, transcript.segments, audio.duration)
        chapters = _without_empty_opening(chapters)
        warnings += _unheard_headings(chapters)
    elif len(chapters) > 1:
        offset = align_timed_chapters(chapters, transcript.segments, audio.duration) or 0.0
    close_chapter_ends(chapters, audio.duration)
    assign_segments(chapters, transcript.segments)
    episode = AlignedEpisode(
        id=episode_id,
        title=title,
        audio=audio,
        transcript=transcript,
        chapters=chapters,
        outline_source=outline_source,
        outline_offset=offset,
    )
    return episode, warnings


def describe_alignment(episode: AlignedEpisode) -> str | None:
    """One line on what heading alignment did, or None where it did nothing."""
    checked = [c for c in episode.chapters if c.confidence is not None]
    if not checked:
        return None
    heard = sum(c.confidence > 0 for c in checked)
    if episode.outline_source == HEADINGS_ONLY:
        return f"placed {heard} of {len(checked)} headings where they are heard"
    return (
        f"chapters moved to their spoken headings: {heard} of {len(checked)} heard, "
        f"outline offset {episode.outline_offset:+.1f} s"
    )


def _without_empty_opening(chapters: list[Chapter]) -> list[Chapter]:
    """Drop the opening chapter when the first heading is heard at the very start."""
    if len(chapters) > 1 and chapters[0].stated_start is None and chapters[1].start < 1.0:
        chapters[1].start = 0.0
        chapters = chapters[1:]
        for position, chapter in enumerate(chapters):
            chapter.position = position
    return chapters


def _unheard_headings(chapters: list[Chapter]) -> list[str]:
    return [
        f"heading '{chapter.title}' was not heard in the transcript; kept as an empty chapter"
        for chapter in chapters
        if chapter.confidence == 0.0
    ]
