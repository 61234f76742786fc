"""An archived episode as transcript and chapter files others read.

- ``vtt``: WebVTT, each chapter announced by a ``NOTE`` block before its first cue;
- ``srt``: SubRip;
- ``json``: Podcasting 2.0 transcript JSON (``{"version": "1.0.0", "segments": [...]}``);
- ``chapters``: Podcasting 2.0 chapters JSON, with the aligned starts;
- ``md`` and ``txt``: a readable transcript with chapter headings and ``[mm:ss]`` markers.

Times are written to the millisecond; reading a ``vtt``, ``srt`` or ``json`` export back
(``publisher_transcripts``) gives the same segments.
"""

from __future__ import annotations

import hashlib
import json
import re

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
    blocks = [f"WEBVTT - {_vtt_safe(episode.title)}"]
    for chapter in episode.chapters:
        blocks.append(f"NOTE {_chapter_label(chapter, len(episode.chapters))}")
        for segment in _spoken(chapter):
            timing = f"{_clock(segment.start, '.')} --> {_clock(segment.end, '.')}"
            blocks.append(f"{timing}\n{_vtt_escape(segment.text)}")
    return "\n\n".join(blocks) + "\n"


def to_srt(episode: AlignedEpisode) -> str:
    cues = []
    for number, segment in enumerate(_all_segments(episode), start=1):
        timing = f"{_clock(segment.start, ',')} --> {_clock(segment.end, ',')}"
        cues.append(f"{number}\n{timing}\n{one_line(segment.text)}")
    return "\n\n".join(cues) + "\n"


def to_transcript_json(episode: AlignedEpisode) -> str:
    segments = [
        {
            "startTime": _millis(segment.start),
            "endTime": _millis(segment.end),
            "body": one_line(segment.text),
        }
        for segment in _all_segments(episode)
    ]
    document = {"version": TRANSCRIPT_JSON_VERSION, "segments": segments}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


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
    span = f"{_clock(chapter.start, '.')} to {_clock(chapter.end, '.')}"
    title = _vtt_safe(chapter.title)
    return f"Chapter {chapter.position + 1} of {count}{hidden}: {title} ({span})"


def _all_segments(episode: AlignedEpisode) -> list[Segment]:
    return [segment for chapter in episode.chapters for segment in _spoken(chapter)]


def _spoken(chapter: Chapter) -> list[Segment]:
    return [segment for segment in chapter.segments if segment.text.strip()]


def _millis(seconds: float) -> float:
    return round(seconds, 3)


def _clock(seconds: float, decimal_mark: str) -> str:
    """``01:02:03.456`` (WebVTT) or ``01:02:03,456`` (SRT)."""
    millis = round(max(0.0, seconds) * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal_mark}{millis:03d}"


def _vtt_escape(text: str) -> str:
    return one_line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _vtt_safe(text: str) -> str:
    """Text for a WebVTT header or NOTE, where ``-->`` is not allowed."""
    return one_line(text).replace("-->", "->")
