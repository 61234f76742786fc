"""Recall on hard audio: the radio clip after a minute of clean reading, real model.

Silero's voice detector, run along the whole file, loses most of the radio clip after
the sonnet; the archive must still find about as many words there as plain sequential
faster-whisper does, and list any heard speech it could not decode.
"""

import numpy as np
import pytest

from pipeline.audio import read_audio
from pipeline.coverage import merge_close, skipped_speech
from pipeline.longform import transcribe_audio_file
from pipeline.settings import TranscriptionSettings
from pipeline.transcribe import speech_regions

from .audio_tools import join_clips
from .conftest import CORPUS

pytestmark = pytest.mark.slow
CLIPS = ["sonnet-p001.mp3", "apollo11.mp3", "jfk.flac"]


def words_per_clip(midpoints, spans):
    return [sum(start <= middle <= end + 1.0 for middle in midpoints) for start, end in spans]


def test_words_per_clip_match_plain_sequential_faster_whisper(tmp_path, transcriber):
    audio = tmp_path / "reading-then-radio.wav"
    spans = join_clips([CORPUS / name for name in CLIPS], audio, gap=2.0)

    plain, _ = transcriber.model.transcribe(
        str(audio),
        language="en",
        vad_filter=True,
        word_timestamps=True,
        condition_on_previous_text=False,
    )
    plain_counts = words_per_clip([(w.start + w.end) / 2 for s in plain for w in s.words], spans)

    transcript = transcribe_audio_file(
        audio, TranscriptionSettings(), transcriber=lambda: transcriber
    ).transcript
    words = [w for s in transcript.segments for w in s.words]
    counts = words_per_clip([(w.start + w.end) / 2 for w in words], spans)
    for name, ours, theirs in zip(CLIPS, counts, plain_counts):
        assert ours >= 0.9 * theirs, f"{name}: {ours} words, plain sequential {theirs}"

    # Heard speech over 5 s with no word in it is listed as a gap.
    _, samples = read_audio(audio)
    heard = merge_close(speech_regions(samples), 2.0)
    silent = skipped_speech(heard, transcript.segments, min_gap=5.0)
    listed = [(gap.start, gap.end) for gap in transcript.gaps]
    for start, end in silent:
        assert any(g0 <= start + 1 and end - 1 <= g1 for g0, g1 in listed), (start, end)
    assert np.all(np.diff([w.start for w in words]) >= 0)
