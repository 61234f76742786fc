"""Making test audio from the corpus: joined clips, silence, damaged files."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import av
import numpy as np

from pipeline.audio import SAMPLE_RATE, read_audio


def write_wav(path: Path, samples: np.ndarray, rate: int = SAMPLE_RATE) -> Path:
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(pcm.tobytes())
    return path


def join_clips(clips: list[Path], out: Path, gap: float = 1.5) -> list[tuple[float, float]]:
    """Write the clips one after another with ``gap`` seconds of silence between them.

    Returns each clip's (start, end) in the joined file.
    """
    silence = np.zeros(int(gap * SAMPLE_RATE), dtype=np.float32)
    parts, spans, clock = [], [], 0.0
    for clip in clips:
        _, samples = read_audio(clip)
        spans.append((clock, clock + len(samples) / SAMPLE_RATE))
        parts += [samples, silence]
        clock += (len(samples) + len(silence)) / SAMPLE_RATE
    write_wav(out, np.concatenate(parts))
    return spans


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", *args], check=True)


def write_video_only(path: Path) -> Path:
    """A real video file with no audio stream."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=5)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for _ in range(5):
            frame = av.VideoFrame.from_ndarray(np.zeros((64, 64, 3), np.uint8), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def truncate(source: Path, out: Path, keep: float = 0.5) -> Path:
    data = source.read_bytes()
    out.write_bytes(data[: int(len(data) * keep)])
    return out
