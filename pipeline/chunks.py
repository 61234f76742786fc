"""Cutting a stream of audio blocks into chunks of about the same length, at silences.

Each chunk owns the span [start, end) of the episode and carries its samples with a
margin either side, so a word said across a cut is decoded whole by both chunks and
kept once, by the chunk that owns its midpoint. Cuts depend only on the audio and the
chunk length, so a resumed run cuts exactly where the first run did.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

import numpy as np

from .audio import SAMPLE_RATE

MARGIN_SECONDS = 1.0  # context decoded past each cut; words there belong to the neighbour
SEARCH_SECONDS = 30.0  # how far before the target length a cut may move to find a silence
FindCut = Callable[[np.ndarray], int]


@dataclass(frozen=True)
class AudioChunk:
    index: int
    start: float  # owned span, seconds from the start of the episode
    end: float
    offset: float  # time of samples[0]
    samples: np.ndarray


class _Buffer:
    """Samples from ``first`` (an absolute sample index) on, appended block by block."""

    def __init__(self):
        self.first, self.parts, self.length = 0, [], 0

    @property
    def stop(self) -> int:
        return self.first + self.length

    def append(self, block: np.ndarray) -> None:
        self.parts.append(block)
        self.length += len(block)

    def slice(self, start: int, stop: int) -> np.ndarray:
        joined = np.concatenate(self.parts) if len(self.parts) != 1 else self.parts[0]
        self.parts = [joined]
        return joined[max(0, start - self.first) : stop - self.first]

    def drop_before(self, sample: int) -> None:
        kept = self.slice(sample, self.stop).copy()  # a copy frees the dropped samples
        self.first, self.parts, self.length = max(sample, self.first), [kept], len(kept)


def cut_into_chunks(
    blocks: Iterable[np.ndarray], chunk_seconds: float, find_cut: FindCut
) -> Iterator[AudioChunk]:
    """Chunks of about ``chunk_seconds``, each cut where ``find_cut`` says within the
    last ``SEARCH_SECONDS`` before that length (``find_cut`` gets those samples and
    returns an index into them)."""
    target = int(chunk_seconds * SAMPLE_RATE)
    search = min(int(SEARCH_SECONDS * SAMPLE_RATE), target // 2)
    margin = int(MARGIN_SECONDS * SAMPLE_RATE)
    buffer, start, index = _Buffer(), 0, 0
    for block in blocks:
        buffer.append(block)
        while buffer.stop >= start + target + margin:
            window_start = start + target - search
            cut = window_start + find_cut(buffer.slice(window_start, start + target))
            yield _chunk(buffer, index, start, cut, margin)
            buffer.drop_before(cut - margin)
            start, index = cut, index + 1
    if buffer.stop > start or index == 0:
        yield _chunk(buffer, index, start, buffer.stop, margin)


def _chunk(buffer: _Buffer, index: int, start: int, end: int, margin: int) -> AudioChunk:
    first = max(0, start - margin)
    samples = buffer.slice(first, end + margin)
    return AudioChunk(
        index=index,
        start=start / SAMPLE_RATE,
        end=end / SAMPLE_RATE,
        offset=first / SAMPLE_RATE,
        samples=samples,
    )


def quietest_point(samples: np.ndarray, frame_seconds: float = 0.1) -> int:
    """The middle of the quietest frame: where to cut when the detector hears no pause."""
    frame = max(1, int(frame_seconds * SAMPLE_RATE))
    frames = len(samples) // frame
    if frames == 0:
        return len(samples) // 2
    energy = np.square(samples[: frames * frame].reshape(frames, frame)).mean(axis=1)
    return int(np.argmin(energy)) * frame + frame // 2
