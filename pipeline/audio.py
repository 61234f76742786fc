"""Read an audio file: check it, hash it, and decode it once to 16 kHz mono.

Decoding here (rather than inside faster-whisper) lets the archive record what was
really decoded, warn about truncated files, and hand the samples straight to the
transcriber without a second decode.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import av
import numpy as np

from .records import AudioInfo
from .timefmt import format_clock

SAMPLE_RATE = 16000
logger = logging.getLogger(__name__)


class AudioError(Exception):
    """The file cannot be used as audio; the message names the file and why."""


def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_audio(path: str | os.PathLike) -> tuple[AudioInfo, np.ndarray]:
    """Check, hash and decode ``path``; return its facts and float32 samples at 16 kHz."""
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: empty file")
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except av.error.FFmpegError as ex:
        raise AudioError(f"{path}: not an audio file ({_ffmpeg_reason(ex)})") from None
    with container:
        if not container.streams.audio:
            raise AudioError(f"{path}: no audio stream in this file")
        stream = container.streams.audio[0]
        declared = _declared_duration(container, stream)
        samples, decode_error = _decode_mono_16k(container, stream)
        title = container.metadata.get("title") or stream.metadata.get("title")
    decoded = len(samples) / SAMPLE_RATE
    if len(samples) == 0:
        reason = f" ({decode_error})" if decode_error else ""
        raise AudioError(f"{path}: no audio could be decoded{reason}")
    info = AudioInfo(
        path=str(path.resolve()),
        sha256=file_sha256(path),
        duration=decoded,
        declared_duration=declared,
        title=title.strip() if title else None,
    )
    if declared and decoded < declared - max(1.0, 0.02 * declared):
        info.warnings.append(
            f"{path}: truncated? decoded {format_clock(decoded)} of a declared "
            f"{format_clock(declared)}; keeping what was decoded"
        )
    elif decode_error:
        info.warnings.append(f"{path}: decoding stopped early: {decode_error}")
    return info, samples


def _declared_duration(container, stream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        span = stream.duration
        if container.format.name == "ogg" and stream.start_time:
            # Ogg states where the stream ends (its last granule), not how long it is:
            # a file cut from a live stream starts at a later granule.
            span -= stream.start_time
        return float(span * stream.time_base) - _pre_skip(stream)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def _pre_skip(stream) -> float:
    """Seconds an Opus decoder drops from the start (the header's pre-skip, at 48 kHz)."""
    if stream.codec_context.name != "opus":
        return 0.0
    return (getattr(stream.codec_context, "delay", 0) or 0) / 48000


def _decode_mono_16k(container, stream) -> tuple[np.ndarray, str | None]:
    """Decode every readable packet; stop at the first unrecoverable error."""
    resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    chunks: list[np.ndarray] = []
    error = None
    try:
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except av.error.InvalidDataError as ex:
                # A damaged frame loses a few milliseconds; skip it like ffmpeg does.
                logger.debug("skipping undecodable packet: %s", ex)
                continue
            for frame in frames:
                frame.pts = None  # let the resampler count samples itself
                chunks.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(frame))
    except (av.error.FFmpegError, EOFError, OSError) as ex:
        error = _ffmpeg_reason(ex)
    chunks.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(None))
    if not chunks:
        return np.zeros(0, dtype=np.float32), error
    return np.concatenate(chunks).astype(np.float32) / 32768.0, error


def _ffmpeg_reason(ex: Exception) -> str:
    reason = getattr(ex, "strerror", None) or str(ex)
    return reason.rstrip(".")
