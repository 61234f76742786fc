"""Cut decoded segments into sentence-sized ones at word boundaries.

Whisper's segments can run for 30 s (the batched path gives one per window), but a
search hit should point at the sentence that was said. Cuts fall after sentence
punctuation, at long pauses, and, for a run-on stretch, at the best clause break.
"""

from __future__ import annotations

from .records import Segment, Word

SENTENCE_ENDINGS = (".", "?", "!", "…")
CLAUSE_ENDINGS = (",", ";", ":", "—", "–")
MIN_WORDS = 3  # never cut off a fragment shorter than this at punctuation or pause
PAUSE_SECONDS = 0.8  # a silence this long between words ends a segment
MAX_SECONDS = 15.0  # no segment runs longer than this


def split_into_sentences(segment: Segment, max_seconds: float = MAX_SECONDS) -> list[Segment]:
    """Return ``segment`` cut into sentence-sized pieces (itself when it has no words)."""
    if not segment.words:
        return [segment]
    pieces: list[list[Word]] = []
    current: list[Word] = []
    for index, word in enumerate(segment.words):
        if current and word.end - current[0].start > max_seconds:
            cut = _best_cut(current)
            pieces.append(current[:cut])
            current = current[cut:]
        current.append(word)
        following = segment.words[index + 1] if index + 1 < len(segment.words) else None
        if following is not None and _ends_here(current, following):
            pieces.append(current)
            current = []
    if current:
        pieces.append(current)
    return [segment_from_words(words, segment) for words in pieces]


def _ends_here(current: list[Word], following: Word) -> bool:
    if len(current) < MIN_WORDS:
        return False
    last = current[-1]
    return last.word.strip().endswith(SENTENCE_ENDINGS) or (
        following.start - last.end >= PAUSE_SECONDS
    )


def _best_cut(words: list[Word]) -> int:
    """Index to cut a too-long run at: the last clause break, else the widest pause."""
    for index in range(len(words) - 1, MIN_WORDS - 1, -1):
        if words[index - 1].word.strip().endswith(CLAUSE_ENDINGS + SENTENCE_ENDINGS):
            return index
    if len(words) < 2:
        return len(words)
    gaps = [(words[i].start - words[i - 1].end, i) for i in range(1, len(words))]
    return max(gaps)[1]


def segment_from_words(words: list[Word], parent: Segment) -> Segment:
    """A segment of some of ``parent``'s words, keeping its decoder scores and speaker."""
    return Segment(
        start=words[0].start,
        end=words[-1].end,
        text=join_words(words),
        words=words,
        avg_logprob=parent.avg_logprob,
        no_speech_prob=parent.no_speech_prob,
        speaker=parent.speaker,
    )


def join_words(words: list[Word]) -> str:
    """Whisper's words carry their own leading spaces."""
    return "".join(word.word for word in words).strip()
