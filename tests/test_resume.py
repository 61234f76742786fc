"""A real ingest killed twice part-way, then run to the end, resumes from its checkpoint."""

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.longform import transcribe_audio_file
from pipeline.settings import TranscriptionSettings
from pipeline.textnorm import normalise_words, word_error_rate

from .audio_tools import join_clips
from .conftest import CORPUS

pytestmark = pytest.mark.slow
ARCHIVE = Path(sys.executable).with_name("archive")
CHUNK_SECONDS = 25.0


def chunk_files(db_path):
    return sorted(Path(db_path + "-checkpoints").glob("*/chunk-*.json"))


def ingest(audio, db_path):
    command = [ARCHIVE, "ingest", audio, "--db", db_path, "--id", "two", "-q"]
    return command + ["--chunk-seconds", str(CHUNK_SECONDS)]


def kill_once_checkpointed(command, db_path, chunks: int) -> None:
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while len(chunk_files(db_path)) < chunks and time.monotonic() < deadline:
        assert process.poll() is None, "finished before it could be killed"
        time.sleep(0.1)
    process.send_signal(signal.SIGKILL)
    process.wait()


TEXT = {"capture_output": True, "text": True, "check": True}


def test_killed_twice_then_resumed_gives_the_uninterrupted_transcript(tmp_path, transcriber):
    audio = tmp_path / "two-sonnets.wav"
    join_clips([CORPUS / "sonnet-p001.mp3", CORPUS / "sonnet-p002.mp3"], audio)
    db_path = str(tmp_path / "archive.db")
    command = [str(part) for part in ingest(audio, db_path)]

    kill_once_checkpointed(command, db_path, 1)
    assert len(chunk_files(db_path)) >= 1
    kill_once_checkpointed(command, db_path, 3)
    kept = {path.name: json.loads(path.read_text()) for path in chunk_files(db_path)}
    assert len(kept) >= 3
    listed = subprocess.run([command[0], "checkpoints", "--json", "--db", db_path], **TEXT)
    [unfinished] = json.loads(listed.stdout)
    assert unfinished["chunks"] == len(kept)
    assert unfinished["transcribed_seconds"] == round(max(c["end"] for c in kept.values()), 1)

    finished = subprocess.run(command, capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    assert "of it from the checkpoint" in finished.stderr
    assert not Path(db_path + "-checkpoints").exists()  # stored: the checkpoint is gone

    with sqlite3.connect(db_path) as conn:
        stored = [row[0] for row in conn.execute("select word from words order by start")]
        assert conn.execute("select count(*) from episodes").fetchone()[0] == 1
    for chunk in kept.values():  # the finished chunks were taken as they were
        words = [w["word"] for s in chunk["segments"] for w in s["words"]]
        assert " ".join(words) in " ".join(stored)

    settings = TranscriptionSettings(chunk_seconds=CHUNK_SECONDS)
    whole = transcribe_audio_file(audio, settings, transcriber=lambda: transcriber).transcript
    uninterrupted = " ".join(w.word for s in whole.segments for w in s.words)
    assert word_error_rate(uninterrupted, "".join(stored)) <= 0.05
    assert len(normalise_words("".join(stored))) > 200


def test_a_chunk_decodes_the_same_whatever_the_model_decoded_before(transcriber):
    """The radio clip falls back to sampling; decoded twice by one loaded model it must
    give the same words, as a resumed run decodes its next chunk with a model that has
    decoded nothing yet (measured: a 90-minute resume differed from the kill point on)."""
    from pipeline.audio import read_audio

    _, samples = read_audio(CORPUS / "apollo11.mp3")
    first, again = (transcriber.transcribe(samples[: 16000 * 60]) for _ in range(2))
    words = [[(w.start, w.word) for s in t.segments for w in s.words] for t in (first, again)]
    assert len(words[0]) > 20 and words[0] == words[1]
