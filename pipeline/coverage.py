"""Checking decoded words against where the voice detector hears speech.

Whisper sometimes drops part of a window: the batched pipeline most of all (on the
joined corpus it lost the first 15 s of a sonnet), the sequential one now and then.
Comparing the voice-activity regions with the decoded words shows where that happened,
so those stretches can be decoded again.

Whisper also stretches the first word after a pause back into the silence (on the
bundled example, a heading said at 12.3 s was timed from 10.9 s). A word cannot start
or end in silence, so such edges are moved to where the speech is.
"""

from __future__ import annotations

from bisect import bisect_right

from .records import Segment, Word
from .sentences import segment_from_words

MIN_GAP_SECONDS = 2.0  # speech this long with no word in it was skipped, not paused over
Span = tuple[float, float]
WORD_PADDING = 0.3  # word timestamps are approximate at their edges


def skipped_speech(
    speech: list[Span], segments: list[Segment], min_gap: float = MIN_GAP_SECONDS
) -> list[Span]:
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


def words_inside(segments: list[Segment], span: Span) -> list[Segment]:
    """The parts of ``segments`` whose words fall (by midpoint) inside ``span``."""
    start, end = span
    kept = []
    for segment in segments:
        inside: list[Word] = [w for w in segment.words if start <= (w.start + w.end) / 2 <= end]
        if inside:
            kept.append(segment_from_words(inside, segment))
    return kept


def group_into_windows(spans: list[Span], context: float, window: float) -> list[list[Span]]:
    """Consecutive spans grouped so that each group, with ``context`` either side, fits in
    ``window`` seconds (a span longer than that is a group of its own)."""
    groups: list[list[Span]] = []
    for span in spans:
        if groups and span[1] + context - (groups[-1][0][0] - context) <= window:
            groups[-1].append(span)
        else:
            groups.append([span])
    return groups


def merge_close(spans: list[Span], max_gap: float) -> list[Span]:
    """Join speech regions separated by less than ``max_gap`` seconds of silence."""
    merged: list[Span] = []
    for start, end in spans:
        if merged and start - merged[-1][1] < max_gap:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def snap_words_to_speech(segments: list[Segment], speech: list[Span]) -> None:
    """Move word edges that fall in silence to the edge of the speech they touch.

    A sentence's first word can also be pulled back across the pause before it, into
    the tail of the previous sentence's speech: when it reaches into a pause, the words
    after it start beyond that pause, and the speech it starts in belongs to earlier
    words, it moves to where speech resumes. A first word with speech of its own before
    the pause ("One. [pause] From fairest creatures") stays where it is.
    """
    starts = [start for start, _ in speech]
    previous_end = float("-inf")
    for segment in sorted(segments, key=lambda segment: segment.start):
        if not segment.words:
            continue
        first_reached = segment.words[0].end
        for word in segment.words:
            silence = _silence_at(speech, starts, word.start)
            if silence and silence[1] < word.end:
                word.start = silence[1]
            silence = _silence_at(speech, starts, word.end)
            if silence and word.start < silence[0]:
                word.end = silence[0]
        if len(segment.words) > 1:
            _move_first_word_across_pause(
                segment.words, first_reached, previous_end, speech, starts
            )
        segment.start, segment.end = segment.words[0].start, segment.words[-1].end
        previous_end = segment.end


def _move_first_word_across_pause(words, reached, previous_end, speech, starts) -> None:
    first, second = words[0], words[1]
    silence = _silence_at(speech, starts, reached)
    if not silence or not first.start < silence[0] or silence[1] > second.start:
        return
    speech_start = speech[bisect_right(starts, first.start) - 1][0]
    if previous_end > speech_start:  # the speech it starts in is the previous sentence's
        first.start = first.end = silence[1]


def _silence_at(speech: list[Span], starts: list[float], seconds: float) -> Span | None:
    """The silence between two speech regions that ``seconds`` falls in, if any."""
    index = bisect_right(starts, seconds)
    if index == 0 or index == len(speech):
        return None  # before the first or after the last region: no speech either side
    previous_end, next_start = speech[index - 1][1], speech[index][0]
    return (previous_end, next_start) if previous_end < seconds < next_start else None
