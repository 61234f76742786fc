"""Killing an ingest part-way leaves the previous archive exactly as it was."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from db.schema import open_archive
from db.store import store_episode

from .audio_tools import join_clips
from .conftest import CORPUS, PROJECT_ROOT
from .test_store import counts, fake_episode

ARCHIVE = Path(sys.executable).with_name("archive")


@pytest.fixture
def previous_archive(db_path):
    db = open_archive(db_path)
    store_episode(db, fake_episode("kept"))
    before = counts(db), list(db.query("select * from segments order by id"))
    db.close()
    return db_path, before


def wait_for(predicate, timeout=120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def assert_archive_unchanged(db_path, before):
    db = open_archive(db_path)  # the first open rolls back the dead process's journal
    assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
    db.execute("insert into segments_fts(segments_fts) values('integrity-check')")
    assert (counts(db), list(db.query("select * from segments order by id"))) == before


@pytest.mark.slow
def test_kill_during_transcription(previous_archive, tmp_path):
    db_path, before = previous_archive
    audio = tmp_path / "long.wav"
    join_clips([CORPUS / name for name in ("sonnet-p001.mp3", "sonnet-p002.mp3")] * 2, audio)
    log = tmp_path / "stderr.txt"
    with open(log, "w") as stderr:
        process = subprocess.Popen(
            [str(ARCHIVE), "ingest", str(audio), "--db", db_path], stderr=stderr, cwd=tmp_path
        )
        wait_for(lambda: "transcribing long.wav" in log.read_text())
        time.sleep(1.5)
        assert process.poll() is None, "finished before it could be killed"
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert_archive_unchanged(db_path, before)


STORE_THEN_HANG = """
import sys, time
sys.path.insert(0, {root!r})
import db.store
from db.schema import open_archive
from tests.test_store import fake_episode
real_insert = db.store._insert_rows

def insert_then_hang(db_, table, rows):
    real_insert(db_, table, rows)
    if table == "words":
        open({marker!r}, "w").write("inside the transaction")
        time.sleep(600)

db.store._insert_rows = insert_then_hang
db.store.store_episode(open_archive({db_path!r}), fake_episode("kept", texts=("Replaced text.",)))
"""


def test_kill_inside_the_store_transaction(previous_archive, tmp_path):
    db_path, before = previous_archive
    marker = tmp_path / "marker"
    script = STORE_THEN_HANG.format(root=str(PROJECT_ROOT), marker=str(marker), db_path=db_path)
    process = subprocess.Popen([sys.executable, "-c", script])
    try:
        wait_for(marker.exists, timeout=60)
        # The new rows are written but not committed: another reader still sees the old.
        reader = sqlite3.connect(db_path, timeout=5)
        seen = reader.execute("select text from segments order by id").fetchall()
        reader.close()
        assert [row[0] for row in seen] == [row["text"] for row in before[1]]
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    assert Path(db_path + "-wal").exists()  # the archive is in WAL mode: the rows went there
    assert_archive_unchanged(db_path, before)
