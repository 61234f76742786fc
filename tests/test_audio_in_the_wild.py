"""Audio as it arrives from real feeds: Ogg Opus cut from a live stream, and silence."""

import numpy as np
import pytest

from pipeline.audio import SAMPLE_RATE, read_audio
from pipeline.ingest import EpisodeRequest, prepare_episode
from pipeline.settings import TranscriptionSettings

from .audio_tools import ffmpeg, write_wav
from .conftest import CORPUS


def test_ogg_opus_declared_duration_leaves_out_the_pre_skip(tmp_path):
    path = tmp_path / "jfk.opus"
    ffmpeg("-i", str(CORPUS / "jfk.flac"), "-c:a", "libopus", str(path))
    info, _ = read_audio(path)
    assert info.warnings == []
    assert info.declared_duration == pytest.approx(info.duration, abs=0.002)


def test_ogg_opus_cut_from_a_stream_is_not_called_truncated(tmp_path):
    whole, cut = tmp_path / "jfk.opus", tmp_path / "cut.opus"
    ffmpeg("-i", str(CORPUS / "jfk.flac"), "-c:a", "libopus", str(whole))
    # -copyts keeps the stream's own timestamps: the Ogg pages start at 4 s, as in a file
    # recorded from the middle of a live stream.
    ffmpeg("-ss", "4", "-i", str(whole), "-c", "copy", "-copyts", str(cut))
    info, _ = read_audio(cut)
    assert info.warnings == []
    assert info.duration == pytest.approx(7.0, abs=0.05)
    assert info.declared_duration == pytest.approx(info.duration, abs=0.002)


@pytest.mark.slow
@pytest.mark.parametrize("seconds", [1, 600])
def test_silence_is_stored_with_a_warning_by_the_real_model(tmp_path, transcriber, seconds):
    path = write_wav(tmp_path / "silence.wav", np.zeros(seconds * SAMPLE_RATE, np.float32))
    warnings = []
    request = EpisodeRequest(str(path), None)
    episode = prepare_episode(
        request, TranscriptionSettings(), lambda: transcriber, warn=warnings.append
    )
    assert sum(len(chapter.segments) for chapter in episode.chapters) == 0
    assert warnings == [
        f"{path}: no speech found in {'0:01' if seconds == 1 else '10:00'} of audio; "
        "stored with an empty transcript"
    ]
    assert episode.warnings == warnings
