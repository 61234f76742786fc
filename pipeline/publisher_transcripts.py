"""A publisher's own transcript (SRT, WebVTT, Podcasting 2.0 JSON) as a ``Transcript``.

Cues become segments with no word timings; alignment puts each one in the chapter its
midpoint falls in. A JSON transcript that times single words (as the spec's example
does) becomes sentence-sized segments that keep those word times. Speaker names are
kept as a ``Name:`` prefix where the speaker changes, as the spec's SRT guidance does.
A cue that cannot be used is reported and left out, never dropped silently.
"""

from __future__ import annotations

import html
import re
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from .podcast_json import is_number, json_list
from .records import Segment, Transcript, Word
from .sentences import split_into_sentences
from .textnorm import one_line

KINDS_BY_TYPE = {
    "application/x-subrip": "srt",
    "application/srt": "srt",
    "text/srt": "srt",
    "text/x-srt": "srt",
    "text/vtt": "vtt",
    "application/json": "json",
    "application/json+transcript": "json",
}
KINDS_BY_SUFFIX = {".srt": "srt", ".vtt": "vtt", ".json": "json"}
# Word-timed JSON first: it is the most precise; then WebVTT (a stricter format than SRT).
PREFERENCE = ("json", "vtt", "srt")
WORD_LEVEL_SHARE = 0.8  # this share of one-word bodies makes a JSON transcript word-timed

_TIME = r"(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{1,3})"
TIMING = re.compile(rf"^\s*(?P<start>{_TIME})\s*-->\s*(?P<end>{_TIME})(?:\s.*)?$")
VOICE = re.compile(r"^<v(?:\.[^\s>]*)?\s+([^>]+)>")
VTT_TAG = re.compile(r"<[^<>\n]*>")  # [^<] keeps a stray "<" from rescanning the line
SRT_TAG = re.compile(r"</?(?:i|b|u|font)\b[^>]*>|\{\\[^}]*\}", re.I)


class TranscriptFormatError(Exception):
    """The transcript cannot be read at all; the message says why, in one line."""


def transcript_kind(mime_type: str | None, url: str | None = None) -> str | None:
    """'srt', 'vtt' or 'json' from the link's MIME type, else from the URL's suffix."""
    mime = (mime_type or "").split(";")[0].strip().lower()
    if mime in KINDS_BY_TYPE:
        return KINDS_BY_TYPE[mime]
    suffix = PurePosixPath(urlsplit(url or "").path).suffix.lower()
    return KINDS_BY_SUFFIX.get(suffix)


def parse_transcript(
    text: str, kind: str, name: str, language: str | None = None
) -> tuple[Transcript, list[str]]:
    """The transcript in ``text`` and the warnings about cues left out or fixed."""
    parsers = {"srt": parse_srt, "vtt": parse_vtt, "json": parse_json_transcript}
    warnings: list[str] = []
    segments = parsers[kind](text.lstrip("\ufeff"), name, warnings)
    if not segments:
        raise TranscriptFormatError(f"{name}: no transcript segments found ({kind})")
    segments = _in_time_order(segments, name, warnings)
    duration = max(segment.end for segment in segments)
    transcript = Transcript(segments, language, duration, model=f"publisher:{kind}")
    return transcript, warnings


# --- SRT and WebVTT -------------------------------------------------------------------


def parse_srt(text: str, name: str, warnings: list[str]) -> list[Segment]:
    return _parse_cues(_blocks(text), name, warnings, _srt_text)


def parse_vtt(text: str, name: str, warnings: list[str]) -> list[Segment]:
    blocks = _blocks(text)
    if not blocks or not blocks[0][1][0].startswith("WEBVTT"):
        warnings.append(f"{name}: no WEBVTT header; read as WebVTT anyway")
    elif not any("-->" in line for line in blocks[0][1]):
        blocks = blocks[1:]  # the header block: WEBVTT and optional metadata lines
    cues = [block for block in blocks if not re.match(r"(NOTE|STYLE|REGION)\b", block[1][0])]
    return _parse_cues(cues, name, warnings, _vtt_text)


def _blocks(text: str) -> list[tuple[int, list[str]]]:
    """Blank-line separated blocks, each with the line number it starts on."""
    blocks, current, first = [], [], 0
    for number, line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), 1):
        if line.strip():
            if not current:
                first = number
            current.append(line.rstrip())
        elif current:
            blocks.append((first, current))
            current = []
    if current:
        blocks.append((first, current))
    return blocks


def _parse_cues(blocks, name: str, warnings: list[str], clean) -> list[Segment]:
    segments: list[Segment] = []
    speaker = None
    for first_line, lines in blocks:
        timing_at = next((i for i, line in enumerate(lines) if "-->" in line), None)
        if timing_at is None:
            if segments and not all(line.strip().isdigit() for line in lines):
                # A blank line inside a cue's text: the text belongs to the cue before.
                segments[-1].text += " " + clean(lines, None)[1]
            continue
        match = TIMING.match(lines[timing_at])
        if match is None:
            where = f"{name} line {first_line + timing_at}"
            warnings.append(f"{where}: cannot read the cue timing {lines[timing_at]!r}; left out")
            continue
        new_speaker, body = clean(lines[timing_at + 1 :], speaker)
        if not body:
            continue
        start, end = _seconds(match["start"]), _seconds(match["end"])
        if end < start:
            where = f"{name} line {first_line + timing_at}"
            warnings.append(f"{where}: cue ends before it starts; end set to its start")
            end = start
        segments.append(Segment(start, end, body))
        speaker = new_speaker
    return segments


def _seconds(stamp: str) -> float:
    match = re.fullmatch(_TIME, stamp.strip())
    hours, minutes, seconds, fraction = match.groups()
    millis = int(fraction.ljust(3, "0"))
    return round(int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + millis / 1000, 3)


def _srt_text(lines: list[str], speaker: str | None) -> tuple[str | None, str]:
    return speaker, one_line(SRT_TAG.sub("", " ".join(lines)))


def _vtt_text(lines: list[str], speaker: str | None) -> tuple[str | None, str]:
    """Cue text without markup; a ``<v Name>`` voice becomes ``Name:`` when it changes."""
    joined = " ".join(lines)
    voice = VOICE.match(joined)
    body = one_line(html.unescape(VTT_TAG.sub("", joined)))
    if voice is None:
        return speaker, body
    name = one_line(html.unescape(voice[1]))
    return name, body if name == speaker else f"{name}: {body}"


# --- Podcasting 2.0 JSON --------------------------------------------------------------


def parse_json_transcript(text: str, name: str, warnings: list[str]) -> list[Segment]:
    _, listed = json_list(text, name, "segments", TranscriptFormatError)
    items = []
    for number, item in enumerate(listed, start=1):
        checked = _json_segment(item, f"{name} segment {number}", warnings)
        if checked is not None:
            items.append(checked)
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
    """Each item's end; a missing one runs to the next item's start."""
    ends = []
    for index, (_, start, end, _) in enumerate(items):
        following = items[index + 1][1] if index + 1 < len(items) else start
        ends.append(end if end is not None else max(start, following))
    return ends


def _segments_from_items(items) -> list[Segment]:
    segments, speaker = [], None
    for (item_speaker, start, _, body), end in zip(items, _ends(items)):
        text = one_line(body)
        if item_speaker and item_speaker != speaker:
            text = f"{item_speaker}: {text}"
        speaker = item_speaker or speaker
        segments.append(Segment(start, end, text))
    return segments


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
    if speaker:
        sentences[0].text = f"{speaker}: {sentences[0].text}"
    return sentences


def _in_time_order(segments: list[Segment], name: str, warnings: list[str]) -> list[Segment]:
    if any(b.start < a.start for a, b in zip(segments, segments[1:])):
        warnings.append(f"{name}: segments are out of time order; sorted")
        return sorted(segments, key=lambda segment: segment.start)
    return segments
