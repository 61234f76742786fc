"""Find stretches of speech that the decoder skipped.

Whisper sometimes drops part of a window: the batched pipeline most of all (on the
joined corpus it lost the first 15 s of a sonnet), the sequential one now and then.
Comparing the voice-activity regions with the decoded words shows where that happened,
so those stretches can be decoded again.
"""

from __future__ import annotations

from .records import Segment, Word
from .sentences import split_into_sentences

MIN_GAP_SECONDS = 2.0  # speech this long with no word in it was skipped, not paused over
WORD_PADDING = 0.3  # word timestamps are approximate at their edges


def skipped_speech(
    speech: list[tuple[float, float]], segments: list[Segment], min_gap: float = MIN_GAP_SECONDS
) -> list[tuple[float, float]]:
    """Spans inside the speech regions that no decoded word covers."""
    words = sorted(
        (w.start - WORD_PADDING, w.end + WORD_PADDING) for s in segments for w in s.words
    )
    gaps = []
    for region_start, region_end in speech:
        cursor = region_start
        for word_start, word_end in words:
            if word_end <= cursor or word_start >= region_end:
                continue
            if word_start - cursor >= min_gap:
                gaps.append((cursor, word_start))
            cursor = max(cursor, word_end)
        if region_end - cursor >= min_gap:
            gaps.append((cursor, region_end))
    return gaps


def words_inside(segments: list[Segment], span: tuple[float, float]) -> list[Segment]:
    """The parts of ``segments`` whose words fall (by midpoint) inside ``span``."""
    start, end = span
    kept = []
    for segment in segments:
        inside: list[Word] = [w for w in segment.words if start <= (w.start + w.end) / 2 <= end]
        if inside:
            kept.extend(
                split_into_sentences(
                    Segment(
                        inside[0].start,
                        inside[-1].end,
                        "",
                        inside,
                        segment.avg_logprob,
                        segment.no_speech_prob,
                    )
                )
            )
    return kept
