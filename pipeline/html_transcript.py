"""A Podcasting 2.0 ``text/html`` transcript: ``<cite>`` speakers, ``<time>`` marks and
the paragraphs they time, as in the spec's own example::

    <cite>Sarah:</cite>
    <time>0:53</time>
    <p>Creating good audio is really key ...</p>

A paragraph runs from its time to the next one; its sentences get times in between,
in proportion to their length (the page times paragraphs, not sentences), so that a
search hit lands near the sentence rather than at the start of a long paragraph.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from .records import Segment
from .textnorm import one_line
from .timefmt import parse_clock

SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'“‘(]?[A-Z0-9])")
SECONDS_PER_WORD = 0.4  # a speaking pace of 150 words a minute, for the last paragraph


@dataclass
class _Paragraph:
    start: float
    speaker: str | None
    text: list[str] = field(default_factory=list)


class _TranscriptParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[_Paragraph] = []
        self.unreadable_times: list[str] = []
        self._in: str | None = None  # "cite", "time", or None
        self._buffer: list[str] = []
        self._speaker: str | None = None

    def handle_starttag(self, tag, attrs):
        if tag in ("cite", "time"):
            self._in, self._buffer = tag, []

    def handle_endtag(self, tag):
        if tag != self._in:
            return
        text = one_line("".join(self._buffer))
        self._in = None
        if tag == "cite":
            self._speaker = text.rstrip(":").strip() or None
            return
        try:
            self.paragraphs.append(_Paragraph(parse_clock(text), self._speaker))
        except ValueError:
            self.unreadable_times.append(text)

    def handle_data(self, data):
        if self._in is not None:
            self._buffer.append(data)
        elif self.paragraphs:
            self.paragraphs[-1].text.append(data)


def parse_html_transcript(text: str, name: str, warnings: list[str]) -> list[Segment]:
    parser = _TranscriptParser()
    parser.feed(text)
    parser.close()
    for stamp in parser.unreadable_times[:3]:
        warnings.append(
            f"{name}: cannot read the time {stamp!r}; its paragraph joins the one before"
        )
    paragraphs = [p for p in parser.paragraphs if one_line("".join(p.text))]
    segments: list[Segment] = []
    for index, paragraph in enumerate(paragraphs):
        body = one_line(" ".join(paragraph.text))
        following = paragraphs[index + 1].start if index + 1 < len(paragraphs) else None
        end = following if following is not None else _spoken_end(paragraph.start, body)
        segments += _sentences(body, paragraph.start, max(end, paragraph.start), paragraph.speaker)
    return segments


def _spoken_end(start: float, body: str) -> float:
    return round(start + SECONDS_PER_WORD * len(body.split()), 3)


def _sentences(body: str, start: float, end: float, speaker: str | None) -> list[Segment]:
    sentences = [s for s in SENTENCE_END.split(body) if s.strip()]
    total = sum(len(s) for s in sentences) or 1
    segments, done = [], 0
    for sentence in sentences:
        begin = start + (end - start) * done / total
        done += len(sentence)
        finish = start + (end - start) * done / total
        segments.append(Segment(round(begin, 3), round(finish, 3), sentence, speaker=speaker))
    return segments
