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
from typing import Iterator

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
    stream = AudioStream(path)
    blocks = list(stream.blocks())
    info = stream.finish()
    return info, np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.float32)


def scan_audio(path: str | os.PathLike) -> AudioInfo:
    """The facts ``read_audio`` gives, decoding block by block without keeping the samples."""
    stream = AudioStream(path)
    for _ in stream.blocks():
        pass
    return stream.finish()


class AudioStream:
    """One file decoded to 16 kHz mono in blocks, so memory does not grow with its length.

    Opening checks and hashes the file (``AudioError`` if it is not usable audio);
    ``blocks()`` decodes it from the start, and can be called again; ``finish()`` gives
    its facts, with a warning if decoding stopped short of what the container declares.
    """

    def __init__(self, path: str | os.PathLike, block_seconds: float = 30.0):
        self.path = Path(path)
        self.block_samples = int(block_seconds * SAMPLE_RATE)
        if not self.path.is_file():
            raise AudioError(f"{self.path}: no such file")
        if self.path.stat().st_size == 0:
            raise AudioError(f"{self.path}: empty file")
        with self._open() as container:
            if not container.streams.audio:
                raise AudioError(f"{self.path}: no audio stream in this file")
            stream = container.streams.audio[0]
            self.declared = _declared_duration(container, stream)
            title = container.metadata.get("title") or stream.metadata.get("title")
        self.title = title.strip() if title else None
        self.sha256 = file_sha256(self.path)
        self.decoded_samples = 0
        self.decode_error: str | None = None

    def _open(self):
        try:
            return av.open(str(self.path), metadata_errors="ignore")
        except av.error.FFmpegError as ex:
            raise AudioError(f"{self.path}: not an audio file ({_ffmpeg_reason(ex)})") from None

    def blocks(self) -> Iterator[np.ndarray]:
        """float32 blocks of ``block_seconds`` (the last one shorter), from the start."""
        self.decoded_samples, self.decode_error = 0, None
        pending: list[np.ndarray] = []
        pending_samples = 0
        with self._open() as container:
            for piece in self._decoded_pieces(container, container.streams.audio[0]):
                pending.append(piece)
                pending_samples += len(piece)
                while pending_samples >= self.block_samples:
                    joined = np.concatenate(pending)
                    block, rest = joined[: self.block_samples], joined[self.block_samples :]
                    pending, pending_samples = [rest], len(rest)
                    yield self._counted(block)
        if pending_samples:
            yield self._counted(np.concatenate(pending))

    def _counted(self, pcm: np.ndarray) -> np.ndarray:
        self.decoded_samples += len(pcm)
        return pcm.astype(np.float32) / 32768.0

    def _decoded_pieces(self, container, stream) -> Iterator[np.ndarray]:
        """s16 pieces of every readable packet; stop at the first unrecoverable error."""
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
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
                    for out in resampler.resample(frame):
                        yield out.to_ndarray().reshape(-1)
        except (av.error.FFmpegError, EOFError, OSError) as ex:
            self.decode_error = _ffmpeg_reason(ex)
        for out in resampler.resample(None):
            yield out.to_ndarray().reshape(-1)

    def finish(self) -> AudioInfo:
        """The file's facts once ``blocks()`` has run to the end."""
        decoded = self.decoded_samples / SAMPLE_RATE
        if self.decoded_samples == 0:
            reason = f" ({self.decode_error})" if self.decode_error else ""
            raise AudioError(f"{self.path}: no audio could be decoded{reason}")
        info = AudioInfo(
            path=str(self.path.resolve()),
            sha256=self.sha256,
            duration=decoded,
            declared_duration=self.declared,
            title=self.title,
        )
        declared = self.declared
        if declared and decoded < declared - max(1.0, 0.02 * declared):
            info.warnings.append(
                f"{self.path}: truncated? decoded {format_clock(decoded)} of a declared "
                f"{format_clock(declared)}; keeping what was decoded"
            )
        elif self.decode_error:
            info.warnings.append(f"{self.path}: decoding stopped early: {self.decode_error}")
        return info


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


def _ffmpeg_reason(ex: Exception) -> str:
    reason = getattr(ex, "strerror", None) or str(ex)
    return reason.rstrip(".")
