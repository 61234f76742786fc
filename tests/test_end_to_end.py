"""The real model, the real CLI and a real archive file: clips joined into one episode."""

import json

import pytest

from .audio_tools import join_clips
from .conftest import CORPUS

pytestmark = pytest.mark.slow
CLIPS = [
    ("Kennedy", "jfk.flac", "fellow Americans"),
    ("Sonnet one", "sonnet-p001.mp3", "fairest creatures"),
    ("Sonnet two", "sonnet-p002.mp3", "forty winters"),
    ("Sonnet three", "sonnet-p003.mp3", "tell the face"),
]


@pytest.fixture(scope="module")
def joined(tmp_path_factory):
    folder = tmp_path_factory.mktemp("joined")
    spans = join_clips([CORPUS / name for _, name, _ in CLIPS], folder / "episode.wav", gap=1.5)
    notes = folder / "notes.txt"
    notes.write_text(
        "Four readings.\n\nOutline:\n"
        + "".join(
            f"({int(start) // 60:02d}:{int(start) % 60:02d}) {title}\n"
            for (title, _, _), (start, _) in zip(CLIPS, spans)
        )
        + "---\n"
    )
    return folder / "episode.wav", notes, spans


@pytest.fixture
def real_cli(run_cli, transcriber, monkeypatch):
    monkeypatch.setattr("pipeline.cli.Transcriber", lambda **kwargs: transcriber)
    return run_cli


@pytest.mark.parametrize("batch_size", [0, 8])
def test_every_segment_lands_in_its_clips_chapter(real_cli, joined, db_path, batch_size):
    audio, notes, spans = joined
    result = real_cli(
        "ingest", audio, "--notes", notes, "--id", "joined", "--batch-size", batch_size
    )
    assert result.exit_code == 0, result.stderr
    chapters = json.loads(real_cli("chapters", "joined", "--json").stdout)
    assert [c["title"] for c in chapters] == [title for title, _, _ in CLIPS]

    import sqlite3

    db = sqlite3.connect(db_path)
    rows = db.execute(
        "select chapters.position, segments.start, segments.end, segments.text "
        "from segments join chapters on chapters.id = segments.chapter_id"
    ).fetchall()
    assert len(rows) >= 12
    for position, start, end, text in rows:
        clip_start, clip_end = spans[position]
        assert clip_start - 0.5 <= start and end <= clip_end + 0.5, (position, start, end, text)
    for position in range(len(CLIPS)):
        assert any(row[0] == position for row in rows), f"chapter {position} has no segments"
    assert db.execute("select count(*) from words").fetchone()[0] > 350


def test_phrase_search_finds_the_right_chapter_and_moment(real_cli, joined):
    audio, notes, spans = joined
    real_cli("ingest", audio, "--notes", notes, "--id", "joined")
    for position, (title, _, phrase) in enumerate(CLIPS):
        hits = json.loads(real_cli("search", f'"{phrase}"', "--json").stdout)
        assert hits, phrase
        best = hits[0]
        assert (best["chapter_position"], best["chapter_title"]) == (position, title)
        # Each phrase is said within the first two seconds of its clip.
        assert abs(best["start"] - spans[position][0]) <= 2.0, (phrase, best["start"], spans)
        assert "<mark>" in best["snippet"]
