"""A synthetic archive of N hours, written through the project's schema, for search benchmarks.

Each hour is one episode: 20 chapters of 45 segments, each segment 6 to 18 words (12 on
average) drawn from English word frequencies (the ``wordfreq`` package, a bench extra), so
"the" lands in about half the segments and most words are rare. A two-word phrase
(``PLANTED_PHRASE``) is planted in one segment in 5,000. Rows go straight into the base
tables (the FTS triggers index them), then ``reindex`` builds the derived search
structures, as a SQL user's bulk load would.

Archives are cached (``benchmarks/.cache/`` or ``$ARCHIVE_BENCH_CACHE``): the 1,000-hour one
takes minutes to write.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from db.schema import open_archive  # noqa: E402

CACHE_DIR = Path(os.environ.get("ARCHIVE_BENCH_CACHE", ROOT / "benchmarks" / ".cache"))
VOCABULARY_SIZE = 30_000
CHAPTERS_PER_EPISODE = 20
SEGMENTS_PER_CHAPTER = 45
SEGMENT_SECONDS = 4.0
PLANTED_PHRASE = "unilateral pause"
PLANT_EVERY = 5_000
SHOWS = ("Morning Brief", "Long Conversations", "Field Notes", "The Archive Hour")
FORMAT_VERSION = 1  # bump when the text changes, so stale caches are not reused


def cached_base_archive(hours: int, *, seed: int = 1) -> Path:
    """The synthetic archive's base tables (no derived search structures), built on first use."""
    path = CACHE_DIR / f"scale-{hours}h-s{seed}-v{FORMAT_VERSION}-base.db"
    if not path.exists():
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        build_base_archive(partial, hours, seed=seed)
        shutil.move(partial, path)
    return path


def english_vocabulary() -> tuple[list[str], np.ndarray]:
    """The most common English words and their relative frequencies (summing to 1)."""
    import wordfreq

    words = [w for w in wordfreq.top_n_list("en", VOCABULARY_SIZE) if w.isalpha()]
    weights = np.array([wordfreq.word_frequency(w, "en") for w in words])
    return words, weights / weights.sum()


def build_base_archive(path: Path, hours: int, *, seed: int = 1) -> None:
    started = time.perf_counter()
    words, weights = english_vocabulary()
    rng = np.random.default_rng(seed)
    db = open_archive(path)
    conn = db.conn
    segment_id = chapter_id = 0
    with conn:
        for index in range(hours):
            chapter_id, segment_id = _write_episode(
                conn, index, rng, words, weights, chapter_id, segment_id
            )
            if index % 50 == 49:
                print(f"  {index + 1}/{hours} episodes written", file=sys.stderr)
    db.execute("vacuum")
    db.close()
    print(f"built {path} in {time.perf_counter() - started:.0f} s", file=sys.stderr)


def _segment_texts(rng, words, weights, count: int) -> list[str]:
    lengths = rng.integers(6, 19, size=count)
    drawn = rng.choice(len(words), size=int(lengths.sum()), p=weights)
    texts, at = [], 0
    for length in lengths:
        texts.append(" ".join(words[i] for i in drawn[at : at + length]).capitalize() + ".")
        at += length
    return texts


def _write_episode(conn, index, rng, words, weights, chapter_id, segment_id):
    episode_id = f"synthetic-{index:05d}"
    per_episode = CHAPTERS_PER_EPISODE * SEGMENTS_PER_CHAPTER
    texts = _segment_texts(rng, words, weights, per_episode)
    for position in range(per_episode):
        if (segment_id + position) % PLANT_EVERY == PLANT_EVERY // 2:
            texts[position] = texts[position][:-1] + f" {PLANTED_PHRASE}."
    duration = per_episode * SEGMENT_SECONDS
    published = f"{2000 + index // 365 % 27:04d}-{1 + index // 28 % 12:02d}-{1 + index % 28:02d}"
    conn.execute(
        "insert into episodes (id, title, show, published, audio_path, audio_sha256, duration,"
        " language, model, outline_source, outline_offset) values (?,?,?,?,?,?,?,?,?,?,0)",
        [
            episode_id,
            f"Synthetic episode {index}",
            SHOWS[index % len(SHOWS)],
            published,
            f"/nonexistent/{episode_id}.mp3",
            f"{index:064x}",
            duration,
            "en",
            "synthetic",
            "notes",
        ],
    )
    for position in range(CHAPTERS_PER_EPISODE):
        chapter_id += 1
        first = position * SEGMENTS_PER_CHAPTER
        chapter_texts = texts[first : first + SEGMENTS_PER_CHAPTER]
        start = first * SEGMENT_SECONDS
        conn.execute(
            "insert into chapters (id, episode_id, position, title, start, end, stated_start,"
            " text) values (?,?,?,?,?,?,?,?)",
            [
                chapter_id,
                episode_id,
                position,
                f"{chapter_texts[0].split()[0]} part {position}",
                start,
                start + SEGMENTS_PER_CHAPTER * SEGMENT_SECONDS,
                start,
                " ".join(chapter_texts),
            ],
        )
        conn.executemany(
            "insert into segments (id, episode_id, chapter_id, position, start, end, text)"
            " values (?,?,?,?,?,?,?)",
            [
                (
                    segment_id + first + i + 1,
                    episode_id,
                    chapter_id,
                    first + i,
                    (first + i) * SEGMENT_SECONDS,
                    (first + i + 1) * SEGMENT_SECONDS - 0.3,
                    text,
                )
                for i, text in enumerate(chapter_texts)
            ],
        )
    return chapter_id, segment_id + per_episode
