"""An archived episode as transcript and chapter files others read.

- ``vtt``: WebVTT, each chapter announced by a ``NOTE`` block before its first cue,
  speakers as ``<v Name>`` voices;
- ``srt``: SubRip, speakers as ``Name:`` where the speaker changes;
- ``json``: Podcasting 2.0 transcript JSON (``{"version": "1.0.0", "segments": [...]}``),
  with each segment's ``speaker``;
- ``chapters``: Podcasting 2.0 chapters JSON, with the aligned starts, images, links
  and locations;
- ``md`` and ``txt``: a readable transcript with chapter headings and ``[mm:ss]`` markers.

Caption cues (``vtt``, ``srt``) are at most two lines of at most 42 characters, broken
at words and timed from the words where the transcript has them; none has zero length.
Times are written to the millisecond; reading a ``json`` export back
(``publisher_transcripts``) gives the same segments, and a ``vtt`` or ``srt`` export the
same text, times and speakers in caption-sized pieces.
"""

from __future__ import annotations

import hashlib
import json
import re

from .captions import (
    MIN_CUE_SECONDS,
    Cue,
    segment_cues,
    srt_cues,
    vtt_clock,
    write_srt,
    write_vtt,
)
from .chapters_json import chapters_json
from .records import AlignedEpisode, Chapter, Segment
from .textnorm import one_line
from .timefmt import format_clock, format_timestamp

TRANSCRIPT_JSON_VERSION = "1.0.0"
FILE_SUFFIXES = {
    "vtt": ".vtt",
    "srt": ".srt",
    "json": ".json",
    "chapters": ".chapters.json",
    "md": ".md",
    "txt": ".txt",
}
FORMATS = tuple(FILE_SUFFIXES)


def export_episode(episode: AlignedEpisode, file_format: str) -> str:
    writers = {
        "vtt": to_webvtt,
        "srt": to_srt,
        "json": to_transcript_json,
        "chapters": to_chapters_json,
        "md": to_markdown,
        "txt": to_text,
    }
    return writers[file_format](episode)


def export_file_name(episode_id: str, file_format: str) -> str:
    """A safe file name for the episode; ids that needed changing get a short hash."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", episode_id).strip("._")[:100] or "episode"
    if safe != episode_id:
        safe += "-" + hashlib.sha256(episode_id.encode("utf-8")).hexdigest()[:8]
    return safe + FILE_SUFFIXES[file_format]


def to_webvtt(episode: AlignedEpisode) -> str:
    cues: list[Cue] = []
    notes: list[str] = []  # chapters announced before the next cue
    count = len(episode.chapters)
    for chapter, segments in _chapter_segments(episode):
        notes.append(_chapter_label(chapter, count))
        for segment in segments:
            for cue in segment_cues(segment):
                cue.note, notes = notes, []
                cues.append(cue)
    return write_vtt(cues, _vtt_safe(episode.title), notes)


def to_srt(episode: AlignedEpisode) -> str:
    segments = [segment for _, in_chapter in _chapter_segments(episode) for segment in in_chapter]
    return write_srt(srt_cues(segments))


def to_transcript_json(episode: AlignedEpisode) -> str:
    segments = []
    for segment in _all_segments(episode):
        item = {"startTime": _millis(segment.start), "endTime": _millis(segment.end)}
        if segment.speaker:
            item["speaker"] = segment.speaker
        item["body"] = one_line(segment.text)
        segments.append(item)
    document = {"version": TRANSCRIPT_JSON_VERSION, "segments": segments}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _chapter_segments(episode: AlignedEpisode) -> list[tuple[Chapter, list[Segment]]]:
    """Each chapter with its spoken segments for captions: a segment too short to be a
    cue (a word spoken across a chapter start) joins the one before it, or after it."""
    pairs = [(chapter, list(_spoken(chapter))) for chapter in episode.chapters]
    flat = [(index, segment) for index, (_, segs) in enumerate(pairs) for segment in segs]
    kept: list[tuple[int, Segment]] = []
    carried: Segment | None = None
    for index, segment in flat:
        if carried is not None:
            segment = _joined(carried, segment)
            carried = None
        if segment.end - segment.start >= MIN_CUE_SECONDS:
            kept.append((index, segment))
        elif kept:
            kept[-1] = (kept[-1][0], _joined(kept[-1][1], segment))
        else:
            carried = segment
    by_chapter: dict[int, list[Segment]] = {}
    for index, segment in kept:
        by_chapter.setdefault(index, []).append(segment)
    return [(chapter, by_chapter.get(index, [])) for index, (chapter, _) in enumerate(pairs)]


def _joined(first: Segment, second: Segment) -> Segment:
    return Segment(
        first.start,
        max(first.end, second.end),
        f"{first.text.strip()} {second.text.strip()}",
        first.words + second.words,
        speaker=first.speaker or second.speaker,
    )


def to_chapters_json(episode: AlignedEpisode) -> str:
    chapters = chapters_json(episode.chapters)
    document = {"version": chapters["version"], "title": episode.title}
    if episode.show:
        document["podcastName"] = episode.show
    document["chapters"] = chapters["chapters"]
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def to_markdown(episode: AlignedEpisode) -> str:
    lines = [f"# {one_line(episode.title)}", ""]
    if _byline(episode):
        lines += [_byline(episode), ""]
    for chapter in _visible_sections(episode):
        lines += [f"## [{format_timestamp(chapter.start)}] {one_line(chapter.title)}", ""]
        for segment in _spoken(chapter):
            lines += [f"[{format_timestamp(segment.start)}] {one_line(segment.text)}", ""]
    return "\n".join(lines).rstrip() + "\n"


def to_text(episode: AlignedEpisode) -> str:
    lines = [one_line(episode.title)]
    if _byline(episode):
        lines.append(_byline(episode))
    for chapter in _visible_sections(episode):
        heading = f"[{format_timestamp(chapter.start)}] {one_line(chapter.title)}"
        lines += ["", heading, "-" * len(heading)]
        lines += [
            f"[{format_timestamp(segment.start)}] {one_line(segment.text)}"
            for segment in _spoken(chapter)
        ]
    return "\n".join(lines) + "\n"


def _visible_sections(episode: AlignedEpisode) -> list[Chapter]:
    """Chapters as readers see them: a hidden chapter's text goes under the one before."""
    sections: list[Chapter] = []
    for chapter in episode.chapters:
        if chapter.hidden and sections:
            merged = sections[-1]
            sections[-1] = Chapter(
                merged.position,
                merged.title,
                merged.start,
                chapter.end,
                merged.stated_start,
                segments=merged.segments + chapter.segments,
            )
        else:
            sections.append(chapter)
    return sections


def _byline(episode: AlignedEpisode) -> str:
    parts = [episode.show, (episode.published or "")[:10], format_clock(episode.audio.duration)]
    return " · ".join(part for part in parts if part and part != "-")


def _chapter_label(chapter: Chapter, count: int) -> str:
    hidden = " (hidden)" if chapter.hidden else ""
    span = f"{vtt_clock(chapter.start)} to {vtt_clock(chapter.end)}"
    title = _vtt_safe(chapter.title)
    return f"Chapter {chapter.position + 1} of {count}{hidden}: {title} ({span})"


def _all_segments(episode: AlignedEpisode) -> list[Segment]:
    return [segment for chapter in episode.chapters for segment in _spoken(chapter)]


def _spoken(chapter: Chapter) -> list[Segment]:
    return [segment for segment in chapter.segments if segment.text.strip()]


def _millis(seconds: float) -> float:
    return round(seconds, 3)


def _vtt_safe(text: str) -> str:
    """Text for a WebVTT header or NOTE, where ``-->`` is not allowed."""
    return one_line(text).replace("-->", "->")
