"""Plain records passed between the pipeline stages.

Each stage is a function over these dataclasses; only ``db/`` turns them into rows.
Times are seconds from the start of the audio file.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class AudioInfo:
    path: str
    sha256: str
    duration: float  # seconds actually decoded
    declared_duration: float | None  # what the container claims, when it says
    title: str | None = None  # the file's own title tag, if any
    warnings: list[str] = field(default_factory=list)


@dataclass
class OutlineEntry:
    """One chapter as an outline states it, before alignment."""

    title: str
    start: float | None  # stated start; None when the outline gives no time
    hidden: bool = False  # Podcasting 2.0 ``"toc": false``
    where: str | None = None  # where it was found, for messages: "notes line 7", "chapter 3"
    links: dict | None = None  # Podcasting 2.0 ``img``, ``url``, ``location``, kept as given


@dataclass
class Outline:
    entries: list[OutlineEntry]
    source: str  # 'notes', 'notes-headings', 'chapters-json', 'id3', 'embedded', 'none'
    warnings: list[str] = field(default_factory=list)


@dataclass
class Word:
    start: float
    end: float
    word: str  # as whisper writes it, leading space included
    probability: float | None  # None: a publisher's word timing, no confidence given


@dataclass
class Segment:
    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    speaker: str | None = None  # as a publisher's transcript names them


@dataclass(frozen=True)
class Gap:
    """Heard speech that no decoding could turn into words."""

    start: float
    end: float
    reason: str


@dataclass
class Transcript:
    segments: list[Segment]
    language: str | None
    duration: float  # seconds of audio transcribed
    model: str
    elapsed: float = 0.0  # wall-clock seconds spent transcribing
    gaps: list[Gap] = field(default_factory=list)
    resumed: float = 0.0  # seconds of the audio whose transcript came from a checkpoint


@dataclass
class Chapter:
    """A chapter placed on the audio, with the segments that fall in it."""

    position: int
    title: str
    start: float
    end: float
    stated_start: float | None
    confidence: float | None = None
    hidden: bool = False
    segments: list[Segment] = field(default_factory=list)
    links: dict | None = None  # Podcasting 2.0 ``img``, ``url``, ``location``

    @property
    def text(self) -> str:
        return " ".join(segment.text for segment in self.segments)


@dataclass
class AlignedEpisode:
    id: str
    title: str
    audio: AudioInfo
    transcript: Transcript
    chapters: list[Chapter]
    outline_source: str
    outline_offset: float = 0.0
    show: str | None = None
    description: str | None = None
    published: str | None = None
    audio_url: str | None = None
    warnings: list[str] = field(default_factory=list)  # grouped and capped, for the archive
