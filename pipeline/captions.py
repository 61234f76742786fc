"""WebVTT and SubRip captions, read with webvtt-py and srt and written with them.

The libraries parse and write the cues. What they do silently is reported here: a
block of text with no timing line (both libraries glue it to the cue before, or drop
it) and a timing line they cannot read are each named in a warning and left out.
Captions as YouTube tools write them are read too: cue settings, ``<00:05:04.080>``
word times (kept as word timings) and the line each rolling cue repeats from the one
before it.

Written cues follow captioning practice: at most two lines of at most 42 characters,
broken at words, none of zero length, each speaker as a WebVTT ``<v Name>`` voice.
"""

from __future__ import annotations

import datetime
import html
import io
import re
from collections import Counter
from dataclasses import dataclass

import srt
import webvtt

from .records import Segment, Word
from .textnorm import one_line
from .warning_groups import capped

_TIME = r"(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3}"
TIMING_LINE = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}(?:\s.*)?$")
CLOCK = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{1,3})$")
INLINE_TIME = re.compile(r"<((?:\d+:)?\d{2}:\d{2}\.\d{3})>")
TAG = re.compile(r"<[^<>\n]*>")  # [^<] keeps a stray "<" from rescanning the line
SRT_TAG = re.compile(r"</?(?:i|b|u|font)\b[^>]*>|\{\\[^}]*\}", re.I)
VTT_BLOCKS_TO_SKIP = re.compile(r"^(NOTE|STYLE|REGION)\b")
SPEAKER_PREFIX = re.compile(r"^([A-Z][\w.'-]*(?: [A-Z][\w.'-]*){0,2}): (?=\S)")
LINE_CHARS = 42
LINES_PER_CUE = 2
MIN_CUE_SECONDS = 0.001


class CaptionError(Exception):
    """The captions cannot be read at all; the message says why, in one line."""


# --- reading --------------------------------------------------------------------------


def read_vtt(text: str, name: str, warnings: list[str]) -> list[Segment]:
    text = _newlines(text)
    if not text.lstrip().startswith("WEBVTT"):
        warnings.append(f"{name}: no WEBVTT header; read as WebVTT anyway")
        text = "WEBVTT\n\n" + text.lstrip()
    warnings += capped(_unusable_blocks(text, name, vtt=True), "cues left out")
    try:
        captions = webvtt.from_buffer(io.StringIO(text)).captions
    except (webvtt.errors.MalformedFileError, webvtt.errors.MalformedCaptionError) as ex:
        raise CaptionError(f"{name}: not WebVTT ({ex})") from None
    segments: list[Segment] = []
    shown: list[str] = []  # the lines of the cue before: YouTube's rolling cues repeat them
    for caption in captions:
        lines = [line for line in caption.raw_text.split("\n") if _plain(line)]
        new = [line for line in lines if INLINE_TIME.search(line) or _plain(line) not in shown]
        shown = [_plain(line) for line in lines]
        segment = _vtt_segment(caption, new, name, warnings)
        if segment is not None:
            segments.append(segment)
    return segments


def _vtt_segment(caption, lines: list[str], name: str, warnings: list[str]) -> Segment | None:
    body = one_line(" ".join(_plain(line) for line in lines))
    if not body:
        return None
    start, end = _ordered(clock_seconds(caption.start), clock_seconds(caption.end), name, warnings)
    words = _inline_timed_words(lines[0], start, end) if len(lines) == 1 else []
    voice = one_line(html.unescape(caption.voice)) if caption.voice else None
    return Segment(start, end, body, words, speaker=voice or None)


def _plain(line: str) -> str:
    return one_line(html.unescape(TAG.sub("", line)))


def _inline_timed_words(line: str, start: float, end: float) -> list[Word]:
    """``so<00:05:02.800><c> this</c>``: each word from the time written before it."""
    pieces = INLINE_TIME.split(line)  # text, time, text, time, text ...
    if len(pieces) == 1:
        return []
    starts = [start] + [clock_seconds(stamp) for stamp in pieces[1::2]]
    texts = [_plain(piece) for piece in pieces[0::2]]
    words = []
    for index, (begin, text) in enumerate(zip(starts, texts)):
        finish = starts[index + 1] if index + 1 < len(starts) else end
        words += [Word(begin, max(begin, finish), " " + word, None) for word in text.split()]
    return words


def read_srt(text: str, name: str, warnings: list[str]) -> list[Segment]:
    problems = _unusable_blocks(_newlines(text), name, vtt=False)
    warnings += capped(problems, "cues left out")
    cues = "\n\n".join(
        f"{number}\n" + "\n".join(lines[timing:])
        for number, (timing, lines) in enumerate(_timed_blocks(_newlines(text)), start=1)
    )
    segments = []
    for subtitle in srt.parse(cues, ignore_errors=True):
        body = one_line(SRT_TAG.sub("", subtitle.content))
        if body:
            start = subtitle.start.total_seconds()
            start, end = _ordered(start, subtitle.end.total_seconds(), name, warnings)
            segments.append(Segment(round(start, 3), round(end, 3), body))
    return _srt_speakers(segments)


def _srt_speakers(segments: list[Segment]) -> list[Segment]:
    """``Sarah: ...`` where the speaker changes, as the Podcasting 2.0 SRT guidance writes
    it; names count as speakers once at least two cues start with one."""
    prefixes = Counter(m[1] for s in segments if (m := SPEAKER_PREFIX.match(s.text)))
    if sum(prefixes.values()) < 2:
        return segments  # one "Note: ..." is text, not a speaker
    speakers = set(prefixes)
    speaker = None
    for segment in segments:
        match = SPEAKER_PREFIX.match(segment.text)
        if match and match[1] in speakers:
            speaker = match[1]
            segment.text = segment.text[match.end() :]
        segment.speaker = speaker
    return segments


def _ordered(start: float, end: float, name: str, warnings: list[str]) -> tuple[float, float]:
    if end < start:
        warnings.append(f"{name}: a cue at {start:.3f} s ends before it starts; end set to start")
        end = start
    return start, end


def _newlines(text: str) -> str:
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def _blocks(text: str, *, vtt: bool = False) -> list[tuple[int, list[str]]]:
    """Blank-line separated blocks, each with the line number it starts on. In WebVTT
    only an empty line ends a cue (YouTube's cues hold lines of one space)."""
    blocks, current, first = [], [], 0
    for number, line in enumerate(text.split("\n"), 1):
        if line if vtt else line.strip():
            if not current:
                first = number
            current.append(line.rstrip())
        elif current:
            blocks.append((first, current))
            current = []
    if current:
        blocks.append((first, current))
    return blocks


def _timed_blocks(text: str):
    """(index of the timing line, lines) of each SRT block whose timing can be read."""
    for _, lines in _blocks(text):
        timing = next((i for i, line in enumerate(lines) if "-->" in line), None)
        if timing is not None and TIMING_LINE.match(lines[timing]):
            yield timing, lines


def _unusable_blocks(text: str, name: str, *, vtt: bool) -> list[str]:
    """A warning for each block the library would drop, or glue to the cue before."""
    problems = []
    blocks = _blocks(text, vtt=vtt)
    if vtt and blocks and blocks[0][1][0].startswith("WEBVTT"):
        blocks = blocks[1:]  # the header, with its metadata lines
    for first, lines in blocks:
        if vtt and VTT_BLOCKS_TO_SKIP.match(lines[0]):
            continue
        timings = [(i, line) for i, line in enumerate(lines) if "-->" in line]
        if not vtt:
            timings = timings[:1]  # SubRip cue text may hold "-->"; only the first line times
        for index, line in timings:
            if not TIMING_LINE.match(line):
                where = f"{name} line {first + index}"
                problems.append(f"{where}: cannot read the cue timing {line!r}; left out")
        if not timings and not all(line.strip().isdigit() for line in lines):
            excerpt = one_line(" ".join(lines))[:40]
            problems.append(f"{name} line {first}: text with no cue timing ({excerpt!r}); left out")
    return problems


def clock_seconds(stamp: str) -> float:
    """``01:02:03.456`` or ``02:03,456`` → seconds, to the millisecond."""
    match = CLOCK.match(stamp.strip())
    if match is None:
        raise CaptionError(f"not a cue time: {stamp!r}")
    hours, minutes, seconds, fraction = match.groups()
    millis = int(fraction.ljust(3, "0"))
    return round(int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + millis / 1000, 3)


# --- writing --------------------------------------------------------------------------


@dataclass
class Cue:
    start: float
    end: float
    lines: list[str]
    speaker: str | None = None
    note: list[str] | None = None  # NOTE blocks to write before it (WebVTT)


def write_vtt(cues: list[Cue], title: str, trailing_notes: list[str]) -> str:
    captions = []
    for cue in cues:
        text = "\n".join(_vtt_escape(line) for line in cue.lines)
        if cue.speaker:
            text = f"<v {_vtt_escape(cue.speaker)}>{text}"
        caption = webvtt.Caption(vtt_clock(cue.start), vtt_clock(cue.end), text)
        caption.comments = list(cue.note or [])
        captions.append(caption)
    document = webvtt.WebVTT(
        captions=captions, header_text=f"- {title}", footer_comments=trailing_notes
    )
    return document.content.rstrip("\n") + "\n"


def write_srt(cues: list[Cue]) -> str:
    subtitles = [
        srt.Subtitle(
            number,
            datetime.timedelta(seconds=round(cue.start, 3)),
            datetime.timedelta(seconds=round(cue.end, 3)),
            "\n".join(cue.lines),
        )
        for number, cue in enumerate(cues, start=1)
    ]
    return srt.compose(subtitles, reindex=False)


def srt_cues(segments: list[Segment]) -> list[Cue]:
    """Cues for SubRip, which has no voices: ``Name:`` starts the text where the speaker
    changes, as the Podcasting 2.0 guidance for SRT has it."""
    cues, speaker = [], None
    for segment in segments:
        changed = segment.speaker and segment.speaker != speaker
        cues += segment_cues(segment, f"{segment.speaker}:" if changed else None)
        speaker = segment.speaker
    return cues


def segment_cues(segment: Segment, label: str | None = None) -> list[Cue]:
    """The segment as cues of at most two lines of 42 characters, broken at words, timed
    from its words where it has them, else by each cue's share of its characters.
    ``label`` (SRT's ``Sarah:``) is written before the first word and wrapped with it."""
    labels = label.split() if label else []
    lines = wrap_words(labels + one_line(segment.text).split())
    groups = [lines[i : i + LINES_PER_CUE] for i in range(0, len(lines), LINES_PER_CUE)]
    bounds = _word_bounds(segment, groups, len(labels)) or _share_bounds(segment, groups)
    return [
        Cue(begin, end, group, segment.speaker)
        for group, (begin, end) in zip(groups, zip(bounds, bounds[1:]))
    ]


def wrap_words(words: list[str], width: int = LINE_CHARS) -> list[str]:
    """Lines of at most ``width`` characters; a longer word (a URL) is cut."""
    lines: list[str] = []
    current = ""
    for word in words:
        while len(word) > width:
            if current:
                lines.append(current)
                current = ""
            lines.append(word[:width])
            word = word[width:]
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    if current:
        lines.append(current)
    return lines


def _share_bounds(segment: Segment, groups: list[list[str]]) -> list[float]:
    """len(groups) + 1 increasing times from the segment's start to its end, each cue
    getting its share of the characters."""
    sizes = [len(" ".join(group)) for group in groups]
    total = sum(sizes) or 1
    bounds, done = [segment.start], 0
    for size in sizes[:-1]:
        done += size
        bounds.append(round(segment.start + (segment.end - segment.start) * done / total, 3))
    return bounds + [segment.end]


def _word_bounds(segment: Segment, groups: list[list[str]], skip: int) -> list[float] | None:
    """Cue starts at the start of their first word, when the words match the text
    (``skip``: label tokens that are not spoken words)."""
    counts = [len(" ".join(group).split()) for group in groups]
    if not segment.words or sum(counts) - skip != len(segment.words):
        return None
    bounds, index = [segment.start], -skip
    for count in counts[:-1]:
        index += count
        bounds.append(round(segment.words[max(0, index)].start, 3))
    bounds.append(segment.end)
    if any(b - a < MIN_CUE_SECONDS for a, b in zip(bounds, bounds[1:])):
        return None
    return bounds


def vtt_clock(seconds: float) -> str:
    return _clock(seconds, ".")


def _clock(seconds: float, decimal_mark: str) -> str:
    millis = round(max(0.0, seconds) * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal_mark}{millis:03d}"


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
