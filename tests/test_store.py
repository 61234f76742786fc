import sqlite3

import pytest

from db.schema import ArchiveError, migrations, open_archive
from db.store import delete_episode, store_episode
from pipeline.outline import parse_notes
from pipeline.records import AudioInfo, Transcript

from .conftest import aligned, make_segment

TABLES = {"episodes", "chapters", "segments", "words", "segments_fts", "chapters_fts"}


def fake_episode(
    episode_id="ep1",
    texts=(
        "Ask not what your country can do.",
        "Ask what you can do for your country.",
        "From fairest creatures we desire increase.",
    ),
):
    segments = [make_segment(text, 2 + 20 * i) for i, text in enumerate(texts)]
    audio = AudioInfo(f"{episode_id}.mp3", "cd" * 32, 60.0, 60.0)
    transcript = Transcript(segments, "en", 60.0, "fake")
    notes = "(00:00) Opening\n(00:20) Middle\n(00:40) End"
    episode, _ = aligned(episode_id, f"Title {episode_id}", audio, transcript, parse_notes(notes))
    return episode


def counts(db):
    return {
        table: db.execute(f"select count(*) from [{table}]").fetchone()[0]
        for table in ("episodes", "chapters", "segments", "words", "segments_fts", "chapters_fts")
    }


def test_migrations_build_the_schema_and_rerun_as_a_no_op(db_path):
    db = open_archive(db_path)
    assert TABLES <= set(db.table_names())
    applied = [m.name for m in migrations.applied(db)]
    assert applied == [
        "m001_episodes_chapters_segments_words",
        "m002_full_text_search",
        "m003_hidden_chapters",
        "m004_gaps",
        "m005_warnings",
        "m005b_chapter_links",
        "m005c_segment_speakers",
        "m006_search_index",
        "m007_search_list_tails",
    ]
    schema = db.execute("select group_concat(sql) from sqlite_master").fetchone()[0]
    db.close()
    again = open_archive(db_path)
    assert [m.name for m in migrations.applied(again)] == applied
    assert again.execute("select group_concat(sql) from sqlite_master").fetchone()[0] == schema
    assert again["chapters"].columns_dict["stated_start"] is float
    assert set(again["episodes"].columns_dict) >= {"outline_offset", "audio_sha256", "model"}


def test_store_writes_every_level(db_path):
    db = open_archive(db_path)
    store_episode(db, fake_episode())
    assert counts(db) == {
        "episodes": 1,
        "chapters": 3,
        "segments": 3,
        "words": 21,
        "segments_fts": 3,
        "chapters_fts": 3,
    }
    rows = list(
        db.query(
            "select position, title, start, end, stated_start, text from chapters order by position"
        )
    )
    assert rows[1] == {
        "position": 1,
        "title": "Middle",
        "start": 20.0,
        "end": 40.0,
        "stated_start": 20.0,
        "text": "Ask what you can do for your country.",
    }
    segment = next(db.query("select * from segments where position = 0"))
    assert (
        segment["chapter_id"]
        == db.execute("select id from chapters where position = 0").fetchone()[0]
    )
    words = [
        r["word"]
        for r in db.query(
            "select word from words where segment_id = ? order by position", [segment["id"]]
        )
    ]
    assert "".join(words).strip() == "Ask not what your country can do."


def test_restoring_the_same_episode_replaces_it(db_path):
    db = open_archive(db_path)
    store_episode(db, fake_episode("a"))
    store_episode(db, fake_episode("b"))
    before = counts(db)
    store_episode(db, fake_episode("a"))
    store_episode(db, fake_episode("a"))
    assert counts(db) == before
    db.execute("insert into segments_fts(segments_fts) values('integrity-check')")
    db.execute("insert into chapters_fts(chapters_fts) values('integrity-check')")
    orphans = db.execute(
        "select count(*) from segments_fts where rowid not in (select id from segments)"
    ).fetchone()[0]
    assert orphans == 0
    hits = db.execute("select count(*) from segments_fts where segments_fts match 'fairest'")
    assert hits.fetchone()[0] == 2


def test_a_failure_mid_store_leaves_the_archive_as_it_was(db_path, monkeypatch):
    db = open_archive(db_path)
    store_episode(db, fake_episode("a"))
    before = counts(db)
    calls = []

    def failing_insert(db, table, rows):
        calls.append(table)
        if table == "words":
            raise sqlite3.OperationalError("disk I/O error (simulated)")
        db[table].insert_all(rows)

    monkeypatch.setattr("db.store._insert_rows", failing_insert)
    with pytest.raises(sqlite3.OperationalError):
        store_episode(db, fake_episode("a", texts=("Entirely different words now.",)))
    assert calls == ["chapters", "segments", "words"]
    assert counts(db) == before
    assert db.execute("select text from segments order by position").fetchone()[0].startswith("Ask")


def test_delete_episode(db_path):
    db = open_archive(db_path)
    store_episode(db, fake_episode("a"))
    assert delete_episode(db, "a") is True
    assert set(counts(db).values()) == {0}
    assert delete_episode(db, "a") is False


def test_not_an_archive(tmp_path):
    path = tmp_path / "junk.db"
    path.write_text("not sqlite at all, just text " * 100)
    with pytest.raises(ArchiveError, match="junk.db: not a usable archive"):
        open_archive(path)


def test_missing_archive_is_not_created_for_reading(tmp_path):
    with pytest.raises(ArchiveError, match="no archive here"):
        open_archive(tmp_path / "none.db", create=False)
    assert not (tmp_path / "none.db").exists()
