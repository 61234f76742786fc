"""A publisher's own transcript (SRT, WebVTT, Podcasting 2.0 JSON or HTML) as a ``Transcript``.

Cues become segments with no word timings (unless the cues time their words, as
YouTube's do); alignment puts each one in the chapter its midpoint falls in. A JSON
transcript that times single words (as the spec's example does) becomes sentence-sized
segments that keep those word times. Speakers are kept in ``Segment.speaker``. A cue
that cannot be used is reported and left out, never dropped silently.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from urllib.parse import urlsplit

from .captions import CaptionError, read_srt, read_vtt
from .documents import without_controls
from .html_transcript import SECONDS_PER_WORD, parse_html_transcript
from .podcast_json import is_number, json_list
from .records import Segment, Transcript, Word
from .sentences import split_into_sentences
from .textnorm import one_line
from .warning_groups import capped

KINDS_BY_TYPE = {
    "application/x-subrip": "srt",
    "application/srt": "srt",
    "text/srt": "srt",
    "text/x-srt": "srt",
    "text/vtt": "vtt",
    "application/json": "json",
    "application/json+transcript": "json",
    "text/html": "html",
}
KINDS_BY_SUFFIX = {".srt": "srt", ".vtt": "vtt", ".json": "json", ".html": "html", ".htm": "html"}
# Word-timed JSON first: it is the most precise; then WebVTT (a stricter format than SRT);
# HTML last: it times paragraphs only.
PREFERENCE = ("json", "vtt", "srt", "html")
WORD_LEVEL_SHARE = 0.8  # this share of one-word bodies makes a JSON transcript word-timed


class TranscriptFormatError(Exception):
    """The transcript cannot be read at all; the message says why, in one line."""


def transcript_kind(mime_type: str | None, url: str | None = None) -> str | None:
    """'srt', 'vtt', 'json' or 'html' from the link's MIME type, else from the URL's suffix."""
    mime = (mime_type or "").split(";")[0].strip().lower()
    if mime in KINDS_BY_TYPE:
        return KINDS_BY_TYPE[mime]
    suffix = PurePosixPath(urlsplit(url or "").path).suffix.lower()
    return KINDS_BY_SUFFIX.get(suffix)


def parse_transcript(
    text: str, kind: str, name: str, language: str | None = None
) -> tuple[Transcript, list[str]]:
    """The transcript in ``text`` and the warnings about cues left out or fixed."""
    parsers = {
        "srt": read_srt,
        "vtt": read_vtt,
        "json": parse_json_transcript,
        "html": parse_html_transcript,
    }
    warnings: list[str] = []
    try:
        segments = parsers[kind](without_controls(text.lstrip("\ufeff")), name, warnings)
    except CaptionError as ex:
        raise TranscriptFormatError(str(ex)) from None
    if not segments:
        detail = " (no <time> marks)" if kind == "html" else ""
        raise TranscriptFormatError(f"{name}: no transcript segments found ({kind}){detail}")
    segments = _in_time_order(segments, name, warnings)
    duration = max(segment.end for segment in segments)
    transcript = Transcript(segments, language, duration, model=f"publisher:{kind}")
    return transcript, warnings


# --- Podcasting 2.0 JSON --------------------------------------------------------------


def parse_json_transcript(text: str, name: str, warnings: list[str]) -> list[Segment]:
    _, listed = json_list(text, name, "segments", TranscriptFormatError)
    items, problems = [], []
    for number, item in enumerate(listed, start=1):
        checked = _json_segment(item, f"{name} segment {number}", problems)
        if checked is not None:
            items.append(checked)
    warnings += capped(problems, "segments left out or fixed")
    one_word = sum(len(body.split()) == 1 for _, _, _, body in items)
    if len(items) > 1 and one_word >= WORD_LEVEL_SHARE * len(items):
        return _sentences_from_words(items)
    return _segments_from_items(items)


def _json_segment(item, where: str, warnings: list[str]):
    """(speaker, start, end or None, body) of one JSON segment, or None to leave it out."""
    if not isinstance(item, dict):
        warnings.append(f"{where}: not an object; left out")
        return None
    start, end, body = item.get("startTime"), item.get("endTime"), item.get("body")
    if not _is_time(start):
        warnings.append(f'{where}: "startTime" missing or not a number ({start!r}); left out')
        return None
    if not isinstance(body, str) or not body.strip():
        return None  # nothing was said here
    if end is not None and not _is_time(end):
        warnings.append(f'{where}: "endTime" is not a number ({end!r}); ignored')
        end = None
    if end is not None and end < start:
        warnings.append(f"{where}: ends before it starts; end set to its start")
        end = start
    speaker = item.get("speaker") if isinstance(item.get("speaker"), str) else None
    return speaker, float(start), None if end is None else float(end), body.strip()


def _is_time(value) -> bool:
    return is_number(value) and value >= 0


def _ends(items) -> list[float]:
    """Each item's end; a missing one runs to the next item's start, and the last one
    lasts as long as its words take to say (the audio's end clips it later)."""
    ends = []
    for index, (_, start, end, body) in enumerate(items):
        if index + 1 < len(items):
            following = items[index + 1][1]
        else:
            following = start + SECONDS_PER_WORD * len(body.split())
        ends.append(end if end is not None else round(max(start, following), 3))
    return ends


def _segments_from_items(items) -> list[Segment]:
    return [
        Segment(start, end, one_line(body), speaker=speaker)
        for (speaker, start, _, body), end in zip(items, _ends(items))
    ]


def _sentences_from_words(items) -> list[Segment]:
    """Word-timed items joined into one segment per speaker turn, then cut into sentences."""
    segments: list[Segment] = []
    turn: list[Word] = []
    speaker = None
    for (item_speaker, start, _, body), end in zip(items, _ends(items)):
        if turn and item_speaker != speaker:
            segments += _turn_sentences(turn, speaker)
            turn = []
        speaker = item_speaker
        for word in body.split():
            turn.append(Word(start, end, " " + word, None))
    if turn:
        segments += _turn_sentences(turn, speaker)
    return segments


def _turn_sentences(words: list[Word], speaker: str | None) -> list[Segment]:
    turn = Segment(words[0].start, words[-1].end, "", words)
    sentences = split_into_sentences(turn)
    for sentence in sentences:
        sentence.speaker = speaker
    return sentences


def _in_time_order(segments: list[Segment], name: str, warnings: list[str]) -> list[Segment]:
    if any(b.start < a.start for a, b in zip(segments, segments[1:])):
        warnings.append(f"{name}: segments are out of time order; sorted")
        return sorted(segments, key=lambda segment: segment.start)
    return segments
