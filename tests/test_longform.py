"""Chunked transcription of whole files, and its checkpoints, with a fake model."""

import json

import numpy as np
import pytest

from pipeline.audio import SAMPLE_RATE
from pipeline.checkpoint import Checkpoint, ChunkResult, checkpoint_root
from pipeline.chunks import cut_into_chunks, quietest_point
from pipeline.longform import transcribe_audio_file
from pipeline.records import Gap, Transcript
from pipeline.settings import TranscriptionSettings

from .audio_tools import write_wav
from .conftest import FakeTranscriber, make_segment


def blocks_of(samples, seconds=7.0):
    size = int(seconds * SAMPLE_RATE)
    return (samples[i : i + size] for i in range(0, len(samples), size))


def test_chunks_own_the_whole_file_once_with_margins_either_side():
    samples = np.arange(100 * SAMPLE_RATE, dtype=np.float32)
    chunks = list(cut_into_chunks(blocks_of(samples), 20.0, lambda window: len(window) // 2))
    assert [c.start for c in chunks[1:]] == [c.end for c in chunks[:-1]]
    assert chunks[0].start == 0 and chunks[-1].end == 100.0
    for chunk in chunks:
        first = int(chunk.offset * SAMPLE_RATE)
        assert chunk.samples[0] == first  # the samples are the file's, from offset on
        assert chunk.offset == max(0.0, chunk.start - 1.0)
        assert len(chunk.samples) / SAMPLE_RATE >= chunk.end - chunk.offset
    assert all(15.0 <= c.end - c.start <= 20.0 for c in chunks[:-1])


def test_chunk_cuts_do_not_depend_on_how_the_audio_arrives():
    samples = np.random.default_rng(1).normal(0, 0.1, 70 * SAMPLE_RATE).astype(np.float32)
    cuts = [
        [(c.start, c.end) for c in cut_into_chunks(blocks_of(samples, size), 15.0, quietest_point)]
        for size in (3.0, 11.0, 70.0)
    ]
    assert cuts[0] == cuts[1] == cuts[2] and len(cuts[0]) >= 4


def test_a_short_file_is_one_chunk():
    samples = np.zeros(5 * SAMPLE_RATE, dtype=np.float32)
    [chunk] = cut_into_chunks(blocks_of(samples), 300.0, quietest_point)
    assert (chunk.start, chunk.end, len(chunk.samples)) == (0.0, 5.0, len(samples))


def test_the_cut_goes_in_the_quietest_place():
    samples = np.full(10 * SAMPLE_RATE, 0.5, dtype=np.float32)
    samples[6 * SAMPLE_RATE : 6 * SAMPLE_RATE + 1600] = 0.0
    assert abs(quietest_point(samples) - (6 * SAMPLE_RATE + 800)) <= 800


class CountingFake(FakeTranscriber):
    """The fake model, counting the audio it was asked to transcribe; it reports a gap in
    every chunk at 3-6 s."""

    seconds = 0.0

    def transcribe(self, samples, **options):
        CountingFake.seconds += len(samples) / SAMPLE_RATE
        transcript = super().transcribe(samples, **options)
        transcript.gaps = [Gap(3.0, 6.0, "heard speech, no words")]
        return transcript


@pytest.fixture
def long_wav(tmp_path):
    tone = np.sin(np.arange(95 * SAMPLE_RATE) / 20).astype(np.float32) * 0.3
    return write_wav(tmp_path / "long.wav", tone)


SETTINGS = TranscriptionSettings(chunk_seconds=30.0)


def transcribe(path, checkpoints):
    return transcribe_audio_file(path, SETTINGS, checkpoints, transcriber=CountingFake)


def test_each_word_is_kept_once_across_the_chunk_seams(long_wav, tmp_path):
    done = transcribe(long_wav, None)
    words = [w for s in done.transcript.segments for w in s.words]
    starts = [w.start for w in words]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    assert done.chunks == 4 and done.transcript.duration == pytest.approx(95.0)
    assert len(done.transcript.gaps) == 4  # each chunk's, moved to episode time
    assert done.transcript.gaps[1].start > 20


def test_a_second_run_takes_every_chunk_from_the_checkpoint(long_wav, tmp_path):
    CountingFake.seconds = 0.0
    first = transcribe(long_wav, tmp_path / "checkpoints")
    assert CountingFake.seconds >= 95.0
    CountingFake.seconds = 0.0
    again = transcribe(long_wav, tmp_path / "checkpoints")
    assert CountingFake.seconds == 0.0 and again.resumed_chunks == again.chunks == 4
    assert again.transcript.segments == first.transcript.segments
    assert again.transcript.gaps == first.transcript.gaps
    assert again.transcript.resumed == pytest.approx(95.0)


def test_a_run_resumes_after_its_last_finished_chunk(long_wav, tmp_path):
    first = transcribe(long_wav, tmp_path / "checkpoints")
    folder = next((tmp_path / "checkpoints").iterdir())
    for name in ("chunk-00002.json", "chunk-00003.json"):  # as if killed during chunk 2
        (folder / name).unlink()
    CountingFake.seconds = 0.0
    again = transcribe(long_wav, tmp_path / "checkpoints")
    assert again.resumed_chunks == 2 and 30 < CountingFake.seconds < 60
    assert again.transcript.segments == first.transcript.segments


def test_other_settings_start_the_checkpoint_over(tmp_path):
    root = tmp_path / "checkpoints"
    result = ChunkResult(0, 0.0, 30.0, "en", "fake", [make_segment("hello there", 1.0)])
    Checkpoint(root, "ab" * 32, "settings one").save(result)
    assert Checkpoint(root, "ab" * 32, "settings one").load(0, 0.0, 30.0) == result
    assert Checkpoint(root, "ab" * 32, "settings one").load(0, 0.0, 29.0) is None
    assert Checkpoint(root, "ab" * 32, "settings two").load(0, 0.0, 30.0) is None


def test_a_half_written_chunk_file_is_not_used(tmp_path):
    checkpoint = Checkpoint(tmp_path, "cd" * 32, "s")
    checkpoint.save(ChunkResult(0, 0.0, 30.0, "en", "fake", []))
    path = checkpoint.folder / "chunk-00000.json"
    path.write_text(path.read_text()[:20])
    assert checkpoint.load(0, 0.0, 30.0) is None
    assert not list(checkpoint.folder.glob(".tmp-*"))


def test_checkpoints_live_beside_the_archive(tmp_path):
    assert checkpoint_root(tmp_path / "talks.db") == tmp_path / "talks.db-checkpoints"


def test_settings_are_frozen_and_fingerprinted_without_thread_counts():
    settings = TranscriptionSettings()
    with pytest.raises(AttributeError):
        settings.model = "base"
    assert settings.fingerprint() == TranscriptionSettings(cpu_threads=4).fingerprint()
    assert settings.fingerprint() != TranscriptionSettings(batch_size=0).fingerprint()
    assert json.loads(settings.fingerprint())["chunk_seconds"] == 300.0
    assert isinstance(Transcript([], None, 0, "m").gaps, list)


def test_archive_checkpoints_lists_and_clears_unfinished_transcripts(run_cli, db_path):
    root = checkpoint_root(db_path)
    for sha256, ends in (("ab" * 32, (30.0, 60.0)), ("cd" * 32, (30.0,))):
        checkpoint = Checkpoint(root, sha256, "settings")
        for index, end in enumerate(ends):
            checkpoint.save(ChunkResult(index, end - 30.0, end, "en", "fake", []))
    listed = run_cli("checkpoints", "--json")
    rows = {row["sha256"]: row for row in json.loads(listed.stdout)}
    assert {(sha[:2], row["chunks"], row["transcribed_seconds"]) for sha, row in rows.items()} == {
        ("ab", 2, 60.0),
        ("cd", 1, 30.0),
    }
    table = run_cli("checkpoints").stdout
    assert "sha256:abababababababab" in table and "1:00" in table
    cleared = run_cli("checkpoints", "--clear")
    assert cleared.exit_code == 0 and "removed 2 checkpoints" in cleared.stderr
    assert not root.exists()
    assert "no unfinished transcripts" in run_cli("checkpoints").stderr
