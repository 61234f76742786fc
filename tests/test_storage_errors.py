"""A storage failure after transcribing: one error line, and the transcript is kept.

Each fault is a real SQLite one (a lock held by another connection, a read-only
connection, a page limit, a damaged header); the model is the fake one.
"""

import os
import sqlite3
from pathlib import Path

import numpy as np
import pytest
import sqlite_utils

import pipeline.cli
from db.schema import open_archive
from pipeline.audio import SAMPLE_RATE

from .audio_tools import write_wav
from .conftest import CORPUS, FakeTranscriber

AUDIO = CORPUS / "jfk.flac"


class SabotagingFake(FakeTranscriber):
    """The fake model; while it 'transcribes', something happens to the archive."""

    calls = 0
    sabotage = staticmethod(lambda: None)

    def transcribe(self, samples, **options):
        SabotagingFake.calls += 1
        SabotagingFake.sabotage()
        return super().transcribe(samples, **options)


@pytest.fixture
def ingest(run_cli, db_path, monkeypatch):
    open_archive(db_path).close()
    monkeypatch.setattr("pipeline.cli.Transcriber", SabotagingFake)
    monkeypatch.setenv("ARCHIVE_BUSY_TIMEOUT", "2")
    SabotagingFake.calls = 0
    SabotagingFake.sabotage = staticmethod(lambda: None)
    return lambda audio=AUDIO: run_cli("ingest", audio, "--id", "jfk")


def checkpoint_files(db_path):
    return list(Path(db_path + "-checkpoints").glob("*/chunk-*.json"))


def assert_failed_and_kept(result, db_path, problem):
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert len(errors) == 2, result.stderr
    assert f"{db_path}: {problem}" in errors[0]
    assert f"its transcript is kept in {db_path}-checkpoints/" in errors[0]
    assert errors[1] == "Error: 1 of 1 files could not be ingested"
    assert checkpoint_files(db_path)


def assert_stored_without_transcribing(ingest, db_path):
    SabotagingFake.calls = 0
    SabotagingFake.sabotage = staticmethod(lambda: None)
    result = ingest()
    assert result.exit_code == 0, result.stderr
    assert SabotagingFake.calls == 0 and "0:11 of it from the checkpoint" in result.stderr
    assert sqlite_utils.Database(db_path)["segments"].count > 0
    assert not Path(db_path + "-checkpoints").exists()


def test_a_locked_archive_is_waited_for_then_reported(ingest, db_path):
    holder = sqlite3.connect(db_path, isolation_level=None)
    SabotagingFake.sabotage = staticmethod(lambda: holder.execute("begin exclusive"))
    result = ingest()
    assert "is locked by another process; waiting up to" in result.stderr
    assert_failed_and_kept(result, db_path, "the archive is locked by another process (waited 2 s")
    holder.execute("rollback")
    holder.close()
    assert_stored_without_transcribing(ingest, db_path)


def test_a_read_only_archive(ingest, db_path, monkeypatch):
    # As root, file permissions do not stop a write; a read-only connection always does.
    read_only = lambda path: sqlite_utils.Database(  # noqa: E731
        sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    )
    monkeypatch.setattr(pipeline.cli, "open_archive", read_only)
    assert_failed_and_kept(ingest(), db_path, "the archive is read-only")
    monkeypatch.setattr(pipeline.cli, "open_archive", open_archive)
    assert_stored_without_transcribing(ingest, db_path)


def test_a_full_disk(ingest, db_path, monkeypatch, tmp_path):
    # Ten minutes, so that the fake model's 1,500 words need pages the archive lacks.
    long = write_wav(tmp_path / "long.wav", np.zeros(600 * SAMPLE_RATE, dtype=np.float32))

    def limited(path):
        db = open_archive(path)
        pages = db.execute("pragma page_count").fetchone()[0]
        db.execute(f"pragma max_page_count = {pages}")  # as if the disk had no more room
        return db

    monkeypatch.setattr(pipeline.cli, "open_archive", limited)
    assert_failed_and_kept(ingest(long), db_path, "the disk (or the archive's size limit) is full")
    assert sqlite_utils.Database(db_path)["episodes"].count == 0


def test_a_damaged_archive(ingest, db_path):
    def damage():
        # The archive is in WAL mode: its pages may be in the -wal file, so both are hit.
        for path in (db_path, db_path + "-wal"):
            if os.path.exists(path):
                with open(path, "r+b") as handle:
                    handle.write(b"this is no longer a database" * (os.path.getsize(path) // 28))

    SabotagingFake.sabotage = staticmethod(damage)
    result = ingest()
    assert_failed_and_kept(result, db_path, "the archive is damaged")


def test_restart_discards_the_checkpoint_and_transcribes_again(ingest, db_path, run_cli):
    holder = sqlite3.connect(db_path, isolation_level=None)
    SabotagingFake.sabotage = staticmethod(lambda: holder.execute("begin exclusive"))
    assert ingest().exit_code == 1 and checkpoint_files(db_path)
    holder.execute("rollback")
    holder.close()
    SabotagingFake.calls = 0
    SabotagingFake.sabotage = staticmethod(lambda: None)
    result = run_cli("ingest", AUDIO, "--id", "jfk", "--restart")
    assert result.exit_code == 0, result.stderr
    assert SabotagingFake.calls == 1 and "from the checkpoint" not in result.stderr
    assert not Path(db_path + "-checkpoints").exists()
