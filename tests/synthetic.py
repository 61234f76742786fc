"""Synthetic archives for load tests and benchmarks: many episodes, no model needed.

Text is drawn from a made-up vocabulary with a Zipf-like spread (a few very common
words, a long tail of rare ones), so searches range from thousands of hits to a few.
"""

from __future__ import annotations

import random

from db.schema import open_archive
from db.store import store_episode
from pipeline.records import AlignedEpisode, AudioInfo, Chapter, Segment, Transcript

SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in ("a", "e", "i", "o", "u", "ai", "ou")]
SEGMENT_SECONDS = 6.0


def vocabulary(size: int, rng: random.Random) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 3))))
    return sorted(words)


def zipf_weights(size: int) -> list[float]:
    return [1.0 / rank for rank in range(1, size + 1)]


def synthetic_episode(
    index: int, rng: random.Random, words: list[str], segments: int, chapters: int
) -> AlignedEpisode:
    weights = zipf_weights(len(words))
    per_chapter = max(1, segments // chapters)
    duration = segments * SEGMENT_SECONDS
    placed = []
    for position in range(chapters):
        start = position * per_chapter * SEGMENT_SECONDS
        end = duration if position == chapters - 1 else start + per_chapter * SEGMENT_SECONDS
        chapter = Chapter(position, f"Chapter {position} of episode {index}", start, end, start)
        count = per_chapter if position < chapters - 1 else segments - per_chapter * position
        for offset in range(count):
            begin = start + offset * SEGMENT_SECONDS
            text = " ".join(rng.choices(words, weights, k=rng.randint(8, 20))).capitalize() + "."
            chapter.segments.append(Segment(begin, begin + SEGMENT_SECONDS - 0.5, text))
        placed.append(chapter)
    episode_id = f"synthetic-{index:04d}"
    audio = AudioInfo(f"/nonexistent/{episode_id}.mp3", f"{index:064x}", duration, duration)
    transcript = Transcript([], "en", duration, "synthetic")
    return AlignedEpisode(
        episode_id,
        f"Synthetic episode {index}",
        audio,
        transcript,
        placed,
        "notes",
        audio_url=f"https://example.com/audio/{episode_id}.mp3",
    )


def build_synthetic_archive(
    path, *, episodes: int = 120, segments: int = 500, chapters: int = 10, seed: int = 7
) -> list[str]:
    """Write the archive at ``path``; returns the vocabulary, most common word first."""
    rng = random.Random(seed)
    words = vocabulary(3000, rng)
    rng.shuffle(words)
    db = open_archive(path)
    for index in range(episodes):
        store_episode(db, synthetic_episode(index, rng, words, segments, chapters))
    db.execute("vacuum")
    db.close()
    return words
