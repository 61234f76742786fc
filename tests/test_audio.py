import numpy as np
import pytest

from pipeline.audio import SAMPLE_RATE, AudioError, file_sha256, read_audio

from .audio_tools import ffmpeg, write_video_only, write_wav
from .conftest import CORPUS


def test_reads_flac_with_duration_and_hash():
    info, samples = read_audio(CORPUS / "jfk.flac")
    assert info.duration == pytest.approx(11.0, abs=0.01)
    assert info.declared_duration == pytest.approx(11.0, abs=0.01)
    assert len(samples) == pytest.approx(11.0 * SAMPLE_RATE, abs=200)
    assert samples.dtype == np.float32 and 0.1 < np.abs(samples).max() <= 1.0
    assert info.sha256 == file_sha256(CORPUS / "jfk.flac") and len(info.sha256) == 64
    assert info.warnings == []


@pytest.mark.parametrize(
    "suffix, codec_args",
    [
        ("m4a", ["-c:a", "aac"]),
        ("ogg", ["-c:a", "libvorbis"]),
        ("opus", ["-c:a", "libopus"]),
        ("wav", []),
        (
            "mkv",
            [
                "-f",
                "lavfi",
                "-i",
                "color=c=black:s=64x64:r=5",
                "-shortest",
                "-c:v",
                "mpeg4",
                "-c:a",
                "aac",
            ],
        ),
    ],
)
def test_reads_common_containers(tmp_path, suffix, codec_args):
    out = tmp_path / f"jfk.{suffix}"
    ffmpeg("-i", str(CORPUS / "jfk.flac"), *codec_args, str(out))
    info, samples = read_audio(out)
    assert info.duration == pytest.approx(11.0, abs=0.1)
    assert len(samples) > 10 * SAMPLE_RATE


def test_empty_file(tmp_path):
    path = tmp_path / "empty.mp3"
    path.write_bytes(b"")
    with pytest.raises(AudioError, match=r"empty\.mp3: empty file"):
        read_audio(path)


def test_text_file(tmp_path):
    path = tmp_path / "notes.mp3"
    path.write_text("this is not audio\n" * 50)
    with pytest.raises(AudioError, match=r"notes\.mp3: not an audio file"):
        read_audio(path)


def test_missing_file(tmp_path):
    with pytest.raises(AudioError, match="no such file"):
        read_audio(tmp_path / "gone.wav")


def test_file_with_no_audio_stream(tmp_path):
    path = write_video_only(tmp_path / "video-only.mp4")
    with pytest.raises(AudioError, match=r"video-only\.mp4: no audio stream"):
        read_audio(path)


def test_truncated_file_warns_with_both_durations_and_keeps_what_decoded(tmp_path):
    whole = (CORPUS / "jfk.flac").read_bytes()
    path = tmp_path / "cut.flac"
    path.write_bytes(whole[: len(whole) // 2])
    info, samples = read_audio(path)
    assert 3.0 < info.duration < 8.0
    assert info.declared_duration == pytest.approx(11.0, abs=0.01)
    assert len(info.warnings) == 1
    warning = info.warnings[0]
    assert "cut.flac" in warning and "truncated" in warning and "0:11" in warning
    assert f"{info.duration:04.1f}"[:3] in warning


def test_silence_is_audio(tmp_path):
    path = write_wav(tmp_path / "quiet.wav", np.zeros(SAMPLE_RATE * 3, dtype=np.float32))
    info, samples = read_audio(path)
    assert info.duration == pytest.approx(3.0) and not samples.any()
